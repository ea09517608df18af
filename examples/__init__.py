"""One tiny app written three ways, to diff side by side.

``/`` renders ``templates/hello.html`` with ``?name=`` (escaped); ``/api/hello/<name>`` is
JSON; anything else is 404, and a method other than GET (or HEAD) is 405.

- ``raw_wsgi.py``: a bare WSGI callable, the standard library and Jinja2;
- ``werkzeug_jinja.py``: Werkzeug's Map, Request and Response, as in its Shortly tutorial;
- ``microraab_app.py``: the same on microraab.

Each exposes ``app``; ``python examples/raw_wsgi.py`` serves it on http://127.0.0.1:5000.
"""
