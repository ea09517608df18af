"""The local run: when no MongoDB is configured, start one, and make a local secret key.

Called by gunicorn's master (``on_starting`` in ``gunicorn.conf.py``) before it forks, and
by ``create_app`` under the development server. It exports ``MONGODB_URI`` and
``MICRORAAB_SECRET_KEY`` so that workers (and the reloader's child) inherit them and
start nothing themselves.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from app.db import MongoSettings
from app.mongo_server import MongoServer, ensure_local_mongodb, is_listening

logger = logging.getLogger(__name__)

DATA_ROOT = Path(__file__).resolve().parent.parent / "var"
SECRET_KEY_NAMES = ("MICRORAAB_SECRET_KEY", "SECRET_KEY")
KEY_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'


class MissingSecretKey(RuntimeError):
    """A deployment (an external MongoDB) without a secret key."""


@dataclass
class LocalRun:
    """What ``prepare_local_run`` started; ``stop()`` stops it."""

    uri: str
    server: MongoServer | None
    data_dir: Path

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def prepare_local_run(
    environ: MutableMapping[str, str] | None = None, data_root: Path = DATA_ROOT
) -> LocalRun | None:
    """Start or reuse the local ``mongod`` unless a database is configured.

    With an external database, only checks that a secret key is set (MissingSecretKey).
    Returns None when nothing local is in use.
    """
    environ = os.environ if environ is None else environ
    settings = MongoSettings.from_env(environ)
    if settings.external:
        if not any(environ.get(name) for name in SECRET_KEY_NAMES):
            raise MissingSecretKey(
                "An external MongoDB is configured (a deployment), but no secret key is set. "
                f"Set MICRORAAB_SECRET_KEY, for example to the output of: {KEY_HINT}"
            )
        _export_secret_key(environ)
        return None
    if environ.get("MICRORAAB_LOCAL_MONGODB") == "1" and _listening(settings.uri):
        # The master (or the reloader's parent) started it.
        return LocalRun(settings.uri, None, data_root / "mongodb")
    uri, server = ensure_local_mongodb(data_root / "mongodb")
    environ["MONGODB_URI"] = uri
    environ["MICRORAAB_LOCAL_MONGODB"] = "1"
    if not any(environ.get(name) for name in SECRET_KEY_NAMES):
        environ["MICRORAAB_SECRET_KEY"] = _local_secret_key(data_root / "secret_key")
    _export_secret_key(environ)
    return LocalRun(uri, server, data_root / "mongodb")


def _listening(uri: str) -> bool:
    port = uri.rstrip("/").rsplit(":", 1)[-1]
    return port.isdigit() and is_listening(int(port))


def _export_secret_key(environ: MutableMapping[str, str]) -> None:
    # microraab reads MICRORAAB_SECRET_KEY; platforms often call it SECRET_KEY.
    if not environ.get("MICRORAAB_SECRET_KEY") and environ.get("SECRET_KEY"):
        environ["MICRORAAB_SECRET_KEY"] = environ["SECRET_KEY"]


def _local_secret_key(path: Path) -> str:
    """The key kept beside the local data (mode 0600), made on first use."""
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        logger.info("using the local secret key in %s", path)
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    logger.warning("no secret key was set: generated one for this local run in %s", path)
    return key
