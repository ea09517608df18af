"""Building the links app: its modules, its database, and the benchmark app beside it."""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from pymongo.database import Database
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app.api import api
from app.bench import create_bench_app
from app.db import MongoProvider, MongoSettings
from app.health import health
from app.links import LinkStore
from app.pages import pages
from app.web import CodeConverter, register_error_handlers
from app.worlds import seed as seed_worlds
from app.xray_mongo import XRayCommandListener
from microraab import App
from microraab.config import introspecting

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    config: Mapping[str, Any] | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> App:
    """Build the links app.

    ``config`` overrides microraab's config; ``MONGODB_URI`` (and ``MONGODB_DATABASE``) in
    it take precedence over the environment, which is how tests point the app at their
    own ``mongod``. Otherwise the environment decides, and with nothing configured a
    local ``mongod`` is started or reused, and a local secret key made (except while the
    command line only introspects the app: then nothing is started).
    """
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    if config.get("MONGODB_URI"):
        settings = MongoSettings.from_env(
            {"MONGODB_URI": config["MONGODB_URI"], **_database_name(config)}
        )
    elif introspecting():  # `microraab routes|explain app:app`: look, start nothing
        settings = MongoSettings.from_env(environ)
    else:
        from app.local import prepare_local_run

        # Starts nothing when gunicorn's master already did (it exported MONGODB_URI).
        local_run = prepare_local_run(environ)
        if local_run is not None and local_run.server is not None:
            atexit.register(local_run.stop)  # the dev server's mongod ends with it
        settings = MongoSettings.from_env(environ)
    # The request X-ray is on in development mode (the App ignores it in production).
    development = config.get("ENV", environ.get("MICRORAAB_ENV")) == "development"
    app = App(
        "app",
        template_folder=ROOT / "templates",
        static_folder=ROOT / "static",
        config={"ERROR_TEMPLATE": "error.html", "XRAY": development, **config},
    )
    listeners = [XRayCommandListener()] if app.xray is not None else []
    mongo = MongoProvider(settings, prepare_database, event_listeners=listeners)
    app.extensions["mongo"] = mongo
    app.add_converter("code", CodeConverter)
    app.register(pages)
    app.register(api)
    app.register(health)
    register_error_handlers(app)
    # Several applications in one process: the benchmark app answers under /bench.
    bench = create_bench_app(mongo)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/bench": bench})  # type: ignore[method-assign]
    return app


def _database_name(config: Mapping[str, Any]) -> dict[str, str]:
    name = config.get("MONGODB_DATABASE")
    return {"MONGODB_DATABASE": name} if name else {}


def prepare_database(database: Database[Any]) -> None:
    """Once per process, on first use: create the indexes and seed the benchmark data.

    Run lazily rather than at import so that no MongoDB client exists before gunicorn
    forks, and so that ``/healthz`` never waits on the database.
    """
    LinkStore(database).ensure_indexes()
    seed_worlds(database)
