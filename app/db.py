"""Where the links app's MongoDB is, and one client per process to reach it.

Settings come from the environment: ``MONGODB_URI``, else ``MONGODB_HOST``/``MONGODB_PORT``
(what Rainbond injects for a dependency whose port alias is ``MONGODB``) with optional
``MONGODB_USER``/``MONGODB_PASSWORD``; the database from ``MONGODB_DATABASE``.

This module imports pymongo only inside functions: gunicorn's master reads the settings
(through :mod:`app.local`) before it forks, and pymongo imported there would import ssl
before gevent patches the workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote

if TYPE_CHECKING:  # pragma: no cover
    from pymongo import MongoClient
    from pymongo.database import Database

DEFAULT_DATABASE = "microraab"
DEFAULT_PORT = "27017"
DEFAULT_MAX_POOL_SIZE = 100

# The client's timeouts, named so that the tests derive their time bounds from them
# (tests/time_bounds.py) instead of retyping them; why each value, in connect().
SERVER_SELECTION_TIMEOUT_MS = 1500
CONNECT_TIMEOUT_MS = 2000
SOCKET_TIMEOUT_MS = 5000
WAIT_QUEUE_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class MongoSettings:
    """A connection string and a database name.

    ``external`` is True when the user configured the database (a deployment), False when
    nothing is configured (``uri`` is then "") or the URI is the local ``mongod`` that
    :mod:`app.local` started and exported (``MICRORAAB_LOCAL_MONGODB=1``).
    """

    uri: str
    database: str
    external: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MongoSettings:
        """Read the settings from ``environ``; ValueError if ``MONGODB_PORT`` is not a number.

        The database is ``MONGODB_DATABASE``, else the one in ``MONGODB_URI``'s path, else
        "microraab".
        """
        database = environ.get("MONGODB_DATABASE") or ""
        uri = environ.get("MONGODB_URI") or ""
        if uri:
            database = database or _database_in_uri(uri) or DEFAULT_DATABASE
            local = environ.get("MICRORAAB_LOCAL_MONGODB") == "1"
            return cls(uri, database, external=not local)
        host = environ.get("MONGODB_HOST") or ""
        if not host:
            return cls("", database or DEFAULT_DATABASE, external=False)
        if host.count(":") >= 2 and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 literal: the brackets keep its colons from the port's
        port = environ.get("MONGODB_PORT") or DEFAULT_PORT
        if not port.isdigit():
            raise ValueError(f"MONGODB_PORT must be a port number, not {port!r}")
        credentials = ""
        user = environ.get("MONGODB_USER")
        if user:
            password = environ.get("MONGODB_PASSWORD") or ""
            secret = f":{quote_plus(password)}" if password else ""
            credentials = f"{quote_plus(user)}{secret}@"
        uri = f"mongodb://{credentials}{host}:{port}/"
        return cls(uri, database or DEFAULT_DATABASE, external=True)


def _database_in_uri(uri: str) -> str:
    """The database named in a ``mongodb://`` URI's path, or "".

    By hand rather than urlsplit (which rejects some multi-host IPv6 lists) or pymongo's
    parse_uri (which this module must not import at the top; see the module docstring).
    """
    rest = uri.partition("://")[2]
    path = rest.partition("/")[2]
    return unquote(path.partition("?")[0])


def max_pool_size(environ: Mapping[str, str]) -> int:
    """``MONGODB_MAX_POOL_SIZE`` (default 100); ValueError unless a positive integer."""
    value = environ.get("MONGODB_MAX_POOL_SIZE") or str(DEFAULT_MAX_POOL_SIZE)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MONGODB_MAX_POOL_SIZE must be a positive integer, not {value!r}")
    return int(value)


def connect(settings: MongoSettings, **overrides: Any) -> MongoClient[dict[str, Any]]:
    """A MongoClient for ``settings.uri`` with timeouts short enough for a web request.

    ``overrides`` replace any option below. No connection is made until the first query.
    """
    from pymongo import MongoClient

    options: dict[str, Any] = {
        # pymongo waits 30 s for a server by default; 1.5 s turns an outage into a 503 the
        # user sees within ~2 s (pymongo rechecks every 0.5 s, so it can run that much over).
        "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
        "connectTimeoutMS": CONNECT_TIMEOUT_MS,
        # Per-socket and pool-wait timeouts rather than pymongo's ``timeoutMS`` (one budget
        # per operation): with ``timeoutMS`` set, pymongo 4.x waits the whole budget for a
        # server and ignores the 2 s above, so an outage would take 5 s to report.
        "socketTimeoutMS": SOCKET_TIMEOUT_MS,
        "waitQueueTimeoutMS": WAIT_QUEUE_TIMEOUT_MS,
        # An acknowledged write survives a replica-set failover.
        "w": "majority",
        "retryWrites": True,
        "retryReads": True,
        "maxPoolSize": max_pool_size(os.environ),
        "appname": "microraab",
        "tz_aware": True,
        "uuidRepresentation": "standard",
    }
    options.update(overrides)
    return MongoClient(settings.uri, **options)


def ping_database(database: Database[Any]) -> bool:
    """Whether the server behind ``database`` answers ``ping`` (within the client's timeouts)."""
    from pymongo.errors import PyMongoError

    try:
        database.command("ping")
    except PyMongoError:
        return False
    return True


class MongoProvider:
    """One MongoClient per process, created on first use.

    Never at import: a client opened before gunicorn forks would be shared by the workers'
    copies, which pymongo warns about. A process forked after the client was made gets a
    new client of its own on its first use; the parent's is left to the parent.
    """

    def __init__(
        self,
        settings: MongoSettings,
        prepare: Callable[[Database[dict[str, Any]]], None] | None = None,
        **client_options: Any,
    ) -> None:
        """``prepare(database)`` runs once per process on first use; ``client_options``
        override :func:`connect`'s options."""
        self.settings = settings
        self.prepare = prepare
        self.client_options = client_options
        self._client: MongoClient[dict[str, Any]] | None = None
        self._database: Database[dict[str, Any]] | None = None  # of self._client
        self._prepared = False
        self._pid = 0
        self._lock = threading.RLock()

    @property
    def client(self) -> MongoClient[dict[str, Any]]:
        """This process's client, made now if this process has none yet."""
        client = self._client
        if client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = connect(self.settings, **self.client_options)
                    self._database = None
                    self._pid = os.getpid()
                    self._prepared = False
                client = self._client
        return client

    @property
    def database(self) -> Database[dict[str, Any]]:
        """The configured database; ``prepare(database)`` has run on it in this process.

        ``prepare`` (indexes, seed data) runs on first use and again on the next use if
        it raised (the database was down); its error propagates.
        """
        client = self.client
        database = self._database
        if database is None or database.client is not client:
            # PERF: made once per client, not per request (a Database is an immutable
            # view of the client; pymongo builds its options anew each time: ~4 µs).
            database = self._database = client[self.settings.database]
        if not self._prepared and self.prepare is not None:
            with self._lock:
                if not self._prepared:
                    self.prepare(database)
                    self._prepared = True
        return database

    def close(self) -> None:
        """Close this process's client, if it made one; the next use makes a new one."""
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None
        self._database = None
