"""Testing: Werkzeug's test client, returning the app's Response class, plus session helpers.

client = app.test_client()
response = client.post("/api/things", json={"name": "x"})
assert response.status_code == 201 and response.json["name"] == "x"
with client.session_transaction() as session:
    session["user"] = "ada"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from wsgiref.validate import validator

import werkzeug.test
from werkzeug.test import Client, TestResponse

from microraab import json
from microraab.csrf import csrf_token
from microraab.sessions import NullSession

if TYPE_CHECKING:  # pragma: no cover
    from microraab.app import App
    from microraab.sessions import Session

_USER_AGENT = f"Werkzeug/{version('werkzeug')}"


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """Werkzeug's, with the base URL from ``app``'s ``PREFERRED_URL_SCHEME`` (or ``url_scheme``),
    ``SERVER_NAME`` (under ``subdomain``) and ``APPLICATION_ROOT``, as Flask's; ``json=`` is
    written by :mod:`microraab.json`. TypeError for ``subdomain``/``url_scheme`` with a base_url.
    """

    json_dumps = staticmethod(json.dumps)  # type: ignore[assignment]  # no json.dumps options

    def __init__(
        self,
        app: App,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise TypeError('Cannot pass "subdomain" or "url_scheme" with "base_url".')
        if base_url is None:
            config = app.config
            host = config["SERVER_NAME"] or "localhost"
            if subdomain:
                host = f"{subdomain}.{host}"
            url = urlsplit(path)  # a full URL as the path gives its own scheme and host
            scheme = url.scheme or url_scheme or config["PREFERRED_URL_SCHEME"]
            base_url = f"{scheme}://{url.netloc or host}/{config['APPLICATION_ROOT'].lstrip('/')}"
            path = f"{url.path}?{url.query}" if url.query else url.path
        super().__init__(path, base_url, *args, **kwargs)
        self.app = app


class TestClient(Client):
    """Send requests to ``app`` in-process, checked by ``wsgiref.validate``; cookies persist."""

    __test__ = False  # not a pytest test class

    def __init__(self, app: App, use_cookies: bool = True) -> None:
        # Through the stdlib's PEP 3333 checker: a response the standard forbids (a 204
        # with a Content-Type, a header of the wrong type) fails the test that made it.
        super().__init__(
            validator(app), response_wrapper=app.response_class, use_cookies=use_cookies
        )
        self.microraab_app = app
        # Flask's defaults, so a view sees a client address and agent as behind a server.
        self.environ_base: dict[str, Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": _USER_AGENT,
        }

    def open(
        self, *args: Any, buffered: bool = True, follow_redirects: bool = False, **kwargs: Any
    ) -> TestResponse:
        """Werkzeug's ``open``, with :class:`EnvironBuilder`'s base URL and ``environ_base``.

        Buffered by default: the body is read and closed at once, as a server must (the
        checker fails a test whose response is never closed).
        """
        arg = args[0] if args else None
        if isinstance(arg, werkzeug.test.EnvironBuilder):  # also each redirect followed
            builder = copy(arg)
            builder.environ_base = {**self.environ_base, **(arg.environ_base or {})}
        elif isinstance(arg, dict):
            builder = EnvironBuilder.from_environ(
                arg, app=self.microraab_app, environ_base=self.environ_base
            )
        else:
            kwargs["environ_base"] = {**self.environ_base, **kwargs.get("environ_base", {})}
            builder = EnvironBuilder(self.microraab_app, *args, **kwargs)
        try:
            request = builder.get_request()
        finally:
            builder.close()
        return super().open(request, buffered=buffered, follow_redirects=follow_redirects)

    @contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[Session]:
        """Open the client's session, let the test read or change it, and store it back.

        The arguments are :class:`EnvironBuilder`'s (the path by default ``/``). TypeError
        if the client keeps no cookies; RuntimeError if there is no session (no SECRET_KEY).
        """
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        app = self.microraab_app
        environ = EnvironBuilder(app, *args, **kwargs).get_environ()
        self._add_cookies_to_wsgi(environ)
        request = app.request_class(environ, app)
        session = request.session
        if isinstance(session, NullSession):
            raise RuntimeError("Session backend did not open a session: set SECRET_KEY.")
        yield session
        response = app.response_class()
        app.session_interface.save_session(request, response)
        # Werkzeug's own Set-Cookie handling (Flask's session_transaction uses it too), so
        # a deleted or expired cookie is dropped exactly as after a real response.
        self._update_cookies_from_response(
            request.host.partition(":")[0], request.path, response.headers.getlist("Set-Cookie")
        )

    def csrf_token(self) -> str:
        """This client's CSRF token (created in its session if needed), for form posts."""
        with self.session_transaction() as session:
            app = self.microraab_app
            request = app.request_class(EnvironBuilder(app).get_environ(), app)
            request.__dict__["session"] = session
            return csrf_token(request)
