"""The one gunicorn configuration every benchmark target is served with.

Passed explicitly (``-c``) so that a ``./gunicorn.conf.py`` of the demo app (which may
start a local MongoDB) is never picked up. The runner adds the bind, the worker count and
the worker connections on the command line.
"""

worker_class = "gevent"
accesslog = None  # an access log line per request would be measured too
errorlog = "-"
loglevel = "warning"
# Several masters run at once; each would otherwise claim ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True
