"""Ported from flask tests/test_blueprints.py: Modules (Flask's blueprints).

Not ported (16 of Flask's 60 items), for what microraab's Modules leave out:

- Nested modules (``bp.register_blueprint``): test_nested_blueprint, test_nested_callback_order,
  test_nesting_url_prefixes (4), test_nesting_subdomains, test_child_and_parent_subdomain,
  test_self_registration, test_blueprint_renaming (it registers one module in another).
- A module's own template and static folders: test_templates_and_static,
  test_default_static_max_age, test_templates_list.
- URL processors (and ``g``): test_blueprint_url_processors, test_app_url_processors.
- Views by endpoint without a rule: test_endpoint_decorator.
"""

from __future__ import annotations

import pytest
from werkzeug.exceptions import abort

from microraab import Module


def test_blueprint_specific_error_handling(app, client):
    """flask tests/test_blueprints.py::test_blueprint_specific_error_handling"""
    frontend = Module("frontend")
    backend = Module("backend")
    sideend = Module("sideend")

    @frontend.errorhandler(403)
    def frontend_forbidden(request, e):
        return "frontend says no", 403

    @frontend.route("/frontend-no")
    def frontend_no(request):
        abort(403)

    @backend.errorhandler(403)
    def backend_forbidden(request, e):
        return "backend says no", 403

    @backend.route("/backend-no")
    def backend_no(request):
        abort(403)

    @sideend.route("/what-is-a-sideend")
    def sideend_no(request):
        abort(403)

    app.register(frontend)
    app.register(backend)
    app.register(sideend)

    @app.errorhandler(403)
    def app_forbidden(request, e):
        return "application itself says no", 403

    assert client.get("/frontend-no").data == b"frontend says no"
    assert client.get("/backend-no").data == b"backend says no"
    assert client.get("/what-is-a-sideend").data == b"application itself says no"


def test_blueprint_specific_user_error_handling(app, client):
    """flask tests/test_blueprints.py::test_blueprint_specific_user_error_handling"""
    class MyDecoratorException(Exception):
        pass

    class MyFunctionException(Exception):
        pass

    blue = Module("blue")

    @blue.errorhandler(MyDecoratorException)
    def my_decorator_exception_handler(request, e):
        assert isinstance(e, MyDecoratorException)
        return "boom"

    def my_function_exception_handler(request, e):
        assert isinstance(e, MyFunctionException)
        return "bam"

    blue.register_error_handler(MyFunctionException, my_function_exception_handler)

    @blue.route("/decorator")
    def blue_deco_test(request):
        raise MyDecoratorException()

    @blue.route("/function")
    def blue_func_test(request):
        raise MyFunctionException()

    app.register(blue)

    assert client.get("/decorator").data == b"boom"
    assert client.get("/function").data == b"bam"


def test_blueprint_app_error_handling(app, client):
    """flask tests/test_blueprints.py::test_blueprint_app_error_handling"""
    errors = Module("errors")

    @errors.app_errorhandler(403)
    def forbidden_handler(request, e):
        return "you shall not pass", 403

    @app.route("/forbidden")
    def app_forbidden(request):
        abort(403)

    forbidden_bp = Module("forbidden_bp")

    @forbidden_bp.route("/nope")
    def bp_forbidden(request):
        abort(403)

    app.register(errors)
    app.register(forbidden_bp)

    assert client.get("/forbidden").data == b"you shall not pass"
    assert client.get("/nope").data == b"you shall not pass"


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    (
        ("", "/", "/"),
        ("/", "", "/"),
        ("/", "/", "/"),
        ("/foo", "", "/foo"),
        ("/foo/", "", "/foo/"),
        ("", "/bar", "/bar"),
        ("/foo/", "/bar", "/foo/bar"),
        ("/foo/", "bar", "/foo/bar"),
        ("/foo", "/bar", "/foo/bar"),
        ("/foo/", "//bar", "/foo/bar"),
        ("/foo//", "/bar", "/foo/bar"),
    ),
)
def test_blueprint_prefix_slash(app, client, prefix, rule, url):
    """flask tests/test_blueprints.py::test_blueprint_prefix_slash"""
    bp = Module("test", url_prefix=prefix)

    @bp.route(rule)
    def index(request):
        return "", 204

    app.register(bp)
    assert client.get(url).status_code == 204


def test_blueprint_url_defaults(app, client):
    """flask tests/test_blueprints.py::test_blueprint_url_defaults"""
    bp = Module("test")

    @bp.route("/foo", defaults={"baz": 42})
    def foo(request, bar, baz):
        return f"{bar}/{baz:d}"

    @bp.route("/bar")
    def bar(request, bar):
        return str(bar)

    app.register(bp, url_prefix="/1", url_defaults={"bar": 23})
    app.register(bp, name="test2", url_prefix="/2", url_defaults={"bar": 19})

    assert client.get("/1/foo").data == b"23/42"
    assert client.get("/2/foo").data == b"19/42"
    assert client.get("/1/bar").data == b"23"
    assert client.get("/2/bar").data == b"19"


def test_dotted_name_not_allowed(app, client):
    """flask tests/test_blueprints.py::test_dotted_name_not_allowed"""
    with pytest.raises(ValueError):
        Module("app.ui")


def test_empty_name_not_allowed(app, client):
    """flask tests/test_blueprints.py::test_empty_name_not_allowed"""
    with pytest.raises(ValueError):
        Module("")


def test_dotted_names_from_app(app, client):
    """flask tests/test_blueprints.py::test_dotted_names_from_app"""
    test = Module("test")

    @app.route("/")
    def app_index(request):
        return request.url_for("test.index")

    @test.route("/test/")
    def index(request):
        return request.url_for("app_index")

    app.register(test)

    rv = client.get("/")
    assert rv.data == b"/test/"


def test_empty_url_defaults(app, client):
    """flask tests/test_blueprints.py::test_empty_url_defaults"""
    bp = Module("bp")

    @bp.route("/", defaults={"page": 1})
    @bp.route("/page/<int:page>")
    def something(request, page):
        return str(page)

    app.register(bp)

    assert client.get("/").data == b"1"
    assert client.get("/page/2").data == b"2"


def test_route_decorator_custom_endpoint(app, client):
    """flask tests/test_blueprints.py::test_route_decorator_custom_endpoint"""
    bp = Module("bp")

    @bp.route("/foo")
    def foo(request):
        return request.endpoint

    @bp.route("/bar", endpoint="bar")
    def foo_bar(request):
        return request.endpoint

    @bp.route("/bar/123", endpoint="123")
    def foo_bar_foo(request):
        return request.endpoint

    @bp.route("/bar/foo")
    def bar_foo(request):
        return request.endpoint

    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return request.endpoint

    assert client.get("/").data == b"index"
    assert client.get("/py/foo").data == b"bp.foo"
    assert client.get("/py/bar").data == b"bp.bar"
    assert client.get("/py/bar/123").data == b"bp.123"
    assert client.get("/py/bar/foo").data == b"bp.bar_foo"


def test_route_decorator_custom_endpoint_with_dots(app, client):
    """flask tests/test_blueprints.py::test_route_decorator_custom_endpoint_with_dots"""
    bp = Module("bp")

    with pytest.raises(ValueError):
        bp.route("/", endpoint="a.b")(lambda: "")

    with pytest.raises(ValueError):
        bp.add_url_rule("/", endpoint="a.b")

    def view(request):
        return ""

    view.__name__ = "a.b"

    with pytest.raises(ValueError):
        bp.add_url_rule("/", view_func=view)


def test_template_filter(app):
    """flask tests/test_blueprints.py::test_template_filter"""
    bp = Module("bp")

    @bp.app_template_filter()
    def my_reverse(s):
        return s[::-1]

    app.register(bp, url_prefix="/py")
    assert "my_reverse" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["my_reverse"] == my_reverse
    assert app.jinja_env.filters["my_reverse"]("abcd") == "dcba"


def test_add_template_filter(app):
    """flask tests/test_blueprints.py::test_add_template_filter"""
    bp = Module("bp")

    def my_reverse(s):
        return s[::-1]

    bp.add_app_template_filter(my_reverse)
    app.register(bp, url_prefix="/py")
    assert "my_reverse" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["my_reverse"] == my_reverse
    assert app.jinja_env.filters["my_reverse"]("abcd") == "dcba"


def test_template_filter_with_name(app):
    """flask tests/test_blueprints.py::test_template_filter_with_name"""
    bp = Module("bp")

    @bp.app_template_filter("strrev")
    def my_reverse(s):
        return s[::-1]

    app.register(bp, url_prefix="/py")
    assert "strrev" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["strrev"] == my_reverse
    assert app.jinja_env.filters["strrev"]("abcd") == "dcba"


def test_add_template_filter_with_name(app):
    """flask tests/test_blueprints.py::test_add_template_filter_with_name"""
    bp = Module("bp")

    def my_reverse(s):
        return s[::-1]

    bp.add_app_template_filter(my_reverse, "strrev")
    app.register(bp, url_prefix="/py")
    assert "strrev" in app.jinja_env.filters.keys()
    assert app.jinja_env.filters["strrev"] == my_reverse
    assert app.jinja_env.filters["strrev"]("abcd") == "dcba"


def test_template_filter_with_template(app, client):
    """flask tests/test_blueprints.py::test_template_filter_with_template"""
    bp = Module("bp")

    @bp.app_template_filter()
    def super_reverse(s):
        return s[::-1]

    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_template_filter_after_route_with_template(app, client):
    """flask tests/test_blueprints.py::test_template_filter_after_route_with_template"""
    @app.route("/")
    def index(request):
        return app.render(request, "template_filter.html", value="abcd")

    bp = Module("bp")

    @bp.app_template_filter()
    def super_reverse(s):
        return s[::-1]

    app.register(bp, url_prefix="/py")
    rv = client.get("/")
    assert rv.data == b"dcba"


def test_add_template_filter_with_template(app, client):
    """flask tests/test_blueprints.py::test_add_template_filter_with_template"""
    bp = Module("bp")

    def super_reverse(s):
        return s[::-1]

    bp.add_app_template_filter(super_reverse)
    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_template_filter_with_name_and_template(app, client):
    """flask tests/test_blueprints.py::test_template_filter_with_name_and_template"""
    bp = Module("bp")

    @bp.app_template_filter("super_reverse")
    def my_reverse(s):
        return s[::-1]

    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_add_template_filter_with_name_and_template(app, client):
    """flask tests/test_blueprints.py::test_add_template_filter_with_name_and_template"""
    bp = Module("bp")

    def my_reverse(s):
        return s[::-1]

    bp.add_app_template_filter(my_reverse, "super_reverse")
    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_filter.html", value="abcd")

    rv = client.get("/")
    assert rv.data == b"dcba"


def test_template_test(app):
    """flask tests/test_blueprints.py::test_template_test"""
    bp = Module("bp")

    @bp.app_template_test()
    def is_boolean(value):
        return isinstance(value, bool)

    app.register(bp, url_prefix="/py")
    assert "is_boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["is_boolean"] == is_boolean
    assert app.jinja_env.tests["is_boolean"](False)


def test_add_template_test(app):
    """flask tests/test_blueprints.py::test_add_template_test"""
    bp = Module("bp")

    def is_boolean(value):
        return isinstance(value, bool)

    bp.add_app_template_test(is_boolean)
    app.register(bp, url_prefix="/py")
    assert "is_boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["is_boolean"] == is_boolean
    assert app.jinja_env.tests["is_boolean"](False)


def test_template_test_with_name(app):
    """flask tests/test_blueprints.py::test_template_test_with_name"""
    bp = Module("bp")

    @bp.app_template_test("boolean")
    def is_boolean(value):
        return isinstance(value, bool)

    app.register(bp, url_prefix="/py")
    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == is_boolean
    assert app.jinja_env.tests["boolean"](False)


def test_add_template_test_with_name(app):
    """flask tests/test_blueprints.py::test_add_template_test_with_name"""
    bp = Module("bp")

    def is_boolean(value):
        return isinstance(value, bool)

    bp.add_app_template_test(is_boolean, "boolean")
    app.register(bp, url_prefix="/py")
    assert "boolean" in app.jinja_env.tests.keys()
    assert app.jinja_env.tests["boolean"] == is_boolean
    assert app.jinja_env.tests["boolean"](False)


def test_template_test_with_template(app, client):
    """flask tests/test_blueprints.py::test_template_test_with_template"""
    bp = Module("bp")

    @bp.app_template_test()
    def boolean(value):
        return isinstance(value, bool)

    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_template_test_after_route_with_template(app, client):
    """flask tests/test_blueprints.py::test_template_test_after_route_with_template"""
    @app.route("/")
    def index(request):
        return app.render(request, "template_test.html", value=False)

    bp = Module("bp")

    @bp.app_template_test()
    def boolean(value):
        return isinstance(value, bool)

    app.register(bp, url_prefix="/py")
    rv = client.get("/")
    assert b"Success!" in rv.data


def test_add_template_test_with_template(app, client):
    """flask tests/test_blueprints.py::test_add_template_test_with_template"""
    bp = Module("bp")

    def boolean(value):
        return isinstance(value, bool)

    bp.add_app_template_test(boolean)
    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_template_test_with_name_and_template(app, client):
    """flask tests/test_blueprints.py::test_template_test_with_name_and_template"""
    bp = Module("bp")

    @bp.app_template_test("boolean")
    def is_boolean(value):
        return isinstance(value, bool)

    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_add_template_test_with_name_and_template(app, client):
    """flask tests/test_blueprints.py::test_add_template_test_with_name_and_template"""
    bp = Module("bp")

    def is_boolean(value):
        return isinstance(value, bool)

    bp.add_app_template_test(is_boolean, "boolean")
    app.register(bp, url_prefix="/py")

    @app.route("/")
    def index(request):
        return app.render(request, "template_test.html", value=False)

    rv = client.get("/")
    assert b"Success!" in rv.data


def test_context_processing(app, client):
    """flask tests/test_blueprints.py::test_context_processing"""
    answer_bp = Module("answer_bp")

    def template_string(request):
        return app.render_string(
            request,
            "{% if notanswer %}{{ notanswer }} is not the answer. {% endif %}"
            "{% if answer %}{{ answer }} is the answer.{% endif %}",
        )

    # App global context processor
    @answer_bp.app_context_processor
    def not_answer_context_processor(request):
        return {"notanswer": 43}

    # Blueprint local context processor
    @answer_bp.context_processor
    def answer_context_processor(request):
        return {"answer": 42}

    # Setup endpoints for testing
    @answer_bp.route("/bp")
    def bp_page(request):
        return template_string(request)

    @app.route("/")
    def app_page(request):
        return template_string(request)

    # Register the blueprint
    app.register(answer_bp)

    app_page_bytes = client.get("/").data
    answer_page_bytes = client.get("/bp").data

    assert b"43" in app_page_bytes
    assert b"42" not in app_page_bytes

    assert b"42" in answer_page_bytes
    assert b"43" in answer_page_bytes


def test_template_global(app):
    """flask tests/test_blueprints.py::test_template_global"""
    bp = Module("bp")

    @bp.app_template_global()
    def get_answer():
        return 42

    # Make sure the function is not in the jinja_env already
    assert "get_answer" not in app.jinja_env.globals.keys()
    app.register(bp)

    # Tests
    assert "get_answer" in app.jinja_env.globals.keys()
    assert app.jinja_env.globals["get_answer"] is get_answer
    assert app.jinja_env.globals["get_answer"]() == 42

    rv = app.render_string(None, "{{ get_answer() }}")
    assert rv.get_data(as_text=True) == "42"


def test_request_processing(app, client):
    """flask tests/test_blueprints.py::test_request_processing"""
    bp = Module("bp")
    evts = []

    @bp.before_request
    def before_bp(request):
        evts.append("before")

    @bp.after_request
    def after_bp(request, response):
        response.data += b"|after"
        evts.append("after")
        return response

    @bp.teardown_request
    def teardown_bp(request, exc):
        evts.append("teardown")

    # Setup routes for testing
    @bp.route("/bp")
    def bp_endpoint(request):
        return "request"

    app.register(bp)

    assert evts == []
    rv = client.get("/bp")
    assert rv.data == b"request|after"
    assert evts == ["before", "after", "teardown"]


def test_app_request_processing(app, client):
    """flask tests/test_blueprints.py::test_app_request_processing"""
    bp = Module("bp")
    evts = []

    @bp.before_app_request
    def before_app(request):
        evts.append("before")

    @bp.after_app_request
    def after_app(request, response):
        response.data += b"|after"
        evts.append("after")
        return response

    @bp.teardown_app_request
    def teardown_app(request, exc):
        evts.append("teardown")

    app.register(bp)

    # Setup routes for testing
    @app.route("/")
    def bp_endpoint(request):
        return "request"

    # before first request
    assert evts == []

    # first request
    resp = client.get("/").data
    assert resp == b"request|after"
    assert evts == ["before", "after", "teardown"]

    # second request
    resp = client.get("/").data
    assert resp == b"request|after"
    assert evts == ["before", "after", "teardown"] * 2


def test_unique_blueprint_names(app, client) -> None:
    """flask tests/test_blueprints.py::test_unique_blueprint_names"""
    bp = Module("bp")
    bp2 = Module("bp")

    app.register(bp)

    with pytest.raises(ValueError):
        app.register(bp)  # same bp, same name, error

    app.register(bp, name="again")  # same bp, different name, ok

    with pytest.raises(ValueError):
        app.register(bp2)  # different bp, same name, error

    app.register(bp2, name="alt")  # different bp, different name, ok

