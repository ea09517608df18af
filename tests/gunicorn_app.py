"""``gunicorn app:app`` as the tests run it: the repository's ``gunicorn.conf.py`` (gevent
workers), a free 127.0.0.1 port, the test ``mongod``, a log file; ready once ``/healthz``
answers. Used by tests/app/test_gunicorn.py and the browser and reliability suites.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.mongo_server import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
# Settings of the developer's shell that would change what is under test.
UNSET = ("MONGODB_HOST", "MONGODB_PORT", "MICRORAAB_ENV", "MICRORAAB_CONFIG_FILE",
         "FORWARDED_ALLOW_IPS")  # fmt: skip


@dataclass
class Reply:
    """An answer read whole: status, body, headers and how long it took."""

    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Reply:
    """One request on a new connection; OSError (refused, reset, timeout) propagates."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, data, dict(response.getheaders()), time.monotonic() - started)
    finally:
        connection.close()


def healthy(port: int) -> bool:
    """Whether ``GET /healthz`` on ``port`` answers 200 now."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start_app(
    mongo_uri: str,
    database: str,
    log: Path,
    *,
    workers: int = 2,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[int, subprocess.Popen[bytes]]:
    """Start the links app under gunicorn and wait until it is healthy: (port, master).

    ``args`` go to gunicorn's command line, ``env`` over the environment built here. The
    caller stops the master (``app.mongo_server.stop_process``); if it never gets healthy,
    it is stopped here and the test fails with its log.
    """
    port = free_port()
    environ = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "MICRORAAB_SECRET_KEY": "test-key",
        "WEB_CONCURRENCY": str(workers),
        "PORT": str(port),
    }
    for name in UNSET:
        environ.pop(name, None)
    environ.update(env or {})
    command = [
        sys.executable, "-m", "gunicorn", "app:app", "--no-control-socket",
        "--bind", f"127.0.0.1:{port}",  # loopback only (gunicorn.conf.py binds 0.0.0.0)
        *args,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process, 5)
            pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return port, process
