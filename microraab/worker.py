"""A gunicorn gevent worker that slow and idle clients cannot take down.

gunicorn's gevent worker (``-k gevent``) gives a request's headers ``keepalive`` seconds,
its body no limit at all, and spends one of ``worker_connections`` greenlets on every
socket: a few hundred clients trickling bodies (slowhttptest ``-B``) or headers (``-H``)
leave nothing for real requests, ``/healthz`` included. This worker is that one plus:

- **Deadlines**: a request's line and headers must arrive within ``header_timeout`` of
  its first byte; its body gets ``body_grace`` seconds, then must keep up
  ``body_min_rate`` bytes a second (Apache's ``mod_reqtimeout`` rule: each
  ``body_min_rate`` bytes received buys a second). Missed: ``408`` and the connection
  closed. A connection idle between requests is closed after ``keepalive``, quietly, and
  a response write must finish within ``send_timeout``.
- **Two limits**: ``worker_connections`` bounds sockets, which cost memory only (a
  greenlet and a socket, ~13 kB each, measured), so it can be thousands;
  ``app_concurrency`` bounds the requests inside the application call at once (the ones
  that may wait for a pooled database connection). A body up to ``body_buffer_size`` is
  read whole before the call and the response written after it, so a client slow to
  send or to read never holds one of those places.
- **Fairness**: a kept-alive connection whose next request is already waiting yields
  to the other greenlets once before serving it, instead of keeping the worker; and the
  listener, which under load gets a turn like any connection, accepts more new ones a
  turn the more busy connections the worker has, up to ``accept_batch`` (gunicorn's
  accepts one).
- **One send a response**: gunicorn writes a response's headers, then its body; the
  worker holds the headers and sends them with the body's first bytes (up to
  ``COALESCE_LIMIT``), a system call less a response, and a small one leaves whole or
  not at all.
- **SIGTERM**: the worker stops accepting at once and closes its idle connections;
  requests still arriving get ``body_grace`` more seconds (then ``408``), requests in
  the application until just before gunicorn's ``graceful_timeout``.

The limits are class attributes: :meth:`GeventWorker.configured` makes a subclass with
them read from the environment, which is how ``gunicorn.conf.py`` names this worker.
Importing this module needs gunicorn and gevent; ``import microraab`` does not import it.
"""

from __future__ import annotations

import io
import resource
import socket
import time
from collections.abc import Mapping
from contextlib import suppress
from functools import partial
from types import TracebackType
from typing import Any, ClassVar

import gevent
from gevent.event import Event
from gevent.lock import BoundedSemaphore
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.http.body import Body, LengthReader
from gunicorn.sock import ssl_context
from gunicorn.workers import ggevent

__all__ = ["GeventWorker", "PacedSocket", "RequestTimeout"]

# The worker's settings: attribute name -> (environment variable, type).
SETTINGS: dict[str, tuple[str, type[float] | type[int]]] = {
    "header_timeout": ("HEADER_TIMEOUT", float),
    "body_grace": ("BODY_GRACE", float),
    "body_min_rate": ("BODY_MIN_RATE", int),
    "body_buffer_size": ("BODY_BUFFER_SIZE", int),
    "send_timeout": ("SEND_TIMEOUT", float),
    "app_concurrency": ("APP_CONCURRENCY", int),
    "accept_batch": ("ACCEPT_BATCH", int),
}

RESPONSE_408 = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n\r\nRequest Timeout\n"
)
# The largest body the held headers are copied in front of, to go in one send.
COALESCE_LIMIT = 64 * 1024
# How long the 408 itself may take to write: a client too slow to send is not waited for.
ANSWER_TIMEOUT = 1.0
# How often the worker looks at its connections while it shuts down.
SHUTDOWN_TICK = 0.1
# The master SIGKILLs workers graceful_timeout after its SIGTERM: the worker ends what is
# left this much before, to close those connections itself and exit.
KILL_MARGIN = 0.5

IDLE, HEADERS, BODY = "idle", "headers", "body"


class RequestTimeout(BaseException):
    """A request's bytes did not arrive in time; answered 408, the connection closed.

    A BaseException, as ``gevent.Timeout`` is, so that an application's ``except
    Exception`` cannot turn it into a 500 and read on.
    """


class PacedSocket:
    """A client socket whose reads keep to its worker's deadlines; the rest passes through.

    It is also the context manager that gunicorn's keep-alive loop puts around reading
    each request's headers (``timeout_ctx``): entering starts a request, leaving starts
    its body, or answers 408 if the headers came too late.
    """

    __slots__ = ("body_start", "cut", "deadline", "held", "holding", "received", "requests",
                 "sent", "sock", "state", "waiting", "worker")  # fmt: skip

    def __init__(self, sock: socket.socket, worker: GeventWorker) -> None:
        self.sock = sock
        self.worker = worker
        self.cut = False  # set at shutdown: no more reading
        self.waiting = False  # inside a blocking recv now
        self.requests = 0  # whose headers were read on this connection
        self.sent = 0
        self.received = 0
        self.body_start = 0.0
        self.holding = False  # the next write is a response's headers: hold it (see hold)
        self.held = b""  # headers held until the body's first bytes or release
        self.__enter__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)

    def __enter__(self) -> PacedSocket:
        """A new request: idle until its first byte, then ``header_timeout`` for the rest."""
        self.state = IDLE
        self.deadline = time.monotonic() + (self.worker.cfg.keepalive or self.worker.header_timeout)
        self.sent = 0
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """Headers read: the body's clock starts. Headers too late: 408, and gunicorn's
        loop ends the connection (it finds no request)."""
        if isinstance(error, RequestTimeout):
            self.answer_408(str(error))
            return True
        self.state = BODY
        self.requests += 1
        self.body_start = time.monotonic()
        self.received = 0
        return False

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" when an idle connection should close; RequestTimeout
        when a request's headers or body are late."""
        if self.state == IDLE:
            return self._recv_first(size)
        while True:
            if self.cut:
                raise RequestTimeout(f"its {self.state} was arriving at shutdown")
            if self.state == HEADERS:
                deadline = self.deadline
            else:
                # Apache's MinRate: the grace, and a second for every body_min_rate bytes.
                deadline = (
                    self.body_start
                    + self.worker.body_grace
                    + self.received / self.worker.body_min_rate
                )
            deadline = min(deadline, self.worker.cut_at)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                why = "too slowly" if deadline < self.worker.cut_at else "at shutdown"
                raise RequestTimeout(f"its {self.state} arrived {why}")
            data = self._recv(size, remaining)
            if data is not None:
                self.received += len(data)
                return data

    def _recv_first(self, size: int) -> bytes:
        """The first bytes of a request: quietly b"" (closing) if none come in time."""
        if self.cut:
            return b""
        sock = self.sock
        sock.settimeout(0.0)
        try:
            data = sock.recv(size)
        except BlockingIOError:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return b""
            received = self._recv(size, remaining)
            data = b"" if received is None or self.cut else received
        else:
            if self.requests:
                self.worker.take_turn()
        if data:
            self.state = HEADERS
            self.deadline = time.monotonic() + self.worker.header_timeout
        return data

    def _recv(self, size: int, timeout: float) -> bytes | None:
        """One recv waiting at most ``timeout``; None if it timed out or was cut."""
        sock = self.sock
        sock.settimeout(timeout)
        self.waiting = True
        self.worker.waiting_on_clients += 1
        try:
            return sock.recv(size)
        except TimeoutError:
            return None
        except OSError:
            # gevent wakes a recv that stop_reading cut with EBADF ("closed in another
            # greenlet"); any other error is the client's and propagates.
            if self.cut:
                return None
            raise
        finally:
            self.waiting = False
            self.worker.waiting_on_clients -= 1

    def hold(self) -> None:
        """Hold the next write (gunicorn's headers) until the body's first bytes follow it,
        or :meth:`release`. PERF: one send a response instead of two (gunicorn writes its
        headers, then its body), and a small response leaves whole or not at all."""
        self.holding = True

    def release(self) -> None:
        """Send what is held (the headers of a response without a body), hold no more."""
        self.holding = False
        if self.held:
            held, self.held = self.held, b""
            self._sendall(held)

    def send(self, data: bytes, flags: int = 0) -> int:
        if self.held:
            self.release()
        self.sock.settimeout(self.worker.send_timeout)
        count = self.sock.send(data, flags)
        self.sent += count
        return count

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """All of ``data`` after anything held, each wait for the client within
        ``send_timeout``."""
        if self.holding:
            self.holding = False
            # Not a chunked stream's: gunicorn sends no empty chunk, so a stream's headers
            # held would wait for its first data, where gunicorn sends them at once.
            if b"chunked" not in data:
                self.held = bytes(data)
                return
        if self.held:
            held, self.held = self.held, b""
            if len(data) <= COALESCE_LIMIT:
                data = held + data
            else:  # a copy of a large body would cost more than a second send
                self._sendall(held, flags)
        self._sendall(data, flags)

    def _sendall(self, data: bytes, flags: int = 0) -> None:
        sock = self.sock
        sock.settimeout(self.worker.send_timeout)
        # PERF: one send first, which is all a response that fits the socket's buffer needs:
        # gevent's sendall asks the kernel for SO_SNDBUF on every call, a system call that
        # was 7 % of the worker's CPU on a plaintext request.
        sent = sock.send(data, flags)
        self.sent += sent
        if sent < len(data):
            self.worker.waiting_on_clients += 1
            try:
                sock.sendall(memoryview(data)[sent:], flags)
            finally:
                self.worker.waiting_on_clients -= 1
            self.sent += len(data) - sent

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """The held headers, then the file (gunicorn's ``wsgi.file_wrapper`` responses)."""
        self.release()
        self.sock.settimeout(self.worker.send_timeout)  # sendfile refuses a non-blocking one
        return self.sock.sendfile(file, offset, count)

    def shutdown(self, how: int) -> None:
        """Drop what is held: gunicorn shuts a response down when its application failed
        after the headers, and a client is better told nothing than half."""
        self.holding = False
        self.held = b""
        self.sock.shutdown(how)

    def stop_reading(self) -> None:
        """Wake a recv waiting on this socket (it returns b"") and let no more begin."""
        self.cut = True
        if self.waiting:
            with suppress(OSError):  # the client has gone already
                self.sock.shutdown(socket.SHUT_RD)

    def answer_408(self, reason: str) -> None:
        """Answer 408 unless a response has begun, and log why; the caller closes."""
        self.worker.log.info("408 Request Timeout for %s: %s", _peer(self.sock), reason)
        if self.sent:
            return
        self.sock.settimeout(ANSWER_TIMEOUT)
        with suppress(OSError):  # gone, or not reading: it is closed all the same
            self.sock.sendall(RESPONSE_408)


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (as far as the
    hard limit allows); the soft limit now. Thousands of sockets need thousands of file
    descriptors, the soft limit is often 1,024, and the hard limit is ours to take."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if 0 <= soft < wanted:  # RLIM_INFINITY is -1
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class ListenerName:
    """What gunicorn's connection handler asks of the listening socket: its address.

    Asked when the connection's greenlet first runs, which at shutdown can be after the
    socket was closed (EBADF); the address does not change, so it is read once.
    """

    __slots__ = ("name",)

    def __init__(self, name: Any) -> None:
        self.name = name

    def getsockname(self) -> Any:
        return self.name


def _peer(sock: socket.socket) -> str:
    """``host:port`` of the client, for the log."""
    try:
        host, port = sock.getpeername()[:2]
    except (OSError, ValueError):
        return "a client"
    return f"{host}:{port}"


class Listener(StreamServer):  # type: ignore[misc]
    """gevent's server on one listening socket, accepting as many connections a turn as
    its worker's :meth:`~GeventWorker.accepts_per_turn` says."""

    def __init__(self, listener: socket.socket, worker: GeventWorker, **kwargs: Any) -> None:
        self.worker = worker
        super().__init__(listener, **kwargs)

    @property
    def max_accept(self) -> int:  # gevent reads it at the start of each turn
        return self.worker.accepts_per_turn()


class GeventWorker(ggevent.GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker with deadlines for slow clients, a bound on requests in
    the application, fair turns under load and a prompt shutdown (see the module)."""

    header_timeout: ClassVar[float] = 10.0
    body_grace: ClassVar[float] = 5.0
    body_min_rate: ClassVar[int] = 1000
    body_buffer_size: ClassVar[int] = 64 * 1024
    send_timeout: ClassVar[float] = 10.0
    app_concurrency: ClassVar[int] = 100
    # The most connections the listener accepts a turn (see accepts_per_turn).
    accept_batch: ClassVar[int] = 32
    # ...and one more a turn for each this many busy connections the worker has.
    connections_per_accept: ClassVar[int] = 4
    wsgi: Any  # the application, which gunicorn's load_wsgi sets

    @classmethod
    def configured(cls, environ: Mapping[str, str], **defaults: float) -> type[GeventWorker]:
        """A subclass with each setting from ``environ`` (``HEADER_TIMEOUT``,
        ``BODY_GRACE``, ``BODY_MIN_RATE``, ``BODY_BUFFER_SIZE``, ``SEND_TIMEOUT``,
        ``APP_CONCURRENCY``, ``ACCEPT_BATCH``), else ``defaults``, else this class's;
        ValueError unless each is a positive number."""
        unknown = set(defaults) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown worker settings: {sorted(unknown)}")
        values: dict[str, float] = {}
        for name, (variable, kind) in SETTINGS.items():
            raw = environ.get(variable)
            try:
                value = kind(raw) if raw else kind(defaults.get(name, getattr(cls, name)))
            except ValueError:
                raise ValueError(f"{variable} must be a number, not {raw!r}") from None
            if not value > 0:
                raise ValueError(f"{variable} must be positive, not {value!r}")
            values[name] = value
        return type(cls.__name__, (cls,), {**values, "__module__": cls.__module__})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: dict[Any, PacedSocket] = {}  # by greenlet
        self.waiting_on_clients = 0  # of them: waiting to read from or write to the client
        self.servers: list[StreamServer] = []  # one a listening socket, once running
        self.cut_at = float("inf")  # when requests still arriving are cut (at shutdown)
        # Made in the master; each binds to a hub when first waited on, in the worker
        # after the fork.
        self.stopping = Event()  # set at SIGTERM
        self.app_slots = BoundedSemaphore(self.app_concurrency)

    def init_process(self) -> None:
        # and a few files more for the logs, MongoDB's connections, the listener
        raise_open_files_limit(self.worker_connections + 64)
        super().init_process()

    def run(self) -> None:
        """Serve until SIGTERM, then shut down as the module describes."""
        ssl_args = {"ssl_context": ssl_context(self.cfg)} if self.cfg.is_ssl else {}
        for listener in self.sockets:
            listener.setblocking(1)
            server = Listener(
                listener,
                self,
                handle=partial(self.handle, ListenerName(listener.getsockname())),
                spawn=Pool(self.worker_connections),
                **ssl_args,
            )
            server.start()
            self.servers.append(server)
        while self.alive:
            self.notify()
            self.stopping.wait(1.0)
        self.shut_down(self.servers)

    def shut_down(self, servers: list[StreamServer]) -> None:
        """Stop accepting, close idle connections, cut requests still arriving after
        ``body_grace``, give the rest until ``graceful_timeout``."""
        for server in servers:
            server.close()
        now = time.monotonic()
        self.cut_at = now + self.body_grace
        deadline = now + self.cfg.graceful_timeout - KILL_MARGIN
        for connection in list(self.connections.values()):
            if connection.state == IDLE:
                connection.stop_reading()
        while self.connections and time.monotonic() < deadline:
            if time.monotonic() >= self.cut_at:
                for connection in list(self.connections.values()):
                    connection.stop_reading()
            self.notify()
            gevent.sleep(SHUTDOWN_TICK)
        if self.connections:
            self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
            for server in servers:
                server.stop(timeout=SHUTDOWN_TICK)

    def accepts_per_turn(self) -> int:
        """How many waiting connections the listener accepts when its turn comes: one,
        and one more for every ``connections_per_accept`` busy ones (open and not waiting
        on their client), up to ``accept_batch``; with a single worker, gevent's 100.

        PERF: gunicorn accepts one a turn to spread connections over the workers, but a
        busy worker's turn comes once a round of its busy connections: 256 connections
        opened at once took 1.3 s to be accepted, their first requests waiting all that
        time (wrk: p99 850 ms against p50 25 ms). A fixed 32 a turn fixed that but let one
        worker take all 16 of a client's connections, half the time, and leave the other
        idle. Growing with the round, the accept keeps pace with it, and a worker with
        only idle or slow clients (an attack's thousand) still takes one at a time
        (python -m benchmarks.slowclients --split and --latency).
        """
        if self.cfg.workers == 1:
            return StreamServer.max_accept  # type: ignore[no-any-return]
        # max: a PacedSocket made outside handle() waits without being a connection
        busy = max(0, len(self.connections) - self.waiting_on_clients)
        return min(self.accept_batch, 1 + busy // self.connections_per_accept)

    def take_turn(self) -> None:
        """Called when a kept-alive connection's next request was already waiting: this
        greenlet has not waited since its last request, and under load every connection's
        next request is waiting, so one served back to back would keep the worker from
        the others. PERF: yield once, and only then: never yielding left plaintext's p99
        12-33x its p50; yielding costs ~10 us of CPU a plaintext request (159 against 149,
        ``python -m benchmarks.slowclients --cpu``), always yielding measured the same."""
        gevent.sleep(0)

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        self.stopping.set()

    def handle(self, listener: ListenerName, client: socket.socket, addr: Any) -> None:
        """Serve one connection through a :class:`PacedSocket`."""
        paced = PacedSocket(client, self)
        current = gevent.getcurrent()
        self.connections[current] = paced
        try:
            super().handle(listener, paced, addr)
        finally:
            del self.connections[current]

    def timeout_ctx(self) -> PacedSocket:
        """The current connection, which times its request's headers (gunicorn's loop
        puts this around reading them)."""
        return self.connections[gevent.getcurrent()]

    def load_wsgi(self) -> None:
        """The application, called in one of ``app_concurrency`` places: only the call,
        where it works and waits for MongoDB, not the writing of its response to a client
        that may read slowly (slowhttptest ``-X``)."""
        super().load_wsgi()
        application = self.wsgi

        def in_a_place(environ: dict[str, Any], start_response: Any) -> Any:
            with self.app_slots:
                return application(environ, start_response)

        self.wsgi = in_a_place

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Read a small body whole, then serve the request as gunicorn does, its headers
        sent with the body's first bytes."""
        self.buffer_body(req)
        sock.hold()
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            sock.release()

    def buffer_body(self, req: Any) -> None:
        """Read a body of known length up to ``body_buffer_size`` now, under the body's
        deadlines, so that a slow client holds no place in the application."""
        reader = req.body.reader if req.body is not None else None
        if (
            isinstance(reader, LengthReader)
            and 0 < reader.length <= self.body_buffer_size
            and not req._expected_100_continue  # the client waits for our 100 first
        ):
            req.body = Body(io.BytesIO(req.body.read()))

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """408 for a late request; nothing for one killed at the graceful timeout (gunicorn
        would answer 500 and log a traceback); gunicorn's answer for anything else."""
        if isinstance(exc, RequestTimeout):
            client.answer_408(str(exc))
        elif isinstance(exc, gevent.GreenletExit):
            self.log.info("Closed at the graceful timeout: %s", _peer(client))
        else:
            super().handle_error(req, client, addr, exc)
