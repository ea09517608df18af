"""The App object and the request pipeline: views, conversions, hooks, errors."""

from __future__ import annotations

import gc
import logging
import weakref
import wsgiref.validate
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.exceptions import BadRequest, Forbidden, InternalServerError, NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client, EnvironBuilder

from microraab import App, Request, Response, abort


def test_app_is_a_wsgi_callable_delegating_to_wsgi_app(app: App) -> None:
    @app.route("/")
    def index(request: Request) -> str:
        return "hi"

    statuses: list[str] = []
    body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x",
                "SERVER_PORT": "80", "wsgi.url_scheme": "http"},
               lambda status, headers, exc_info=None: statuses.append(status))  # fmt: skip
    assert b"".join(body) == b"hi"
    assert statuses == ["200 OK"]


def test_middleware_wraps_wsgi_app_the_flask_way(app: App) -> None:
    @app.route("/")
    def index(request: Request) -> str:
        return f"{request.remote_addr} {request.scheme}"

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    response = app.test_client().get(
        "/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert response.get_data(as_text=True) == "203.0.113.9 https"


def test_app_factory_builds_independent_apps(make_app: Callable[..., App]) -> None:
    def create_app(greeting: str) -> App:
        app = make_app()
        app.add_url_rule("/", "index", lambda request: greeting)
        return app

    assert create_app("a").test_client().get("/").data == b"a"
    assert create_app("b").test_client().get("/").data == b"b"


def test_dispatcher_middleware_mounts_an_app_and_url_for_includes_the_prefix(
    make_app: Callable[..., App],
) -> None:
    main, sub = make_app(), make_app()

    @sub.route("/page")
    def page(request: Request) -> dict[str, str]:
        return {
            "relative": request.url_for("page"),
            "external": request.url_for("page", _external=True),
            "static": request.url_for("static", filename="site.css"),
        }

    main.wsgi_app = DispatcherMiddleware(main.wsgi_app, {"/sub": sub})  # type: ignore[method-assign]
    client = main.test_client()
    assert client.get("/sub/page").json == {
        "relative": "/sub/page",
        "external": "http://localhost/sub/page",
        "static": "/sub/static/site.css",
    }
    assert b"color: black" in client.get("/sub/static/site.css").data


@pytest.mark.parametrize(
    ("result", "status", "mimetype", "body"),
    [
        ("<b>hi</b>", 200, "text/html", b"<b>hi</b>"),
        (b"\x00raw", 200, "text/html", b"\x00raw"),
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, 2], 200, "application/json", b"[1,2]"),
        (Response("r", mimetype="text/plain"), 200, "text/plain", b"r"),
        (("created", 201), 201, "text/html", b"created"),
        (("created", "201 CREATED"), 201, "text/html", b"created"),
        (({"a": 1}, 202), 202, "application/json", b'{"a":1}'),
        (({"a": 1}, "202 ACCEPTED"), 202, "application/json", b'{"a":1}'),
        (("x", {"X-Extra": "1"}), 200, "text/html", b"x"),
        (("x", 418, {"X-Extra": "1"}), 418, "text/html", b"x"),
        ((Response("r"), 203, [("X-Extra", "1")]), 203, "text/html", b"r"),
        (NotFound("gone"), 404, "text/html", b"gone"),
    ],
)
def test_view_return_values_become_responses(
    app: App, result: Any, status: int, mimetype: str, body: bytes
) -> None:
    app.add_url_rule("/", "index", lambda request: result)
    response = app.test_client().get("/")
    assert response.status_code == status
    assert response.mimetype == mimetype
    assert body in response.data


@pytest.mark.parametrize(
    "make_result",
    [
        lambda: "text",
        lambda: b"bytes",
        lambda: {"a": 1},
        lambda: iter(["streamed ", "chunks"]),
        lambda: Response(["a list ", "of str"]),
        lambda: ("created", 201),
    ],
    ids=["str", "bytes", "dict", "iterator", "response-with-str-list", "tuple"],
)
def test_every_kind_of_response_is_valid_wsgi(app: App, make_result: Callable[[], Any]) -> None:
    app.add_url_rule("/", "index", lambda request: make_result())
    client = Client(wsgiref.validate.validator(app))
    for method in ("GET", "HEAD"):
        response = client.open("/", method=method)
        response.close()
        assert response.status_code in (200, 201)


def test_response_with_a_list_of_str_is_sent_as_bytes(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: Response(["a", "b"]))
    chunks = app(EnvironBuilder(path="/").get_environ(), lambda status, headers: None)
    assert list(chunks) == [b"a", b"b"]


def test_headers_from_a_tuple_are_added(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: ("x", 200, {"X-Extra": "yes"}))
    assert app.test_client().get("/").headers["X-Extra"] == "yes"


def test_generator_is_streamed_without_content_length(app: App) -> None:
    def chunks() -> Iterator[str]:
        yield "one,"
        yield "two"

    app.add_url_rule("/", "index", lambda request: chunks())
    response = app.test_client().get("/")
    assert response.data == b"one,two"
    assert "Content-Length" not in response.headers


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        (None, "returned None"),
        (42, "it was a int"),
        (("a", 200, {}, "extra"), "tuple of 4 items; the tuple must have the form"),
    ],
)
def test_invalid_view_results_raise_type_error_naming_the_view(
    make_app: Callable[..., App], result: Any, fragment: str
) -> None:
    app = make_app(TESTING=True)
    app.add_url_rule("/", "my_view", lambda request: result)
    with pytest.raises(TypeError, match="my_view") as info:
        app.test_client().get("/")
    assert fragment in str(info.value)


@pytest.mark.parametrize("config", [{"TESTING": True}, {"DEBUG": True}], ids=["TESTING", "DEBUG"])
def test_testing_or_debug_makes_exceptions_propagate(
    make_app: Callable[..., App], config: dict[str, bool]
) -> None:
    app = make_app(**config)
    app.add_url_rule("/", "my_view", lambda request: None)
    with pytest.raises(TypeError, match="my_view"):
        app.test_client().get("/")


def test_invalid_view_result_in_production_is_a_logged_500(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    app.add_url_rule("/", "my_view", lambda request: None)
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert "TypeError" not in response.get_data(as_text=True)
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], TypeError)
    assert "my_view" in str(record.exc_info[1])


def test_unhandled_exception_is_logged_with_traceback_and_request_id_and_500_without_it(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.route("/")
    def index(request: Request) -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page
    assert response.headers["X-Request-ID"] == "req-42"
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert record.exc_info is not None and "secret internals" in str(record.exc_info[1])
    assert record.request_id == "req-42"  # type: ignore[attr-defined]


def test_unhandled_exception_on_an_api_route_is_a_json_500(app: App) -> None:
    @app.route("/api", api=True)
    def api(request: Request) -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api")
    assert response.status_code == 500
    assert response.json == {"error": {"status": 500, "message": InternalServerError.description}}


def test_propagate_exceptions_false_wins_over_testing(make_app: Callable[..., App]) -> None:
    app = make_app(TESTING=True, PROPAGATE_EXCEPTIONS=False)

    @app.route("/")
    def index(request: Request) -> str:
        raise RuntimeError("boom")

    assert app.test_client().get("/").status_code == 500


def test_propagate_exceptions_re_raises(make_app: Callable[..., App]) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=True)

    @app.route("/")
    def index(request: Request) -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        app.test_client().get("/")


def test_errorhandler_by_code(app: App) -> None:
    @app.errorhandler(404)
    def not_found(request: Request, error: Exception) -> tuple[str, int]:
        return f"custom 404 for {request.path}", 404

    response = app.test_client().get("/missing")
    assert response.status_code == 404
    assert response.data == b"custom 404 for /missing"


def test_errorhandler_by_exception_class_and_subclass(app: App) -> None:
    class AppError(Exception):
        pass

    class SpecificError(AppError):
        pass

    @app.errorhandler(AppError)
    def handle(request: Request, error: AppError) -> tuple[str, int]:
        return f"handled {type(error).__name__}", 409

    @app.route("/")
    def index(request: Request) -> str:
        raise SpecificError()

    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (409, b"handled SpecificError")


def test_errorhandler_by_http_exception_class_catches_its_code(app: App) -> None:
    @app.errorhandler(BadRequest)
    def bad_request(request: Request, error: BadRequest) -> tuple[str, int]:
        return f"bad: {error.description}", 400

    @app.route("/")
    def index(request: Request) -> str:
        abort(400, "no name given")

    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (400, b"bad: no name given")


def test_handler_for_a_code_wins_over_a_handler_for_a_base_class(app: App) -> None:
    app.register_error_handler(Exception, lambda request, error: ("base", 500))
    app.register_error_handler(404, lambda request, error: ("by code", 404))
    assert app.test_client().get("/missing").data == b"by code"


def test_500_handler_receives_the_original_exception(app: App) -> None:
    @app.errorhandler(500)
    def server_error(request: Request, error: Any) -> tuple[str, int]:
        return f"sorry: {type(error.original_exception).__name__}", 500

    @app.route("/")
    def index(request: Request) -> str:
        raise KeyError("x")

    assert app.test_client().get("/").data == b"sorry: KeyError"


def test_failing_error_handler_gives_plain_500(app: App, caplog: pytest.LogCaptureFixture) -> None:
    @app.errorhandler(500)
    def server_error(request: Request, error: Any) -> str:
        raise ValueError("handler broke")

    @app.route("/")
    def index(request: Request) -> str:
        raise KeyError("x")

    response = app.test_client().get("/", headers={"X-Request-ID": "req-7"})
    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert "handler broke" not in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == "req-7"
    assert any("Error handler failed" in r.getMessage() for r in caplog.records)


def test_plain_500_leaves_out_the_request_id_header_when_turned_off(
    make_app: Callable[..., App],
) -> None:
    app = make_app(REQUEST_ID_HEADER=None)
    app.register_error_handler(500, lambda request, error: 1 / 0)
    app.add_url_rule("/", "index", lambda request: None)
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert "X-Request-ID" not in response.headers


def test_broken_error_template_falls_back_to_the_plain_500_page(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(ERROR_TEMPLATE="no-such-template.html")
    response = app.test_client().get("/missing")
    assert response.status_code == 500
    assert b"<h1>500 Internal Server Error</h1>" in response.data
    assert any("no-such-template.html" in str(r.exc_info and r.exc_info[1]) for r in caplog.records)


def test_register_error_handler_refuses_an_unknown_status_code(app: App) -> None:
    with pytest.raises(ValueError, match="'999' is not a recognized HTTP error code"):
        app.register_error_handler(999, lambda r, e: "")


def test_register_error_handler_refuses_a_non_exception_class_as_flask_does(app: App) -> None:
    with pytest.raises(ValueError, match="'str' is not a subclass of Exception"):
        app.register_error_handler(str, lambda r, e: "")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'KeyboardInterrupt' is not a subclass of Exception"):
        app.register_error_handler(KeyboardInterrupt, lambda r, e: "")


def test_register_error_handler_refuses_an_exception_instance(app: App) -> None:
    with pytest.raises(TypeError, match=r"KeyError\(\) is an instance, not a class"):
        app.register_error_handler(KeyError(), lambda r, e: "")  # type: ignore[arg-type]


def test_the_most_specific_error_class_wins_over_its_status_code(app: App) -> None:
    class Banned(Forbidden):
        pass

    app.register_error_handler(403, lambda request, error: "any 403")
    app.register_error_handler(Banned, lambda request, error: "banned")
    app.register_error_handler(Exception, lambda request, error: "anything")

    @app.route("/<kind>")
    def index(request: Request, kind: str) -> str:
        raise Banned() if kind == "banned" else Forbidden()

    client = app.test_client()
    assert client.get("/banned").data == b"banned"
    assert client.get("/plain").data == b"any 403"
    assert client.get("/nowhere/at/all").data == b"anything"


def test_an_after_request_hook_failing_keeps_the_500_handlers_page(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.after_request
    def fail(request: Request, response: Response) -> Response:
        raise ZeroDivisionError

    app.add_url_rule("/", "index", lambda request: "fine")
    app.register_error_handler(500, lambda request, error: ("Hello Server Error", 500))
    response = app.test_client().get("/")
    assert response.status_code == 500
    assert response.data == b"Hello Server Error"
    assert response.headers["X-Request-ID"]
    assert any("Processing the error response failed" in r.getMessage() for r in caplog.records)


def test_abort_raises_http_exception_rendered_as_error_page(app: App) -> None:
    @app.route("/")
    def index(request: Request) -> str:
        abort(403, "not for you")

    response = app.test_client().get("/")
    assert response.status_code == 403
    assert b"not for you" in response.data


def test_a_returned_http_error_is_answered_like_a_raised_one(app: App) -> None:
    @app.route("/json", api=True)
    def returned(request: Request) -> Any:
        return NotFound("no such thing")

    @app.errorhandler(403)
    def forbidden(request: Request, error: Exception) -> Any:
        return "custom 403", 403

    app.add_url_rule("/forbidden", "forbidden", lambda request: Forbidden())
    client = app.test_client()
    assert client.get("/json").json == {"error": {"status": 404, "message": "no such thing"}}
    assert client.get("/forbidden").data == b"custom 403"


def test_a_handler_returning_its_own_error_gets_the_default_page(app: App) -> None:
    app.register_error_handler(404, lambda request, error: error)
    response = app.test_client().get("/missing")
    assert response.status_code == 404
    assert b"404" in response.data


def test_error_template_renders_error_pages(make_app: Callable[..., App]) -> None:
    app = make_app(ERROR_TEMPLATE="error.html")
    response = app.test_client().get("/nope")
    assert response.status_code == 404
    assert b'<h1 class="custom">404 Not Found</h1>' in response.data


def test_before_request_may_short_circuit(app: App) -> None:
    calls: list[str] = []

    @app.before_request
    def first(request: Request) -> None:
        calls.append("first")

    @app.before_request
    def block(request: Request) -> tuple[str, int]:
        return "blocked", 401

    @app.route("/")
    def index(request: Request) -> str:
        calls.append("view")
        return "view"

    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (401, b"blocked")
    assert calls == ["first"]


def test_before_request_runs_for_404_too(app: App) -> None:
    seen: list[str] = []
    app.before_request(lambda request: seen.append(request.path))
    assert app.test_client().get("/nowhere").status_code == 404
    assert seen == ["/nowhere"]


def test_after_request_may_replace_the_response_newest_first(app: App) -> None:
    order: list[str] = []

    @app.after_request
    def older(request: Request, response: Response) -> Response:
        order.append("older")
        response.headers["X-Older"] = "1"
        return response

    @app.after_request
    def newer(request: Request, response: Response) -> Response:
        order.append("newer")
        return Response("replaced", 202)

    app.add_url_rule("/", "index", lambda request: "original")
    response = app.test_client().get("/")
    assert (response.status_code, response.data) == (202, b"replaced")
    assert response.headers["X-Older"] == "1"
    assert order == ["newer", "older"]


def test_after_request_returning_a_non_response_is_an_error(make_app: Callable[..., App]) -> None:
    app = make_app(TESTING=True)
    app.after_request(lambda request, response: None)
    app.add_url_rule("/", "index", lambda request: "x")
    with pytest.raises(TypeError, match="must return the response"):
        app.test_client().get("/")


def test_teardown_always_runs_with_the_exception(app: App) -> None:
    seen: list[Any] = []
    app.teardown_request(lambda request, error: seen.append(error))

    @app.route("/ok")
    def ok(request: Request) -> str:
        return "ok"

    @app.route("/fail")
    def fail(request: Request) -> str:
        raise RuntimeError("x")

    client = app.test_client()
    client.get("/ok")
    assert client.get("/fail").status_code == 500
    assert seen[0] is None
    assert isinstance(seen[1], RuntimeError)


def test_teardown_runs_when_the_exception_propagates(make_app: Callable[..., App]) -> None:
    app = make_app(TESTING=True)
    seen: list[Any] = []
    app.teardown_request(lambda request, error: seen.append(error))

    @app.route("/")
    def index(request: Request) -> str:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        app.test_client().get("/")
    assert len(seen) == 1 and isinstance(seen[0], RuntimeError)


@pytest.mark.parametrize("path", ["/missing", "/only-get", "/dir", "/fail"])
def test_a_failed_request_is_freed_without_the_cyclic_gc(
    app: App, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An exception kept on the request (routing_exception) or in a frame its traceback
    # holds would keep the request, its environ and its response in a reference cycle.
    monkeypatch.setattr(app.logger, "propagate", False)  # pytest keeps records' tracebacks
    requests: list[weakref.ref[Request]] = []
    app.before_request(lambda request: requests.append(weakref.ref(request)))
    app.add_url_rule("/only-get", "only_get", lambda request: "")
    app.add_url_rule("/dir/", "dir", lambda request: "")

    @app.route("/fail")
    def fail(request: Request) -> str:
        raise RuntimeError("x")

    client = app.test_client()
    method = "POST" if path == "/only-get" else "GET"
    gc.disable()
    try:
        status = client.open(path, method=method).status_code
        assert status == {"/missing": 404, "/only-get": 405, "/dir": 308, "/fail": 500}[path]
        assert len(requests) == 1 and requests[0]() is None
    finally:
        gc.enable()


def test_teardown_sees_none_when_an_error_handler_answered(app: App) -> None:
    seen: list[Any] = []
    app.teardown_request(lambda request, error: seen.append(error))
    app.register_error_handler(KeyError, lambda request, error: ("handled", 400))

    @app.route("/")
    def index(request: Request) -> str:
        raise KeyError("x")

    assert app.test_client().get("/").status_code == 400
    assert seen == [None]


def test_failing_teardown_is_logged_and_the_others_still_run(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    app.teardown_request(lambda request, error: ran.append("first"))

    @app.teardown_request
    def broken(request: Request, error: Exception | None) -> None:
        raise RuntimeError("teardown broke")

    app.add_url_rule("/", "index", lambda request: "x")
    assert app.test_client().get("/").status_code == 200
    assert ran == ["first"]
    assert any("teardown_request hook" in r.getMessage() for r in caplog.records)


def test_hook_exception_goes_to_error_handler(app: App) -> None:
    @app.before_request
    def broken(request: Request) -> None:
        raise LookupError("hook failed")

    @app.errorhandler(LookupError)
    def handle(request: Request, error: LookupError) -> tuple[str, int]:
        return str(error), 400

    app.add_url_rule("/", "index", lambda request: "x")
    assert app.test_client().get("/").data == b"hook failed"


def test_route_without_view_is_an_error(make_app: Callable[..., App]) -> None:
    app = make_app(TESTING=True)
    app.add_url_rule("/", "index")
    with pytest.raises(LookupError, match="no view function"):
        app.test_client().get("/")


def test_add_url_rule_needs_endpoint_or_view(app: App) -> None:
    with pytest.raises(ValueError, match="endpoint or a view"):
        app.add_url_rule("/")


def test_security_headers_only_on_html(app: App) -> None:
    app.add_url_rule("/page", "page", lambda request: "<p>x</p>")
    app.add_url_rule("/data", "data", lambda request: {"a": 1})
    client = app.test_client()
    page = client.get("/page")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Content-Security-Policy" not in client.get("/data").headers


def test_security_headers_set_by_the_view_are_kept(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: ("<p>x</p>", {"x-frame-options": "SAMEORIGIN"}))
    response = app.test_client().get("/")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"), [("/page", 200), ("/data", 200), ("/missing", 404), ("/fail", 500)]
)
def test_every_response_carries_a_request_id(app: App, path: str, status: int) -> None:
    app.add_url_rule("/page", "page", lambda request: "<p>x</p>")
    app.add_url_rule("/data", "data", lambda request: {"a": 1})
    app.add_url_rule("/fail", "fail", lambda request: None)
    response = app.test_client().get(path)
    assert response.status_code == status
    assert response.headers["X-Request-ID"]


def test_untrusted_host_is_400(make_app: Callable[..., App]) -> None:
    app = make_app(TRUSTED_HOSTS=["good.example"])
    app.add_url_rule("/", "index", lambda request: "x")
    client = app.test_client()
    assert client.get("/", headers={"Host": "good.example"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_development_property(make_app: Callable[..., App]) -> None:
    assert make_app(ENV="development").development
    assert not make_app().development


@pytest.mark.parametrize(
    ("config", "trapped"),
    [
        ({}, False),
        ({"TRAP_HTTP_EXCEPTIONS": True}, True),
        ({"DEBUG": True}, True),  # a missing form key, in DEBUG
        ({"DEBUG": True, "TRAP_BAD_REQUEST_ERRORS": False}, False),
    ],
)
def test_trapped_http_errors_propagate_like_other_exceptions(
    make_app: Callable[..., App], config: dict[str, bool], trapped: bool
) -> None:
    app = make_app(TESTING=True, **config)
    app.add_url_rule("/", "form", lambda request: request.form["missing"])
    client = app.test_client()
    if trapped:
        with pytest.raises(BadRequest):
            client.get("/")
    else:
        assert client.get("/").status_code == 400


def test_trap_bad_request_errors_traps_every_400_but_not_other_codes(
    make_app: Callable[..., App],
) -> None:
    app = make_app(TESTING=True, TRAP_BAD_REQUEST_ERRORS=True)
    app.add_url_rule("/400", "bad", lambda request: abort(400))
    app.add_url_rule("/404", "missing", lambda request: abort(404))
    client = app.test_client()
    with pytest.raises(BadRequest):
        client.get("/400")
    assert client.get("/404").status_code == 404
