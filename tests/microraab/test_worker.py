"""microraab.worker: its settings, and PacedSocket's deadlines on real gevent sockets.

Here in-process, on ``gevent.socket.socketpair()`` (cooperative without monkey-patching)
and a real worker object; tests/reliability/test_slow_clients.py runs the worker under
gunicorn against slow clients. Time bounds: ``bound()`` of tests/time_bounds.py; the fault
each one catches is a missing deadline: a test that hangs.
"""

from __future__ import annotations

import os
import resource
import signal
import socket as stdlib_socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event
import pytest
from gevent import socket as gsocket
from gunicorn import glogging
from gunicorn.config import Config

from microraab.worker import (
    KILL_MARGIN,
    RESPONSE_408,
    GeventWorker,
    PacedSocket,
    RequestTimeout,
    raise_open_files_limit,
)
from tests.time_bounds import bound

SHORT = 0.3  # seconds: every deadline under test here but keepalive's
KEEPALIVE = 1  # gunicorn's setting is whole seconds


def make_worker(**settings: float) -> GeventWorker:
    """A worker object as gunicorn's master makes one (nothing runs until init_process)."""
    cfg = Config()
    cfg.set("keepalive", KEEPALIVE)
    defaults: dict[str, float] = {"header_timeout": SHORT, "body_grace": SHORT}
    worker_class = GeventWorker.configured({}, **{**defaults, **settings})
    return worker_class(0, os.getppid(), [], None, 30, cfg, glogging.Logger(cfg))


@pytest.fixture
def pair() -> Iterator[tuple[PacedSocket, gsocket.socket]]:
    """(the server's end, paced; the client's end)."""
    server, client = gsocket.socketpair()
    yield PacedSocket(server, make_worker()), client
    server.close()
    client.close()


def elapsed_since(started: float) -> float:
    return time.monotonic() - started


def test_configured_reads_each_setting_from_the_environment() -> None:
    environ = {
        "HEADER_TIMEOUT": "3",
        "BODY_GRACE": "2.5",
        "BODY_MIN_RATE": "50",
        "BODY_BUFFER_SIZE": "100",
        "SEND_TIMEOUT": "4",
        "APP_CONCURRENCY": "7",
        "ACCEPT_BATCH": "5",
    }
    worker = GeventWorker.configured(environ, app_concurrency=9)
    assert worker.accept_batch == 5
    assert (worker.header_timeout, worker.body_grace, worker.body_min_rate) == (3.0, 2.5, 50)
    assert (worker.body_buffer_size, worker.send_timeout, worker.app_concurrency) == (100, 4, 7)
    assert issubclass(worker, GeventWorker) and worker.__name__ == "GeventWorker"


def test_configured_defaults_are_the_keywords_then_the_class() -> None:
    worker = GeventWorker.configured({"HEADER_TIMEOUT": ""}, app_concurrency=9)
    assert worker.app_concurrency == 9
    assert (worker.header_timeout, worker.body_grace, worker.body_min_rate) == (10.0, 5.0, 1000)
    assert (worker.body_buffer_size, worker.send_timeout, worker.accept_batch) == (65536, 10.0, 32)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BODY_MIN_RATE": "fast"}, "BODY_MIN_RATE must be a number, not 'fast'"),
        ({"HEADER_TIMEOUT": "0"}, "HEADER_TIMEOUT must be positive"),
        ({"APP_CONCURRENCY": "-3"}, "APP_CONCURRENCY must be positive"),
    ],
)
def test_configured_refuses_what_is_not_a_positive_number(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        GeventWorker.configured(environ)


def test_configured_refuses_an_unknown_setting() -> None:
    with pytest.raises(ValueError, match="unknown worker settings: \\['header_timeot'\\]"):
        GeventWorker.configured({}, header_timeot=3)


def test_an_idle_connection_reads_nothing_after_keepalive(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    started = time.monotonic()
    assert paced.recv(100) == b""
    assert time.monotonic() >= paced.deadline  # keepalive after the connection began
    assert elapsed_since(started) < bound(KEEPALIVE)


def test_an_idle_connection_past_its_deadline_reads_nothing_at_once(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    paced.deadline = time.monotonic() - 1
    assert paced.recv(100) == b""


def test_headers_slower_than_header_timeout_raise_request_timeout(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    client.sendall(b"GET / HTTP/1.1\r\n")
    started = time.monotonic()
    assert paced.recv(100) == b"GET / HTTP/1.1\r\n"
    assert paced.state == "headers"
    with pytest.raises(RequestTimeout, match="its headers arrived too slowly"):
        paced.recv(100)
    assert SHORT <= elapsed_since(started) < bound(SHORT)


def test_headers_that_time_out_are_answered_408_by_the_context(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    with paced:
        client.sendall(b"GET / HTTP/1.1\r\n")
        paced.recv(100)
        paced.recv(100)
    assert client.recv(1000) == RESPONSE_408
    assert paced.state == "headers"


def test_the_context_starts_the_body_clock_once_the_headers_are_read(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    with paced:
        client.sendall(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n")
        paced.recv(100)
    assert (paced.state, paced.requests, paced.received) == ("body", 1, 0)
    client.sendall(b"12345")
    assert paced.recv(100) == b"12345"
    assert paced.received == 5


def test_another_error_leaves_the_context_unanswered(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    with pytest.raises(ConnectionError), paced:
        raise ConnectionError
    client.settimeout(SHORT)
    with pytest.raises(TimeoutError):
        client.recv(100)


def test_a_body_below_the_minimum_rate_after_the_grace_raises(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    started = time.monotonic()
    paced.__exit__(None, None, None)  # headers read
    client.sendall(b"x" * 100)  # buys 0.1 s at 1,000 B/s
    assert paced.recv(1000) == b"x" * 100
    with pytest.raises(RequestTimeout, match="its body arrived too slowly"):
        paced.recv(1000)
    assert SHORT + 0.1 <= elapsed_since(started) < bound(SHORT + 0.1)


def test_a_body_at_the_minimum_rate_goes_on_past_the_grace(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    paced.__exit__(None, None, None)
    paced.worker.body_min_rate = 250  # type: ignore[misc]

    def trickle() -> None:
        # 600 B in ~0.6 s, twice the grace, at four times the minimum rate: each 100 B
        # buys 0.4 s and the next comes 0.1 s later, so a loaded machine's late wake-ups
        # (up to 0.3 s each) still keep it ahead.
        for _ in range(6):
            client.sendall(b"y" * 100)
            gevent.sleep(0.1)

    sender = gevent.spawn(trickle)
    received = b""
    while len(received) < 600:
        received += paced.recv(1000)
    sender.join()
    assert received == b"y" * 600


def test_a_kept_alive_request_already_waiting_is_read_after_a_yield(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    paced.requests = 1  # one served on this connection already
    client.sendall(b"GET /next HTTP/1.1\r\n\r\n")
    gevent.sleep(0.05)  # the request is in the socket before the worker looks
    others = gevent.spawn(lambda: None)  # another greenlet, ready to run
    assert paced.recv(100) == b"GET /next HTTP/1.1\r\n\r\n"
    assert others.dead  # it ran while this connection yielded


def test_stop_reading_wakes_an_idle_recv_which_reads_nothing(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    paced.deadline = time.monotonic() + 30
    waiting: list[bool] = []

    def stop() -> None:
        waiting.append(paced.waiting)
        paced.stop_reading()

    gevent.spawn_later(0.05, stop)
    assert paced.recv(100) == b""
    assert waiting == [True]
    paced.stop_reading()  # again, not waiting now: nothing to wake
    assert paced.recv(100) == b""  # and every later read


def test_stop_reading_cuts_a_body_arriving(pair: tuple[PacedSocket, gsocket.socket]) -> None:
    paced, _ = pair
    paced.__exit__(None, None, None)
    paced.worker.body_grace = 30  # type: ignore[misc]
    gevent.spawn_later(0.05, paced.stop_reading)
    with pytest.raises(RequestTimeout, match="its body was arriving at shutdown"):
        paced.recv(100)


def test_stop_reading_is_quiet_when_the_client_has_gone(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    paced.waiting = True
    paced.sock.close()
    paced.stop_reading()
    assert paced.cut


def test_at_shutdown_a_body_is_cut_at_cut_at(pair: tuple[PacedSocket, gsocket.socket]) -> None:
    paced, _ = pair
    paced.__exit__(None, None, None)
    paced.worker.cut_at = time.monotonic() + 0.1
    with pytest.raises(RequestTimeout, match="its body arrived at shutdown"):
        paced.recv(100)


def test_a_read_error_that_is_not_a_cut_propagates(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    paced.__exit__(None, None, None)
    paced.sock.close()
    with pytest.raises(OSError):
        paced.recv(100)


def test_writes_count_what_was_sent_and_a_408_is_not_sent_after_them(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    assert paced.send(b"HTTP/1.1 200 OK\r\n") == 17
    paced.sendall(b"\r\nok")
    assert paced.sent == 21
    paced.answer_408("test")
    client.settimeout(SHORT)
    assert client.recv(100) == b"HTTP/1.1 200 OK\r\n\r\nok"
    with pytest.raises(TimeoutError):
        client.recv(100)


def test_a_write_larger_than_the_socket_buffer_arrives_whole_and_is_counted(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    data = bytes(range(256)) * 16384  # 4 MiB: more than any socket buffer here
    reader = gevent.spawn(lambda: b"".join(iter(lambda: client.recv(1 << 20), b"")))
    paced.sendall(data)
    paced.sock.shutdown(stdlib_socket.SHUT_WR)
    assert reader.get(timeout=bound(SHORT)) == data
    assert paced.sent == len(data)


def nothing_arrived(client: gsocket.socket) -> bool:
    client.setblocking(False)
    try:
        client.recv(100)
    except BlockingIOError:
        return True
    finally:
        client.setblocking(True)
    return False


def test_held_headers_go_with_the_bodys_first_bytes(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    paced.hold()
    paced.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    assert nothing_arrived(client) and paced.sent == 0
    paced.sendall(b"ok")
    paced.sendall(b"!")  # only the first write is held
    client.settimeout(SHORT)
    assert client.recv(100) == b"HTTP/1.1 200 OK\r\n\r\nok!"
    assert paced.sent == 22


def test_held_headers_are_sent_by_release_or_before_a_send_or_a_large_body(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    client.settimeout(SHORT)
    paced.hold()
    paced.sendall(b"HEAD-ANSWER ")
    paced.release()  # a response without a body
    assert client.recv(100) == b"HEAD-ANSWER "
    paced.release()  # nothing held: nothing sent
    paced.hold()
    paced.sendall(b"HEADERS ")
    assert paced.send(b"sent") == 4
    assert client.recv(100) == b"HEADERS sent"
    paced.hold()
    paced.sendall(b"HEADERS ")
    large = bytes(range(256)) * 1024  # over COALESCE_LIMIT: not copied behind the headers
    reader = gevent.spawn(lambda: b"".join(iter(lambda: client.recv(1 << 20), b"")))
    paced.sendall(large)
    paced.sock.shutdown(stdlib_socket.SHUT_WR)
    assert reader.get(timeout=bound(SHORT)) == b"HEADERS " + large


def test_a_shutdown_drops_held_headers(pair: tuple[PacedSocket, gsocket.socket]) -> None:
    # gunicorn shuts the socket down when the application fails after its headers
    paced, client = pair
    paced.hold()
    paced.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    paced.shutdown(stdlib_socket.SHUT_RDWR)
    paced.release()
    client.settimeout(SHORT)
    assert client.recv(100) == b""


def test_a_write_to_a_client_that_does_not_read_ends_at_send_timeout() -> None:
    server, client = gsocket.socketpair()
    worker = make_worker(send_timeout=SHORT)
    paced = PacedSocket(server, worker)
    started = time.monotonic()
    writer = gevent.spawn(paced.sendall, b"x" * (64 << 20))  # the client reads nothing
    gevent.sleep(SHORT / 4)
    assert worker.waiting_on_clients == 1  # so it does not make the worker look busy
    with pytest.raises(TimeoutError):
        writer.get(timeout=bound(SHORT))
    assert SHORT <= elapsed_since(started) < bound(SHORT)
    assert worker.waiting_on_clients == 0
    assert 0 < paced.sent < 64 << 20  # what fitted the buffers: no 408 after it
    server.close()
    client.close()


def test_a_408_to_a_client_that_has_gone_is_quiet(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair
    client.close()
    paced.answer_408("gone")  # EPIPE swallowed


def test_everything_else_passes_through_to_the_socket(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, _ = pair
    assert paced.fileno() == paced.sock.fileno()


# -- the worker in this process: gunicorn's parser and handler, a tiny WSGI app ----------


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the request body it reads (a view that stores what it was sent)."""
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class EchoApplication:
    """What gunicorn's worker asks of its application object: the WSGI callable."""

    def wsgi(self) -> Any:
        return echo_app


@dataclass
class Application:
    callable: Any

    def wsgi(self) -> Any:
        return self.callable


@dataclass
class Running:
    worker: GeventWorker
    port: int
    greenlet: gevent.Greenlet

    def connect(self) -> gsocket.socket:
        return gsocket.create_connection(("127.0.0.1", self.port), timeout=10)

    def stop(self) -> float:
        """SIGTERM, as gunicorn's signal handler sees it; seconds until run() returned."""
        started = time.monotonic()
        self.worker.handle_exit(signal.SIGTERM, None)
        self.greenlet.get(timeout=10)
        return time.monotonic() - started


def run_worker(
    graceful_timeout: int = 5, workers: int = 1, app: Any = None, **settings: float
) -> Running:
    """A worker serving ``echo_app`` (or ``app(worker)``) on a free port, its ``run()`` in
    a greenlet."""
    worker = make_worker(**settings)
    worker.cfg.set("graceful_timeout", graceful_timeout)
    worker.cfg.set("workers", workers)
    listener = gsocket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(100)
    worker.sockets = [listener]
    worker.app = EchoApplication() if app is None else Application(app(worker))
    worker.load_wsgi()
    greenlet = gevent.spawn(worker.run)
    gevent.sleep(0.05)
    return Running(worker, listener.getsockname()[1], greenlet)


def read_response(sock: gsocket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def post(body: bytes, length: int | None = None, extra: bytes = b"") -> bytes:
    size = len(body) if length is None else length
    return (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n%s"
        % (extra, size, body)
    )


def test_the_worker_serves_a_request_through_its_paced_socket() -> None:
    running = run_worker()
    try:
        with running.connect() as sock:
            sock.sendall(post(b"hello"))
            answer = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nhello")
        assert running.worker.connections == {} and running.worker.waiting_on_clients == 0
    finally:
        running.stop()


def test_a_body_over_the_buffer_size_or_expecting_100_is_read_by_the_app() -> None:
    running = run_worker(workers=2, body_buffer_size=4)
    try:
        with running.connect() as sock:
            sock.sendall(post(b"longer than four"))
            assert read_response(sock).endswith(b"longer than four")
        with running.connect() as sock:
            sock.sendall(post(b"", 3, b"Expect: 100-continue\r\n"))
            assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
            sock.sendall(b"abc")
            assert read_response(sock).endswith(b"abc")
    finally:
        running.stop()


def test_a_body_too_slow_is_answered_408_and_never_reaches_the_app() -> None:
    running = run_worker()
    try:
        with running.connect() as sock:
            sock.sendall(post(b"sl", 10))
            assert read_response(sock) == RESPONSE_408
    finally:
        running.stop()


def test_a_turn_accepts_one_even_with_sockets_waiting_that_are_not_connections(
    pair: tuple[PacedSocket, gsocket.socket],
) -> None:
    paced, client = pair  # made here, not by handle(): not one of worker.connections
    paced.worker.cfg.set("workers", 2)
    reader = gevent.spawn(paced.recv, 100)
    gevent.sleep(0)  # now waiting in its recv
    assert paced.worker.waiting_on_clients == 1 and paced.worker.connections == {}
    assert paced.worker.accepts_per_turn() == 1
    client.sendall(b"G")
    assert reader.get(timeout=bound(SHORT)) == b"G"


@pytest.mark.parametrize(
    ("accept_batch", "busy", "idle", "accepted"),
    [(32, 0, 0, 1), (32, 4, 0, 2), (32, 12, 0, 4), (3, 12, 0, 3), (1, 12, 0, 1), (32, 0, 12, 1)],
)
def test_one_turn_of_the_listener_accepts_one_more_for_every_four_busy_connections(
    accept_batch: int, busy: int, idle: int, accepted: int
) -> None:
    # With two workers or more (with one, gevent's 100 a turn): ``busy`` connections with
    # a request in the app and ``idle`` ones kept alive, waiting for their next request
    # (they do not count), then 10 new ones waiting, their requests sent, when the
    # worker's loop next runs. The first new one served sees how many that turn accepted.
    in_worker_when_served: list[int] = []
    release = gevent.event.Event()

    def app(worker: GeventWorker) -> Any:
        def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            if environ["PATH_INFO"] == "/hold":
                release.wait(10)
            else:
                in_worker_when_served.append(len(worker.servers[0].pool))
            start_response("204 No Content", [])
            return []

        return serve

    running = run_worker(workers=2, app=app, accept_batch=accept_batch)
    worker = running.worker
    kept = [running.connect() for _ in range(busy + idle)]
    try:
        for number, sock in enumerate(kept):
            path = b"/hold" if number < busy else b"/"
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
            if number >= busy:
                assert sock.recv(65536).startswith(b"HTTP/1.1 204")
        deadline = time.monotonic() + 10
        while (len(worker.connections), worker.waiting_on_clients) != (busy + idle, idle):
            assert time.monotonic() < deadline, (len(worker.connections), worker.waiting_on_clients)
            gevent.sleep(0.01)
        del in_worker_when_served[:]
        clients = [stdlib_socket.create_connection(("127.0.0.1", running.port)) for _ in range(10)]
        for client in clients:  # blocking sockets: the worker's loop has not run since
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = [gevent.spawn(read_response, gsocket.socket(fileno=c.detach())) for c in clients]
        assert all(answer.get(timeout=10).startswith(b"HTTP/1.1 204") for answer in answers)
        assert in_worker_when_served[0] == busy + idle + accepted
    finally:
        release.set()
        for sock in kept:
            sock.close()
        running.stop()


def test_a_file_response_is_sent_whole_after_the_headers(tmp_path: Any) -> None:
    # gunicorn sends a wsgi.file_wrapper response with sock.sendfile, which refuses a
    # socket left non-blocking (a fresh-clone CI run: every static file cut short).
    content = b"body { color: black }\n" * 1000
    (tmp_path / "style.css").write_bytes(content)

    def app(worker: GeventWorker) -> Any:
        def serve(environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [("Content-Length", str(len(content)))])
            return environ["wsgi.file_wrapper"]((tmp_path / "style.css").open("rb"))

        return serve

    running = run_worker(app=app)
    try:
        with running.connect() as sock:
            sock.sendall(b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.partition(b"\r\n\r\n")[2] == content
    finally:
        running.stop()


def test_responses_without_a_body_are_answered_on_a_kept_alive_connection() -> None:
    # Their held headers have no body to go with: the end of the request sends them.
    def app(worker: GeventWorker) -> Any:
        def serve(environ: dict[str, Any], start_response: Any) -> Any:
            if environ["PATH_INFO"] == "/empty":
                start_response("204 No Content", [])
            else:
                start_response("200 OK", [("Content-Length", "5")])
            return [b"hello"] if environ["REQUEST_METHOD"] != "HEAD" else []

        return serve

    running = run_worker(app=app)
    try:
        with running.connect() as sock:
            sock.settimeout(bound(SHORT))
            for request in (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
                            b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"):  # fmt: skip
                sock.sendall(request)
                head = b""
                while not head.endswith(b"\r\n\r\n") and (byte := sock.recv(1)):
                    head += byte
                assert head.startswith((b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 204 No Content\r\n"))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nhello")
    finally:
        running.stop()


def test_a_streamed_response_sends_its_headers_before_its_first_data() -> None:
    # An empty first item gets a stream's headers out (gunicorn sends them, and no chunk).
    go = gevent.event.Event()

    def app(worker: GeventWorker) -> Any:
        def serve(environ: dict[str, Any], start_response: Any) -> Any:
            start_response("200 OK", [("Content-Type", "text/event-stream")])

            def stream() -> Iterator[bytes]:
                yield b""
                go.wait()
                yield b"data: 1\n\n"

            return stream()

        return serve

    running = run_worker(app=app)
    try:
        with running.connect() as sock:
            sock.settimeout(bound(SHORT))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = b""
            while not head.endswith(b"\r\n\r\n") and (byte := sock.recv(1)):
                head += byte
            assert b"Transfer-Encoding: chunked\r\n" in head  # before any data
            go.set()
            assert read_response(sock) == b"9\r\ndata: 1\n\n\r\n0\r\n\r\n"
    finally:
        running.stop()


def test_a_malformed_request_gets_gunicorns_400() -> None:
    running = run_worker()
    try:
        with running.connect() as sock:
            sock.sendall(b"GET\x00 / HTTP/1.1\r\n\r\n")
            assert read_response(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")
    finally:
        running.stop()


def test_at_sigterm_idle_connections_close_at_once_and_slow_ones_after_the_grace() -> None:
    running = run_worker(header_timeout=30)
    idle = running.connect()
    slowloris = running.connect()
    slowloris.sendall(b"GET / HTTP/1.1\r\n")
    gevent.sleep(0.1)
    stopping = gevent.spawn(running.stop)
    assert idle.recv(100) == b""
    assert read_response(slowloris) == RESPONSE_408
    assert SHORT <= stopping.get(timeout=10) < bound(SHORT)
    idle.close()
    slowloris.close()


def test_at_the_graceful_timeout_what_is_left_is_closed() -> None:
    running = run_worker(graceful_timeout=1, body_grace=30)
    slow = running.connect()
    slow.sendall(post(b"s", 10))
    gevent.sleep(0.1)
    stopped_after = running.stop()
    assert slow.recv(100) == b""
    assert 1 - KILL_MARGIN <= stopped_after < bound(1)
    slow.close()


def test_open_files_are_raised_as_far_as_the_hard_limit_allows() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert raise_open_files_limit(16) == 256  # already enough
        assert raise_open_files_limit(512) == 512
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (512, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
