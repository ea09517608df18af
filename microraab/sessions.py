"""Signed-cookie sessions and flash messages.

The session is a dict kept in a cookie signed with HMAC-SHA256 (itsdangerous), so the client
can read it but not change it. It is read only when a view touches ``request.session`` and
written only when it changed. A tampered, expired or unreadable cookie gives an empty
session, never an error. Keys rotate through ``SECRET_KEY_FALLBACKS``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import CallbackDict

from microraab.config import PRODUCTION

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


class SessionInterface:
    """Opens and saves sessions for one app, using its config (``SESSION_*``, ``SECRET_KEY``)."""

    salt = "microraab.session"

    def __init__(self, app: App) -> None:
        self.app = app

    def serializer(self) -> URLSafeTimedSerializer | None:
        """The signer for the current keys; None when no ``SECRET_KEY`` is set."""
        config = self.app.config
        if not config.get("SECRET_KEY"):
            return None
        # itsdangerous signs with the last key and accepts any of them.
        keys = [*config.get("SECRET_KEY_FALLBACKS", ()), config["SECRET_KEY"]]
        return URLSafeTimedSerializer(
            keys,
            salt=self.salt,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def open_session(self, request: Request) -> Session:
        """Read the session cookie; an empty session if it is missing, bad or expired."""
        config = self.app.config
        cookie = request.cookies.get(config["SESSION_COOKIE_NAME"])
        serializer = self.serializer()
        if not cookie or serializer is None or len(cookie) > MAX_COOKIE_SIZE:
            return Session(new=True)
        try:
            data = serializer.loads(cookie, max_age=config["SESSION_MAX_AGE"])
        except BadSignature:
            return Session(new=True)
        if not isinstance(data, dict):
            return Session(new=True)
        return Session(data)

    def save_session(self, request: Request, response: Response) -> None:
        """Write the session cookie if the session changed; delete it if it was emptied."""
        session = request.session
        response.vary.add("Cookie")
        if not session.modified:
            return
        config = self.app.config
        name = config["SESSION_COOKIE_NAME"]
        domain = config["SESSION_COOKIE_DOMAIN"]
        path = config["SESSION_COOKIE_PATH"]
        if not session:
            if not session.new:
                response.delete_cookie(name, path=path, domain=domain)
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
        secure = config["SESSION_COOKIE_SECURE"]
        if secure is None:
            secure = config["ENV"] == PRODUCTION
        response.set_cookie(
            name,
            value,
            max_age=config["SESSION_MAX_AGE"],
            path=path,
            domain=domain,
            secure=secure,
            httponly=config["SESSION_COOKIE_HTTPONLY"],
            samesite=config["SESSION_COOKIE_SAMESITE"],
        )


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
            cache = [(item[0], item[1]) for item in request.session.pop(_FLASHES, [])]
        request.__dict__["_flashes_cache"] = cache
    messages = [item for item in cache if not category_filter or item[0] in category_filter]
    if with_categories:
        return messages
    return [message for _, message in messages]
