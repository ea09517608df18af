"""Routing on Werkzeug's Map/Rule: matching, status codes, converters and url_for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.routing import BaseConverter, BuildError
from werkzeug.test import Client

from microraab import App, Request


def test_unknown_path_returns_404(app: App) -> None:
    assert app.test_client().get("/nothing").status_code == 404


def test_unknown_method_returns_405_with_allow_header(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "x", methods=["GET", "POST"], csrf=False)
    response = app.test_client().put("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_head_is_automatic_and_has_no_body(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "hello")
    response = app.test_client().head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"


def test_options_is_automatic_with_allow(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "x", methods=["GET", "DELETE"])
    response = app.test_client().options("/")
    assert response.status_code == 200
    assert response.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS"


def test_view_may_handle_options_itself(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "mine", methods=["GET", "OPTIONS"])
    assert app.test_client().options("/").data == b"mine"


def test_missing_trailing_slash_redirects_308_keeping_query_and_host(app: App) -> None:
    app.add_url_rule("/dir/", "dir", lambda request: "x")
    response = Client(app).get("/dir?a=1", headers={"Host": "site.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "http://site.example/dir/?a=1"


def test_strict_slashes_false_matches_both(app: App) -> None:
    app.add_url_rule("/loose/", "loose", lambda request: "x", strict_slashes=False)
    client = app.test_client()
    assert client.get("/loose").status_code == 200
    assert client.get("/loose/").status_code == 200


def test_defaults_fill_view_arguments(app: App) -> None:
    @app.route("/page/", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(request: Request, n: int) -> str:
        return f"page {n}"

    client = app.test_client()
    assert client.get("/page/").data == b"page 1"
    assert client.get("/page/5").data == b"page 5"


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        ("/<int:v>", "/42", 42),
        ("/<float:v>", "/1.5", 1.5),
        ("/<path:v>", "/a/b/c", "a/b/c"),
        ("/<uuid:v>", "/12345678-1234-5678-1234-567812345678",
         uuid.UUID("12345678-1234-5678-1234-567812345678")),
        ("/<any(red,blue):v>", "/blue", "blue"),
        ("/<string(length=3):v>", "/abc", "abc"),
        ("/<v>", "/plain", "plain"),
    ],
)  # fmt: skip
def test_werkzeug_converters(app: App, rule: str, path: str, expected: Any) -> None:
    seen: list[Any] = []
    app.add_url_rule(rule, "view", lambda request, v: seen.append(v) or "ok")
    assert app.test_client().get(path).status_code == 200
    assert seen == [expected]


@pytest.mark.parametrize("path", ["/abc", "/4.5x", "/purple"])
def test_converter_mismatch_is_404(app: App, path: str) -> None:
    app.add_url_rule("/<int:v>", "a", lambda request, v: "x")
    app.add_url_rule("/<any(red,blue):v>", "b", lambda request, v: "x")
    assert app.test_client().get(path).status_code == 404


class UpperConverter(BaseConverter):
    regex = r"[A-Z]+"

    def to_python(self, value: str) -> str:
        return value.lower()

    def to_url(self, value: str) -> str:
        return value.upper()


def test_custom_converter_with_add_converter(app: App) -> None:
    app.add_converter("upper", UpperConverter)
    app.add_url_rule("/<upper:word>", "word", lambda request, word: word)
    client = app.test_client()
    assert client.get("/HELLO").data == b"hello"
    assert client.get("/hello").status_code == 404
    assert app.url_for("word", word="abc") == "/ABC"


def test_custom_converter_through_url_map(app: App) -> None:
    app.url_map.converters["upper"] = UpperConverter
    app.add_url_rule("/<upper:word>", "word", lambda request, word: word)
    assert app.test_client().get("/ABC").data == b"abc"


def test_duplicate_endpoint_with_another_view_is_refused(app: App) -> None:
    app.add_url_rule("/a", "same", lambda request: "a")
    with pytest.raises(ValueError, match="already routed"):
        app.add_url_rule("/b", "same", lambda request: "b")


def test_methods_as_a_string_is_refused(app: App) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "x", lambda request: "x", methods="POST")


def test_url_for_builds_relative_external_anchor_and_method(app: App) -> None:
    @app.route("/items/<int:item_id>", methods=["GET", "POST"], csrf=False)
    def item(request: Request, item_id: int) -> dict[str, str]:
        return {
            "relative": request.url_for("item", item_id=item_id),
            "external": request.url_for("item", item_id=7, _external=True),
            "anchor": request.url_for("item", item_id=7, _anchor="sec 2"),
            "query": request.url_for("item", item_id=7, q="x y"),
            "method": request.url_for("item", item_id=7, _method="POST"),
        }

    urls = Client(app).get("/items/3", headers={"Host": "h.example"}).json
    assert urls == {
        "relative": "/items/3",
        "external": "http://h.example/items/7",
        "anchor": "/items/7#sec%202",
        "query": "/items/7?q=x+y",
        "method": "/items/7",
    }


def test_url_for_outside_a_request_uses_server_name(make_app: Callable[..., App]) -> None:
    app = make_app(SERVER_NAME="app.example", PREFERRED_URL_SCHEME="https")
    app.add_url_rule("/x", "x", lambda request: "x")
    assert app.url_for("x") == "/x"
    assert app.url_for("x", _external=True) == "https://app.example/x"


def test_url_for_unknown_endpoint_raises_build_error(app: App) -> None:
    with pytest.raises(BuildError, match="nope"):
        app.url_for("nope")


def test_url_for_missing_value_raises_build_error_naming_it(app: App) -> None:
    app.add_url_rule("/items/<int:item_id>", "item", lambda request, item_id: "x")
    with pytest.raises(BuildError, match="item_id"):
        app.url_for("item")


def test_static_files_are_served_and_url_for_static_builds(app: App) -> None:
    assert app.url_for("static", filename="site.css") == "/static/site.css"
    client = app.test_client()
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert b"color: black" in response.data
    assert client.get("/static/../conftest.py").status_code == 404
    assert client.get("/static/%2e%2e/conftest.py").status_code == 404


def test_static_serving_can_be_turned_off(make_app: Callable[..., App]) -> None:
    app = make_app(SERVE_STATIC=False)
    assert app.test_client().get("/static/site.css").status_code == 404


def test_static_match_cache_returns_fresh_values(app: App) -> None:
    seen: list[dict[str, Any]] = []

    @app.route("/fixed", defaults={"n": 1})
    def fixed(request: Request, n: int) -> str:
        request.view_args["n"] = 99  # a view mutating its values must not poison the cache
        seen.append(dict(request.view_args))
        return "x"

    client = app.test_client()
    client.get("/fixed")
    client.get("/fixed")
    assert seen == [{"n": 99}, {"n": 99}]
    request_values = [dict(v) for v in seen]
    assert request_values[0] == request_values[1]


def test_rules_added_later_are_matched(app: App) -> None:
    app.add_url_rule("/a", "a", lambda request: "a")
    client = app.test_client()
    assert client.get("/a").status_code == 200
    app.add_url_rule("/b", "b", lambda request: "b")
    assert client.get("/b").status_code == 200


def test_host_matching_rules_use_the_request_host(make_app: Callable[..., App]) -> None:
    app = make_app(SERVER_NAME="example.com")
    app.add_url_rule("/", "sub", lambda request: "sub", subdomain="api")
    app.add_url_rule("/", "main", lambda request: "main")
    client = Client(app)
    assert client.get("/", headers={"Host": "api.example.com"}).data == b"sub"
    assert client.get("/", headers={"Host": "example.com"}).data == b"main"
