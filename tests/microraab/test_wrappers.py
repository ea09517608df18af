"""Request and Response: JSON bodies, body limits, redirects."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from microraab import App, JSONResponse, PlainTextResponse, Request, Response, redirect


@pytest.fixture
def echo(make_app: Callable[..., App]) -> App:
    app = make_app(MAX_CONTENT_LENGTH=150_000, MAX_FORM_MEMORY_SIZE=200, MAX_FORM_PARTS=5)

    @app.route("/json", methods=["POST"], csrf=False, api=True)
    def json_view(request: Request) -> Any:
        return {"got": request.get_json()}

    @app.route("/json-property", methods=["POST"], csrf=False)
    def json_property_view(request: Request) -> Any:
        return {"got": request.json}

    @app.route("/form", methods=["POST"], csrf=False)
    def form_view(request: Request) -> Any:
        return {"got": request.form.to_dict()}

    return app


def test_json_body_is_parsed(echo: App) -> None:
    response = echo.test_client().post("/json", json={"a": [1, 2]})
    assert response.json == {"got": {"a": [1, 2]}}


@pytest.mark.parametrize(
    ("data", "content_type", "status", "fragment"),
    [
        (b"{bad", "application/json", 400, "not valid JSON"),
        (b"[" * 100_000, "application/json", 400, "nested too deeply"),
        (b'{"a": "\xff"}', "application/json", 400, "not valid JSON"),
        (b"1" * 200_000, "application/json", 413, ""),
        (b'{"a": 1}', "text/plain", 415, "application/json"),
        (b'{"a": 1}', "", 415, "no content type"),
    ],
)
def test_bad_json_bodies_get_clear_errors(
    echo: App, data: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = echo.test_client().post("/json", data=data, content_type=content_type)
    assert response.status_code == status
    assert fragment in response.json["error"]["message"]
    assert response.json["error"]["status"] == status


def test_request_json_property_gives_the_same_errors(echo: App) -> None:
    client = echo.test_client()
    assert client.post("/json-property", json=[1]).json == {"got": [1]}
    malformed = client.post("/json-property", data=b"{", content_type="application/json")
    assert malformed.status_code == 400
    assert b"not valid JSON" in malformed.data
    assert client.post("/json-property", data=b"[1]").status_code == 415


def test_integer_over_python_s_4300_digit_limit_is_400(echo: App) -> None:
    response = echo.test_client().post("/json", data=b"9" * 5000, content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json["error"]["message"]


def test_declared_length_over_max_content_length_is_413_before_reading(echo: App) -> None:
    environ = EnvironBuilder(
        path="/json", method="POST", data=b"[]", content_type="application/json"
    ).get_environ()
    environ["CONTENT_LENGTH"] = "150001"  # what the client claims; nothing more is read
    statuses: list[str] = []
    body = b"".join(echo(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 REQUEST ENTITY TOO LARGE"]
    assert b'"status":413' in body


class UnparsableBody:
    """A server's ``wsgi.input`` that fails the way gunicorn's does on bad chunked encoding."""

    def read(self, size: int = -1) -> bytes:
        raise RuntimeError("Invalid chunk size: 'zz'")


def test_a_body_the_server_cannot_read_is_400_not_500(echo: App) -> None:
    environ = EnvironBuilder(
        path="/json", method="POST", data=b"[]", content_type="application/json"
    ).get_environ()
    environ["wsgi.input"] = UnparsableBody()
    statuses: list[str] = []
    body = b"".join(echo(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["400 BAD REQUEST"]
    assert b"could not be read (RuntimeError: Invalid chunk size" in body


def test_the_body_stream_reads_like_a_file(echo: App) -> None:
    environ = EnvironBuilder(method="POST", data=b"abcdefgh").get_environ()
    stream = Request(environ, echo).stream
    buffer = bytearray(3)
    assert stream.readinto(buffer) == 3 and buffer == b"abc"  # type: ignore[attr-defined]
    assert stream.read(None) == b"defgh"
    assert stream.readall() == b""  # type: ignore[attr-defined]
    assert stream.readable()


def chunked(body: bytes) -> dict[str, Any]:
    """The environ of a POST whose body the server frames (chunked: no Content-Length)."""
    environ = EnvironBuilder(method="POST", data=body).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    return environ


def test_a_chunked_body_over_max_content_length_is_413_not_cut_short(echo: App) -> None:
    # echo's MAX_CONTENT_LENGTH is 150,000; Werkzeug alone would return the first 150,000.
    with pytest.raises(RequestEntityTooLarge):
        Request(chunked(b"x" * 150_001), echo).get_data()
    assert Request(chunked(b"x" * 150_000), echo).get_data() == b"x" * 150_000


def test_a_declared_length_over_the_limit_is_413_for_a_terminated_stream_too(echo: App) -> None:
    environ = chunked(b"[]")
    environ["CONTENT_LENGTH"] = "150001"
    with pytest.raises(RequestEntityTooLarge):
        Request(environ, echo).get_data()


def test_form_over_max_content_length_is_413(echo: App) -> None:
    response = echo.test_client().post("/form", data={"a": "x" * 200_000})
    assert response.status_code == 413


def test_form_field_over_max_form_memory_size_is_413(echo: App) -> None:
    response = echo.test_client().post(
        "/form", data={"a": "x" * 500}, content_type="multipart/form-data"
    )
    assert response.status_code == 413


def test_form_with_too_many_parts_is_413(echo: App) -> None:
    fields = {f"f{i}": "x" for i in range(10)}
    response = echo.test_client().post("/form", data=fields, content_type="multipart/form-data")
    assert response.status_code == 413


def test_413_is_json_when_the_client_accepts_json(echo: App) -> None:
    response = echo.test_client().post(
        "/form", data={"a": "x" * 200_000}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.json["error"]["status"] == 413


def test_413_is_an_html_page_for_browsers(echo: App) -> None:
    response = echo.test_client().post(
        "/form", data={"a": "x" * 200_000}, headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert b"413" in response.data


def test_small_form_is_parsed(echo: App) -> None:
    assert echo.test_client().post("/form", data={"a": "1"}).json == {"got": {"a": "1"}}


def test_json_response_sets_type_status_and_headers() -> None:
    response = JSONResponse({"a": 1}, 201, {"X-A": "b"})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.headers["X-A"] == "b"
    assert response.get_data() == b'{"a":1}'


def test_response_defaults_to_html_and_keeps_explicit_types() -> None:
    assert Response("x").content_type == "text/html; charset=utf-8"
    assert Response("x", mimetype="text/plain").mimetype == "text/plain"
    assert Response("x", headers={"Content-Type": "text/csv"}).mimetype == "text/csv"


@pytest.mark.parametrize(
    "make_result",
    [
        lambda: Response("ignored", 204),
        lambda: ("", 204),
        lambda: JSONResponse({"a": 1}, 204),
        lambda: Response("ignored", 304, {"ETag": '"v1"'}),
    ],
    ids=["response-204", "tuple-204", "json-204", "response-304"],
)
def test_204_and_304_are_sent_with_no_body_and_no_content_type(
    app: App, make_result: Callable[[], Any]
) -> None:
    app.add_url_rule("/", "index", lambda request: make_result())
    client = app.test_client()  # through wsgiref.validate, which refuses a typed 204
    for method in ("GET", "HEAD"):
        response = client.open("/", method=method)
        assert response.status_code in (204, 304)
        assert "Content-Type" not in response.headers
        assert "Content-Length" not in response.headers
        assert response.data == b""


def test_an_informational_response_has_no_content_type() -> None:
    headers = Response("ignored", 103).get_wsgi_headers(EnvironBuilder().get_environ())
    assert "Content-Type" not in headers


def test_redirect_escapes_the_location_in_its_body() -> None:
    response = redirect('/a?b="<c>', 303)
    assert response.status_code == 303
    assert response.headers["Location"] == '/a?b="<c>'
    assert b"&lt;c&gt;" in response.get_data()


def test_request_knows_endpoint_and_module(app: App) -> None:
    app.add_url_rule("/", "index", lambda request: f"{request.endpoint} {request.module}")
    assert app.test_client().get("/").data == b"index None"


def test_a_body_shorter_than_its_content_length_is_werkzeug_s_400(echo: App) -> None:
    environ = EnvironBuilder(method="POST", data=b"[]").get_environ()
    environ["CONTENT_LENGTH"] = "10"  # the client hung up after two bytes
    with pytest.raises(ClientDisconnected):
        Request(environ, echo).get_data()


@pytest.mark.parametrize(
    ("cls", "body", "status", "mimetype", "content_type"),
    [
        (Response, b"Hello", None, None, None),
        (Response, "h\u00e9llo", 201, None, None),
        (Response, b"x", "202 ACCEPTED", "text/plain", None),
        (Response, "", 404, None, "text/csv; charset=latin-1"),
        (Response, b"x", HTTPStatus.CREATED, "application/json", None),
        (PlainTextResponse, "caf\u00e9", None, None, None),
        (PlainTextResponse, b"x", 404, "text/csv", None),
        (Response, b"x", 299, "text/plain", None),
        (Response, b"x", "200", "text/plain", None),
        (
            type("Unsized", (Response,), {"automatically_set_content_length": False}),
            b"x",
            200,
            None,
            None,
        ),
    ],
)
def test_the_fast_constructor_makes_what_werkzeug_s_makes(
    cls: type[Response], body: Any, status: Any, mimetype: Any, content_type: Any
) -> None:
    fast = cls(body, status, mimetype=mimetype, content_type=content_type)
    general = cls.__new__(cls)
    WerkzeugResponse.__init__(general, body, status, None, mimetype, content_type)
    fast_state, general_state = vars(fast), vars(general)
    assert fast_state.pop("headers").to_wsgi_list() == general_state.pop("headers").to_wsgi_list()
    assert fast_state == general_state
    assert fast.get_data() == general.get_data()


@pytest.mark.parametrize(
    "kwargs",
    [{"mimetype": "text/plain\r\nX-Injected: 1"}, {"content_type": "text/plain\nX-Injected: 1"}],
)
def test_the_fast_constructor_refuses_a_newline_in_the_type_as_werkzeug_does(
    kwargs: dict[str, str],
) -> None:
    with pytest.raises(ValueError, match="newline"):
        WerkzeugResponse(b"x", **kwargs)
    with pytest.raises(ValueError, match="newline"):
        Response(b"x", **kwargs)


@pytest.mark.parametrize(
    "environ_changes",
    [
        {},
        {"SCRIPT_NAME": "/mount/", "PATH_INFO": "//caf\u00c3\u00a9/x", "QUERY_STRING": "a=1&b"},
        {"REQUEST_METHOD": "post", "SERVER_NAME": "sock", "SERVER_PORT": "", "REMOTE_ADDR": "::1"},
        {"wsgi.url_scheme": "https", "PATH_INFO": "", "HTTP_X_THING": "1"},
    ],
    ids=["plain", "mounted-utf8", "unix-socket", "https-empty-path"],
)
def test_the_lazy_request_reads_what_werkzeug_s_reads(
    echo: App, environ_changes: dict[str, str]
) -> None:
    environ = {**EnvironBuilder(path="/p").get_environ(), **environ_changes}
    ours, theirs = Request(environ, echo), WerkzeugRequest(environ, populate_request=False)
    for name in (
        "method", "scheme", "server", "root_path", "path", "query_string", "remote_addr",
        "url", "host", "args", "full_path", "shallow",
    ):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    assert dict(ours.headers) == dict(theirs.headers)
    assert "werkzeug.request" not in environ


def test_a_request_without_server_name_has_no_server(echo: App) -> None:
    environ = EnvironBuilder(path="/p").get_environ()
    del environ["SERVER_NAME"]
    assert Request(environ, echo).server is None


def test_content_types_are_remembered_for_a_bounded_number_of_mimetypes() -> None:
    from microraab import wrappers

    for i in range(100):
        response = Response(b"x", mimetype=f"text/x-kind-{i}")
        assert response.headers["Content-Type"] == f"text/x-kind-{i}; charset=utf-8"
    assert 0 < len(wrappers._content_types) <= 64
