"""MongoDB stops while gunicorn serves: the app degrades to 503 and recovers by itself."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.mongo_server import MongoServer
from tests.time_bounds import (
    HEALTHZ_DURING_OUTAGE_BOUND,
    ONE_OPERATION,
    OUTAGE_ANSWER_BOUND,
    RECOVERY_BOUND,
)

pytestmark = pytest.mark.slow

# An outage answer usually takes 1.5-2.0 s here (the figures are printed); the bounds and
# their derivation from the client's timeouts are in tests/time_bounds.py.
DB_PAGES = ["/readyz", "/", "/api/links?limit=5", "/api/links/outage-1", "/outage-1", "/outage-1+"]


def test_mongodb_stopped_then_started_again_no_worker_dies(
    tmp_path: Path, start_gunicorn: Any
) -> None:
    data_dir = tmp_path / "mongod"
    mongod = MongoServer(data_dir).start()
    try:
        # One worker: all the pages wait in it at once, so a worker blocked by the database
        # (not gevent's sockets) would answer them one after another, the last after
        # len(DB_PAGES) x ONE_OPERATION (12 s), far past OUTAGE_ANSWER_BOUND.
        server = start_gunicorn(mongod.uri, "outage", workers=1)
        assert len(DB_PAGES) * ONE_OPERATION >= 1.5 * OUTAGE_ANSWER_BOUND  # still far past
        workers = set(server.started)
        link = {"url": "https://example.com/o", "code": "outage-1"}
        assert server.post("/api/links", link).status == 201
        for path in DB_PAGES:
            assert server.get(path).status in (200, 302), path

        mongod.stop()
        timings: dict[str, float] = {}
        # Twice round, each round's pages at once: the first requests find their pooled
        # connections dead, the next ones wait for server selection; all must answer 503 in
        # time, and /healthz must stay fast while they wait (gevent: nothing blocks).
        with ThreadPoolExecutor(len(DB_PAGES)) as pool:
            for _ in range(2):
                replies = pool.map(server.get, DB_PAGES)
                time.sleep(0.5)
                healthz = server.get("/healthz")
                # A worker blocked by the database would answer after the pages ahead.
                assert healthz.status == 200, healthz
                assert healthz.seconds < HEALTHZ_DURING_OUTAGE_BOUND, healthz
                for path, reply in zip(DB_PAGES, replies, strict=True):
                    assert reply.status == 503, (path, reply.status, reply.body[:300])
                    assert reply.seconds < OUTAGE_ANSWER_BOUND, (path, reply.seconds)
                    assert reply.headers.get("Retry-After") == "5"
                    assert b"Traceback" not in reply.body
                    timings[path] = max(timings.get(path, 0.0), reply.seconds)
                timings["/healthz"] = max(timings.get("/healthz", 0.0), healthz.seconds)
        slowest = {path: round(seconds, 2) for path, seconds in timings.items()}
        print(f"\noutage: 503 answers, slowest of two per page (s): {slowest}")
        assert server.worker_pids() == workers

        # The same port and data directory: the link written before the outage is back.
        mongod = MongoServer(data_dir, mongod.port).start()
        started = time.monotonic()
        while server.get("/readyz").status != 200:
            assert time.monotonic() - started < RECOVERY_BOUND, "MongoDB came back unseen"
            time.sleep(0.2)
        recovered = time.monotonic() - started
        print(f"ready again {recovered:.2f} s after mongod answered")
        assert server.get("/api/links/outage-1").json()["url"] == "https://example.com/o"
        for path in DB_PAGES:
            assert server.get(path).status in (200, 302), path
        assert server.post("/api/links", {"url": "https://example.com/p"}).status == 201
        assert server.worker_pids() == workers
        assert "Traceback" not in server.log_text()
        assert "Worker exiting" not in server.log_text()
    finally:
        mongod.stop()
