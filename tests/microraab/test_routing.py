"""Routing on Werkzeug's Map/Rule: matching, status codes, converters and url_for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, BuildError

from microraab import App, Request

HERE = Path(__file__).resolve().parent


def test_unknown_path_returns_404(app: App) -> None:
    assert app.test_client().get("/nothing").status_code == 404


def test_unknown_method_returns_405_with_allow_header(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "x", methods=["GET", "POST"], csrf=False)
    response = app.test_client().put("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def without_request_id(headers: Any) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in headers.items() if name != "X-Request-ID")


@pytest.mark.parametrize("result", ["hello", {"a": 1}], ids=["html", "json"])
def test_head_is_automatic_with_the_get_headers_and_no_body(app: App, result: Any) -> None:
    app.add_url_rule("/", "index", lambda request: result)
    client = app.test_client()
    get, head = client.get("/"), client.head("/")
    assert head.status_code == 200
    assert head.data == b""
    assert without_request_id(head.headers) == without_request_id(get.headers)
    assert head.headers["Content-Length"] == str(len(get.data))


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
    response = app.test_client().get("/dir?a=1&b=2", headers={"Host": "site.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "http://site.example/dir/?a=1&b=2"


def test_trailing_slash_redirect_keeps_the_https_scheme_from_a_proxy(app: App) -> None:
    app.add_url_rule("/dir/", "dir", lambda request: "x")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    response = app.test_client().get(
        "/dir", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example"}
    )
    assert response.headers["Location"] == "https://public.example/dir/"


def test_route_with_a_slash_does_not_match_without_one_when_strict(app: App) -> None:
    app.add_url_rule("/file", "file", lambda request: "x")
    assert app.test_client().get("/file/").status_code == 404


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

    urls = app.test_client().get("/items/3", headers={"Host": "h.example"}).json
    assert urls == {
        "relative": "/items/3",
        "external": "http://h.example/items/7",
        "anchor": "/items/7#sec%202",
        "query": "/items/7?q=x+y",
        "method": "/items/7",
    }


def test_url_for_method_picks_the_rule_for_that_method(app: App) -> None:
    def edit(request: Request, n: int) -> str:
        return "x"

    app.add_url_rule("/items/<int:n>", "edit", edit)
    app.add_url_rule("/items/<int:n>/edit", "edit", edit, methods=["POST"], csrf=False)
    assert app.url_for("edit", n=1, _method="GET") == "/items/1"
    assert app.url_for("edit", n=1, _method="POST") == "/items/1/edit"


def test_url_for_outside_a_request_uses_server_name(make_app: Callable[..., App]) -> None:
    app = make_app(SERVER_NAME="app.example", PREFERRED_URL_SCHEME="https")
    app.add_url_rule("/x", "x", lambda request: "x")
    assert app.url_for("x") == "/x"
    assert app.url_for("x", _external=True) == "https://app.example/x"


def test_url_for_scheme_makes_an_external_url_with_that_scheme(app: App) -> None:
    @app.route("/page")
    def page(request: Request) -> dict[str, str]:
        return {
            "implied": request.url_for("page", _scheme="https"),
            "explicit": request.url_for("page", _scheme="https", _external=True),
        }

    urls = app.test_client().get("/page", headers={"Host": "h.example"}).json
    assert urls == {"implied": "https://h.example/page", "explicit": "https://h.example/page"}
    assert app.url_for("page", _scheme="https") == "https://localhost/page"


def test_url_for_scheme_on_a_relative_url_is_a_value_error(app: App) -> None:
    app.add_url_rule("/page", "page", lambda request: "x")
    with pytest.raises(ValueError, match="'_external' must be True"):
        app.url_for("page", _scheme="https", _external=False)


def test_url_for_accepts_url_values_named_self_and_context(app: App) -> None:
    @app.route("/<self>")
    def named_self(request: Request, self: str) -> str:
        template = "{{ url_for('named_self', self='t', context='c') }}"
        return request.url_for("named_self", self="r") + app.jinja_env.from_string(template).render(
            request=request
        )

    assert app.url_for("named_self", self="2") == "/2"
    assert app.test_client().get("/x").data == b"/r/t?context=c"


def test_url_for_unknown_endpoint_raises_build_error(app: App) -> None:
    with pytest.raises(BuildError, match="Could not build url for endpoint 'nope'"):
        app.url_for("nope")


def test_url_for_missing_value_raises_build_error_naming_it(app: App) -> None:
    app.add_url_rule("/items/<int:item_id>", "item", lambda request, item_id: "x")
    with pytest.raises(BuildError, match=r"Did you forget to specify values \['item_id'\]"):
        app.url_for("item")


def test_route_for_a_path_no_rule_matches_is_none(app: App) -> None:
    app.add_url_rule("/a", "a", lambda request: "a", methods=["POST"])
    assert app.router.route_for("/a", "POST") is not None
    assert app.router.route_for("/b", "GET") is None
    assert app.router.route_for("/a", "GET") is None


def test_methods_are_case_insensitive(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "posted", methods=["post"], csrf=False)
    assert app.test_client().post("/").data == b"posted"


def test_url_for_static_builds_the_file_url(app: App) -> None:
    assert app.url_for("static", filename="css/site.css") == "/static/css/site.css"


def test_static_files_are_served(app: App) -> None:
    response = app.test_client().get("/static/site.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert b"color: black" in response.data


@pytest.mark.parametrize(
    "path", ["/static/../conftest.py", "/static/%2e%2e/conftest.py", "/static/..%2fconftest.py"]
)
def test_dot_dot_in_a_static_path_is_404(app: App, path: str) -> None:
    assert (HERE / "conftest.py").is_file()  # the file the path reaches for exists
    assert app.test_client().get(path).status_code == 404


def test_static_serving_can_be_turned_off(make_app: Callable[..., App]) -> None:
    app = make_app(SERVE_STATIC=False)
    assert app.test_client().get("/static/site.css").status_code == 404


def test_a_view_changing_view_args_does_not_change_the_next_match(app: App) -> None:
    seen: list[int] = []

    @app.route("/fixed", defaults={"n": 1})
    def fixed(request: Request, n: int) -> str:
        seen.append(n)
        request.view_args["n"] = 99
        return "x"

    @app.route("/plain")
    def plain(request: Request) -> str:
        seen.append(len(request.view_args))
        request.view_args["added"] = 1
        return "x"

    client = app.test_client()
    for path in ("/fixed", "/fixed", "/plain", "/plain"):
        client.get(path)
    assert seen == [1, 1, 0, 0]


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
    client = app.test_client()
    assert client.get("/", headers={"Host": "api.example.com"}).data == b"sub"
    assert client.get("/", headers={"Host": "example.com"}).data == b"main"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_decorators_route_one_method(app: App, method: str) -> None:
    decorator = getattr(app, method)

    @decorator("/thing", csrf=False)
    def thing(request: Request) -> str:
        return request.method

    client = app.test_client()
    assert client.open("/thing", method=method.upper()).data == method.upper().encode()
    other = "PUT" if method != "put" else "POST"
    assert client.open("/thing", method=other).status_code == 405


def test_method_decorators_refuse_a_methods_argument(app: App) -> None:
    with pytest.raises(TypeError, match="Use the 'route' decorator"):
        app.get("/", methods=["POST"])


def test_view_func_is_flasks_name_for_the_view(app: App) -> None:
    app.add_url_rule("/", view_func=lambda request: "flask-style")
    assert app.test_client().get("/").data == b"flask-style"
    with pytest.raises(TypeError, match="not both"):
        app.add_url_rule("/x", "x", lambda request: "x", view_func=lambda request: "y")


def test_methods_and_automatic_options_default_to_the_views_attributes(app: App) -> None:
    def view(request: Request) -> str:
        return "x"

    view.methods = ["POST"]  # type: ignore[attr-defined]
    view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view, csrf=False)
    client = app.test_client()
    assert client.post("/").data == b"x"
    assert client.get("/").status_code == 405
    assert client.options("/").status_code == 405


def test_provide_automatic_options_false_leaves_options_unrouted(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "x", provide_automatic_options=False)
    response = app.test_client().options("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


def test_automatic_options_survive_werkzeug_copying_the_rule(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: "x", provide_automatic_options=False)
    copy = next(app.url_map.iter_rules("index")).empty()
    assert copy.provide_automatic_options is False  # type: ignore[attr-defined]


def test_the_same_bound_method_may_serve_two_rules(app: App) -> None:
    class Pages:
        def show(self, request: Request, n: int = 0) -> str:
            return f"page {n}"

    pages = Pages()
    app.add_url_rule("/", "page", pages.show)
    app.add_url_rule("/<int:n>", "page", pages.show)
    client = app.test_client()
    assert client.get("/").data == b"page 0"
    assert client.get("/2").data == b"page 2"


def test_a_second_view_for_an_endpoint_is_an_assertion_error_as_in_flask(app: App) -> None:
    app.add_url_rule("/a", "same", lambda request: "a")
    with pytest.raises(AssertionError, match="already routed"):
        app.add_url_rule("/b", "same", lambda request: "b")


def _werkzeug_map() -> Any:
    from werkzeug.routing import Map, Rule

    return Map(
        [
            Rule("/", endpoint="index"),
            Rule("/<code>+", endpoint="detail"),
            Rule("/n/<int:number>", endpoint="number"),
            Rule("/files/<path:name>", endpoint="file"),
            Rule("/uuid/<uuid:value>", endpoint="by_uuid"),
            Rule("/page/", endpoint="page", defaults={"n": 1}),
            Rule("/page/<int:n>", endpoint="page"),
            Rule("/only-post", endpoint="post", methods=["POST"]),
            Rule("/two/a", endpoint="two", methods=["GET"]),
            Rule("/two/b", endpoint="two", methods=["POST"]),
            Rule("/sub", endpoint="sub", subdomain="api"),
            Rule("/ws", endpoint="ws", websocket=True),
        ]
    )


BUILDS: list[tuple[str, dict[str, Any]]] = [
    ("index", {}),
    ("index", {"q": "a b", "page": 2}),
    ("index", {"q": None}),
    ("index", {"q": ["x", "y"]}),
    ("detail", {"code": "abc1234"}),
    ("detail", {"code": "ü/ß ?#%"}),
    ("detail", {"code": "abc", "ref": "mail"}),
    ("detail", {"code": None}),
    ("detail", {}),
    ("number", {"number": 42}),
    ("number", {"number": "x"}),
    ("file", {"name": "a/b c.txt"}),
    ("by_uuid", {"value": uuid.UUID(int=7)}),
    ("page", {}),
    ("page", {"n": 1}),
    ("page", {"n": 3}),
    ("post", {}),
    ("two", {}),
    ("sub", {}),
    ("ws", {}),
    ("nowhere", {}),
]


@pytest.mark.parametrize("script_name", ["/", "/app/"])
@pytest.mark.parametrize("subdomain", ["", "api"])
@pytest.mark.parametrize(("endpoint", "values"), BUILDS)
def test_build_url_gives_what_werkzeugs_build_gives(
    script_name: str, subdomain: str, endpoint: str, values: dict[str, Any]
) -> None:
    # build_url's fast path (one rule, no defaults, no subdomain, a relative URL) must be
    # MapAdapter.build's answer exactly, error included, for every kind of rule.
    from microraab.routing import build_url

    adapter = _werkzeug_map().bind("links.example", script_name, subdomain=subdomain)
    try:
        expected: Any = adapter.build(endpoint, dict(values))
    except (BuildError, ValueError) as error:  # ValueError: int("x") in the converter
        expected = (type(error), str(error))
    try:
        built: Any = build_url(adapter, endpoint, dict(values))
    except (BuildError, ValueError) as error:
        built = (type(error), str(error))
    assert built == expected


def test_build_url_sees_rules_added_after_the_last_build() -> None:
    from werkzeug.routing import Rule

    from microraab.routing import build_url

    url_map = _werkzeug_map()
    adapter = url_map.bind("links.example", "/")
    assert build_url(adapter, "detail", {"code": "abc"}) == "/abc+"
    url_map.add(Rule("/later/<code>", endpoint="later"))
    assert build_url(adapter, "later", {"code": "abc"}) == "/later/abc"


def test_url_for_with_a_request_builds_an_endpoint_of_two_rules_as_werkzeug_does(
    app: App,
) -> None:
    from werkzeug.test import EnvironBuilder

    def items(request: Request, page: int = 1) -> str:
        return str(page)

    app.add_url_rule("/items/", "items", items)
    app.add_url_rule("/items/<int:page>", "items", items)
    request = app.request_class(EnvironBuilder("/", base_url="http://h/app/").get_environ(), app)
    assert request.url_for("items") == "/app/items/"
    assert app.url_for("items", _request=request, page=2) == "/app/items/2"


@pytest.mark.parametrize(
    ("folder", "url_path", "url"),
    [
        ("static", None, "/static/hello.txt"),
        ("static/", None, "/static/hello.txt"),
        ("static", "/files/", "/files/hello.txt"),
        ("static", "", "/hello.txt"),
    ],
)
def test_the_static_url_path_defaults_to_the_folders_name_as_in_flask(
    folder: str, url_path: str | None, url: str
) -> None:
    app = App(
        __name__,
        static_folder=folder,
        static_url_path=url_path,
        config={"SECRET_KEY": "k"},
    )
    assert app.url_for("static", filename="hello.txt") == url
