"""CSRF protection on unsafe requests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from microraab import App, Module, Request


@pytest.fixture
def form_app(make_app: Callable[..., App]) -> App:
    app = make_app()

    @app.route("/submit", methods=["POST", "PUT", "PATCH", "DELETE"])
    def submit(request: Request) -> str:
        return "accepted"

    @app.route("/hook", methods=["POST"], csrf=False)
    def hook(request: Request) -> str:
        return "exempt"

    @app.route("/read")
    def read(request: Request) -> str:
        return "read"

    return app


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_request_without_token_is_403(form_app: App, method: str) -> None:
    response = form_app.test_client().open("/submit", method=method, data={"a": "1"})
    assert response.status_code == 403
    assert b"security token is missing or does not match" in response.data


def test_wrong_token_is_403(form_app: App) -> None:
    client = form_app.test_client()
    client.csrf_token()
    response = client.post("/submit", data={"csrf_token": "forged"})
    assert response.status_code == 403


def test_token_from_another_session_is_403(form_app: App) -> None:
    other_token = form_app.test_client().csrf_token()
    client = form_app.test_client()
    client.csrf_token()
    assert client.post("/submit", data={"csrf_token": other_token}).status_code == 403


def test_token_without_a_session_is_403(form_app: App) -> None:
    token = form_app.test_client().csrf_token()
    assert form_app.test_client().post("/submit", data={"csrf_token": token}).status_code == 403


def test_right_token_in_form_field_passes(form_app: App) -> None:
    client = form_app.test_client()
    response = client.post("/submit", data={"csrf_token": client.csrf_token()})
    assert (response.status_code, response.data) == (200, b"accepted")


def test_right_token_in_header_passes(form_app: App) -> None:
    client = form_app.test_client()
    token = client.csrf_token()
    response = client.delete("/submit", headers={"X-CSRF-Token": token})
    assert response.status_code == 200


def test_token_is_stable_within_a_session(form_app: App) -> None:
    client = form_app.test_client()
    assert client.csrf_token() == client.csrf_token()


def test_exempt_route_is_not_checked(form_app: App) -> None:
    assert form_app.test_client().post("/hook").data == b"exempt"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_never_checked(form_app: App, method: str) -> None:
    assert form_app.test_client().open("/read", method=method).status_code == 200


def test_csrf_failure_on_an_api_route_is_json(make_app: Callable[..., App]) -> None:
    app = make_app()
    app.add_url_rule("/api/x", "x", lambda request: "x", methods=["POST"], api=True)
    response = app.test_client().post("/api/x", json={})
    assert response.status_code == 403
    assert "security token" in response.json["error"]["message"]


def test_csrf_can_be_disabled(make_app: Callable[..., App]) -> None:
    app = make_app(CSRF_ENABLED=False)
    app.add_url_rule("/", "i", lambda request: "ok", methods=["POST"])
    assert app.test_client().post("/").status_code == 200


def test_module_can_exempt_its_routes(make_app: Callable[..., App]) -> None:
    app = make_app()
    api = Module("api", url_prefix="/api", csrf=False)
    api.add_url_rule("/things", "things", lambda request: "made", methods=["POST"])
    app.register(api)
    assert app.test_client().post("/api/things").status_code == 200


def test_csrf_token_in_a_template_matches_the_session(make_app: Callable[..., App]) -> None:
    app = make_app()
    app.add_url_rule("/page/<int:n>", "page", lambda request, n: "")
    app.add_url_rule("/form", "form", lambda request: request.app.render(request, "helpers.html"))
    app.add_url_rule("/submit", "submit", lambda request: "ok", methods=["POST"])
    app.template_filter("shout")(str.upper)
    app.template_global("twice")(lambda n: n * 2)
    client = app.test_client()
    page = client.get("/form").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/submit", data={"csrf_token": token}).status_code == 200
