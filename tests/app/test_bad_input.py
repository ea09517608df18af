"""Bad input, surface by surface: each row is an input, the status and message expected, and
the database after it (unchanged, unless the row says a link is stored).

What test_api.py, test_links.py and test_pages.py check already is not repeated here.
Every response is also checked for traceback text, and API errors for the JSON error shape.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from itsdangerous import URLSafeTimedSerializer
from pymongo import MongoClient
from pymongo.database import Database
from werkzeug.test import TestResponse

from app import create_app
from microraab import App
from microraab.testing import TestClient

Send = Callable[[TestClient], TestResponse]
KNOWN = "known-1"  # a link every test starts with
TOKEN = "tok-" + "x" * 40  # a CSRF token put in signed session cookies
MB = 1024 * 1024


# One app and database for the module (preparing a database seeds the benchmark data,
# ~0.5 s): each row compares snapshots taken just before and after it, so rows that store
# a link do not disturb the others. Each test gets a fresh client (no cookies).


@pytest.fixture(scope="module")
def mongo_db(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    name = f"test_bad_{secrets.token_hex(6)}"
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def links_app(mongo_uri: str, mongo_db: Database[Any]) -> Iterator[App]:
    app = create_app(
        {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": mongo_db.name, "SECRET_KEY": "test-key"}
    )
    yield app
    app.extensions["mongo"].close()


@pytest.fixture
def seeded(links_app: App, mongo_db: Database[Any]) -> TestClient:
    """A fresh client; the database is prepared (indexes, bench data) and holds KNOWN."""
    client = links_app.test_client()
    if mongo_db.links.count_documents({"code": KNOWN}) == 0:
        body = {"url": "https://example.com/known", "code": KNOWN}
        assert client.post("/api/links", json=body).status_code == 201
    return client


def snapshot(db: Database[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Every collection's name and every link document, in insertion order."""
    return sorted(db.list_collection_names()), list(db.links.find({}, sort=[("_id", 1)]))


def no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert not re.search(r'File "[^"]+", line \d+', text)


def check(
    client: TestClient,
    db: Database[Any],
    send: Send,
    status: int,
    fragment: str,
    stored: int = 0,
) -> TestResponse:
    """Send, then check the status, the message and what the database holds."""
    before_names, before_links = snapshot(db)
    response = send(client)
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert fragment in text, text[:2000]
    no_traceback(text)
    if response.mimetype == "application/json" and status >= 400:
        assert response.json["error"]["status"] == status
    after_names, after_links = snapshot(db)
    assert after_names == before_names
    if stored == 0:
        assert after_links == before_links
    else:
        assert after_links[: len(before_links)] == before_links
        assert len(after_links) == len(before_links) + stored
    return response


def raw_json(data: bytes) -> Send:
    return lambda c: c.post("/api/links", data=data, content_type="application/json")


def form(fields: dict[str, Any] | str | bytes, *, token: bool = True, **kwargs: Any) -> Send:
    """POST / with these fields (and this client's CSRF token unless ``token`` is False)."""

    def send(client: TestClient) -> TestResponse:
        if isinstance(fields, dict):
            data: Any = {**({"csrf_token": client.csrf_token()} if token else {}), **fields}
            return client.post("/", data=data, **kwargs)
        prefix = f"csrf_token={client.csrf_token()}&" if token else ""
        body = prefix.encode() + (fields.encode() if isinstance(fields, str) else fields)
        kwargs.setdefault("content_type", "application/x-www-form-urlencoded")
        return client.post("/", data=body, **kwargs)

    return send


# -- JSON API bodies -----------------------------------------------------------------------

JSON_BODIES = [
    pytest.param(raw_json(b'{"url": "\xff\xfe"}'), 400, "not valid JSON", id="invalid-utf8"),
    pytest.param(raw_json(b"\xc3\x28"), 400, "not valid JSON", id="invalid-utf8-only"),
    pytest.param(
        raw_json(b"[" * 100_000 + b"]" * 100_000), 400, "not valid JSON", id="nested-100k"
    ),
    pytest.param(
        raw_json(b'{"url": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001),
        400,
        "not valid JSON",
        id="nested-object-5k",
    ),
    pytest.param(
        raw_json(b'{"url": ' + b"[" * 500 + b"]" * 500 + b"}"),
        400,
        "url must be a string",
        id="nested-500-in-url",
    ),
    pytest.param(
        raw_json(b'{"url": ' + b"9" * 5000 + b"}"), 400, "not valid JSON", id="int-5000-digits"
    ),
    pytest.param(raw_json(b'{"url": 1e999}'), 400, "url must be a string", id="float-overflow"),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": -1e999}'),
        400,
        "code must be a string",
        id="code-negative-infinity",
    ),
    pytest.param(raw_json(b'{"url": NaN}'), 400, "url must be a string", id="nan"),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": 12345678901234567890}'),
        400,
        "code must be a string",
        id="code-big-int",
    ),
    pytest.param(raw_json(b""), 400, "not valid JSON", id="empty-body"),
    pytest.param(raw_json(b"null"), 400, "JSON object", id="null"),
    pytest.param(raw_json(b'"https://example.com/"'), 400, "JSON object", id="string"),
    pytest.param(
        raw_json(b'{"url": "https://example.com/"} x'), 400, "not valid JSON", id="trailing"
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": {"$ne": null}}'),
        400,
        "code must be a string",
        id="code-operator",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code.$ne": "x"}'),
        400,
        "Unknown field",
        id="dotted-operator-key",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": "known-1"}'),
        409,
        "already taken",
        id="taken-code-of-seed",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": "\\u0000abc"}'),
        422,
        "3 to 32 characters",
        id="code-nul",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": "\\uff11\\uff12\\uff13"}'),
        422,
        "3 to 32 characters",
        id="code-fullwidth-digits",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/", "code": "ADMIN"}'),
        422,
        "reserved",
        id="code-reserved-uppercase",
    ),
    pytest.param(
        raw_json(b'{"url": "https://example.com/' + b"a" * (2 * MB) + b'"}'),
        413,
        "exceeds the capacity",
        id="body-over-max-content-length",
    ),
    pytest.param(
        lambda c: c.post(
            "/api/links", data=b'{"url": "https://example.com/"}', content_type="text/plain"
        ),
        415,
        "application/json",
        id="text-plain",
    ),
    pytest.param(
        lambda c: c.post("/api/links", data=b'{"url": "https://example.com/"}'),
        415,
        "application/json",
        id="no-content-type",
    ),
    pytest.param(
        lambda c: c.put("/api/links", json={"url": "https://example.com/"}),
        405,
        "not allowed",
        id="put-not-allowed",
    ),
    pytest.param(
        lambda c: c.post("/api/links/known-1", json={"url": "https://example.com/"}),
        405,
        "not allowed",
        id="post-to-a-link",
    ),
]


@pytest.mark.parametrize(("send", "status", "fragment"), JSON_BODIES)
def test_json_api_bodies(
    seeded: TestClient, mongo_db: Database[Any], send: Send, status: int, fragment: str
) -> None:
    response = check(seeded, mongo_db, send, status, fragment)
    assert response.mimetype == "application/json"


# -- forms and query strings ---------------------------------------------------------------

FORMS = [
    # Werkzeug keeps "code[$ne]" a flat key: unknown to the view, so ignored; never a query.
    pytest.param(
        form({"url": "javascript:alert(1)", "code[$ne]": "x"}),
        400,
        "Only http",
        0,
        id="op-key-bad-url",
    ),
    pytest.param(
        form({"url[$gt]": "", "code[$ne]": "x"}), 400, "Enter a URL", 0, id="op-keys-only"
    ),
    pytest.param(form("url=%FF%FE&code=abc"), 400, "Only http", 0, id="invalid-utf8-percent"),
    # Raw invalid UTF-8 makes Werkzeug drop the whole urlencoded form: no token, so 403.
    pytest.param(form(b"url=\xff\xfe&code=abc"), 403, "security token", 0, id="invalid-utf8-raw"),
    pytest.param(
        form({"url": "https://example.com/", "code": "<script>"}),
        400,
        'value="&lt;script&gt;"',
        0,
        id="code-script-escaped",
    ),
    pytest.param(
        form({"url": "https://example.com/" + "a" * 600_000}),
        400,
        "longer than 2048",
        0,
        id="urlencoded-600kB-field",
    ),
    pytest.param(
        form(
            {"url": "https://example.com/", "pad": "a" * 600_000},
            content_type="multipart/form-data",
        ),
        413,
        "Too Large",
        0,
        id="multipart-text-over-max-form-memory",
    ),
    pytest.param(
        form(
            {"url": "https://example.com/", **{f"k{n}": "v" for n in range(1000)}},
            content_type="multipart/form-data",
        ),
        413,
        "Too Large",
        0,
        id="multipart-over-max-form-parts",
    ),
    pytest.param(
        form("url=https://example.com/&pad=" + "a" * (MB + 1)),
        413,
        "Too Large",
        0,
        id="urlencoded-over-max-content-length",
    ),
    pytest.param(
        form({"url": "https://example.com/", "file": (io.BytesIO(b"x" * (MB + 1)), "f.txt")}),
        413,
        "Too Large",
        0,
        id="multipart-file-over-max-content-length",
    ),
    pytest.param(
        form({"url": "https://example.com/"}, token=False, content_type="text/plain"),
        403,
        "security token",
        0,
        id="text-plain-body",
    ),
    pytest.param(lambda c: c.get("/?limit=0"), 400, "limit must be", 0, id="page-limit-0"),
    pytest.param(
        lambda c: c.get("/?limit=%C2%B2"), 400, "limit must be", 0, id="page-limit-superscript"
    ),
    pytest.param(
        lambda c: c.get("/?limit=" + "9" * 5000), 400, "limit must be", 0, id="page-limit-huge"
    ),
    pytest.param(lambda c: c.get("/?limit=%00"), 400, "limit must be", 0, id="page-limit-nul"),
    pytest.param(lambda c: c.get("/?cursor=%FF"), 400, "invalid cursor", 0, id="page-cursor-utf8"),
    pytest.param(
        lambda c: c.get("/api/links?limit=1e3"), 400, "limit must be", 0, id="api-limit-exponent"
    ),
    pytest.param(
        lambda c: c.get("/api/links?limit=%2B5"), 400, "limit must be", 0, id="api-limit-plus"
    ),
    pytest.param(
        lambda c: c.get("/api/links?limit=%205"), 400, "limit must be", 0, id="api-limit-space"
    ),
    pytest.param(
        lambda c: c.get("/api/links?cursor=" + "A" * 16),
        400,
        "invalid cursor",
        0,
        id="api-cursor-wrong-length",
    ),
    pytest.param(
        lambda c: c.get("/api/links?cursor=" + "A" * 10_000),
        400,
        "invalid cursor",
        0,
        id="api-cursor-10k",
    ),
    pytest.param(
        lambda c: c.get("/api/links?cursor[$ne]=x&limit[$gt]=0"),
        200,
        '"next_cursor":null',
        0,
        id="api-operator-query-keys-ignored",
    ),
]


@pytest.mark.parametrize(("send", "status", "fragment", "stored"), FORMS)
def test_forms_and_query_strings(
    seeded: TestClient, mongo_db: Database[Any], send: Send, status: int, fragment: str, stored: int
) -> None:
    check(seeded, mongo_db, send, status, fragment, stored)


def test_an_operator_form_key_is_ignored_and_reaches_no_query(
    seeded: TestClient, mongo_db: Database[Any]
) -> None:
    send = form({"url": "https://example.com/op", "code[$ne]": "x", "code": ""})
    response = check(seeded, mongo_db, send, 303, "Redirecting", stored=1)
    code = re.fullmatch(r"/([A-Za-z0-9]{7})\+", response.location)
    assert code is not None  # a generated code, not "x" and not the seed's
    stored = mongo_db.links.find_one({"url": "https://example.com/op"})
    assert stored is not None and stored["code"] == code.group(1)
    assert set(stored) == {"_id", "code", "url", "created", "clicks"}


def test_max_form_memory_and_parts_do_not_bound_urlencoded_bodies(
    seeded: TestClient, mongo_db: Database[Any]
) -> None:
    """Werkzeug 3.1 applies MAX_FORM_MEMORY_SIZE and MAX_FORM_PARTS to multipart only; an
    urlencoded body is bounded by MAX_CONTENT_LENGTH (1 MB) alone. Recorded here so a change
    is noticed."""
    pad = "a" * 600_000
    many = "&".join(f"k{n}=v" for n in range(1500))
    send = form(f"url=https://example.com/big&pad={pad}&{many}")
    check(seeded, mongo_db, send, 303, "Redirecting", stored=1)


# -- target URLs, through both surfaces ------------------------------------------------------

TARGETS = [
    pytest.param("data:text/html,<script>alert(1)</script>", 422, "Only http", id="data-script"),
    pytest.param("javascript%3Aalert(1)", 422, "Only http", id="percent-encoded-colon"),
    pytest.param("https://example.com\\@evil.example/", 422, "user name", id="backslash-at"),
    pytest.param("https://<script>/", 422, "host name", id="script-host"),
    pytest.param("https://example.com/\u2028", 422, "", id="line-separator"),
    pytest.param("https://example.com/" + "a" * 2100, 422, "longer than", id="overlong"),
]


@pytest.mark.parametrize(("url", "status", "fragment"), TARGETS)
def test_bad_target_urls_over_the_api(
    seeded: TestClient, mongo_db: Database[Any], url: str, status: int, fragment: str
) -> None:
    send: Send = lambda c: c.post("/api/links", json={"url": url})  # noqa: E731
    check(seeded, mongo_db, send, status, fragment)


@pytest.mark.parametrize(("url", "status", "fragment"), TARGETS)
def test_bad_target_urls_in_the_form(
    seeded: TestClient, mongo_db: Database[Any], url: str, status: int, fragment: str
) -> None:
    response = check(seeded, mongo_db, form({"url": url}), 400, "")
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "<script>" not in page


# -- paths -----------------------------------------------------------------------------------

PATHS = [
    pytest.param("/" + "a" * 10_000, 404, "not found", id="overlong-10k"),
    pytest.param("/api/links/" + "a" * 33, 404, "not found", id="api-code-33"),
    pytest.param("/%6Bnown-1+", 200, "https://example.com/known", id="percent-encoded-code"),
    pytest.param("/api/links/%6Bnown-1", 200, '"code":"known-1"', id="api-percent-encoded-code"),
    pytest.param("/known-1%2B", 200, "https://example.com/known", id="percent-encoded-plus"),
    pytest.param("/known-1%00", 404, "not found", id="nul-after-code"),
    pytest.param("/%ff%fe", 404, "not found", id="invalid-utf8"),
    pytest.param("/known-1/..", 404, "not found", id="dotdot-after-code"),
    pytest.param("/api/links/..%2F..%2Fhealthz", 404, "not found", id="api-encoded-dotdot"),
    pytest.param("/api/links/known-1%2F..", 404, "not found", id="api-encoded-slash"),
    pytest.param("/static/..%2fapp/__init__.py", 404, "not found", id="static-encoded-dotdot"),
    pytest.param("/static/%2e%2e/setup.cfg", 404, "not found", id="static-percent-dots"),
    pytest.param("/static/..\\setup.cfg", 404, "not found", id="static-backslash"),
    pytest.param("/static//etc/passwd", 404, "not found", id="static-absolute"),
    pytest.param("/static/style.css%00.txt", 404, "not found", id="static-nul"),
    pytest.param("/static/" + "a/" * 2000 + "x.css", 404, "not found", id="static-deep"),
    pytest.param("/bench/../api/links", 404, "", id="bench-dotdot"),
]


@pytest.mark.parametrize(("path", "status", "fragment"), PATHS)
def test_paths(
    seeded: TestClient, mongo_db: Database[Any], path: str, status: int, fragment: str
) -> None:
    response = check(seeded, mongo_db, lambda c: c.get(path), status, "")
    assert fragment.lower() in response.get_data(as_text=True).lower()
    assert "root:" not in response.get_data(as_text=True)


# -- sessions and CSRF -------------------------------------------------------------------------


def signed(app: App, data: Any, *, age: float = 0.0, key: str | None = None) -> str:
    """A session cookie for ``data``, signed ``age`` seconds ago (with ``key`` if given)."""
    serializer = URLSafeTimedSerializer(
        key or app.config["SECRET_KEY"],
        salt=app.session_interface.salt,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )
    with mock.patch("time.time", return_value=time.time() - age):
        return serializer.dumps(data)


def payload_swapped(app: App) -> str:
    """A cookie signed for another token, with the payload of ours put in its place."""
    theirs = signed(app, {"_csrf_token": "other"}).split(".")
    ours = signed(app, {"_csrf_token": TOKEN}).split(".")
    return ".".join([ours[0], *theirs[1:]])


def with_cookie(value: str | Callable[[App], str], token: str = TOKEN) -> Send:
    """POST the form with this session cookie and ``token`` as the CSRF token."""

    def send(client: TestClient) -> TestResponse:
        app = client.microraab_app
        cookie = value(app) if callable(value) else value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Werkzeug warns of (and still sends) a cookie > 4 kB
            client.set_cookie("session", cookie)
        assert client.get_cookie("session") is not None
        return client.post("/", data={"csrf_token": token, "url": "https://example.com/s"})

    return send


SESSIONS = [
    pytest.param(with_cookie("garbage"), 403, "security token", id="garbage-cookie"),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN})[:-2] + "AA"),
        403,
        "security token",
        id="tampered-signature",
    ),
    pytest.param(
        with_cookie(payload_swapped),
        403,
        "security token",
        id="tampered-payload",
    ),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN}, age=15 * 24 * 3600)),
        403,
        "security token",
        id="expired-15-days",
    ),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN}, key="another-key")),
        403,
        "security token",
        id="signed-with-another-key",
    ),
    pytest.param(
        with_cookie(
            lambda a: signed(a, {"_csrf_token": TOKEN, "pad": secrets.token_urlsafe(4000)})
        ),
        403,
        "security token",
        id="oversized-cookie",
    ),
    pytest.param(with_cookie(lambda a: signed(a, [TOKEN])), 403, "security token", id="not-a-dict"),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": ["x"]}), token="['x']"),
        403,
        "security token",
        id="token-not-a-string",
    ),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN}), token=TOKEN[:-1]),
        403,
        "security token",
        id="wrong-token",
    ),
    pytest.param(
        # A token taken from one session (a page someone else loaded) and replayed with
        # another session's cookie: tokens belong to their session.
        with_cookie(lambda a: signed(a, {"_csrf_token": "tok-" + "y" * 40}), token=TOKEN),
        403,
        "security token",
        id="token-reused-from-another-session",
    ),
    pytest.param(
        with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN}), token=""),
        403,
        "security token",
        id="empty-token",
    ),
    pytest.param(
        lambda c: c.post("/", data={"url": "https://example.com/s"}),
        403,
        "security token",
        id="no-cookie-no-token",
    ),
    pytest.param(
        lambda c: c.post(
            "/", data={"url": "https://example.com/s"}, headers={"X-CSRF-Token": "nope"}
        ),
        403,
        "security token",
        id="wrong-header-token",
    ),
]


@pytest.mark.parametrize(("send", "status", "fragment"), SESSIONS)
def test_sessions_and_csrf(
    seeded: TestClient, mongo_db: Database[Any], send: Send, status: int, fragment: str
) -> None:
    check(seeded, mongo_db, send, status, fragment)


def test_the_controls_a_fresh_signed_cookie_and_its_token_are_accepted(
    seeded: TestClient, mongo_db: Database[Any]
) -> None:
    """The rows above fail for the reason they name: the same request, made right, passes."""
    send = with_cookie(lambda a: signed(a, {"_csrf_token": TOKEN}, age=60))
    check(seeded, mongo_db, send, 303, "Redirecting", stored=1)
    fresh = seeded.microraab_app.test_client()
    fresh.set_cookie("session", signed(fresh.microraab_app, {"_csrf_token": TOKEN}))
    header: Send = lambda c: c.post(  # noqa: E731
        "/", data={"url": "https://example.com/h"}, headers={"X-CSRF-Token": TOKEN}
    )
    check(fresh, mongo_db, header, 303, "Redirecting", stored=1)


# -- Host header -----------------------------------------------------------------------------


@pytest.fixture
def trusted_client(mongo_uri: str, mongo_db: Database[Any]) -> Iterator[TestClient]:
    app = create_app(
        {
            "MONGODB_URI": mongo_uri,
            "MONGODB_DATABASE": mongo_db.name,
            "SECRET_KEY": "test-key",
            "TRUSTED_HOSTS": ["links.example"],
        }
    )
    client = app.test_client()
    assert client.get("/readyz", headers={"Host": "links.example"}).status_code == 200
    yield client
    app.extensions["mongo"].close()


HOSTS = [
    pytest.param("GET", "/", "evil.example", 400, "", id="page"),
    pytest.param("GET", "/api/links", "evil.example", 400, '"status":400', id="api"),
    pytest.param("POST", "/api/links", "evil.example", 400, '"status":400', id="api-post"),
    pytest.param("GET", "/api/links", "links.example.evil.example", 400, "", id="suffix"),
    pytest.param("GET", "/api/links", "links.example:8000", 200, '"links"', id="trusted-port"),
    pytest.param("GET", "/api/links", "links.example", 200, '"links"', id="trusted"),
]


@pytest.mark.parametrize(("method", "path", "host", "status", "fragment"), HOSTS)
def test_untrusted_host_is_400_when_trusted_hosts_is_set(
    trusted_client: TestClient,
    mongo_db: Database[Any],
    method: str,
    path: str,
    host: str,
    status: int,
    fragment: str,
) -> None:
    body = {"json": {"url": "https://example.com/"}} if method == "POST" else {}
    send: Send = lambda c: c.open(path, method=method, headers={"Host": host}, **body)  # noqa: E731
    response = check(trusted_client, mongo_db, send, status, fragment)
    assert "evil.example" not in response.headers.get("Location", "")


# -- XSS: what comes back is escaped ---------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_a_script_in_a_target_url_comes_back_escaped_everywhere(
    seeded: TestClient, mongo_db: Database[Any]
) -> None:
    url = f"https://example.com/{SCRIPT}"
    created = seeded.post("/api/links", json={"url": url, "code": "xss-api"})
    assert created.status_code == 201
    assert created.mimetype == "application/json"  # JSON, not HTML: no HTML context
    for path in ("/", "/xss-api+"):
        page = seeded.get(path).get_data(as_text=True)
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    redirect = seeded.get("/xss-api")
    assert redirect.status_code == 302
    assert "<" not in redirect.headers["Location"]
    assert SCRIPT not in redirect.get_data(as_text=True)


@pytest.mark.parametrize(
    "code", ["<script>", '"><script>alert(1)</script>', "a'onmouseover='x", "{{7*7}}"]
)
def test_a_script_in_a_custom_code_is_refused_and_echoed_escaped(
    seeded: TestClient, mongo_db: Database[Any], code: str
) -> None:
    response = check(seeded, mongo_db, form({"url": "https://example.com/", "code": code}), 400, "")
    page = response.get_data(as_text=True)
    if code == "{{7*7}}":
        assert 'value="{{7*7}}"' in page  # shown as typed, not evaluated
    else:
        assert code not in page
    body = {"url": "https://e.com/", "code": code}
    api = check(
        seeded, mongo_db, lambda c: c.post("/api/links", json=body), 422, "3 to 32 characters"
    )
    assert code not in api.get_data(as_text=True)


def test_the_techempower_script_fortune_comes_back_escaped(seeded: TestClient) -> None:
    page = seeded.get("/bench/fortunes").get_data(as_text=True)
    assert "<script>" not in page
    assert (
        "&lt;script&gt;alert(&#34;This should not be displayed in a browser alert box.&#34;);"
        "&lt;/script&gt;" in page
    )


def test_no_error_body_has_a_traceback_even_for_an_unhandled_error(
    links_app: App, mongo_db: Database[Any]
) -> None:
    """A 500 from a failing view: logged, answered with a plain page, no traceback."""
    links_app.extensions["mongo"].database  # noqa: B018 - prepare it first
    mongo = links_app.extensions["mongo"]
    with mock.patch.object(type(mongo), "database", property(lambda self: 1 / 0)):
        client = links_app.test_client()
        for path, accept in (("/api/links", "application/json"), ("/", "text/html")):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 500
            no_traceback(response.get_data(as_text=True))
            assert "ZeroDivisionError" not in response.get_data(as_text=True)
