"""Signed-cookie sessions and flash messages."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from microraab import App, Request, Response, Session, flash, get_flashed_messages


def session_app(make_app: Callable[..., App], **config: Any) -> App:
    app = make_app(**config)

    @app.route("/set/<value>")
    def set_value(request: Request, value: str) -> str:
        request.session["value"] = value
        return "set"

    @app.route("/get")
    def get_value(request: Request) -> str:
        return str(request.session.get("value"))

    @app.route("/clear")
    def clear(request: Request) -> str:
        request.session.clear()
        return "cleared"

    @app.route("/untouched")
    def untouched(request: Request) -> str:
        return "no session"

    return app


def cookie_header(response: Any) -> str:
    return str(response.headers.get("Set-Cookie", ""))


def signed_cookie(key: str, payload: Any, *, age: int = 0) -> str:
    """A session cookie as microraab signs it, dated ``age`` seconds ago."""

    class BackdatedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    serializer = URLSafeTimedSerializer(
        key, salt="microraab.session", signer=BackdatedSigner,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )  # fmt: skip
    return serializer.dumps(payload)


def test_session_round_trips_with_safe_cookie_flags(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    response = client.get("/set/hello")
    header = cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header
    assert "Max-Age=1209600" in header
    assert "Cookie" in response.headers["Vary"]
    assert client.get("/get").data == b"hello"


def test_session_cookie_is_not_secure_in_development(make_app: Callable[..., App]) -> None:
    client = session_app(make_app, ENV="development").test_client()
    assert "Secure" not in cookie_header(client.get("/set/x"))


def test_untouched_session_is_neither_read_nor_written(make_app: Callable[..., App]) -> None:
    app = session_app(make_app)
    loaded: list[bool] = []

    @app.after_request
    def record(request: Request, response: Response) -> Response:
        loaded.append(request.session_loaded)
        return response

    client = app.test_client()
    client.get("/set/x")
    response = client.get("/untouched")
    assert loaded == [True, False]
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_secure_flag_can_be_turned_off_explicitly(make_app: Callable[..., App]) -> None:
    client = session_app(make_app, SESSION_COOKIE_SECURE=False).test_client()
    header = cookie_header(client.get("/set/x"))
    assert "session=" in header and "Secure" not in header


def test_secure_flag_can_be_forced_in_development(make_app: Callable[..., App]) -> None:
    client = session_app(make_app, ENV="development", SESSION_COOKIE_SECURE=True).test_client()
    assert "Secure" in cookie_header(client.get("/set/x"))


def test_reading_a_session_does_not_rewrite_the_cookie(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    client.get("/set/x")
    assert "Set-Cookie" not in client.get("/get").headers


def test_tampered_cookie_gives_an_empty_session(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    client.get("/set/x")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-2] + "xx")
    response = client.get("/get")
    assert (response.status_code, response.data) == (200, b"None")


def test_cookie_signed_with_another_key_gives_an_empty_session(
    make_app: Callable[..., App],
) -> None:
    client = session_app(make_app).test_client()
    client.set_cookie("session", signed_cookie("attacker", {"value": "admin"}))
    assert client.get("/get").data == b"None"


def test_cookie_signed_with_the_key_is_accepted(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    client.set_cookie("session", signed_cookie("test-secret", {"value": "mine"}))
    assert client.get("/get").data == b"mine"


def test_expired_cookie_gives_an_empty_session(make_app: Callable[..., App]) -> None:
    client = session_app(make_app, SESSION_MAX_AGE=60).test_client()
    client.set_cookie("session", signed_cookie("test-secret", {"value": "fresh"}, age=30))
    assert client.get("/get").data == b"fresh"
    client.set_cookie("session", signed_cookie("test-secret", {"value": "stale"}, age=90))
    response = client.get("/get")
    assert (response.status_code, response.data) == (200, b"None")


def test_oversized_cookie_gives_an_empty_session(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    # Validly signed, so only its size can be what rejects it (random: no compression).
    oversized = signed_cookie("test-secret", {"value": secrets.token_urlsafe(3100)})
    assert len(oversized) > 4093
    with pytest.warns(UserWarning, match="too large"):
        client.set_cookie("session", oversized)
    assert client.get("/get").data == b"None"


def test_cookie_just_under_the_size_limit_is_read(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    value = secrets.token_urlsafe(2900)
    cookie = signed_cookie("test-secret", {"value": value})
    assert len(cookie) <= 4093
    client.set_cookie("session", cookie)
    assert client.get("/get").data == value.encode()


def test_non_dict_payload_gives_an_empty_session(make_app: Callable[..., App]) -> None:
    app = session_app(make_app)
    client = app.test_client()
    serializer = app.session_interface.serializer()
    assert serializer is not None
    client.set_cookie("session", serializer.dumps([1, 2]))
    assert client.get("/get").data == b"None"


def test_old_key_in_fallbacks_still_opens_the_session(make_app: Callable[..., App]) -> None:
    old = session_app(make_app, SECRET_KEY="old-key")
    client = old.test_client()
    client.get("/set/kept")
    cookie = client.get_cookie("session")
    assert cookie is not None
    rotated = session_app(make_app, SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"])
    new_client = rotated.test_client()
    new_client.set_cookie("session", cookie.value)
    assert new_client.get("/get").data == b"kept"
    unrotated = session_app(make_app, SECRET_KEY="new-key").test_client()
    unrotated.set_cookie("session", cookie.value)
    assert unrotated.get("/get").data == b"None"


def test_clearing_the_session_deletes_the_cookie(make_app: Callable[..., App]) -> None:
    client = session_app(make_app).test_client()
    client.get("/set/x")
    header = cookie_header(client.get("/clear"))
    assert "session=;" in header and "Expires=Thu, 01 Jan 1970" in header
    assert client.get_cookie("session") is None


def test_emptying_a_session_that_had_no_cookie_sends_no_cookie(
    make_app: Callable[..., App],
) -> None:
    app = make_app()

    @app.route("/")
    def set_and_unset(request: Request) -> str:
        request.session["a"] = 1
        del request.session["a"]
        return "x"

    response = app.test_client().get("/")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_saving_without_secret_key_is_a_clear_error(make_app: Callable[..., App]) -> None:
    app = session_app(make_app, ENV="development", SECRET_KEY=None, TESTING=True)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        app.test_client().get("/set/x")


def test_oversized_session_logs_a_warning(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    client = session_app(make_app).test_client()
    with pytest.warns(UserWarning, match="too large"):
        client.get("/set/" + secrets.token_urlsafe(6000))  # random: the serializer compresses
    assert any("browsers drop cookies" in r.getMessage() for r in caplog.records)


def test_session_tracks_modification() -> None:
    session = Session({"a": 1})
    assert not session.modified
    for change in (
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("b", None),
        lambda s: s.setdefault("c", 3),
        lambda s: s.update(d=4),
        lambda s: s.popitem(),
        lambda s: s.clear(),
    ):
        session.modified = False
        change(session)
        assert session.modified


def test_flash_messages_show_once_with_categories(make_app: Callable[..., App]) -> None:
    app = make_app()

    @app.route("/flash")
    def do_flash(request: Request) -> str:
        flash(request, "saved", "success")
        flash(request, "careful", "warning")
        return "ok"

    @app.route("/show")
    def show(request: Request) -> Any:
        return {
            "all": get_flashed_messages(request),
            "again": get_flashed_messages(request),
            "categories": get_flashed_messages(request, with_categories=True),
            "warnings": get_flashed_messages(request, category_filter=["warning"]),
        }

    client = app.test_client()
    client.get("/flash")
    shown = client.get("/show").json
    assert shown["all"] == ["saved", "careful"] == shown["again"]
    assert shown["categories"] == [["success", "saved"], ["warning", "careful"]]
    assert shown["warnings"] == ["careful"]
    assert client.get("/show").json["all"] == []


def test_flash_and_show_in_the_same_request_shows_the_message(app: App) -> None:
    @app.route("/")
    def flash_and_render(request: Request) -> Any:
        flash(request, "shown now")
        return {"m": get_flashed_messages(request)}

    client = app.test_client()
    assert client.get("/").json == {"m": ["shown now"]}
    assert client.get_cookie("session") is None  # popped again: nothing left to store
    assert client.get("/").json == {"m": ["shown now"]}  # the same with a cookie jar


def test_flashed_messages_without_a_cookie_are_empty(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: {"m": get_flashed_messages(request)})
    response = app.test_client().get("/")
    assert response.json == {"m": []}
    assert "Set-Cookie" not in response.headers
