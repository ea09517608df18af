"""Modules (blueprints): prefixes, endpoints, scoped hooks and handlers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from microraab import App, Module, Request, Response, abort


def make_module(order: list[str]) -> Module:
    module = Module("shop", url_prefix="/shop/")

    @module.route("/items/<int:n>")
    def item(request: Request, n: int) -> str:
        order.append("view")
        return request.url_for("shop.item", n=n)

    @module.route("/fail")
    def fail(request: Request) -> str:
        raise KeyError("x")

    module.add_url_rule("/plain", view=lambda request: "plain")

    @module.before_request
    def before(request: Request) -> None:
        order.append("module before")

    @module.after_request
    def after(request: Request, response: Response) -> Response:
        order.append("module after")
        return response

    @module.teardown_request
    def teardown(request: Request, error: BaseException | None) -> None:
        order.append("module teardown")

    @module.errorhandler(KeyError)
    def handle(request: Request, error: KeyError) -> tuple[str, int]:
        return "module handled", 400

    return module


@pytest.fixture
def shop(make_app: Callable[..., App]) -> tuple[App, list[str]]:
    order: list[str] = []
    app = make_app()
    app.before_request(lambda request: order.append("app before"))

    @app.after_request
    def after(request: Request, response: Response) -> Response:
        order.append("app after")
        return response

    app.add_url_rule("/home", "home", lambda request: "home")
    app.register(make_module(order))
    return app, order


def test_module_routes_live_under_its_prefix_with_dotted_endpoints(
    shop: tuple[App, list[str]],
) -> None:
    app, _ = shop
    assert app.test_client().get("/shop/items/3").data == b"/shop/items/3"
    assert app.url_for("shop.item", n=1) == "/shop/items/1"
    assert app.url_for("shop.<lambda>") == "/shop/plain"


def test_hooks_run_app_then_module_before_and_module_then_app_after(
    shop: tuple[App, list[str]],
) -> None:
    app, order = shop
    app.test_client().get("/shop/items/3")
    assert order == [
        "app before", "module before", "view", "module after", "app after", "module teardown"
    ]  # fmt: skip


def test_module_hooks_do_not_run_for_other_routes(shop: tuple[App, list[str]]) -> None:
    app, order = shop
    app.test_client().get("/home")
    assert order == ["app before", "app after"]


def test_module_error_handler_is_tried_first(shop: tuple[App, list[str]]) -> None:
    app, _ = shop

    @app.errorhandler(KeyError)
    def app_handler(request: Request, error: KeyError) -> tuple[str, int]:
        return "app handled", 500

    assert app.test_client().get("/shop/fail").data == b"module handled"


def test_module_teardown_runs_only_for_its_routes(shop: tuple[App, list[str]]) -> None:
    app, order = shop
    app.test_client().get("/home")
    app.test_client().get("/shop/items/1")
    assert order.count("module teardown") == 1
    assert order[-1] == "module teardown"


def test_module_error_handler_does_not_apply_to_app_routes(
    make_app: Callable[..., App],
) -> None:
    order: list[str] = []
    app = make_app()
    app.register(make_module(order))

    @app.route("/app-fail")
    def app_fail(request: Request) -> str:
        raise KeyError("x")

    assert app.test_client().get("/app-fail").status_code == 500


def test_api_module_routes_answer_errors_as_json(make_app: Callable[..., App]) -> None:
    app = make_app()
    api = Module("api", url_prefix="/api", api=True, csrf=False)

    @api.route("/things/<int:n>", methods=["GET", "DELETE"])
    def thing(request: Request, n: int) -> dict[str, int]:
        abort(409, "thing is busy")

    app.register(api)
    client = app.test_client()
    busy = client.get("/api/things/1", headers={"Accept": "text/html"})
    assert busy.json == {"error": {"status": 409, "message": "thing is busy"}}
    wrong_method = client.put("/api/things/1", headers={"Accept": "text/html"})
    assert wrong_method.status_code == 405
    assert wrong_method.json["error"]["status"] == 405
    assert client.delete("/api/things/1").status_code == 409  # csrf=False: no token needed


def test_a_route_may_override_its_module_options(make_app: Callable[..., App]) -> None:
    app = make_app()
    api = Module("api", url_prefix="/api", api=True)
    api.add_url_rule("/page", "page", lambda request: abort(400), api=False)
    app.register(api)
    response = app.test_client().get("/api/page", headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"


def test_module_name_with_a_dot_is_refused() -> None:
    with pytest.raises(ValueError, match="dot"):
        Module("a.b")


def test_endpoint_with_a_dot_in_a_module_is_refused() -> None:
    with pytest.raises(ValueError, match="dot"):
        Module("m").add_url_rule("/", "a.b", lambda request: "")


def test_module_rule_needs_endpoint_or_view() -> None:
    with pytest.raises(ValueError, match="endpoint or a view"):
        Module("m").add_url_rule("/")


def test_registering_a_module_name_twice_is_refused(make_app: Callable[..., App]) -> None:
    app = make_app()
    app.register(Module("m"))
    with pytest.raises(ValueError, match="already registered"):
        app.register(Module("m"))


def test_module_takes_view_func_and_method_decorators(make_app: Callable[..., App]) -> None:
    module = Module("api", url_prefix="/api")
    module.add_url_rule("/a", view_func=lambda request: "a")

    @module.post("/b", csrf=False)
    def b(request: Request) -> str:
        return "b"

    app = make_app()
    app.register(module)
    client = app.test_client()
    assert client.get("/api/a").data == b"a"
    assert client.post("/api/b").data == b"b"
    assert app.url_for("api.b") == "/api/b"


def test_an_empty_module_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'name' may not be empty"):
        Module("")


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        (None, "/x", "/x"),
        ("/", "", "/"),
        ("/", "/", "/"),
        ("/foo", "", "/foo"),
        ("/foo/", "", "/foo/"),
        ("/foo", "/", "/foo/"),
        ("/foo/", "/", "/foo/"),
        ("/foo/", "bar", "/foo/bar"),
        ("/foo/", "/bar", "/foo/bar"),
        ("/foo", "bar", "/foo/bar"),
    ],
)
def test_prefix_and_rule_are_joined_as_flask_joins_them(
    make_app: Callable[..., App], prefix: str | None, rule: str, url: str
) -> None:
    module = Module("m", url_prefix=prefix)
    module.add_url_rule(rule, "index", lambda request: ("", 204))
    app = make_app()
    app.register(module)
    assert app.url_for("m.index") == url
    assert app.test_client().get(url).status_code == 204


def test_register_may_rename_and_move_a_module(make_app: Callable[..., App]) -> None:
    module = Module("api", url_prefix="/api", api=True)
    module.add_url_rule("/ping", "ping", lambda request: request.endpoint)
    module.before_app_request(lambda request: None)
    app = make_app()
    app.register(module)
    app.register(module, name="api2", url_prefix="/v2/")
    client = app.test_client()
    assert client.get("/api/ping").data == b"api.ping"
    assert client.get("/v2/ping").data == b"api2.ping"
    assert client.get("/v2/missing").is_json  # the new prefix is an API prefix too
    assert len(app.before_request_funcs) == 1  # app-wide hooks are added once
    with pytest.raises(ValueError, match="'api2' is already registered"):
        app.register(Module("api2"))


def test_app_wide_hooks_of_a_module_run_for_every_request(make_app: Callable[..., App]) -> None:
    order: list[str] = []
    module = Module("audit")

    @module.before_app_request
    def before(request: Request) -> None:
        order.append(f"before {request.path}")

    @module.after_app_request
    def after(request: Request, response: Response) -> Response:
        order.append("after")
        return response

    @module.teardown_app_request
    def teardown(request: Request, error: BaseException | None) -> None:
        order.append("teardown")

    @module.app_errorhandler(404)
    def not_found(request: Request, error: Exception) -> tuple[str, int]:
        return "audit 404", 404

    app = make_app()
    app.add_url_rule("/", "index", lambda request: "index")
    app.register(module)
    client = app.test_client()
    assert client.get("/").data == b"index"
    assert client.get("/nowhere").data == b"audit 404"
    assert order == ["before /", "after", "teardown", "before /nowhere", "after", "teardown"]


def test_app_template_filters_tests_and_globals_of_a_module(make_app: Callable[..., App]) -> None:
    module = Module("text")

    @module.app_template_filter()
    def shout(value: str) -> str:
        return value.upper()

    @module.app_template_test("short")
    def is_short(value: str) -> bool:
        return len(value) < 4

    @module.app_template_global()
    def greeting() -> str:
        return "hi"

    module.add_app_template_filter(str.lower, "whisper")
    module.add_app_template_test(str.isdigit, "digits")
    module.add_app_template_global(lambda: 7, "seven")
    app = make_app()
    app.register(module)
    source = "{{ 'a'|shout }}{{ 'B'|whisper }} {{ 'abc' is short }} {{ '12' is digits }} "
    source += "{{ greeting() }}{{ seven() }}"
    assert app.render_string(None, source).data == b"Ab True True hi7"


def test_an_error_handler_table_without_the_errors_class_finds_nothing(app: App) -> None:
    app.register_error_handler(KeyError, lambda request, error: "key")
    assert app.find_error_handler(ValueError(), None) is None


def test_a_module_on_a_subdomain_serves_and_builds_urls_there(
    make_app: Callable[..., App],
) -> None:
    app = make_app(SERVER_NAME="shop.example")
    module = Module("eu", subdomain="eu")
    module.add_url_rule("/", "home", lambda request: request.url)
    module.add_url_rule("/all", "everywhere", lambda request: "x", subdomain="www")
    app.register(module)
    client = app.test_client()
    assert client.get("/", subdomain="eu").text == "http://eu.shop.example/"
    assert client.get("/").status_code == 404
    assert app.url_for("eu.home") == "http://eu.shop.example/"
    assert app.url_for("eu.everywhere") == "http://www.shop.example/all"  # the rule's own wins


def test_url_defaults_given_to_register_fill_every_route_under_the_routes_own(
    make_app: Callable[..., App],
) -> None:
    module = Module("pages")
    module.add_url_rule("/about", "about", lambda request, page, lang: f"{lang} {page}")
    module.add_url_rule(
        "/", "index", lambda request, page, lang: f"{lang} {page}", defaults={"page": 1}
    )
    app = make_app()
    app.register(module, url_prefix="/de", url_defaults={"lang": "de", "page": 0})
    client = app.test_client()
    assert client.get("/de/").data == b"de 1"
    assert client.get("/de/about").data == b"de 0"
