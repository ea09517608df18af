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
from typing import TYPE_CHECKING, Any
from wsgiref.validate import validator

from werkzeug.test import Client, EnvironBuilder, TestResponse

from microraab.csrf import csrf_token

if TYPE_CHECKING:  # pragma: no cover
    from microraab.app import App
    from microraab.sessions import Session


class TestClient(Client):
    """Send requests to ``app`` in-process, checked by ``wsgiref.validate``; cookies persist."""

    __test__ = False  # not a pytest test class

    def __init__(self, app: App) -> None:
        # Through the stdlib's PEP 3333 checker: a response the standard forbids (a 204
        # with a Content-Type, a header of the wrong type) fails the test that made it.
        super().__init__(validator(app), response_wrapper=app.response_class, use_cookies=True)
        self.microraab_app = app

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any) -> TestResponse:
        """Werkzeug's ``open``, buffered by default: the body is read and closed at once, as
        a server must (the checker fails a test whose response is never closed)."""
        return super().open(*args, buffered=buffered, **kwargs)

    @contextmanager
    def session_transaction(self, path: str = "/") -> Iterator[Session]:
        """Open the client's session, let the test read or change it, and store it back."""
        app = self.microraab_app
        name = app.config["SESSION_COOKIE_NAME"]
        builder = EnvironBuilder(path=path)
        cookie = self.get_cookie(name)
        if cookie is not None:
            builder.headers["Cookie"] = f"{name}={cookie.value}"
        request = app.request_class(builder.get_environ(), app)
        session = request.session
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
            request = app.request_class(EnvironBuilder().get_environ(), app)
            request.__dict__["session"] = session
            return csrf_token(request)
