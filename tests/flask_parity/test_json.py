"""Ported from flask tests/test_json.py: JSON requests and responses.

``flask.jsonify(x)`` is ``JSONResponse(x)`` (``jsonify(**d)`` and ``jsonify(*a)`` pass the
dict or the list), ``flask.json.dumps``/``loads`` are :mod:`microraab.json`'s. Where
microraab's JSON differs from Flask's on purpose the test is kept, marked ``xfail(strict)``
with the reason: dates are ISO 8601 (Flask: HTTP dates), output is compact and in insertion
order in every mode (Flask: ``", "`` separators, sorted keys, indented when debugging), and
a malformed body's 400 always says why. Not ported: ``test_json_as_unicode`` (2 cases) and
``test_json_customization`` (there is no ``app.json`` provider to configure: microraab's
JSON never escapes non-ASCII, and applications convert their own types before returning),
``test_json_dump_to_file`` (no ``dump``/``load`` to files: the standard library has them).
"""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from werkzeug.http import http_date

from microraab import JSONResponse, json

ISO_DATES = pytest.mark.xfail(strict=True, reason="microraab writes dates in ISO 8601")


@pytest.mark.parametrize(
    "debug",
    (
        pytest.param(True, marks=pytest.mark.xfail(strict=True, reason="says why, in its words")),
        False,
    ),
)
def test_bad_request_debug_message(app, client, debug):
    """flask tests/test_json.py::test_bad_request_debug_message"""
    app.config["DEBUG"] = debug
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False

    @app.route("/json", methods=["POST"])
    def post_json(request):
        request.get_json()
        return

    rv = client.post("/json", data=None, content_type="application/json")
    assert rv.status_code == 400
    contains = b"Failed to decode JSON object" in rv.data
    assert contains == debug


def test_json_bad_requests(app, client):
    """flask tests/test_json.py::test_json_bad_requests"""

    @app.route("/json", methods=["POST"])
    def return_json(request):
        return JSONResponse({"foo": str(request.get_json())})

    rv = client.post("/json", data="malformed", content_type="application/json")
    assert rv.status_code == 400


def test_json_custom_mimetypes(app, client):
    """flask tests/test_json.py::test_json_custom_mimetypes"""

    @app.route("/json", methods=["POST"])
    def return_json(request):
        return request.get_json()

    rv = client.post("/json", data='"foo"', content_type="application/x+json")
    assert rv.data == b"foo"


@pytest.mark.parametrize(
    "test_value", [0, -1, 1, 23, 3.14, "s", "longer string", True, False, None]
)
def test_jsonify_basic_types(test_value, app, client):
    """flask tests/test_json.py::test_jsonify_basic_types"""
    url = "/jsonify_basic_types"
    app.add_url_rule(url, url, lambda request, x=test_value: JSONResponse(x))
    rv = client.get(url)
    assert rv.mimetype == "application/json"
    assert json.loads(rv.data) == test_value


def test_jsonify_dicts(app, client):
    """flask tests/test_json.py::test_jsonify_dicts"""
    d = {
        "a": 0,
        "b": 23,
        "c": 3.14,
        "d": "t",
        "e": "Hi",
        "f": True,
        "g": False,
        "h": ["test list", 10, False],
        "i": {"test": "dict"},
    }

    @app.route("/kw")
    def return_kwargs(request):
        return JSONResponse(dict(**d))

    @app.route("/dict")
    def return_dict(request):
        return JSONResponse(d)

    for url in "/kw", "/dict":
        rv = client.get(url)
        assert rv.mimetype == "application/json"
        assert json.loads(rv.data) == d


def test_jsonify_arrays(app, client):
    """flask tests/test_json.py::test_jsonify_arrays"""
    a_list = [
        0,
        42,
        3.14,
        "t",
        "hello",
        True,
        False,
        ["test list", 2, False],
        {"test": "dict"},
    ]

    @app.route("/args_unpack")
    def return_args_unpack(request):
        return JSONResponse([*a_list])

    @app.route("/array")
    def return_array(request):
        return JSONResponse(a_list)

    for url in "/args_unpack", "/array":
        rv = client.get(url)
        assert rv.mimetype == "application/json"
        assert json.loads(rv.data) == a_list


@ISO_DATES
@pytest.mark.parametrize(
    "value", [datetime.datetime(1973, 3, 11, 6, 30, 45), datetime.date(1975, 1, 5)]
)
def test_jsonify_datetime(app, client, value):
    """flask tests/test_json.py::test_jsonify_datetime"""

    @app.route("/")
    def index(request):
        return JSONResponse({"value": value})

    r = client.get()
    assert r.json["value"] == http_date(value)


class FixedOffset(datetime.tzinfo):
    """Fixed offset in hours east from UTC."""

    def __init__(self, hours, name):
        self.__offset = datetime.timedelta(hours=hours)
        self.__name = name

    def utcoffset(self, dt):
        return self.__offset

    def tzname(self, dt):
        return self.__name

    def dst(self, dt):
        return datetime.timedelta()


@ISO_DATES
@pytest.mark.parametrize("tz", (("UTC", 0), ("PST", -8), ("KST", 9)))
def test_jsonify_aware_datetimes(tz):
    """flask tests/test_json.py::test_jsonify_aware_datetimes"""
    tzinfo = FixedOffset(hours=tz[1], name=tz[0])
    dt = datetime.datetime(2017, 1, 1, 12, 34, 56, tzinfo=tzinfo)
    gmt = FixedOffset(hours=0, name="GMT")
    expected = dt.astimezone(gmt).strftime('"%a, %d %b %Y %H:%M:%S %Z"')
    assert json.dumps(dt) == expected


def test_jsonify_uuid_types(app, client):
    """flask tests/test_json.py::test_jsonify_uuid_types"""
    test_uuid = uuid.UUID(bytes=b"\xde\xad\xbe\xef" * 4)
    url = "/uuid_test"
    app.add_url_rule(url, url, lambda request: JSONResponse({"x": test_uuid}))

    rv = client.get(url)

    rv_x = json.loads(rv.data)["x"]
    assert rv_x == str(test_uuid)
    rv_uuid = uuid.UUID(rv_x)
    assert rv_uuid == test_uuid


def test_json_decimal():
    """flask tests/test_json.py::test_json_decimal"""
    rv = json.dumps(decimal.Decimal("0.003"))
    assert rv == '"0.003"'


def test_json_attr(app, client):
    """flask tests/test_json.py::test_json_attr"""

    @app.route("/add", methods=["POST"])
    def add(request):
        json = request.get_json()
        return str(json["a"] + json["b"])

    rv = client.post(
        "/add",
        data=json.dumps({"a": 1, "b": 2}),
        content_type="application/json",
    )
    assert rv.data == b"3"


@pytest.mark.xfail(strict=True, reason="ISO 8601 dates, compact separators")
def test_tojson_filter(app, make_request):
    """flask tests/test_json.py::test_tojson_filter"""
    # The tojson filter is tested in Jinja, this confirms that it's
    # using microraab's dumps.
    rv = app.render_string(
        make_request(),
        "const data = {{ data|tojson }};",
        data={"name": "</script>", "time": datetime.datetime(2021, 2, 1, 7, 15)},
    ).get_data(as_text=True)
    assert rv == (
        'const data = {"name": "\\u003c/script\\u003e", "time": "Mon, 01 Feb 2021 07:15:00 GMT"};'
    )


@pytest.mark.xfail(strict=True, reason="compact JSON in insertion order, in every mode")
def test_json_key_sorting(app, client):
    """flask tests/test_json.py::test_json_key_sorting"""
    app.config["DEBUG"] = True
    d = dict.fromkeys(range(20), "foo")

    @app.route("/")
    def index(request):
        return JSONResponse({"values": d})

    rv = client.get("/")
    lines = [x.strip() for x in rv.data.strip().decode("utf-8").splitlines()]
    sorted_by_str = [
        "{",
        '"values": {',
        *[f'"{k}": "foo",' for k in sorted(map(str, range(20)))[:-1]],
        '"9": "foo"',
        "}",
        "}",
    ]
    sorted_by_int = [
        "{",
        '"values": {',
        *[f'"{k}": "foo",' for k in range(19)],
        '"19": "foo"',
        "}",
        "}",
    ]

    try:
        assert lines == sorted_by_int
    except AssertionError:
        assert lines == sorted_by_str


def test_html_method():
    """flask tests/test_json.py::test_html_method"""

    class ObjectWithHTML:
        def __html__(self):
            return "<p>test</p>"

    result = json.dumps(ObjectWithHTML())
    assert result == '"<p>test</p>"'
