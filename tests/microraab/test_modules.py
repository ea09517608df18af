"""Modules (blueprints): prefixes, endpoints, scoped hooks and handlers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from microraab import App, Module, Request, Response


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
