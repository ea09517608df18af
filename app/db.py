"""Where the links app's MongoDB is, and one client per process to reach it.

Settings come from the environment: ``MONGODB_URI``, else ``MONGODB_HOST``/``MONGODB_PORT``
(what Rainbond injects for a dependency whose port alias is ``MONGODB``) with optional
``MONGODB_USER``/``MONGODB_PASSWORD``; the database from ``MONGODB_DATABASE``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from pymongo import MongoClient
    from pymongo.database import Database

DEFAULT_DATABASE = "microraab"


@dataclass(frozen=True)
class MongoSettings:
    """A connection string and database name; ``external`` when the user configured them."""

    uri: str
    database: str
    external: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MongoSettings:
        """Read the settings; ``uri`` is "" and ``external`` False when nothing is set."""
        database = environ.get("MONGODB_DATABASE") or ""
        uri = environ.get("MONGODB_URI") or ""
        if uri:
            # Not pymongo's parse_uri: this runs in gunicorn's master, which must not
            # import pymongo (and ssl) before gevent patches the workers.
            database = database or urlsplit(uri).path.lstrip("/") or DEFAULT_DATABASE
            local = environ.get("MICRORAAB_LOCAL_MONGODB") == "1"
            return cls(uri, database, external=not local)
        host = environ.get("MONGODB_HOST") or ""
        if not host:
            return cls("", database or DEFAULT_DATABASE, external=False)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal
        port = environ.get("MONGODB_PORT") or "27017"
        credentials = ""
        user = environ.get("MONGODB_USER")
        if user:
            password = environ.get("MONGODB_PASSWORD", "")
            credentials = f"{quote_plus(user)}:{quote_plus(password)}@"
        return cls(f"mongodb://{credentials}{host}:{port}/", database or DEFAULT_DATABASE, True)


def connect(settings: MongoSettings, **overrides: Any) -> MongoClient[dict[str, Any]]:
    """A MongoClient with timeouts short enough for a web request.

    pymongo waits 30 s for a server by default; 2 s turns an outage into a 503 the user
    sees at once. ``w="majority"`` so an acknowledged write survives a failover.
    """
    from pymongo import MongoClient

    options: dict[str, Any] = {
        "serverSelectionTimeoutMS": 2000,
        "connectTimeoutMS": 2000,
        "socketTimeoutMS": 5000,
        "w": "majority",
        "retryWrites": True,
        "retryReads": True,
        "maxPoolSize": int(os.environ.get("MONGODB_MAX_POOL_SIZE", "100")),
        "appname": "microraab",
        "tz_aware": True,
        "uuidRepresentation": "standard",
    }
    options.update(overrides)
    return MongoClient(settings.uri, **options)


class MongoProvider:
    """One MongoClient per process, created on first use.

    Never at import: a client opened before gunicorn forks is shared by the workers'
    copies, which pymongo warns about. A fork after creation gets a new client too.
    """

    def __init__(
        self,
        settings: MongoSettings,
        prepare: Callable[[Database[dict[str, Any]]], None] | None = None,
        **client_options: Any,
    ) -> None:
        self.settings = settings
        self.prepare = prepare
        self.client_options = client_options
        self._client: MongoClient[dict[str, Any]] | None = None
        self._prepared = False
        self._pid = 0
        self._lock = threading.RLock()

    @property
    def client(self) -> MongoClient[dict[str, Any]]:
        """This process's client."""
        client = self._client
        if client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = connect(self.settings, **self.client_options)
                    self._pid = os.getpid()
                    self._prepared = False
                client = self._client
        return client

    @property
    def database(self) -> Database[dict[str, Any]]:
        """The configured database; ``prepare(database)`` has run on it in this process.

        ``prepare`` (indexes, seed data) runs on first use and again on the next use if
        it failed (the database was down), so no request waits for it twice.
        """
        database = self.client[self.settings.database]
        if not self._prepared and self.prepare is not None:
            with self._lock:
                if not self._prepared:
                    self.prepare(database)
                    self._prepared = True
        return database

    def close(self) -> None:
        """Close this process's client, if it made one."""
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None
