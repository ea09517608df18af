"""Slow and idle clients against ``gunicorn app:app`` with microraab's worker
(microraab/worker.py, named in gunicorn.conf.py), its settings shortened through the
environment; raw sockets on loopback play the clients.

Each time bound is ``bound(a configured deadline)`` (tests/time_bounds.py: twice it, plus 5 s);
the fault each one catches is a worker without that deadline, where the client would
wait for its own 30 s timeout, or a place in the app held by a slow client.
"""

from __future__ import annotations

import json
import resource
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from app.mongo_server import stop_process
from tests.gunicorn_app import healthy, request, start_app
from tests.time_bounds import bound

pytestmark = pytest.mark.slow

CLIENT_TIMEOUT = 30.0  # what a client here waits at most: the fault, if it comes to it
HEADER_TIMEOUT = 1.0
BODY_GRACE = 1.0
BODY_MIN_RATE = 200
KEEPALIVE = 2
# The second server: slow clients would hold its single place in the app for 10 s.
HOLD = 10


@dataclass
class Served:
    port: int
    database: str


def serve(
    tmp: Path, mongo_uri: str, name: str, env: dict[str, str], *args: str
) -> Iterator[Served]:
    """One gevent worker of ``gunicorn app:app`` with ``env`` over the environment."""
    port, process = start_app(mongo_uri, name, tmp / "gunicorn.log", workers=1, args=args, env=env)
    try:
        yield Served(port, name)
    finally:
        stop_process(process, 15)
    log = (tmp / "gunicorn.log").read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[Served]:
    env = {
        "HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "BODY_GRACE": str(BODY_GRACE),
        "BODY_MIN_RATE": str(BODY_MIN_RATE),
    }
    tmp = tmp_path_factory.mktemp("slow-clients")
    # 100 sockets: within any limit on open files (the worker raises its own when needed).
    args = ("--keep-alive", str(KEEPALIVE), "--worker-connections", "100")
    yield from serve(tmp, mongo_uri, "slow_clients", env, *args)


@pytest.fixture(scope="module")
def one_place(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[Served]:
    """One place in the app, a 64-byte body buffer, long deadlines, 30,000 sockets (more
    open files than most limits allow: the worker raises its own)."""
    env = {
        "APP_CONCURRENCY": "1",
        "BODY_BUFFER_SIZE": "64",
        "HEADER_TIMEOUT": str(HOLD),
        "BODY_GRACE": str(HOLD),
    }
    args = ("--keep-alive", str(HOLD), "--worker-connections", "30000")
    yield from serve(tmp_path_factory.mktemp("one-place"), mongo_uri, "one_place", env, *args)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)


def post_head(length: int, extra: bytes = b"") -> bytes:
    return (
        b"POST /api/links HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n%s\r\n" % (length, extra)
    )


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def stored(mongo_uri: str, database: str, code: str) -> int:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        return client[database].links.count_documents({"code": code})
    finally:
        client.close()


def test_headers_slower_than_the_deadline_get_408_and_the_connection_closed(
    server: Served,
) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert b"Connection: close" in answer
    assert HEADER_TIMEOUT <= time.monotonic() - started < bound(HEADER_TIMEOUT)


def test_a_body_below_the_minimum_rate_gets_408_and_nothing_is_stored(
    server: Served, mongo_uri: str
) -> None:
    body = json.dumps({"url": "https://example.com/slow", "code": "slow-body"}).encode()
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body)) + body[:5])
        started = time.monotonic()
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert BODY_GRACE <= time.monotonic() - started < bound(BODY_GRACE)
    assert stored(mongo_uri, server.database, "slow-body") == 0


def test_a_body_trickled_above_the_minimum_rate_is_served(server: Served, mongo_uri: str) -> None:
    # 2,400 bytes over ~2.4 s: past the 1 s grace, at five times the 200 B/s minimum, so
    # each 200 bytes buys a second and the next come 0.2 s later (a loaded machine's late
    # wake-ups still leave it ahead).
    body = json.dumps({"url": "https://example.com/trickle", "code": "trickled"}).encode()
    body = body.ljust(2400)  # JSON allows the trailing spaces
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body)))
        for start in range(0, len(body), 200):
            sock.sendall(body[start : start + 200])
            time.sleep(0.2)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 "), answer
    assert stored(mongo_uri, server.database, "trickled") == 1


def test_a_malformed_request_is_answered_by_gunicorn_as_before(server: Served) -> None:
    with connect(server.port) as sock:
        sock.sendall(b"GET\x00 / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_an_idle_connection_is_closed_quietly_after_keepalive(server: Served) -> None:
    started = time.monotonic()  # before the server can have accepted
    with connect(server.port) as sock:
        assert read_all(sock) == b""
    assert KEEPALIVE <= time.monotonic() - started < bound(KEEPALIVE)


def test_kept_alive_requests_are_served_in_turn(server: Served) -> None:
    with connect(server.port) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while not answer.endswith(b"ok\n"):
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


def test_slow_bodies_and_idle_sockets_hold_no_place_in_the_app(one_place: Served) -> None:
    # One place in the app (APP_CONCURRENCY=1). Were it held by a slow body or an idle
    # socket, /healthz would wait HOLD seconds for their deadlines.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2048)), hard))
    idle = [connect(one_place.port) for _ in range(500)]
    slow = [connect(one_place.port) for _ in range(20)]
    try:
        for sock in slow:
            sock.sendall(post_head(50) + b"{")
        time.sleep(0.2)
        reply = request(one_place.port, "GET", "/healthz", timeout=CLIENT_TIMEOUT)
        assert reply.status == 200
        assert reply.seconds < HOLD / 4, reply.seconds
        created = request(one_place.port, "POST", "/api/links", {"url": "https://example.com/f"})
        assert created.status == 201
    finally:
        for sock in idle + slow:
            sock.close()


def test_a_body_larger_than_the_buffer_is_read_by_the_app(one_place: Served) -> None:
    body = {"url": "https://example.com/" + "b" * 100, "code": "large-body"}
    assert len(json.dumps(body)) > 64  # BODY_BUFFER_SIZE
    assert request(one_place.port, "POST", "/api/links", body).status == 201


def test_a_client_expecting_100_continue_gets_it_before_sending_its_body(
    one_place: Served,
) -> None:
    body = json.dumps({"url": "https://example.com/c", "code": "continued"}).encode()
    assert len(body) <= 64  # buffered, were it not for the Expect
    with connect(one_place.port) as sock:
        sock.sendall(post_head(len(body), b"Expect: 100-continue\r\n"))
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 201 ")
    assert healthy(one_place.port)
