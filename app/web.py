"""What the links app's views share: the store for a request, and errors mapped to HTTP
(the outage handler is the bench app's too)."""

from __future__ import annotations

from typing import Any

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, WriteConcernError
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    HTTPException,
    ServiceUnavailable,
    UnprocessableEntity,
)
from werkzeug.routing import BaseConverter

from app.links import CodeTaken, InvalidLink, LinkStore
from microraab import App, Request

_BY_STATUS: dict[int, type[HTTPException]] = {400: BadRequest, 422: UnprocessableEntity}

# MongoDB's codes for "not now" (those pymongo retries an operation once on): a failover
# (NotWritablePrimary 10107, PrimarySteppedDown 189, InterruptedDueToReplStateChange
# 11602, NotPrimaryNoSecondaryOk 13435, NotPrimaryOrSecondary 13436), a member shutting
# down (ShutdownInProgress 91, InterruptedAtShutdown 11600), a network fault between
# members (HostUnreachable 6, HostNotFound 7, NetworkTimeout 89, SocketException 9001),
# ExceededTimeLimit 262, ReadConcernMajorityNotAvailableYet 134 and LegacyNotPrimary
# 10058. pymongo keeps the same set privately (a test compares them).
TRANSIENT_CODES = frozenset(
    {6, 7, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436}
)


def is_transient(error: OperationFailure) -> bool:
    """Whether a server error pymongo raised means "try again soon": one of those codes, or
    labelled retryable by the server. pymongo raises one when its retry failed too, and
    always when the server reported it as a write error, which it never retries."""
    return error.code in TRANSIENT_CODES or error.has_error_label("RetryableWriteError")


def link_store(request: Request) -> LinkStore:
    """The LinkStore on this process's database (the client is created on first use)."""
    extensions = request.app.extensions
    database = extensions["mongo"].database
    store: LinkStore | None = extensions.get("link_store")
    if store is None or store.database is not database:
        # PERF: one store per database, not per request (pymongo's Collection copies its
        # options anew each time: ~4 µs a page or API call).
        store = extensions["link_store"] = LinkStore(database)
    return store


def register_error_handlers(app: App) -> None:
    """Answer domain errors and database outages with the right status and a clear message."""

    @app.errorhandler(InvalidLink)
    def invalid_link(request: Request, error: InvalidLink) -> Any:
        http_error = _BY_STATUS.get(error.status, BadRequest)(str(error))
        return app.handle_http_exception(request, http_error)

    @app.errorhandler(CodeTaken)
    def code_taken(request: Request, error: CodeTaken) -> Any:
        return app.handle_http_exception(request, Conflict(str(error)))

    register_outage_handler(app)


def register_outage_handler(app: App) -> None:
    """Answer a database outage with 503 and ``Retry-After: 5``, for the links and bench apps.

    ConnectionFailure covers no server within the selection timeout, a lost connection, and
    ``WaitQueueTimeoutError`` (no pooled connection free within ``waitQueueTimeoutMS``); an
    ``OperationFailure`` is one when :func:`is_transient`, else a bug: a 500.
    """

    @app.errorhandler(OperationFailure)
    def server_error(request: Request, error: OperationFailure) -> Any:
        if not is_transient(error):
            raise error  # to handle_exception: logged with its traceback, answered 500
        return database_down(request, error)

    @app.errorhandler(ConnectionFailure)
    @app.errorhandler(WriteConcernError)
    def database_down(request: Request, error: PyMongoError) -> Any:
        # A short server-selection timeout turns an outage into this within ~2 s. A write
        # concern error that pymongo did not retry (the primary stepped down while the write
        # waited for a majority) is the same for the client: try again soon.
        app.logger.warning(
            "database unavailable: %s", type(error).__name__, extra={"request_id": request.id}
        )
        outage = ServiceUnavailable(
            "The database is not answering right now. Please try again in a moment."
        )
        response = app.make_response(request, app.handle_http_exception(request, outage))
        response.headers["Retry-After"] = "5"
        return response


class CodeConverter(BaseConverter):
    """``<code:...>`` in a rule: only strings that can be a short code match (else 404)."""

    regex = r"[A-Za-z0-9_-]{3,32}"
