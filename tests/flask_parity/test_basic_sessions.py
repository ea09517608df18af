"""Ported from flask tests/test_basic.py: its session and flash tests (the rest of that file
is ported in test_basic.py).

``flask.session`` is ``request.session``; after a request, where Flask looks at the
request context the test client kept (``request_ctx._session``), the test looks at the
request a teardown hook kept, or reads the session back with ``session_transaction``.
``app.secret_key`` is ``app.config["SECRET_KEY"]`` and ``app.permanent_session_lifetime``
is ``SESSION_MAX_AGE`` seconds. One test is kept and marked ``xfail(strict)``:
``test_session_refresh_vary`` expects a permanent session to be renewed by a request that
never touches it, and microraab opens the session only for requests that use it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from markupsafe import Markup
from werkzeug.http import parse_date

from microraab import Response, flash, get_flashed_messages


def permanent_session_lifetime(app):
    return timedelta(seconds=app.config["SESSION_MAX_AGE"])


def test_session_accessed(app, client):
    """flask tests/test_basic.py::test_session_accessed"""
    requests = []
    app.teardown_request(lambda request, exc: requests.append(request))

    def accessed():
        return requests[-1].session_loaded

    def modified():
        return requests[-1].session_loaded and requests[-1].session.modified

    @app.post("/")
    def do_set(request):
        request.session["value"] = request.form["value"]
        return "value set"

    @app.get("/")
    def do_get(request):
        return request.session.get("value", "None")

    @app.get("/nothing")
    def do_nothing(request) -> str:
        return ""

    rv = client.get("/nothing")
    assert "cookie" not in rv.vary
    assert not accessed()
    assert not modified()

    rv = client.post(data={"value": "42"})
    assert rv.text == "value set"
    assert "cookie" in rv.vary
    assert accessed()
    assert modified()

    rv = client.get()
    assert rv.text == "42"
    assert "cookie" in rv.vary
    assert accessed()
    assert not modified()

    rv = client.get("/nothing")
    assert rv.text == ""
    assert "cookie" not in rv.vary
    assert not accessed()
    assert not modified()


def test_session_path(app, client):
    """flask tests/test_basic.py::test_session_path"""
    app.config.update(APPLICATION_ROOT="/foo")

    @app.route("/")
    def index(request):
        request.session["testing"] = 42
        return "Hello World"

    rv = client.get("/", "http://example.com:8080/foo")
    assert "path=/foo" in rv.headers["set-cookie"].lower()


def test_session_using_application_root(app, client):
    """flask tests/test_basic.py::test_session_using_application_root"""

    class PrefixPathMiddleware:
        def __init__(self, app, prefix):
            self.app = app
            self.prefix = prefix

        def __call__(self, environ, start_response):
            environ["SCRIPT_NAME"] = self.prefix
            return self.app(environ, start_response)

    app.wsgi_app = PrefixPathMiddleware(app.wsgi_app, "/bar")
    app.config.update(APPLICATION_ROOT="/bar")

    @app.route("/")
    def index(request):
        request.session["testing"] = 42
        return "Hello World"

    rv = client.get("/", "http://example.com:8080/")
    assert "path=/bar" in rv.headers["set-cookie"].lower()


def test_session_using_session_settings(app, client):
    """flask tests/test_basic.py::test_session_using_session_settings"""
    app.config.update(
        SERVER_NAME="www.example.com:8080",
        APPLICATION_ROOT="/test",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )

    @app.route("/")
    def index(request):
        request.session["testing"] = 42
        return "Hello World"

    @app.route("/clear")
    def clear(request):
        request.session.pop("testing", None)
        return "Goodbye World"

    rv = client.get("/", "http://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    # or condition for Werkzeug < 2.3
    assert "domain=example.com" in cookie or "domain=.example.com" in cookie
    assert "path=/" in cookie
    assert "secure" in cookie
    assert "httponly" not in cookie
    assert "samesite" in cookie
    assert "partitioned" in cookie

    rv = client.get("/clear", "http://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    assert "session=;" in cookie
    # or condition for Werkzeug < 2.3
    assert "domain=example.com" in cookie or "domain=.example.com" in cookie
    assert "path=/" in cookie
    assert "secure" in cookie
    assert "samesite" in cookie
    assert "partitioned" in cookie


def test_session_using_samesite_attribute(app, client):
    """flask tests/test_basic.py::test_session_using_samesite_attribute"""

    @app.route("/")
    def index(request):
        request.session["testing"] = 42
        return "Hello World"

    app.config.update(SESSION_COOKIE_SAMESITE="invalid")

    with pytest.raises(ValueError):
        client.get("/")

    app.config.update(SESSION_COOKIE_SAMESITE=None)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite" not in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie


def test_missing_session(app, make_request):
    """flask tests/test_basic.py::test_missing_session"""
    app.config["SECRET_KEY"] = None

    def expect_exception(f, *args, **kwargs):
        with pytest.raises(RuntimeError) as e:
            f(*args, **kwargs)
        assert e.value.args and "session is unavailable" in e.value.args[0]

    request = make_request()
    assert request.session.get("missing_key") is None
    expect_exception(request.session.__setitem__, "foo", 42)
    expect_exception(request.session.pop, "foo")


def test_session_secret_key_fallbacks(app, client) -> None:
    """flask tests/test_basic.py::test_session_secret_key_fallbacks"""

    @app.post("/")
    def set_session(request) -> str:
        request.session["a"] = 1
        return ""

    @app.get("/")
    def get_session(request):
        return dict(request.session)

    # Set session with initial secret key, and two valid expiring keys
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = (
        "0 key",
        ["-1 key", "-2 key"],
    )
    client.post()
    assert client.get().json == {"a": 1}
    # Change secret key, session can't be loaded and appears empty
    app.config["SECRET_KEY"] = "? key"
    assert client.get().json == {}
    # Rotate the valid keys, session can be loaded
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = (
        "+1 key",
        ["0 key", "-1 key"],
    )
    assert client.get().json == {"a": 1}


def test_session_expiration(app, client):
    """flask tests/test_basic.py::test_session_expiration"""
    permanent = True

    @app.route("/")
    def index(request):
        request.session["test"] = 42
        request.session.permanent = permanent
        return ""

    @app.route("/test")
    def test(request):
        return str(request.session.permanent)

    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"(?i)\bexpires=([^;]+)", rv.headers["set-cookie"])
    expires = parse_date(match.group())
    expected = datetime.now(timezone.utc) + permanent_session_lifetime(app)
    assert expires.year == expected.year
    assert expires.month == expected.month
    assert expires.day == expected.day

    rv = client.get("/test")
    assert rv.data == b"True"

    permanent = False
    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"\bexpires=([^;]+)", rv.headers["set-cookie"])
    assert match is None


def test_session_stored_last(app, client):
    """flask tests/test_basic.py::test_session_stored_last"""

    @app.after_request
    def modify_session(request, response):
        request.session["foo"] = 42
        return response

    @app.route("/")
    def dump_session_contents(request):
        return repr(request.session.get("foo"))

    assert client.get("/").data == b"None"
    assert client.get("/").data == b"42"


def test_session_special_types(app, client):
    """flask tests/test_basic.py::test_session_special_types (read back through
    ``session_transaction``)"""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    the_uuid = uuid.uuid4()

    @app.route("/")
    def dump_session_contents(request):
        request.session["t"] = (1, 2, 3)
        request.session["b"] = b"\xff"
        request.session["m"] = Markup("<html>")
        request.session["u"] = the_uuid
        request.session["d"] = now
        request.session["t_tag"] = {" t": "not-a-tuple"}
        request.session["di_t_tag"] = {" t__": "not-a-tuple"}
        request.session["di_tag"] = {" di": "not-a-dict"}
        return "", 204

    client.get("/")
    with client.session_transaction() as s:
        assert s["t"] == (1, 2, 3)
        assert type(s["b"]) is bytes
        assert s["b"] == b"\xff"
        assert type(s["m"]) is Markup
        assert s["m"] == Markup("<html>")
        assert s["u"] == the_uuid
        assert s["d"] == now
        assert s["t_tag"] == {" t": "not-a-tuple"}
        assert s["di_t_tag"] == {" t__": "not-a-tuple"}
        assert s["di_tag"] == {" di": "not-a-dict"}


def test_session_cookie_setting(app):
    """flask tests/test_basic.py::test_session_cookie_setting"""
    is_permanent = True

    @app.route("/bump")
    def bump(request):
        rv = request.session["foo"] = request.session.get("foo", 0) + 1
        request.session.permanent = is_permanent
        return str(rv)

    @app.route("/read")
    def read(request):
        return str(request.session.get("foo", 0))

    def run_test(expect_header):
        c = app.test_client()
        assert c.get("/bump").data == b"1"
        assert c.get("/bump").data == b"2"
        assert c.get("/bump").data == b"3"

        rv = c.get("/read")
        set_cookie = rv.headers.get("set-cookie")
        assert (set_cookie is not None) == expect_header
        assert rv.data == b"3"

    is_permanent = True
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    run_test(expect_header=True)

    is_permanent = True
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    run_test(expect_header=False)

    is_permanent = False
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    run_test(expect_header=False)

    is_permanent = False
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    run_test(expect_header=False)


def test_session_vary_cookie(app, client):
    """flask tests/test_basic.py::test_session_vary_cookie"""

    @app.route("/set")
    def set_session(request):
        request.session["test"] = "test"
        return ""

    @app.route("/get")
    def get(request):
        return request.session.get("test")

    @app.route("/getitem")
    def getitem(request):
        return request.session["test"]

    @app.route("/setdefault")
    def setdefault(request):
        return request.session.setdefault("test", "default")

    @app.route("/clear")
    def clear(request):
        request.session.clear()
        return ""

    @app.route("/vary-cookie-header-set")
    def vary_cookie_header_set(request):
        response = Response()
        response.vary.add("Cookie")
        request.session["test"] = "test"
        return response

    @app.route("/vary-header-set")
    def vary_header_set(request):
        response = Response()
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        request.session["test"] = "test"
        return response

    @app.route("/no-vary-header")
    def no_vary_header(request):
        return ""

    def expect(path, header_value="Cookie"):
        rv = client.get(path)

        if header_value:
            # The 'Vary' key should exist in the headers only once.
            assert len(rv.headers.get_all("Vary")) == 1
            assert rv.headers["Vary"] == header_value
        else:
            assert "Vary" not in rv.headers

    expect("/set")
    expect("/get")
    expect("/getitem")
    expect("/setdefault")
    expect("/clear")
    expect("/vary-cookie-header-set")
    expect("/vary-header-set", "Accept-Encoding, Accept-Language, Cookie")
    expect("/no-vary-header", None)


@pytest.mark.xfail(
    strict=True, reason="deliberate: a request that never touches the session never opens it"
)
def test_session_refresh_vary(app, client):
    """flask tests/test_basic.py::test_session_refresh_vary"""

    @app.get("/login")
    def login(request):
        request.session["user_id"] = 1
        request.session.permanent = True
        return ""

    @app.get("/ignored")
    def ignored(request):
        return ""

    rv = client.get("/login")
    assert rv.headers["Vary"] == "Cookie"
    rv = client.get("/ignored")
    assert rv.headers["Vary"] == "Cookie"


def test_flashes(app, make_request):
    """flask tests/test_basic.py::test_flashes"""
    request = make_request()
    assert not request.session.modified
    flash(request, "Zap")
    request.session.modified = False
    flash(request, "Zip")
    assert request.session.modified
    assert list(get_flashed_messages(request)) == ["Zap", "Zip"]


def test_extended_flashing(app):
    """flask tests/test_basic.py::test_extended_flashing"""
    # Be sure app.testing=True below, else tests can fail silently.
    #
    # Specifically, if app.testing is not set to True, the AssertionErrors
    # in the view functions will cause a 500 response to the test client
    # instead of propagating exceptions.

    @app.route("/")
    def index(request):
        flash(request, "Hello World")
        flash(request, "Hello World", "error")
        flash(request, Markup("<em>Testing</em>"), "warning")
        return ""

    @app.route("/test/")
    def test(request):
        messages = get_flashed_messages(request)
        assert list(messages) == [
            "Hello World",
            "Hello World",
            Markup("<em>Testing</em>"),
        ]
        return ""

    @app.route("/test_with_categories/")
    def test_with_categories(request):
        messages = get_flashed_messages(request, with_categories=True)
        assert len(messages) == 3
        assert list(messages) == [
            ("message", "Hello World"),
            ("error", "Hello World"),
            ("warning", Markup("<em>Testing</em>")),
        ]
        return ""

    @app.route("/test_filter/")
    def test_filter(request):
        messages = get_flashed_messages(request, category_filter=["message"], with_categories=True)
        assert list(messages) == [("message", "Hello World")]
        return ""

    @app.route("/test_filters/")
    def test_filters(request):
        messages = get_flashed_messages(
            request, category_filter=["message", "warning"], with_categories=True
        )
        assert list(messages) == [
            ("message", "Hello World"),
            ("warning", Markup("<em>Testing</em>")),
        ]
        return ""

    @app.route("/test_filters_without_returning_categories/")
    def test_filters2(request):
        messages = get_flashed_messages(request, category_filter=["message", "warning"])
        assert len(messages) == 2
        assert messages[0] == "Hello World"
        assert messages[1] == Markup("<em>Testing</em>")
        return ""

    # Create new test client on each test to clean flashed messages.

    client = app.test_client()
    client.get("/")
    client.get("/test_with_categories/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filter/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filters/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filters_without_returning_categories/")
