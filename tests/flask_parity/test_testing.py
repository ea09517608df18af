"""Ported from flask tests/test_testing.py: the test client and its EnvironBuilder.

Not ported, by reason: context locals (``test_session_transactions_keep_context``,
``test_test_client_context_binding``, ``test_client_pop_all_preserved``), signals and the
app context (``test_client_json_no_app_context``), click command groups
(``test_cli_runner_class``, ``test_cli_invoke``, ``test_cli_custom_obj``).
"""

from __future__ import annotations

import importlib.metadata

import pytest

from microraab import App, JSONResponse, Module, redirect
from microraab.testing import EnvironBuilder


def test_environ_defaults_from_config(app, client, make_request):
    """flask tests/test_testing.py::test_environ_defaults_from_config"""
    app.config["SERVER_NAME"] = "example.com:1234"
    app.config["APPLICATION_ROOT"] = "/foo"

    @app.route("/")
    def index(request):
        return request.url

    ctx_request = make_request()
    assert ctx_request.url == "http://example.com:1234/foo/"

    rv = client.get("/")
    assert rv.data == b"http://example.com:1234/foo/"


def test_environ_defaults(app, client, make_request):
    """flask tests/test_testing.py::test_environ_defaults"""

    @app.route("/")
    def index(request):
        return request.url

    ctx_request = make_request()
    assert ctx_request.url == "http://localhost/"
    rv = client.get("/")
    assert rv.data == b"http://localhost/"


def test_environ_base_default(app, client):
    """flask tests/test_testing.py::test_environ_base_default (``flask.g`` is a dict here)"""
    g = {}

    @app.route("/")
    def index(request):
        g["remote_addr"] = request.remote_addr
        g["user_agent"] = request.user_agent.string
        return ""

    client.get("/")
    assert g["remote_addr"] == "127.0.0.1"
    assert g["user_agent"] == (f"Werkzeug/{importlib.metadata.version('werkzeug')}")


def test_environ_base_modified(app, client):
    """flask tests/test_testing.py::test_environ_base_modified (``flask.g`` is a dict here)"""
    g = {}

    @app.route("/")
    def index(request):
        g["remote_addr"] = request.remote_addr
        g["user_agent"] = request.user_agent.string
        return ""

    client.environ_base["REMOTE_ADDR"] = "192.168.0.22"
    client.environ_base["HTTP_USER_AGENT"] = "Foo"

    client.get("/")
    assert g["remote_addr"] == "192.168.0.22"
    assert g["user_agent"] == "Foo"


def test_client_open_environ(app, client, request):
    """flask tests/test_testing.py::test_client_open_environ"""

    @app.route("/index")
    def index(request):
        return request.remote_addr

    builder = EnvironBuilder(app, path="/index", method="GET")
    request.addfinalizer(builder.close)

    rv = client.open(builder)
    assert rv.data == b"127.0.0.1"

    environ = builder.get_environ()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    rv = client.open(environ)
    assert rv.data == b"127.0.0.2"


def test_specify_url_scheme(app, client, make_request):
    """flask tests/test_testing.py::test_specify_url_scheme"""

    @app.route("/")
    def index(request):
        return request.url

    ctx_request = make_request(url_scheme="https")
    assert ctx_request.url == "https://localhost/"

    rv = client.get("/", url_scheme="https")
    assert rv.data == b"https://localhost/"


def test_path_is_url(app):
    """flask tests/test_testing.py::test_path_is_url"""
    eb = EnvironBuilder(app, "https://example.com/")
    assert eb.url_scheme == "https"
    assert eb.host == "example.com"
    assert eb.script_root == ""
    assert eb.path == "/"


def test_environbuilder_json_dumps(app):
    """flask tests/test_testing.py::test_environbuilder_json_dumps

    Flask's first line, ``app.json.ensure_ascii = False``, is microraab's only setting.
    """
    eb = EnvironBuilder(app, json="\u20ac")
    assert eb.input_stream.read().decode("utf8") == '"\u20ac"'


def test_blueprint_with_subdomain():
    """flask tests/test_testing.py::test_blueprint_with_subdomain"""
    app = App(__name__, config={"TESTING": True, "SECRET_KEY": "test key"})
    app.config["SERVER_NAME"] = "example.com:1234"
    app.config["APPLICATION_ROOT"] = "/foo"
    client = app.test_client()

    bp = Module("company", subdomain="xxx")

    @bp.route("/")
    def index(request):
        return request.url

    app.register(bp)

    ctx_request = EnvironBuilder(app, "/", subdomain="xxx").get_request()
    assert ctx_request.url == "http://xxx.example.com:1234/foo/"

    rv = client.get("/", subdomain="xxx")
    assert rv.data == b"http://xxx.example.com:1234/foo/"


def test_redirect_session(app, client):
    """flask tests/test_testing.py::test_redirect_session (the session read back through
    ``session_transaction``, where Flask reads ``flask.session`` of the last request)"""

    @app.route("/redirect")
    def index(request):
        request.session["redirect"] = True
        return redirect("/target")

    @app.route("/target")
    def get_session(request):
        request.session["target"] = True
        return ""

    client.get("/redirect", follow_redirects=True)
    with client.session_transaction() as session:
        assert session["redirect"] is True
        assert session["target"] is True


def test_session_transactions(app, client):
    """flask tests/test_testing.py::test_session_transactions"""

    @app.route("/")
    def index(request):
        return str(request.session["foo"])

    with client.session_transaction() as sess:
        assert len(sess) == 0
        sess["foo"] = [42]
        assert len(sess) == 1
    rv = client.get("/")
    assert rv.data == b"[42]"
    with client.session_transaction() as sess:
        assert len(sess) == 1
        assert sess["foo"] == [42]


def test_session_transactions_no_null_sessions():
    """flask tests/test_testing.py::test_session_transactions_no_null_sessions (development
    mode: microraab refuses to start in production without a SECRET_KEY)"""
    app = App(__name__, config={"ENV": "development"})

    c = app.test_client()
    with pytest.raises(RuntimeError) as e, c.session_transaction():
        pass
    assert "Session backend did not open a session" in str(e.value)


def test_session_transaction_needs_cookies(app):
    """flask tests/test_testing.py::test_session_transaction_needs_cookies"""
    c = app.test_client(use_cookies=False)

    with pytest.raises(TypeError, match=r"Cookies are disabled\."), c.session_transaction():
        pass


def test_reuse_client(client):
    """flask tests/test_testing.py::test_reuse_client"""
    c = client

    assert client.get("/").status_code == 404
    assert c.get("/").status_code == 404


def test_full_url_request(app, client):
    """flask tests/test_testing.py::test_full_url_request (the view keeps its request)"""
    seen = []

    @app.route("/action", methods=["POST"])
    def action(request):
        seen.append(request)
        return "x"

    rv = client.post("http://domain.com/action?vodka=42", data={"gin": 43})
    assert rv.status_code == 200
    assert "gin" in seen[0].form
    assert "vodka" in seen[0].args


def test_json_request_and_response(app, client):
    """flask tests/test_testing.py::test_json_request_and_response (the view keeps its request)"""
    seen = []

    @app.route("/echo", methods=["POST"])
    def echo(request):
        seen.append(request)
        return JSONResponse(request.get_json())

    json_data = {"drink": {"gin": 1, "tonic": True}, "price": 10}
    rv = client.post("/echo", json=json_data)

    # Request should be in JSON
    assert seen[0].is_json
    assert seen[0].get_json() == json_data

    # Response should be in JSON
    assert rv.status_code == 200
    assert rv.is_json
    assert rv.get_json() == json_data


def test_subdomain():
    """flask tests/test_testing.py::test_subdomain"""
    app = App(__name__, config={"TESTING": True, "SECRET_KEY": "test key"})
    app.config["SERVER_NAME"] = "example.com"
    client = app.test_client()

    @app.route("/", subdomain="<company_id>")
    def view(request, company_id):
        return company_id

    url = app.url_for("view", company_id="xxx")

    response = client.get(url)

    assert response.status_code == 200
    assert response.data == b"xxx"


def test_nosubdomain(app, client):
    """flask tests/test_testing.py::test_nosubdomain"""
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/<company_id>")
    def view(request, company_id):
        return company_id

    url = app.url_for("view", company_id="xxx")

    response = client.get(url)

    assert response.status_code == 200
    assert response.data == b"xxx"
