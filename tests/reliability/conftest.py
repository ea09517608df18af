"""Fault tests: a real ``gunicorn app:app`` (gevent workers) on loopback, its processes
signalled by pid. Every process started here is stopped here, by its pid."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.mongo_server import stop_process
from tests.gunicorn_app import Reply, request, start_app
from tests.reliability.replica_set import ReplicaSet

# The pid of the worker that answered, in each access-log line.
ACCESS_FORMAT = '%(p)s "%(r)s" %(s)s %(L)s'


@dataclass
class Gunicorn:
    """A running ``gunicorn app:app`` master: its port, process and log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path
    workers: int
    started: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str, timeout: float = 10.0) -> Reply:
        return request(self.port, "GET", path, timeout=timeout)

    def post(self, path: str, body: Any, timeout: float = 10.0) -> Reply:
        return request(self.port, "POST", path, body, timeout=timeout)

    def worker_pids(self) -> set[int]:
        """The master's live children (``ps --ppid``)."""
        out = subprocess.run(
            ["ps", "--ppid", str(self.pid), "-o", "pid=,stat="],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return {int(line.split()[0]) for line in out.splitlines() if "Z" not in line.split()[1]}

    def wait_for_workers(self, count: int, timeout: float = 20.0) -> set[int]:
        """Wait until ``count`` workers run and each has answered; their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count and all(self.booted(pid) for pid in pids):
                return pids
            time.sleep(0.1)
        raise AssertionError(f"{count} workers did not start:\n{self.log_text()[-3000:]}")

    def booted(self, pid: int) -> bool:
        return f"Booting worker with pid: {pid}" in self.log_text()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the master (by pid), then SIGKILL it if it has not exited."""
        stop_process(self.process, timeout)


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator[Any]:
    """``start_gunicorn(mongo_uri, database, workers=2, *args, env=None)``: a master,
    ready to answer; ``args`` go to gunicorn, ``env`` over its environment."""
    masters: list[Gunicorn] = []

    def start(
        mongo_uri: str,
        database: str,
        workers: int = 2,
        *extra: str,
        env: Mapping[str, str] | None = None,
    ) -> Gunicorn:
        log = tmp_path / f"gunicorn-{len(masters)}.log"
        args = ["--access-logformat", ACCESS_FORMAT, *extra]
        port, process = start_app(mongo_uri, database, log, workers=workers, args=args, env=env)
        server = Gunicorn(port, process, log, workers)
        masters.append(server)
        server.started = sorted(server.wait_for_workers(workers))
        return server

    yield start
    for server in masters:
        server.stop()


@pytest.fixture(scope="module")
def replica_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaSet]:
    """A healthy three-member replica set ``rs0`` for one test module, stopped after it
    (a module's tests may step down or kill its members)."""
    members = ReplicaSet(tmp_path_factory.mktemp("rs"))
    try:
        yield members.start()
    finally:
        members.stop()
