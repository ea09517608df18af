"""Class-based views: View, MethodView and as_view, registered with view_func."""

from __future__ import annotations

from typing import Any

import pytest

from microraab import App, Request
from microraab.views import MethodView, View


class Greeting(View):
    """Says hello."""

    def __init__(self, greeting: str, *, punctuation: str = "!") -> None:
        self.greeting = greeting
        self.punctuation = punctuation

    def dispatch_request(self, request: Request, **values: Any) -> Any:
        return f"{self.greeting}, {values['name']}{self.punctuation}"


def test_as_view_passes_its_arguments_to_the_class_and_the_url_values_to_the_view(
    app: App,
) -> None:
    app.add_url_rule("/hello/<name>", view_func=Greeting.as_view("hello", "Hi", punctuation="?"))
    assert app.test_client().get("/hello/ada").data == b"Hi, ada?"


def test_as_view_names_the_function_and_keeps_the_class(app: App) -> None:
    view = Greeting.as_view("hello", "Hi")
    assert view.__name__ == "hello"
    assert view.__doc__ == "Says hello."
    assert view.view_class is Greeting  # type: ignore[attr-defined]
    app.add_url_rule("/hello/<name>", view_func=view)
    assert app.url_for("hello", name="ada") == "/hello/ada"


def test_a_new_instance_serves_each_request_by_default(app: App) -> None:
    instances: list[object] = []

    class Remember(View):
        def dispatch_request(self, request: Request, **values: Any) -> Any:
            instances.append(self)
            return "ok"

    app.add_url_rule("/", view_func=Remember.as_view("index"))
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert len(instances) == 2 and instances[0] is not instances[1]


def test_a_view_without_dispatch_request_is_not_implemented() -> None:
    with pytest.raises(NotImplementedError):
        View().dispatch_request(None)  # type: ignore[arg-type]


def test_method_view_methods_are_the_handlers_it_defines() -> None:
    class Things(MethodView):
        def get(self, request: Request) -> str:
            return "list"

        def post(self, request: Request) -> str:
            return "created"

    class Nothing(MethodView):
        pass

    assert Things.methods == {"GET", "POST"}
    assert Nothing.methods is None


def test_method_view_answers_head_with_get_and_refuses_unlisted_methods(app: App) -> None:
    class Things(MethodView):
        def get(self, request: Request, n: int) -> str:
            return f"thing {n}"

    app.add_url_rule("/things/<int:n>", view_func=Things.as_view("things"))
    client = app.test_client()
    assert client.get("/things/3").data == b"thing 3"
    head = client.head("/things/3")
    assert head.status_code == 200 and head.headers["Content-Length"] == "7"
    assert client.post("/things/3").status_code == 405


def test_method_view_without_a_handler_for_a_listed_method_fails(app: App) -> None:
    class Listed(MethodView):
        methods = ["GET", "PUT"]

        def get(self, request: Request) -> str:
            return "got"

    app.add_url_rule("/", view_func=Listed.as_view("index"), csrf=False)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(AssertionError, match="Unimplemented method 'PUT'"):
        app.test_client().put("/")


def test_decorators_wrap_the_view_function_in_order(app: App) -> None:
    def tag(label: str) -> Any:
        def decorator(view: Any) -> Any:
            def wrapped(request: Request, **values: Any) -> str:
                return f"{label}({view(request, **values)})"

            return wrapped

        return decorator

    class Tagged(View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self, request: Request, **values: Any) -> Any:
            return "view"

    app.add_url_rule("/", view_func=Tagged.as_view("index"))
    assert app.test_client().get("/").data == b"outer(inner(view))"
    assert app.url_for("index") == "/"


def test_init_every_request_false_shares_one_instance_made_by_as_view(app: App) -> None:
    instances: list[object] = []

    class Shared(View):
        init_every_request = False

        def __init__(self, label: str) -> None:
            self.label = label

        def dispatch_request(self, request: Request, **values: Any) -> Any:
            instances.append(self)
            return self.label

    app.add_url_rule("/", view_func=Shared.as_view("index", "one"))
    client = app.test_client()
    assert client.get("/").data == client.get("/").data == b"one"
    assert instances[0] is instances[1]
