"""Every time bound the tests assert, derived from the timeouts the app is configured with.

A test bounds a time only where a fault would blow the bound by far: the fault each bound
exists for is named beside it. Each bound is what the configuration allows by design,
times ``LOAD_FACTOR``: on a loaded 2-core machine (other suites, ``stress-ng --cpu 2``)
the timers fire on time but every step between them waits for a CPU. The inputs are
imported from the app (``app/db.py``), from pymongo and from the repository's
``gunicorn.conf.py``, never retyped, so a changed timeout moves its bounds with it.

Waiting loops (a server starting, a replica set electing) have their own generous
deadlines: they end as soon as the awaited thing happens, so a long deadline costs
nothing when it works, and they only turn a hang into a failure.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from pymongo import common

from app import db

ROOT = Path(__file__).resolve().parent.parent

# What the repository's gunicorn.conf.py sets (evaluated as gunicorn evaluates it; it
# imports only os, and reads the environment the tests do not change).
GUNICORN_CONFIG: dict[str, Any] = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

# Measured: on this 2-core machine with both cores kept busy by stress-ng, the outage
# answers stayed within 0.1 s of their unloaded 1.8-2.0 s, and one fresh-clone CI run on a
# busy machine took 5.30 s where the design allows 4.0 s (1.33x). Twice the design holds
# that with room, and stays far below every fault named here.
LOAD_FACTOR = 2.0
# And on top, for a deadline of a second or two: a fixed allowance for a starved process.
# Measured: with the load average at 38 on these 2 cores and stress-ng --cpu 2 beside it, a
# worker's 2 s timer fired 2.4 s late, and its master exited 3 s after the worker.
SCHEDULING_SLACK = 5.0


def bound(seconds: float) -> float:
    """The most a configured ``seconds`` may take here: LOAD_FACTOR times it, plus the
    SCHEDULING_SLACK. Keep the fault it catches (no deadline at all: a client's 30 s
    timeout, a test that hangs) far above it."""
    return LOAD_FACTOR * seconds + SCHEDULING_SLACK


SERVER_SELECTION = db.SERVER_SELECTION_TIMEOUT_MS / 1000  # 1.5 s
POOL_WAIT = db.WAIT_QUEUE_TIMEOUT_MS / 1000  # 2.0 s
# While a selection waits, pymongo rechecks the server at most this often, so a selection
# can end up to this much after its timeout.
SELECTION_CHECK = common.MIN_HEARTBEAT_INTERVAL  # 0.5 s
# With no operation waiting, pymongo checks a server this often (the app keeps the default).
HEARTBEAT = common.HEARTBEAT_FREQUENCY  # 10 s
# The fault most of the MongoDB bounds exist for: a client left at pymongo's defaults
# waits this long for a server before it answers anything.
PYMONGO_DEFAULT_SELECTION = common.SERVER_SELECTION_TIMEOUT  # 30 s

# One operation on a stopped server: a selection timeout and its last check.
ONE_OPERATION = SERVER_SELECTION + SELECTION_CHECK  # 2.0 s
# One request on a stopped server, at worst: its first attempt waits for a pooled
# connection, then its retry waits for a server.
OUTAGE_REQUEST = POOL_WAIT + ONE_OPERATION  # 4.0 s

# Bounds on an answer during a MongoDB outage.
OUTAGE_OPERATION_BOUND = LOAD_FACTOR * ONE_OPERATION  # 4 s; fault: pymongo's 30 s
OUTAGE_ANSWER_BOUND = LOAD_FACTOR * OUTAGE_REQUEST  # 8 s; fault: pymongo's 30 s
# /healthz asked while database requests wait: it touches no database, so it answers as
# fast as any page; a worker blocked by the database (an unpatched socket) would serve it
# only after the requests ahead of it, each ONE_OPERATION long (12 s for the outage
# test's six pages on one worker). Nothing configured: a starved process's allowance.
HEALTHZ_DURING_OUTAGE_BOUND = bound(0)  # 5 s; fault: 11.5 s
# MongoDB back: the next check finds it within one heartbeat, or at once when a request
# is waiting for it. Fault: the app never sees it come back.
RECOVERY_BOUND = LOAD_FACTOR * (HEARTBEAT + ONE_OPERATION)  # 24 s

# gunicorn: the master gives its workers graceful_timeout after SIGTERM, then SIGKILLs
# them; a master that exits sooner let its workers finish.
GRACEFUL_TIMEOUT: float = GUNICORN_CONFIG["graceful_timeout"]
for _bound in (OUTAGE_OPERATION_BOUND, OUTAGE_ANSWER_BOUND, RECOVERY_BOUND):
    assert _bound <= PYMONGO_DEFAULT_SELECTION, "a bound that no longer catches its fault"
