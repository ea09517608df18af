"""Health checks for the platform: ``/healthz`` (the process answers) and ``/readyz`` (and
its database does)."""

from __future__ import annotations

from pymongo.errors import PyMongoError

from microraab import JSONResponse, Module, Request, Response

health = Module("health")


@health.route("/healthz")
def healthz(request: Request) -> Response:
    """200 while the process can answer at all; never touches the database."""
    return Response("ok\n", mimetype="text/plain")


@health.route("/readyz")
def readyz(request: Request) -> Response:
    """200 when MongoDB answers a ``ping``, else 503 (within the server-selection timeout)."""
    try:
        request.app.extensions["mongo"].database.command("ping")
    except PyMongoError as error:
        body = {"status": "unavailable", "database": type(error).__name__}
        return JSONResponse(body, 503, {"Retry-After": "5"})
    return JSONResponse({"status": "ready"})
