"""Ported from flask tests/test_regression.py."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import abort

from microraab import App, Request, redirect


def test_aborting(app: App) -> None:
    """flask tests/test_regression.py::test_aborting"""

    class Foo(Exception):
        whatever = 42

    @app.errorhandler(Foo)
    def handle_foo(request: Request, e: Foo) -> str:
        return str(e.whatever)

    @app.route("/")
    def index(request: Request) -> Any:
        raise abort(redirect(request.url_for("test")))  # type: ignore[func-returns-value]

    @app.route("/test")
    def test(request: Request) -> Any:
        raise Foo()

    c = app.test_client()
    rv = c.get("/")
    location_parts = rv.headers["Location"].rpartition("/")

    if location_parts[0]:
        # For older Werkzeug that used absolute redirects.
        assert location_parts[0] == "http://localhost"

    assert location_parts[2] == "test"
    rv = c.get("/test")
    assert rv.data == b"42"
