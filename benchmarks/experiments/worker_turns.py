"""microraab's worker with the other fairness rules, to measure against its own
(``python -m benchmarks.slowclients --latency``): ``NeverYields`` serves a kept-alive
connection's waiting request at once (gunicorn's behaviour), ``AlwaysYields`` yields
before every request, waiting or not, ``NextIteration`` yields as microraab's does but
until the event loop has polled, ``AcceptOne`` accepts one connection a turn (gunicorn's
rule), ``FixedBatch`` accepts ``accept_batch`` a turn however few connections the
worker has, ``EverySecond`` and ``EveryFourth`` yield only every second or fourth time
a waiting request is served, and ``TwoSends`` writes a response's headers and its body in
two sends, as gunicorn does. Each differs from microraab's worker in that one thing."""

from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers import ggevent

from microraab.worker import GeventWorker


class NeverYields(GeventWorker):
    def take_turn(self) -> None:
        pass


class AlwaysYields(GeventWorker):
    def take_turn(self) -> None:
        pass

    def timeout_ctx(self) -> Any:
        gevent.sleep(0)
        return super().timeout_ctx()


class NextIteration(GeventWorker):
    def take_turn(self) -> None:
        # a timer, not sleep(0)'s callback: resumed only after the loop polls, so the
        # connections ready to read and the listener go first
        gevent.sleep(1e-6)


class AcceptOne(GeventWorker):
    accept_batch = 1


class FixedBatch(GeventWorker):
    def accepts_per_turn(self) -> int:
        return self.accept_batch


class EverySecond(GeventWorker):
    every: int = 2
    served_waiting: int = 0

    def take_turn(self) -> None:
        self.served_waiting += 1
        if self.served_waiting % self.every == 0:
            gevent.sleep(0)


class EveryFourth(EverySecond):
    every = 4


class TwoSends(GeventWorker):
    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        self.buffer_body(req)  # and no sock.hold()
        return ggevent.GeventWorker.handle_request(self, listener_name, req, sock, addr)
