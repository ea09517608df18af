"""The test client's helpers."""

from __future__ import annotations

from typing import Any

import pytest

from microraab import App, Request, Response


def test_session_transaction_reads_and_writes_the_session(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: str(request.session.get("user")))

    @app.route("/login")
    def login(request: Request) -> str:
        request.session["user"] = "ada"
        return "ok"

    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "grace"
    assert client.get("/").data == b"grace"
    client.get("/login")
    with client.session_transaction() as session:
        assert session["user"] == "ada"
        session.clear()
    assert client.get("/").data == b"None"
    assert client.get_cookie("session") is None


def test_csrf_token_helper_lets_a_form_post_pass(app: App) -> None:
    app.add_url_rule("/submit", "submit", lambda request: "accepted", methods=["POST"])
    client = app.test_client()
    assert client.post("/submit", data={"a": "1"}).status_code == 403
    response = client.post("/submit", data={"a": "1", "csrf_token": client.csrf_token()})
    assert (response.status_code, response.data) == (200, b"accepted")


def test_csrf_token_helper_keeps_the_rest_of_the_session(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: str(request.session.get("user")))
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "ada"
    client.csrf_token()
    assert client.get("/").data == b"ada"


def test_test_client_returns_the_apps_response_class(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: {"a": 1})
    response = app.test_client().get("/")
    assert isinstance(response, app.response_class)
    assert response.json == {"a": 1}


def test_session_transaction_without_changes_keeps_the_cookie(app: App) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["a"] = 1
    before = client.get_cookie("session")
    with client.session_transaction() as session:
        assert session["a"] == 1
    after = client.get_cookie("session")
    assert before is not None and after is not None and before.value == after.value


def test_the_test_client_refuses_what_pep_3333_forbids(app: App) -> None:
    def typed_no_content(environ: Any, start_response: Any) -> list[bytes]:
        start_response("204 No Content", [("Content-Type", "text/plain")])
        return []

    app.wsgi_app = typed_no_content  # type: ignore[method-assign]
    with pytest.raises(AssertionError, match="Content-Type header found in a 204"):
        app.test_client().get("/")


def test_the_test_client_reads_and_closes_each_body(app: App) -> None:
    closed: list[bool] = []

    @app.route("/")
    def stream(request: Request) -> Response:
        response = Response(iter(["a", "b"]))
        response.call_on_close(lambda: closed.append(True))
        return response

    response = app.test_client().get("/")
    assert (response.data, closed) == (b"ab", [True])
