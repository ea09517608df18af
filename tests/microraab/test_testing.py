"""The test client's helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version
from typing import Any

import pytest

from microraab import App, Request, Response, redirect
from microraab.testing import EnvironBuilder


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


def echo_app(app: App) -> App:
    @app.route("/", methods=["GET", "POST"], csrf=False)
    def echo(request: Request) -> dict[str, Any]:
        return {"url": request.url, "remote_addr": request.remote_addr,
                "user_agent": request.user_agent.string}  # fmt: skip

    return app


def test_requests_come_from_loopback_with_werkzeugs_user_agent(app: App) -> None:
    seen = echo_app(app).test_client().get("/").json
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["user_agent"] == f"Werkzeug/{version('werkzeug')}"


def test_environ_base_changes_the_defaults_for_every_request(app: App) -> None:
    client = echo_app(app).test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.9"
    assert client.get("/").json["remote_addr"] == "127.0.0.9"
    builder = EnvironBuilder(app, "/", environ_base={"HTTP_USER_AGENT": "mine"})
    assert client.open(builder).json == {
        "url": "http://localhost/", "remote_addr": "127.0.0.9", "user_agent": "mine"
    }  # fmt: skip
    assert client.open(builder.get_environ()).json["remote_addr"] == "127.0.0.9"


def test_the_base_url_comes_from_server_name_application_root_and_scheme(
    make_app: Callable[..., App],
) -> None:
    app = echo_app(make_app(SERVER_NAME="shop.example:8443", APPLICATION_ROOT="/app",
                            PREFERRED_URL_SCHEME="https"))  # fmt: skip
    client = app.test_client()
    assert client.get("/?q=1").json["url"] == "https://shop.example:8443/app/?q=1"
    assert client.get("/", url_scheme="http").json["url"] == "http://shop.example:8443/app/"
    assert client.get("/", subdomain="eu").json["url"] == "https://eu.shop.example:8443/app/"
    assert client.get("http://other.example/").json["url"] == "http://other.example/app/"
    assert client.get("/", "http://given.example/").json["url"] == "http://given.example/"


def test_subdomain_or_url_scheme_with_a_base_url_is_refused(app: App) -> None:
    with pytest.raises(TypeError, match='with "base_url"'):
        EnvironBuilder(app, "/", "http://x.example/", url_scheme="https")


def test_json_bodies_are_written_by_microraabs_encoder(app: App) -> None:
    builder = EnvironBuilder(app, json={"when": datetime(2026, 12, 1), "name": "\u20ac"})
    assert builder.input_stream is not None
    assert builder.input_stream.read().decode() == '{"when":"2026-12-01T00:00:00","name":"\u20ac"}'


def test_redirects_followed_keep_the_defaults(app: App) -> None:
    echo_app(app).add_url_rule("/go", "go", lambda request: redirect("/"))
    response = app.test_client().get("/go", follow_redirects=True)
    assert response.json["remote_addr"] == "127.0.0.1"


def test_session_transaction_needs_cookies_and_a_secret_key(make_app: Callable[..., App]) -> None:
    client = make_app().test_client(use_cookies=False)
    with pytest.raises(TypeError, match="Cookies are disabled"), client.session_transaction():
        pass
    client = make_app(SECRET_KEY=None, ENV="development").test_client()
    with pytest.raises(RuntimeError, match="did not open a session"), client.session_transaction():
        pass
