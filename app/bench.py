"""TechEmpower's six test types, served by microraab: the app ``benchmarks/`` measures.

``create_bench_app(provider)`` builds a separate microraab App (the links app mounts it at
``/bench``): ``/json``, ``/plaintext``, ``/db``, ``/queries?queries=N``, ``/fortunes`` and
``/updates?queries=N``. The views stay thin: the queries live in :mod:`app.worlds`, shared
with the peer apps in ``benchmarks/targets/``, so only the framework layer differs.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from pymongo.database import Database

from app import worlds
from app.web import register_outage_handler
from microraab import App, JSONResponse, PlainTextResponse, Request, Response

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HELLO = "Hello, World!"
_HELLO_BYTES = HELLO.encode()


class DatabaseProvider(Protocol):
    """Anything with a ``database`` (``app.db.MongoProvider``): read on every request."""

    @property
    def database(self) -> Database[Any]: ...


def create_bench_app(provider: DatabaseProvider, config: Mapping[str, Any] | None = None) -> App:
    """The benchmark app on ``provider``'s database; ``config`` overrides microraab's.

    It has no sessions or forms, so its secret key is a random one unless given. A database
    outage (no server, or no free pooled connection) is a 503, as in the links app.
    """
    app = App(
        __name__,
        template_folder=TEMPLATES,
        static_folder=None,
        config={"SECRET_KEY": secrets.token_hex(32), "SERVE_STATIC": False, **(config or {})},
    )
    register_outage_handler(app)

    @app.route("/json")
    def json(request: Request) -> Response:
        return JSONResponse({"message": HELLO})

    @app.route("/plaintext")
    def plaintext(request: Request) -> Response:
        return PlainTextResponse(_HELLO_BYTES)

    @app.route("/db")
    def db(request: Request) -> Response:
        return JSONResponse(worlds.random_world(provider.database))

    @app.route("/queries")
    def queries(request: Request) -> Response:
        count = worlds.parse_queries(request.args.get("queries"))
        return JSONResponse(worlds.random_worlds(provider.database, count))

    @app.route("/fortunes")
    def fortunes(request: Request) -> Response:
        rows = worlds.fortunes(provider.database)
        return app.render(request, "bench/fortunes.html", fortunes=rows)

    @app.route("/updates")
    def updates(request: Request) -> Response:
        count = worlds.parse_queries(request.args.get("queries"))
        return JSONResponse(worlds.update_worlds(provider.database, count))

    return app
