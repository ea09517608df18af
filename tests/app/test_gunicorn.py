"""The real thing: ``gunicorn app:app`` with gevent workers, spoken to over HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from app.mongo_server import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, body: Any = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read_body = response.read()  # type: ignore[attr-defined]
        connection.close()
        return response


@pytest.fixture
def gunicorn_server(mongo_uri: str, mongo_db: Database[Any], tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": mongo_db.name,
        "MICRORAAB_SECRET_KEY": "test-key",
        "WEB_CONCURRENCY": "2",
        "PORT": str(port),
    }
    env.pop("MONGODB_HOST", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:app", "--no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port, process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            if server.request("GET", "/healthz").status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
        time.sleep(0.2)
    yield server
    stop_process(process, 15)


def test_gunicorn_serves_the_app_with_gevent_workers(gunicorn_server: Server) -> None:
    created = gunicorn_server.request(
        "POST", "/api/links", {"url": "https://example.com/over-http", "code": "http-1"}
    )
    assert created.status == 201
    follow = gunicorn_server.request("GET", "/http-1")
    assert follow.status == 302
    assert follow.getheader("Location") == "https://example.com/over-http"
    page = gunicorn_server.request("GET", "/http-1+")
    assert page.status == 200
    assert b'<dd id="clicks">1</dd>' in page.read_body  # type: ignore[attr-defined]
    assert gunicorn_server.request("GET", "/readyz").status == 200


def test_gunicorn_serves_the_bench_app_mounted_at_bench(gunicorn_server: Server) -> None:
    response = gunicorn_server.request("GET", "/bench/json")
    assert response.status == 200
    assert json.loads(response.read_body) == {"message": "Hello, World!"}  # type: ignore[attr-defined]
    db = gunicorn_server.request("GET", "/bench/db")
    assert db.status == 200
    assert set(json.loads(db.read_body)) == {"id", "randomNumber"}  # type: ignore[attr-defined]


def test_gunicorn_log_shows_gevent_and_no_late_monkey_patching(gunicorn_server: Server) -> None:
    gunicorn_server.request("GET", "/")
    gunicorn_server.process.send_signal(signal.SIGTERM)
    gunicorn_server.process.wait(timeout=15)
    log = gunicorn_server.log.read_text()
    assert "Using worker: gevent" in log
    assert "monkey-patch" not in log.lower().replace("monkey_patch", "")
    assert "Traceback" not in log
