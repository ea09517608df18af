"""Signed-cookie sessions and flash messages."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup

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
    assert "Path=/;" in header and "Partitioned" not in header
    assert "Cookie" in response.headers["Vary"]
    assert client.get("/get").data == b"hello"


def test_a_session_is_not_permanent_by_default_so_its_cookie_ends_with_the_browser(
    make_app: Callable[..., App],
) -> None:
    header = cookie_header(session_app(make_app).test_client().get("/set/x"))
    assert "Max-Age" not in header and "Expires" not in header


def permanent_app(make_app: Callable[..., App], **config: Any) -> App:
    app = session_app(make_app, **config)

    @app.route("/login")
    def login(request: Request) -> str:
        request.session["user"] = "ada"
        request.session.permanent = True
        return str(request.session.permanent)

    @app.route("/forget")
    def forget(request: Request) -> str:
        request.session.permanent = False
        return str(request.session.permanent)

    return app


def test_a_permanent_session_cookie_lasts_session_max_age(make_app: Callable[..., App]) -> None:
    client = permanent_app(make_app).test_client()
    response = client.get("/login")
    assert response.data == b"True"
    assert "Max-Age=1209600" in cookie_header(response) and "Expires=" in cookie_header(response)
    response = client.get("/forget")
    assert response.data == b"False"
    assert "Max-Age" not in cookie_header(response)


def test_a_permanent_session_is_rewritten_each_request_that_uses_it(
    make_app: Callable[..., App],
) -> None:
    client = permanent_app(make_app).test_client()
    client.get("/login")
    assert "Max-Age=1209600" in cookie_header(client.get("/get"))
    # A request that never touches the session costs nothing: it is neither read nor renewed.
    assert "Set-Cookie" not in client.get("/untouched").headers


def test_session_refresh_each_request_off_writes_only_changes(
    make_app: Callable[..., App],
) -> None:
    client = permanent_app(make_app, SESSION_REFRESH_EACH_REQUEST=False).test_client()
    client.get("/login")
    assert "Set-Cookie" not in client.get("/get").headers


def test_cookie_path_is_application_root_unless_session_cookie_path_is_set(
    make_app: Callable[..., App],
) -> None:
    client = session_app(make_app, APPLICATION_ROOT="/shop").test_client()
    assert "Path=/shop;" in cookie_header(client.get("/set/x"))
    app = session_app(make_app, APPLICATION_ROOT="/shop", SESSION_COOKIE_PATH="/")
    assert "Path=/;" in cookie_header(app.test_client().get("/set/x"))


def test_deleting_the_cookie_repeats_every_flag_it_was_set_with(
    make_app: Callable[..., App],
) -> None:
    app = session_app(
        make_app, SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_DOMAIN="example.com", APPLICATION_ROOT="/app",
    )  # fmt: skip
    client = app.test_client()
    client.get("/set/x", "http://example.com/app/")
    set_header = cookie_header(client.get("/set/x", "http://example.com/app/"))
    deleted = cookie_header(client.get("/clear", "http://example.com/app/"))
    assert "session=;" in deleted
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Partitioned", "Path=/app", "Domain="):
        assert flag in set_header and flag in deleted, flag


@pytest.mark.parametrize(
    "value",
    [(1, 2, (3,)), b"\xff\x00", Markup("<b>bold</b>"), uuid.UUID(int=7),
     datetime(2026, 12, 1, 7, 15, 30, 123456), datetime(2026, 12, 1, tzinfo=timezone.utc),
     {" t": "not a tuple"}, {" di": "not a dict"}, [{"a": (1,)}]],
)  # fmt: skip
def test_tagged_values_come_back_as_they_went_in(make_app: Callable[..., App], value: Any) -> None:
    app = make_app()
    seen: list[Any] = []

    @app.route("/set")
    def set_value(request: Request) -> str:
        request.session["value"] = value
        return ""

    @app.route("/get")
    def get_value(request: Request) -> str:
        seen.append(request.session["value"])
        return ""

    client = app.test_client()
    client.get("/set")
    client.get("/get")
    assert seen == [value] and type(seen[0]) is type(value)


# Made by microraab before sessions were tagged (commit 500a17a), with this key; the
# signatures' timestamps are 2026-12-01, so the test accepts any age.
OLD_KEY = "fixed key for the compatibility test"
OLD_COOKIES = {
    "plain": "eyJ1c2VyIjoiYWRhIn0.aw5zuA.SxJHlU7w2_0Ci2KVgM1wxiW2XkF_MSha2jiytxgcFVk",
    "compressed": (
        ".eJwNzEEOgjAQRuG7_OsJQZTNXMOdTWMmdkBjKWbasiGcyGN4Mbt9yft21KwGhgQBIYEvA8GkvFZw342Eh1gBu"
        "xMN5M7eEz6mUwbvCGJvcLGqhChpBqca49EUWbSRt_X3beZ9ipKf2hbnsGjOMmvLV9k0dPD--ANmJCm0.aw5ztA"
        ".SczOT_Pl_bhnRZbLiUYAX5pc98nC731ksiWL5q2BzWs"
    ),
}
OLD_SESSIONS = {
    "plain": {"user": "ada"},
    "compressed": {
        "user": "ada", "n": 42, "ratio": 0.5, "cart": [1, 2, [3]],
        "prefs": {"dark": True, "lang": None}, "name": "Zo\u00eb",
        "_flashes": [["message", "Saved."]],
    },
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(OLD_COOKIES))
def test_a_cookie_written_before_tagging_still_opens(
    make_app: Callable[..., App], kind: str
) -> None:
    app = make_app(SECRET_KEY=OLD_KEY, SESSION_MAX_AGE=100 * 365 * 24 * 3600)
    app.add_url_rule("/", "dump", lambda request: dict(request.session))
    client = app.test_client()
    client.set_cookie("session", OLD_COOKIES[kind])
    assert client.get("/").json == OLD_SESSIONS[kind]


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


def test_without_secret_key_the_session_reads_empty_and_refuses_changes(
    make_app: Callable[..., App],
) -> None:
    app = session_app(make_app, ENV="development", SECRET_KEY=None, TESTING=True)
    client = app.test_client()
    client.set_cookie("session", "left by another app")
    assert client.get("/get").data == b"None"
    with pytest.raises(RuntimeError, match="unavailable because no SECRET_KEY"):
        client.get("/clear")
    app.add_url_rule("/flashes", "flashes", lambda request: {"m": get_flashed_messages(request)})
    assert client.get("/flashes").json == {"m": []}


def test_a_key_removed_before_saving_is_a_clear_error(make_app: Callable[..., App]) -> None:
    app = make_app(TESTING=True)

    @app.route("/")
    def lose_key(request: Request) -> str:
        request.session["a"] = 1
        app.config["SECRET_KEY"] = None
        return ""

    with pytest.raises(RuntimeError, match="cannot be saved: no SECRET_KEY"):
        app.test_client().get("/")


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


def test_vary_keeps_what_the_view_said_and_adds_cookie_once(
    make_app: Callable[..., App],
) -> None:
    app = session_app(make_app)

    @app.route("/negotiated")
    def negotiated(request: Request) -> Response:
        request.session.get("value")
        return Response("x", headers={"Vary": "Accept-Encoding, cookie"})

    @app.route("/varies")
    def varies(request: Request) -> Response:
        request.session.get("value")
        return Response("x", headers={"Vary": "Accept-Encoding"})

    client = app.test_client()
    assert client.get("/negotiated").headers.getlist("Vary") == ["Accept-Encoding, cookie"]
    assert client.get("/varies").headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    assert client.get("/get").headers.getlist("Vary") == ["Cookie"]


def test_the_signer_is_made_again_when_the_secret_key_changes(
    make_app: Callable[..., App],
) -> None:
    app = session_app(make_app, SECRET_KEY="first")
    interface = app.session_interface
    first = interface.serializer()
    assert interface.serializer() is first
    app.config["SECRET_KEY"] = "second"
    second = interface.serializer()
    assert second is not first
    assert second is not None and second.secret_keys == [b"second"]
