"""Ported from flask tests/test_templating.py: rendering, filters, tests, globals, context.

Not ported (6 of Flask's 32): ``g`` and ``session`` as template globals (the request is
``request``, its session ``request.session``): test_standard_context; streamed templates:
test_simple_stream; ``app.run``: test_templates_auto_reload_debug_run; a custom loader or
Environment class hook (``create_global_jinja_loader``, ``jinja_environment``):
test_custom_template_loader, test_custom_jinja_env; modules' template folders and
``EXPLAIN_TEMPLATE_LOADING``: test_template_loader_debugging.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from microraab import App, Request, Response
from microraab.testing import TestClient


def test_context_processing(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_context_processing"""

    @app.context_processor
    def context_processor(request: Request | None) -> dict[str, Any]:
        return {"injected_value": 42}

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "context_template.html", value=23)

    rv = client.get("/")
    assert rv.data == b"<p>23|42"


def test_original_win(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_original_win"""

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render_string(request, "{{ config }}", config=42)

    rv = client.get("/")
    assert rv.data == b"42"


def test_request_less_rendering(app: App) -> None:
    """flask tests/test_templating.py::test_request_less_rendering"""
    app.config["WORLD_NAME"] = "Special World"

    @app.context_processor
    def context_processor(request: Request | None) -> dict[str, Any]:
        return {"foo": 42}

    rv = app.render_string(None, "Hello {{ config.WORLD_NAME }} {{ foo }}")
    assert rv.get_data(as_text=True) == "Hello Special World 42"


def test_escaping(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_escaping"""
    text = "<p>Hello World!"

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "escaping_template.html", text=text, html=Markup(text))

    lines = client.get("/").data.splitlines()
    assert lines == [
        b"&lt;p&gt;Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"&lt;p&gt;Hello World!",
        b"<p>Hello World!",
    ]


def test_no_escaping(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_no_escaping"""
    text = "<p>Hello World!"

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "non_escaping_template.txt", text=text, html=Markup(text))

    lines = client.get("/").data.splitlines()
    assert lines == [
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"&lt;p&gt;Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
        b"<p>Hello World!",
    ]


def test_escaping_without_template_filename(
    app: App, client: TestClient, make_request: Callable[..., Request]
) -> None:
    """flask tests/test_templating.py::test_escaping_without_template_filename"""
    request = make_request()
    rendered = app.render_string(request, "{{ foo }}", foo="<test>")
    assert rendered.get_data(as_text=True) == "&lt;test&gt;"
    assert app.render(request, "mail.txt", foo="<test>").get_data(as_text=True) == "<test> Mail"


def test_macros(app: App) -> None:
    """flask tests/test_templating.py::test_macros

    ``flask.get_template_attribute(name, attr)`` is ``getattr(env.get_template(name).module,
    attr)``; microraab has no helper for it, so the test does what the helper does.
    """
    macro = app.jinja_env.get_template("_macro.html").module.hello  # type: ignore[attr-defined]
    assert macro("World") == "Hello World!"


def test_template_filter(app: App) -> None:
    """flask tests/test_templating.py::test_template_filter"""

    @app.template_filter()
    def my_reverse(s: str) -> str:
        return s[::-1]

    assert "my_reverse" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["my_reverse"] == my_reverse
    assert app.jinja_env.filters["my_reverse"]("abcd") == "dcba"


def test_add_template_filter(app: App) -> None:
    """flask tests/test_templating.py::test_add_template_filter"""

    def my_reverse(s: str) -> str:
        return s[::-1]

    app.add_template_filter(my_reverse)
    assert "my_reverse" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["my_reverse"] == my_reverse
    assert app.jinja_env.filters["my_reverse"]("abcd") == "dcba"


def test_template_filter_with_name(app: App) -> None:
    """flask tests/test_templating.py::test_template_filter_with_name"""

    @app.template_filter("strrev")
    def my_reverse(s: str) -> str:
        return s[::-1]

    assert "strrev" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["strrev"] == my_reverse
    assert app.jinja_env.filters["strrev"]("abcd") == "dcba"


def test_add_template_filter_with_name(app: App) -> None:
    """flask tests/test_templating.py::test_add_template_filter_with_name"""

    def my_reverse(s: str) -> str:
        return s[::-1]

    app.add_template_filter(my_reverse, "strrev")
    assert "strrev" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["strrev"] == my_reverse
    assert app.jinja_env.filters["strrev"]("abcd") == "dcba"


def test_template_filter_with_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_template_filter_with_template"""

    @app.template_filter()
    def super_reverse(s: str) -> str:
        return s[::-1]

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_add_template_filter_with_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_add_template_filter_with_template"""

    def super_reverse(s: str) -> str:
        return s[::-1]

    app.add_template_filter(super_reverse)

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_template_filter_with_name_and_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_template_filter_with_name_and_template"""

    @app.template_filter("super_reverse")
    def my_reverse(s: str) -> str:
        return s[::-1]

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_add_template_filter_with_name_and_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_add_template_filter_with_name_and_template"""

    def my_reverse(s: str) -> str:
        return s[::-1]

    app.add_template_filter(my_reverse, "super_reverse")

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_template_test(app: App) -> None:
    """flask tests/test_templating.py::test_template_test"""

    @app.template_test()
    def boolean(value: Any) -> bool:
        return isinstance(value, bool)

    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == boolean
    assert app.jinja_env.tests["boolean"](False)


def test_add_template_test(app: App) -> None:
    """flask tests/test_templating.py::test_add_template_test"""

    def boolean(value: Any) -> bool:
        return isinstance(value, bool)

    app.add_template_test(boolean)
    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == boolean
    assert app.jinja_env.tests["boolean"](False)


def test_template_test_with_name(app: App) -> None:
    """flask tests/test_templating.py::test_template_test_with_name"""

    @app.template_test("boolean")
    def is_boolean(value: Any) -> bool:
        return isinstance(value, bool)

    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == is_boolean
    assert app.jinja_env.tests["boolean"](False)


def test_add_template_test_with_name(app: App) -> None:
    """flask tests/test_templating.py::test_add_template_test_with_name"""

    def is_boolean(value: Any) -> bool:
        return isinstance(value, bool)

    app.add_template_test(is_boolean, "boolean")
    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == is_boolean
    assert app.jinja_env.tests["boolean"](False)


def test_template_test_with_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_template_test_with_template"""

    @app.template_test()
    def boolean(value: Any) -> bool:
        return isinstance(value, bool)

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_add_template_test_with_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_add_template_test_with_template"""

    def boolean(value: Any) -> bool:
        return isinstance(value, bool)

    app.add_template_test(boolean)

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_template_test_with_name_and_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_template_test_with_name_and_template"""

    @app.template_test("boolean")
    def is_boolean(value: Any) -> bool:
        return isinstance(value, bool)

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_add_template_test_with_name_and_template(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_add_template_test_with_name_and_template"""

    def is_boolean(value: Any) -> bool:
        return isinstance(value, bool)

    app.add_template_test(is_boolean, "boolean")

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_add_template_global(app: App) -> None:
    """flask tests/test_templating.py::test_add_template_global"""

    @app.template_global()
    def get_stuff() -> int:
        return 42

    assert "get_stuff" in app.jinja_env.globals.keys()
    assert app.jinja_env.globals["get_stuff"] == get_stuff
    # Flask writes `assert ...(), 42` (42 as the message); == is what it means.
    assert app.jinja_env.globals["get_stuff"]() == 42

    rv = app.render_string(None, "{{ get_stuff() }}")
    assert rv.get_data(as_text=True) == "42"


def test_iterable_loader(app: App, client: TestClient) -> None:
    """flask tests/test_templating.py::test_iterable_loader"""

    @app.context_processor
    def context_processor(request: Request | None) -> dict[str, Any]:
        return {"whiskey": "Jameson"}

    @app.route("/")
    def index(request: Request) -> Response:
        return app.render(
            request,
            [
                "no_template.xml",  # should skip this one
                "simple_template.html",  # should render this
                "context_template.html",
            ],
            value=23,
        )

    rv = client.get("/")
    assert rv.data == b"<h1>Jameson</h1>"


def test_templates_auto_reload(app: App) -> None:
    """flask tests/test_templating.py::test_templates_auto_reload

    ``app.debug`` is ``config["DEBUG"]``; a new ``Flask(__name__)`` is a new App.
    """

    def new_app() -> App:
        return App(__name__, config={"SECRET_KEY": "test key"})

    # debug is False, config option is None
    assert app.config["DEBUG"] is False
    assert app.config["TEMPLATES_AUTO_RELOAD"] is None
    assert app.jinja_env.auto_reload is False
    # debug is False, config option is False
    app = new_app()
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    assert app.config["DEBUG"] is False
    assert app.jinja_env.auto_reload is False
    # debug is False, config option is True
    app = new_app()
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    assert app.config["DEBUG"] is False
    assert app.jinja_env.auto_reload is True
    # debug is True, config option is None
    app = new_app()
    app.config["DEBUG"] = True
    assert app.config["TEMPLATES_AUTO_RELOAD"] is None
    assert app.jinja_env.auto_reload is True
    # debug is True, config option is False
    app = new_app()
    app.config["DEBUG"] = True
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    assert app.jinja_env.auto_reload is False
    # debug is True, config option is True
    app = new_app()
    app.config["DEBUG"] = True
    app.config["TEMPLATES_AUTO_RELOAD"] = True
    assert app.jinja_env.auto_reload is True
