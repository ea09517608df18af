"""microraab's worker with the other fairness rules, to measure against its own
(``python -m benchmarks.slowclients --latency``): ``NeverYields`` serves a kept-alive
connection's waiting request at once (gunicorn's behaviour), ``AlwaysYields`` yields
before every request, waiting or not. Only the turn-taking differs."""

from __future__ import annotations

from typing import Any

import gevent

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
