"""The real thing: ``gunicorn app:app`` with gevent workers, spoken to over HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
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
from tests.gunicorn_app import ROOT, START_TIMEOUT, Reply, request, start_app


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        return request(self.port, method, path, body)


def serve(mongo_uri: str, database: str, log: Path) -> Server:
    """``gunicorn app:app`` (gunicorn.conf.py: gevent workers) on a free loopback port."""
    port, process = start_app(mongo_uri, database, log)
    return Server(port, process, log)


@pytest.fixture
def gunicorn_server(mongo_uri: str, mongo_db: Database[Any], tmp_path: Path) -> Iterator[Server]:
    server = serve(mongo_uri, mongo_db.name, tmp_path / "gunicorn.log")
    yield server
    stop_process(server.process, 15)


def test_gunicorn_serves_the_app_with_gevent_workers(gunicorn_server: Server) -> None:
    created = gunicorn_server.request(
        "POST", "/api/links", {"url": "https://example.com/over-http", "code": "http-1"}
    )
    assert created.status == 201
    follow = gunicorn_server.request("GET", "/http-1")
    assert follow.status == 302
    assert follow.headers["Location"] == "https://example.com/over-http"
    # The click is counted right after the 302 is sent: wait for it, bounded by the
    # client's 5 s socket timeout.
    deadline = time.monotonic() + 5
    page = gunicorn_server.request("GET", "/http-1+")
    while b'<dd id="clicks">1</dd>' not in page.body and time.monotonic() < deadline:
        time.sleep(0.05)
        page = gunicorn_server.request("GET", "/http-1+")
    assert page.status == 200
    assert b'<dd id="clicks">1</dd>' in page.body
    assert gunicorn_server.request("GET", "/readyz").status == 200


def test_gunicorn_serves_the_bench_app_mounted_at_bench(gunicorn_server: Server) -> None:
    response = gunicorn_server.request("GET", "/bench/json")
    assert response.status == 200
    assert response.json() == {"message": "Hello, World!"}
    db = gunicorn_server.request("GET", "/bench/db")
    assert db.status == 200
    assert set(db.json()) == {"id", "randomNumber"}


def test_gunicorn_log_shows_gevent_and_no_late_monkey_patching(gunicorn_server: Server) -> None:
    gunicorn_server.request("GET", "/")
    gunicorn_server.process.send_signal(signal.SIGTERM)
    gunicorn_server.process.wait(timeout=15)
    log = gunicorn_server.log.read_text()
    assert "Using worker: GeventWorker" in log  # microraab.worker (gunicorn.conf.py)
    assert "monkey-patch" not in log.lower().replace("monkey_patch", "")
    assert "Traceback" not in log


# Bad input at the HTTP layer: gunicorn's parser refuses most of it before the app runs
# (gunicorn.conf.py's limit_request_* settings, HTTP/1.1's framing rules); a bad or
# oversized chunked body is found while the app reads it (microraab.wrappers: 400, 413).
# Each row is a POST that would create a link if it got through, so "nothing stored" is a
# real check. Row: raw request, status, a fragment of the message.
LINK = b'{"url": "https://example.com/smuggled"}'


def post(target: bytes = b"/api/links", headers: bytes = b"", body: bytes = LINK) -> bytes:
    head = b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += b"Content-Type: application/json\r\n" + headers
    if b"Content-Length" not in headers and b"Transfer-Encoding" not in headers:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


MANY_FIELDS = b"".join(b"X-Field-%d: x\r\n" % n for n in range(101))
CHUNKED = b"Transfer-Encoding: chunked\r\n"


def chunks(body: bytes, size: int = 65536) -> bytes:
    """``body`` in HTTP/1.1 chunked framing."""
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


# Over MAX_CONTENT_LENGTH (1 MiB), framed by chunks so no Content-Length gives it away.
OVERSIZED = b'{"url": "https://example.com/' + b"x" * (1024 * 1024) + b'"}'

GUNICORN_LIMITS = [
    pytest.param(post(b"/api/links?" + b"q" * 4100), 414, "Request Line is too large", id="line"),
    pytest.param(post(headers=MANY_FIELDS), 431, "limit request headers fields", id="fields"),
    pytest.param(
        post(headers=b"X-Big: " + b"b" * 8200 + b"\r\n"),
        431,
        "limit request headers fields size",
        id="field-size",
    ),
    pytest.param(b"GARBAGE\r\n\r\n", 400, "Invalid HTTP request line", id="request-line"),
    pytest.param(
        post().replace(b"HTTP/1.1", b"HTTP/9.9", 1), 400, "Invalid HTTP Version", id="version"
    ),
    pytest.param(
        post(headers=b"Bad Name: x\r\n"), 400, "Invalid HTTP header name", id="header-name"
    ),
    pytest.param(
        post(headers=b"Content-Length: 39\r\n" + CHUNKED, body=b"27\r\n" + LINK + b"\r\n0\r\n\r\n"),
        400,
        "CONTENT-LENGTH",
        id="length-and-chunked",
    ),
    pytest.param(
        post(headers=b"Content-Length: -39\r\n"), 400, "CONTENT-LENGTH", id="negative-length"
    ),
    pytest.param(
        post(headers=CHUNKED, body=b"zz\r\n" + LINK + b"\r\n0\r\n\r\n"),
        400,
        "Invalid chunk size",
        id="chunk-size",
    ),
    pytest.param(
        post(headers=CHUNKED, body=chunks(OVERSIZED)), 413, "exceeds the capacity limit", id="over"
    ),
]


@pytest.fixture(scope="module")
def limits_server(
    mongo_uri: str, mongo_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Database[Any]]]:
    """One gunicorn for the whole table: each row is refused before the app runs."""
    database = mongo_client[f"test_limits_{os.getpid()}"]
    server = serve(mongo_uri, database.name, tmp_path_factory.mktemp("limits") / "gunicorn.log")
    yield server, database
    stop_process(server.process, 15)
    mongo_client.drop_database(database.name)


def send_raw(port: int, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as is; the status and body of the answer (gunicorn then closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(("raw", "status", "message"), GUNICORN_LIMITS)
def test_gunicorn_refuses_malformed_and_oversized_requests(
    limits_server: tuple[Server, Database[Any]], raw: bytes, status: int, message: str
) -> None:
    server, database = limits_server
    answer_status, body = send_raw(server.port, raw)
    assert (answer_status, message) == (status, message)
    assert message.encode() in body, body
    assert b"Traceback" not in body
    assert database["links"].count_documents({}) == 0
    # The worker that refused it serves the next request as usual.
    assert server.request("GET", "/healthz").status == 200


def test_the_limits_table_rows_pass_when_well_formed(
    limits_server: tuple[Server, Database[Any]],
) -> None:
    """The control: the same POST, well formed and within the limits, stores the link."""
    server, database = limits_server
    status, _ = send_raw(server.port, post(headers=b"Connection: close\r\n"))
    assert status == 201
    assert database["links"].count_documents({"url": "https://example.com/smuggled"}) == 1
    database["links"].delete_many({})


def test_a_users_own_app_served_from_the_repo_root_starts_no_demo_database(
    tmp_path: Path,
) -> None:
    # gunicorn reads ./gunicorn.conf.py for any app: its settings apply to hello:app, but
    # its hooks (the local mongod, the secret key) act only for the demo app.
    (tmp_path / "hello.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'hello']\n"
    )
    port = free_port()
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("MONGODB_", "MICRORAAB_"))}  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "hello:app", "--no-control-socket",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env={**environ, "PYTHONPATH": str(tmp_path)},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        reply = None
        while reply is None and time.monotonic() < deadline and process.poll() is None:
            try:
                reply = request(port, "GET", "/", timeout=2)
            except OSError:
                time.sleep(0.1)
        assert reply is not None and reply.body == b"hello", log.read_text()
    finally:
        stop_process(process, 15)
    output = log.read_text()
    assert "hello:app is not the demo app: no local MongoDB for it" in output
    assert "Using worker: GeventWorker" in output  # the file was read
    assert "mongod" not in output.replace("no local MongoDB", "")


def test_the_app_trusts_the_proxies_gunicorn_was_given_on_its_command_line(
    mongo_uri: str, mongo_db: Database[Any], tmp_path: Path
) -> None:
    # No FORWARDED_ALLOW_IPS in the environment: gunicorn.conf.py's on_starting hands the
    # command line's value to the workers, so the app and gunicorn trust the same peer.
    log = tmp_path / "gunicorn.log"
    args = ["--forwarded-allow-ips", "127.0.0.5", "--access-logformat", '%(h)s "%(r)s"']
    port, process = start_app(mongo_uri, mongo_db.name, log, workers=1, args=args)
    forwarded = {
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "links.example", "Content-Type": "application/json",
    }  # fmt: skip

    def create(source: str, code: str) -> str | None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0)
        )
        try:
            body = json.dumps({"url": "https://example.com/proxied", "code": code})
            connection.request("POST", f"/api/links?{code}", body=body, headers=forwarded)
            response = connection.getresponse()
            response.read()
            assert response.status == 201
            return response.getheader("Location")
        finally:
            connection.close()

    try:
        assert create("127.0.0.5", "via-gateway") == "https://links.example/api/links/via-gateway"
        # 127.0.0.1 is in gunicorn's default list, which the command line replaced.
        assert create("127.0.0.1", "not-via") == f"http://127.0.0.1:{port}/api/links/not-via"
    finally:
        stop_process(process, 15)
    logged = {line.split('"')[1].split("?")[1].split()[0]: line.split()[0]
              for line in log.read_text().splitlines() if "/api/links?" in line}  # fmt: skip
    assert logged == {"via-gateway": "203.0.113.9", "not-via": "127.0.0.1"}, logged

