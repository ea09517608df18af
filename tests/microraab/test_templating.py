"""The Jinja2 environment: autoescape, context, globals, filters, undefined."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from jinja2 import DictLoader, UndefinedError

from microraab import App, Request, flash
from microraab.templating import Template


def test_render_puts_request_in_the_context_and_escapes_html(app: App) -> None:
    app.add_url_rule(
        "/hi", "hi", lambda request: request.app.render(request, "hello.html", name="<script>")
    )
    page = app.test_client().get("/hi").get_data(as_text=True)
    assert "Hello, &lt;script&gt;!" in page
    assert "<p>/hi</p>" in page


def test_strings_are_autoescaped_too(app: App) -> None:
    assert app.jinja_env.from_string("{{ v }}").render(v="<b>") == "&lt;b&gt;"


def test_globals_filters_flashes_and_config_in_templates(app: App) -> None:
    @app.template_filter("shout")
    def shout(value: str) -> str:
        return value.upper()

    @app.template_global()
    def twice(n: int) -> int:
        return n * 2

    app.add_url_rule("/page/<int:n>", "page", lambda request, n: "")

    @app.route("/")
    def index(request: Request) -> object:
        flash(request, "flashed <message>")
        return request.app.render(request, "helpers.html")

    client = app.test_client()
    client.get("/")  # flashes
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/page/3">' in page
    assert "<b>ABC</b><s>8</s>" in page
    assert "<i>production</i>" in page
    assert "<li>flashed &lt;message&gt;</li>" in page


def test_undefined_is_an_error_in_development(make_app: Callable[..., App]) -> None:
    app = make_app(ENV="development", TESTING=True)
    app.add_url_rule("/", "i", lambda request: request.app.render(request, "undefined.html"))
    with pytest.raises(UndefinedError, match="'missing' is undefined"):
        app.test_client().get("/")


def test_undefined_is_empty_in_production(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: request.app.render(request, "undefined.html"))
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == "[]"


def test_txt_templates_are_not_autoescaped(make_app: Callable[..., App]) -> None:
    app = make_app()
    app.jinja_env.loader = DictLoader({"mail.txt": "{{ v }}", "page.html": "{{ v }}"})
    assert app.jinja_env.get_template("mail.txt").render(v="<b>") == "<b>"
    assert app.jinja_env.get_template("page.html").render(v="<b>") == "&lt;b&gt;"


def test_url_for_static_in_a_template(app: App) -> None:
    page = app.jinja_env.from_string("{{ url_for('static', filename='site.css') }}")
    assert page.render() == "/static/site.css"


def test_render_returns_an_html_response(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: request.app.render(request, "hello.html", name="x"))
    response = app.test_client().get("/")
    assert isinstance(response, app.response_class)
    assert response.mimetype == "text/html"


def test_templates_reload_in_development_only(make_app: Callable[..., App]) -> None:
    assert make_app(ENV="development").jinja_env.auto_reload is True
    assert make_app().jinja_env.auto_reload is False
    assert make_app(TEMPLATES_AUTO_RELOAD=True).jinja_env.auto_reload is True


def test_app_without_template_folder_renders_strings(make_app: Callable[..., App]) -> None:
    app = App("x", template_folder=None, config={"SECRET_KEY": "k"})
    assert app.jinja_env.loader is None
    assert app.jinja_env.from_string("{{ 1 + 1 }}").render() == "2"


def test_a_render_sees_globals_as_jinja_does_layered_and_live(app: App) -> None:
    # microraab's Template merges the ChainMap of globals itself (PERF); what a template
    # sees must not change: its own globals over the environment's, later ones included.
    env = app.jinja_env
    env.loader = DictLoader(
        {
            "g.html": "{{ shade }}/{{ later }}/{{ config.ENV }}/{{ local }}",
            "inc.html": "{% include 'g.html' %}|{% set shade = 'set' %}{{ shade }}",
        }
    )
    env.globals["shade"] = "env"
    own = env.get_template("g.html", globals={"shade": "own"})
    assert isinstance(own, Template)
    assert own.render(local=1) == "own//production/1"
    env.globals["later"] = "added"  # after the template was loaded
    assert own.render(local=2) == "own/added/production/2"
    assert own.render(shade="var") == "var/added/production/"  # a render's vars win
    assert env.get_template("inc.html").render() == "env/added/production/|set"
    context = own.new_context({"local": 3})
    assert context.get_all() == {**env.globals, "shade": "own", "local": 3}
    assert "shade" in context.globals_keys and "local" not in context.globals_keys
    assert env.globals["shade"] == "env"  # the template's own never leak into the env's
    plain = env.from_string("{{ shade }}")
    plain.globals = {"shade": "a plain dict"}  # Jinja allows any mapping here
    assert plain.render() == "a plain dict"


def test_context_processors_add_values_that_render_arguments_override(app: App) -> None:
    seen: list[object] = []

    @app.context_processor
    def add_user(request: Request | None) -> dict[str, object]:
        seen.append(request)
        return {"user": "ada", "title": "default"}

    page = app.render_string(None, "{{ user }} {{ title }}", title="given")
    assert page.get_data(as_text=True) == "ada given"
    assert seen == [None]


def test_a_modules_context_processor_serves_only_its_own_pages(app: App) -> None:
    from microraab import Module

    shop = Module("shop", url_prefix="/shop")
    shop.context_processor(lambda request: {"where": "shop"})
    shop.app_context_processor(lambda request: {"everywhere": "yes"})
    app.context_processor(lambda request: {"where": "app"})
    page = "{{ where }} {{ everywhere }}"
    shop.add_url_rule("/", "index", lambda request: app.render_string(request, page))
    app.add_url_rule("/", "index", lambda request: app.render_string(request, page))
    app.register(shop)
    client = app.test_client()
    assert client.get("/shop/").data == b"shop yes"
    assert client.get("/").data == b"app yes"


def test_render_takes_a_list_and_renders_the_first_template_that_exists(app: App) -> None:
    page = app.render(None, ["missing.html", "hello.html"], name="ada")
    assert "Hello, ada!" in page.get_data(as_text=True)


def test_tojson_uses_the_apps_json_and_is_safe_in_html(app: App) -> None:
    import datetime

    value = {"when": datetime.date(2024, 5, 1), "text": "</script><b>&'"}
    page = app.render_string(None, "<script>var v = {{ v|tojson }};</script>", v=value)
    assert page.get_data(as_text=True) == (
        '<script>var v = {"when":"2024-05-01",'
        '"text":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u0027"};</script>'
    )


def test_template_tests_and_globals_are_registered_by_name(app: App) -> None:
    app.add_template_test(lambda value: value % 2 == 0, "even")
    app.add_template_global(lambda: 42, "answer")

    @app.template_test()
    def small(value: int) -> bool:
        return value < 10

    source = "{{ 4 is even }} {{ 3 is even }} {{ 3 is small }} {{ answer() }}"
    assert app.render_string(None, source).data == b"True False True 42"


@pytest.mark.parametrize(
    ("config", "reloads"),
    [
        ({}, False),
        ({"DEBUG": True}, True),
        ({"DEBUG": True, "TEMPLATES_AUTO_RELOAD": False}, False),
    ],
)
def test_debug_reloads_templates_unless_told_otherwise(
    make_app: Callable[..., App], config: dict[str, object], reloads: bool
) -> None:
    assert make_app(**config).jinja_env.auto_reload is reloads
