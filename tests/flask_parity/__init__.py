"""Flask 3.1.3's own tests, ported to microraab: the reference for every Flask behaviour it claims.

Each test keeps the name of the Flask test it ports and cites it in its docstring
("flask tests/test_views.py::test_method_based_view"). Flask's tests come from its sdist
(``pip download --no-deps --no-binary :all: flask==3.1.3``); ``templates/`` and ``static/``
here are copies of its ``tests/templates`` and ``tests/static`` (BSD-3-Clause, Pallets).

How a test is translated, and nothing more:

- ``Flask("flask_test")`` is ``App("flask_test")``, the ``app`` fixture made as Flask's
  conftest makes it (``TESTING=True``, ``SECRET_KEY="test key"``), with CSRF off: Flask has
  no CSRF check, and its tests post forms without a token. ``Blueprint`` is ``Module``.
- There are no context locals: a view, hook or error handler takes the request as its first
  argument (``def index(request)``, ``after_request(request, response)``,
  ``teardown_request(request, exc)``, ``handler(request, e)``), and ``flask.request`` is that
  argument. ``flask.url_for`` is ``app.url_for`` or ``request.url_for``; ``render_template``
  is ``app.render(request, ...)``, ``render_template_string`` ``app.render_string(request, ...)``.
- Where Flask opens ``app.test_request_context()`` only to have a request, the
  ``make_request`` fixture builds one (Werkzeug's ``EnvironBuilder``, the same arguments).
- ``with app.test_client() as c:`` (which keeps Flask's last request context open) is a
  plain ``c = app.test_client()``.
- ``flask.abort`` is Werkzeug's ``abort``, ``flask.jsonify(x)`` returning ``x``, a
  ``dict`` or ``list`` a view returns being JSON in both.

Assertions are Flask's, not weakened. Tests of what microraab leaves out on purpose (context
locals and ``g``, ``app_context``, signals, async views, click command groups) are not
ported; ``docs/flask-side-by-side.md`` counts them.
"""
