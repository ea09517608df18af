"""SIGKILL one gunicorn worker under a light load: the master replaces it, and only
requests that the killed worker had already accepted fail."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo.database import Database

pytestmark = pytest.mark.slow

REQUESTS = 200
THREADS = 8
KILL_AFTER = 60  # completed requests before the kill
PATH = "/api/links?limit=10"


@dataclass
class Outcome:
    started: float
    ended: float
    status: int | None
    error: str | None


def test_sigkill_of_a_worker_under_load(
    start_gunicorn: Any, mongo_uri: str, mongo_db: Database[Any]
) -> None:
    server = start_gunicorn(mongo_uri, mongo_db.name)
    for number in range(5):
        assert server.post("/api/links", {"url": f"https://example.com/{number}"}).status == 201
    before = set(server.started)
    victim = min(before)
    done = threading.Event()
    completed = 0
    lock = threading.Lock()
    kill_time: list[float] = []

    def one(_: int) -> Outcome:
        nonlocal completed
        started = time.monotonic()
        try:
            reply = server.get(PATH, timeout=10)
            outcome = Outcome(started, time.monotonic(), reply.status, None)
        except (OSError, http.client.HTTPException) as error:  # reset, cut short
            outcome = Outcome(started, time.monotonic(), None, type(error).__name__)
        with lock:
            completed += 1
            if completed == KILL_AFTER:
                done.set()
        return outcome

    def killer() -> None:
        done.wait(30)
        kill_time.append(time.monotonic())
        os.kill(victim, signal.SIGKILL)

    thread = threading.Thread(target=killer)
    thread.start()
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(one, range(REQUESTS)))
    thread.join()
    killed_at = kill_time[0]

    failed = [o for o in outcomes if o.status != 200]
    after = server.wait_for_workers(2)
    replacement = after - before
    print(
        f"\nworker kill: {REQUESTS} requests, {THREADS} threads, SIGKILL to {victim} after "
        f"{KILL_AFTER}: {len(outcomes) - len(failed)} ok, {len(failed)} failed "
        f"({sorted({o.error or str(o.status) for o in failed})}); replacement {replacement}"
    )
    # The master replaced the killed worker; the other one lived on.
    assert victim not in after and len(replacement) == 1
    assert before - {victim} <= after
    log = server.log_text()
    assert re.search(rf"Worker \(pid:{victim}\) was sent SIGKILL|pid:? ?{victim}.*signal 9", log)
    # Failures: only connections open when the worker died (at most one per client thread,
    # each begun before the kill, ended by it); none are wrong answers.
    assert len(failed) <= THREADS
    for outcome in failed:
        assert outcome.status is None, outcome
        assert outcome.started <= killed_at <= outcome.ended + 0.05, outcome
    # Requests begun after the kill all succeeded; the new worker answered some of them.
    assert all(o.status == 200 for o in outcomes if o.started > killed_at + 0.05)
    assert "Traceback" not in log
    answered_by = [int(pid) for pid in re.findall(r'^<(\d+)> "GET ', log, re.MULTILINE)]
    by_pid = {pid: answered_by.count(pid) for pid in set(answered_by)}
    print(f"answers by worker pid (access log): {by_pid}")
