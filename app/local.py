"""The local run: when no MongoDB is configured, start one, and make a local secret key.

Called by gunicorn's master (``on_starting`` in ``gunicorn.conf.py``) before it forks, and
by ``create_app`` under the development server. It exports ``MONGODB_URI`` (with
``MICRORAAB_LOCAL_MONGODB=1``) and ``MICRORAAB_SECRET_KEY`` so that the workers, and the
reloader's child, inherit them and start nothing themselves.

Standard library only at import (pymongo must not be imported in gunicorn's master; see
:mod:`app.mongo_server`).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.db import MongoSettings
from app.mongo_server import REPO_ROOT, MongoServer, ensure_local_mongodb, wire_ping

logger = logging.getLogger(__name__)

DATA_ROOT = REPO_ROOT / "var"
SECRET_KEY_NAMES = ("MICRORAAB_SECRET_KEY", "SECRET_KEY")
KEY_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'


class MissingSecretKey(RuntimeError):
    """A deployment (an external MongoDB) without a secret key."""


@dataclass
class LocalRun:
    """The local database in use: its URI, its data, and the server if we started it."""

    uri: str
    server: MongoServer | None
    data_dir: Path

    def stop(self) -> None:
        """Stop the ``mongod`` if ``prepare_local_run`` started it; else do nothing."""
        if self.server is not None:
            self.server.stop()


def prepare_local_run(
    environ: MutableMapping[str, str] | None = None, data_root: Path = DATA_ROOT
) -> LocalRun | None:
    """Start or reuse the local ``mongod`` unless a database is configured.

    ``environ`` (default ``os.environ``) is read and, for a local run, written:
    ``MONGODB_URI``, ``MICRORAAB_LOCAL_MONGODB=1`` and, unless a key is set,
    ``MICRORAAB_SECRET_KEY`` from ``<data_root>/secret_key`` (made on first use, mode 0600).
    The data lives in ``<data_root>/mongodb``.

    Returns None with an external database, after checking that a secret key is set
    (MissingSecretKey if not). Starts nothing when ``environ`` already names a local
    ``mongod`` that answers. Raises MongodNotFound or MongodFailed if it cannot start one.
    """
    environ = os.environ if environ is None else environ
    settings = MongoSettings.from_env(environ)
    if settings.external:
        if not any(environ.get(name) for name in SECRET_KEY_NAMES):
            raise MissingSecretKey(
                "An external MongoDB is configured (a deployment), but no secret key is set: "
                "set MICRORAAB_SECRET_KEY (or SECRET_KEY) to a long random string, for "
                f"example the output of: {KEY_HINT}"
            )
        _export_secret_key(environ)
        return None
    data_dir = data_root / "mongodb"
    if environ.get("MICRORAAB_LOCAL_MONGODB") == "1" and _answers(settings.uri):
        # This process already did it, or the process we were forked or spawned from.
        return LocalRun(settings.uri, None, data_dir)
    uri, server = ensure_local_mongodb(data_dir)
    environ["MONGODB_URI"] = uri
    environ["MICRORAAB_LOCAL_MONGODB"] = "1"
    if not any(environ.get(name) for name in SECRET_KEY_NAMES):
        environ["MICRORAAB_SECRET_KEY"] = _local_secret_key(data_root / "secret_key")
    _export_secret_key(environ)
    return LocalRun(uri, server, data_dir)


def _answers(uri: str) -> bool:
    try:
        address = urlsplit(uri)
        return address.port is not None and wire_ping(address.hostname or "", address.port)
    except ValueError:
        return False


def _export_secret_key(environ: MutableMapping[str, str]) -> None:
    # microraab reads MICRORAAB_SECRET_KEY; platforms often call it SECRET_KEY.
    if not environ.get("MICRORAAB_SECRET_KEY") and environ.get("SECRET_KEY"):
        environ["MICRORAAB_SECRET_KEY"] = environ["SECRET_KEY"]


def _local_secret_key(path: Path) -> str:
    """The key kept beside the local data (mode 0600), made on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: if another process makes the file first, read its key instead.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"{path} is empty: delete it to have a new key made") from None
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # a signing key readable by other users is not secret
        logger.info("Secret key: using the local key in %s", path)
        return key
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    logger.warning("Secret key: none was set; made one for local runs in %s", path)
    return key
