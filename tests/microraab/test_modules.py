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
