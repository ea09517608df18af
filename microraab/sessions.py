"""Signed-cookie sessions and flash messages.

The session is a dict kept in a cookie signed with HMAC-SHA256 (itsdangerous), so the client
can read it but not change it; its values go through :mod:`microraab.tag`, so tuples, bytes,
``Markup``, UUIDs and datetimes come back as they went in. It is read only when a view touches
``request.session`` and written when it changed (or, if ``permanent``, each time it is used,
with ``SESSION_REFRESH_EACH_REQUEST``). As in Flask, a session is not ``permanent`` unless set
so: its cookie has no expiry and ends with the browser; a permanent one lasts
``SESSION_MAX_AGE`` seconds, and no cookie is accepted older than that. A tampered, expired or
unreadable cookie gives an empty session, never an error. Keys rotate through
``SECRET_KEY_FALLBACKS``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from microraab.config import PRODUCTION
from microraab.tag import TaggedJSONSerializer

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Response

    from microraab.app import App
    from microraab.wrappers import Request

logger = logging.getLogger(__name__)

# Browsers drop cookies over 4096 bytes silently; say so rather than lose the session.
MAX_COOKIE_SIZE = 4093
_FLASHES = "_flashes"


class Session(CallbackDict[str, Any]):
    """A dict that records whether it was changed (``modified``) and was empty at load (``new``).

    Werkzeug's CallbackDict reports every change; a ``pop`` or ``setdefault`` that changes
    nothing is not one. Changing a nested value in place (``session["cart"].append(x)``) is
    not seen: set ``session.modified = True`` after such a change.
    """

    def __init__(self, data: dict[str, Any] | None = None, *, new: bool = False) -> None:
        def on_update(session: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(data, on_update)
        self.new = new
        self.modified = False

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser (``SESSION_MAX_AGE``); kept in the session."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)


class NullSession(Session):
    """The session when no ``SECRET_KEY`` is set: empty, and changing it is a RuntimeError."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no SECRET_KEY is set "
            "(set MICRORAAB_SECRET_KEY in the environment)."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface:
    """Opens and saves sessions for one app, using its config (``SESSION_*``, ``SECRET_KEY``)."""

    salt = "microraab.session"
    serializer_class = TaggedJSONSerializer

    def __init__(self, app: App) -> None:
        self.app = app
        self.tagged_json = self.serializer_class()
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None

    def serializer(self) -> URLSafeTimedSerializer | None:
        """The signer for the current keys; None when no ``SECRET_KEY`` is set."""
        config = self.app.config
        if not config.get("SECRET_KEY"):
            return None
        # itsdangerous signs with the last key and accepts any of them.
        keys = (*config.get("SECRET_KEY_FALLBACKS", ()), config["SECRET_KEY"])
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            # PERF: made again only when the keys change, not once or twice a request.
            return cached[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.tagged_json,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )
        self._serializer = (keys, serializer)
        return serializer

    def open_session(self, request: Request) -> Session:
        """Read the session cookie; an empty session if it is missing, bad or expired."""
        config = self.app.config
        cookie = request.cookies.get(config["SESSION_COOKIE_NAME"])
        serializer = self.serializer()
        if serializer is None:
            return NullSession(new=True)
        if not cookie or len(cookie) > MAX_COOKIE_SIZE:
            return Session(new=True)
        try:
            data = serializer.loads(cookie, max_age=config["SESSION_MAX_AGE"])
        except BadSignature:
            return Session(new=True)
        if not isinstance(data, dict):
            return Session(new=True)
        return Session(data)

    def cookie_path(self) -> str:
        """``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT`` (Flask's ``get_cookie_path``)."""
        config = self.app.config
        return str(config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"])

    def cookie_flags(self) -> dict[str, Any]:
        """The cookie's attributes from the config, the same when it is set and deleted."""
        config = self.app.config
        secure = config["SESSION_COOKIE_SECURE"]
        if secure is None:
            secure = config["ENV"] == PRODUCTION
        return {
            "path": self.cookie_path(),
            "domain": config["SESSION_COOKIE_DOMAIN"],
            "secure": secure,
            "httponly": config["SESSION_COOKIE_HTTPONLY"],
            "samesite": config["SESSION_COOKIE_SAMESITE"],
            "partitioned": config["SESSION_COOKIE_PARTITIONED"],
        }

    def save_session(self, request: Request, response: Response) -> None:
        """Write the session cookie if it changed, or to refresh a permanent one; delete it if
        it was emptied."""
        session = request.session
        if "Vary" in response.headers:
            response.vary.add("Cookie")
        else:
            # PERF: the usual case, no Vary yet, without parsing it into a HeaderSet whose
            # every change writes the header back (~5 µs).
            response.headers.add("Vary", "Cookie")
        config = self.app.config
        refresh = session.permanent and config["SESSION_REFRESH_EACH_REQUEST"]
        if not (session.modified or refresh):
            return
        name = config["SESSION_COOKIE_NAME"]
        if not session:
            if not session.new:
                response.delete_cookie(name, **self.cookie_flags())
            return
        serializer = self.serializer()
        if serializer is None:
            raise RuntimeError(
                "The session cannot be saved: no SECRET_KEY is set "
                "(set MICRORAAB_SECRET_KEY in the environment)."
            )
        value = serializer.dumps(dict(session))
        if len(value) > MAX_COOKIE_SIZE:
            logger.warning(
                "session cookie is %d bytes; browsers drop cookies over 4 kB, so the session "
                "will be lost. Store less in it.",
                len(value),
                extra={"request_id": request.id},
            )
        max_age = config["SESSION_MAX_AGE"] if session.permanent else None
        response.set_cookie(name, value, max_age=max_age, **self.cookie_flags())


def flash(request: Request, message: str, category: str = "message") -> None:
    """Keep ``message`` in the session until the next page shows it."""
    flashes = request.session.get(_FLASHES, [])
    request.session[_FLASHES] = [*flashes, [category, message]]


def get_flashed_messages(
    request: Request,
    with_categories: bool = False,
    category_filter: tuple[str, ...] | list[str] = (),
) -> list[Any]:
    """Pop the flashed messages; the same list for every call within one request."""
    cache: list[tuple[str, str]] | None = request.__dict__.get("_flashes_cache")
    if cache is None:
        if (
            not request.session_loaded
            and request.cookies.get(request.app.config["SESSION_COOKIE_NAME"]) is None
        ):
            cache = []  # PERF: no cookie and no session in use: nothing can have been flashed
        else:
            session = request.session
            # Looked up first: pop() on a NullSession (no SECRET_KEY) is an error.
            flashed = session.pop(_FLASHES) if _FLASHES in session else []
            cache = [(item[0], item[1]) for item in flashed]
        request.__dict__["_flashes_cache"] = cache
    messages = [item for item in cache if not category_filter or item[0] in category_filter]
    if with_categories:
        return messages
    return [message for _, message in messages]
