"""A three-member replica set under a write load: its primary stepped down, then the new
primary killed. Every write the app acknowledged (201) is in the database afterwards; the
requests that failed during the two elections are counted and printed.

The members are three ``mongod`` (:class:`app.mongo_server.MongoServer`) on loopback, each
started here and stopped here by its pid; the app is a real ``gunicorn app:app``.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern

from app.mongo_server import MongoServer

pytestmark = pytest.mark.slow

REPLICA_SET = "rs0"
# Elections in a few seconds, not MongoDB's default 10 s: a member that has not heard from
# the primary for 2 s (plus a random offset of up to 15 %) calls one.
REPLICA_SET_SETTINGS = {"electionTimeoutMillis": 2000, "heartbeatIntervalMillis": 500}
# The stepped-down primary may not stand again for this long: longer than the scenario, so
# that after the kill the third member is the one elected, and no unplanned election follows.
STEP_DOWN_SECONDS = 60
WRITERS = 12
MAX_REQUESTS_PER_WRITER = 4000  # a bound, far above what a run sends
WARM_UP = 2.0
AFTER_STEP_DOWN = 2.5
AFTER_KILL = 3.0
ELECTION_TIMEOUT = 30.0  # a bound on waiting for a primary, not an expectation
LAST_REQUESTS_OK = 3  # each writer's last requests, well after the last election


@dataclass
class Outcome:
    """One POST /api/links: its custom code, when it began and ended (s since the load
    began), its status (None if the connection failed) and the error if it did."""

    code: str
    started: float
    ended: float
    status: int | None
    error: str | None = None

    @property
    def url(self) -> str:
        """The target URL sent with this code."""
        return f"https://example.com/{self.code}"


class ReplicaSet:
    """Replica set ``rs0``: ``members`` MongoServer processes on 127.0.0.1, under ``root``.

    ``start()`` returns once one member is primary and every other one is secondary.
    """

    def __init__(self, root: Path, members: int = 3) -> None:
        arguments = [
            "--replSet", REPLICA_SET, "--oplogSize", "50",
            # On SIGTERM, mongod 5.0+ waits 15 s in "quiesce mode" for clients to move away
            # (a secondary too); nobody is left to move at the end of a test.
            "--setParameter", "shutdownTimeoutMillisForSignaledShutdown=500",
        ]  # fmt: skip
        self.members = [
            MongoServer(root / f"member{n}", extra_args=arguments) for n in range(members)
        ]
        self._clients: dict[int, MongoClient[dict[str, Any]]] = {}

    @property
    def uri(self) -> str:
        """The connection string the app uses: every member, and the set's name."""
        hosts = ",".join(f"{member.host}:{member.port}" for member in self.members)
        return f"mongodb://{hosts}/?replicaSet={REPLICA_SET}"

    def start(self, timeout: float = 60.0) -> ReplicaSet:
        for member in self.members:
            member.start()
        config = {
            "_id": REPLICA_SET,
            "members": [
                {"_id": n, "host": f"{member.host}:{member.port}"}
                for n, member in enumerate(self.members)
            ],
            "settings": REPLICA_SET_SETTINGS,
        }
        self.client(self.members[0]).admin.command("replSetInitiate", config)
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if sorted(states.values()) == ["PRIMARY"] + ["SECONDARY"] * (len(self.members) - 1):
                return self
            assert time.monotonic() < deadline, f"no healthy replica set: {states}\n{self.logs()}"
            time.sleep(0.1)

    def client(self, member: MongoServer) -> MongoClient[dict[str, Any]]:
        """A client to ``member`` alone (not to the set), with short timeouts."""
        port = member.port
        if port not in self._clients:
            self._clients[port] = MongoClient(
                member.host, port, directConnection=True, serverSelectionTimeoutMS=1000,
                connectTimeoutMS=1000, socketTimeoutMS=3000,
            )  # fmt: skip
        return self._clients[port]

    def hello(self, member: MongoServer) -> dict[str, Any] | None:
        """``member``'s answer to ``hello``, None if it is not running or does not answer."""
        if member.process is None or member.process.poll() is not None:
            return None
        try:
            return self.client(member).admin.command("hello")
        except PyMongoError:
            return None

    def states(self) -> dict[int, str]:
        """Each running member's state, by port, as the primary's replSetGetStatus says."""
        primary = self.primary()
        if primary is None:
            return {}
        try:
            status = self.client(primary).admin.command("replSetGetStatus")
        except PyMongoError:
            return {}
        return {int(m["name"].rpartition(":")[2]): m["stateStr"] for m in status["members"]}

    def primary(self) -> MongoServer | None:
        """The member that says it is the writable primary, if one does."""
        for member in self.members:
            answer = self.hello(member)
            if answer is not None and answer.get("isWritablePrimary"):
                return member
        return None

    def wait_for_new_primary(self, not_this: MongoServer, timeout: float) -> MongoServer:
        """Wait until a member other than ``not_this`` is the writable primary; that member."""
        deadline = time.monotonic() + timeout
        while True:
            primary = self.primary()
            if primary is not None and primary is not not_this:
                return primary
            assert time.monotonic() < deadline, f"no new primary in {timeout} s\n{self.logs()}"
            time.sleep(0.02)

    def kill(self, member: MongoServer) -> None:
        """SIGKILL ``member`` (a process started here, by its pid) and reap it."""
        assert member.process is not None and member.pid is not None
        os.kill(member.pid, signal.SIGKILL)
        member.process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- member {n} ({member.port}):\n{member.log_tail(15)}"
            for n, member in enumerate(self.members)
        )

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        for member in self.members:
            member.stop()


class Writers:
    """``count`` threads, each POSTing links with codes of its own, one request per new
    connection, until ``stop()``. No request is retried: a failure is counted."""

    def __init__(self, server: Any, count: int) -> None:
        self.server = server
        self.started = time.monotonic()
        self.outcomes: list[list[Outcome]] = [[] for _ in range(count)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(count)
        ]

    def now(self) -> float:
        return time.monotonic() - self.started

    def start(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in self._threads), "a writer hung"
        every = (outcome for per_writer in self.outcomes for outcome in per_writer)
        return sorted(every, key=lambda outcome: outcome.started)

    def each_sent_since(self, moment: float, count: int) -> bool:
        """Whether every writer has finished ``count`` requests begun at or after ``moment``."""
        return all(
            sum(o.started >= moment for o in list(per_writer)) >= count
            for per_writer in self.outcomes
        )

    def acknowledged(self) -> int:
        return sum(o.status == 201 for per_writer in self.outcomes for o in per_writer)

    def _write(self, writer: int) -> None:
        for number in range(MAX_REQUESTS_PER_WRITER):
            if self._stop.is_set():
                return
            outcome = Outcome(f"rs-{writer}-{number}", self.now(), 0.0, None)
            try:
                body = {"url": outcome.url, "code": outcome.code}
                outcome.status = self.server.post("/api/links", body).status
            except (OSError, http.client.HTTPException) as error:
                outcome.error = type(error).__name__
            outcome.ended = self.now()
            self.outcomes[writer].append(outcome)


def test_acknowledged_writes_survive_step_down_and_kill_of_the_primary(
    tmp_path: Path, start_gunicorn: Any
) -> None:
    began = time.monotonic()
    replica_set = ReplicaSet(tmp_path / "rs")
    server = None
    writers = None
    try:
        replica_set.start()
        first = replica_set.primary()
        assert first is not None
        server = start_gunicorn(replica_set.uri, "failover")
        workers = set(server.started)
        # The first request creates the indexes (the unique code index among them).
        link = {"url": "https://example.com/rs-first", "code": "rs-first"}
        assert server.post("/api/links", link).status == 201

        writers = Writers(server, WRITERS).start()
        deadline = time.monotonic() + 30
        while writers.now() < WARM_UP or writers.acknowledged() < 50:
            assert time.monotonic() < deadline, "the writers got no 201s before the step-down"
            time.sleep(0.05)

        # The primary waits up to 10 s for a secondary to catch up, then hands over; it may
        # not stand again for STEP_DOWN_SECONDS.
        stepped_down_at = writers.now()
        replica_set.client(first).admin.command(
            "replSetStepDown", STEP_DOWN_SECONDS, secondaryCatchUpPeriodSecs=10
        )
        second = replica_set.wait_for_new_primary(first, ELECTION_TIMEOUT)
        elected_after_step_down = writers.now() - stepped_down_at
        time.sleep(AFTER_STEP_DOWN)

        killed_at = writers.now()
        replica_set.kill(second)
        third = replica_set.wait_for_new_primary(second, ELECTION_TIMEOUT)
        elected_after_kill = writers.now() - killed_at
        assert third is not first, "the stepped-down member stood again within its freeze"
        # Load goes on for AFTER_KILL, and until every writer has sent LAST_REQUESTS_OK
        # requests begun after the election (a slow machine takes longer, not fails).
        elected_at = writers.now()
        time.sleep(AFTER_KILL)
        deadline = time.monotonic() + 30
        while not writers.each_sent_since(elected_at, LAST_REQUESTS_OK):
            assert time.monotonic() < deadline, "the writers stalled after the election"
            time.sleep(0.1)
        outcomes = writers.stop()
        load_seconds = writers.now()

        stored = stored_links(replica_set.uri, "failover")
        acknowledged = [o for o in outcomes if o.status == 201]
        failed = [o for o in outcomes if o.status != 201]
        lost = sorted(o.code for o in acknowledged if o.code not in stored)
        altered = sorted(o.code for o in acknowledged if stored.get(o.code, o.url) != o.url)
        stored_anyway = sorted(o.code for o in failed if o.code in stored)
        by_status = Counter(str(o.status or o.error) for o in failed)
        window = failed[-1].ended - failed[0].started if failed else 0.0
        log = server.log_text()
        logged_errors = Counter(
            line.partition("database unavailable: ")[2].split()[0]
            for line in log.splitlines()
            if "database unavailable: " in line
        )
        number = replica_set.members.index  # MongoServer compares by identity

        print(
            f"\nfailover: {len(acknowledged)} acknowledged, {len(lost)} lost, {len(failed)} "
            f"failed requests (by status {dict(by_status)}) over {window:.2f} s; election "
            f"after stepDown {elected_after_step_down:.2f} s, after kill {elected_after_kill:.2f} s"
        )
        at_step_down = between(failed, stepped_down_at, killed_at)
        at_kill = between(failed, killed_at, load_seconds)
        print(
            f"  {len(outcomes)} requests from {WRITERS} writers in {load_seconds:.1f} s. "
            f"stepDown of member {number(first)} at {stepped_down_at:.2f} s: "
            f"{in_flight(outcomes, stepped_down_at)} requests in flight, {len(at_step_down)} "
            f"failed{ending_after(at_step_down, stepped_down_at)}. "
            f"SIGKILL to member {number(second)} at {killed_at:.2f} s: "
            f"{in_flight(outcomes, killed_at)} in flight, {len(at_kill)} "
            f"failed{ending_after(at_kill, killed_at)}. Member {number(third)} primary at the end"
        )
        print(
            f"  failures (began, ended, status) in s: "
            f"{[(round(o.started, 2), round(o.ended, 2), o.status or o.error) for o in failed]}"
        )
        print(
            f"  failed but stored all the same: {len(stored_anyway)} {stored_anyway}; "
            f"errors the app logged: {dict(logged_errors)}; test so far "
            f"{time.monotonic() - began:.1f} s"
        )

        assert not lost, f"acknowledged writes missing after the failover: {lost}"
        assert not altered, f"acknowledged writes stored with another URL: {altered}"
        # Failures are 503s: requests whose write (and its one retry) found no primary within
        # the app's 1.5 s server selection; docs/reliability.md has the details.
        assert set(by_status) <= {"503"}, f"failures other than 503: {failed}"
        # The app writes again after the election: every writer's last requests succeeded.
        for per_writer in writers.outcomes:
            assert all(o.status == 201 for o in per_writer[-LAST_REQUESTS_OK:]), per_writer[-5:]
        assert "Traceback" not in log, log[-3000:]
        assert server.worker_pids() == workers
    finally:
        if writers is not None:
            writers.stop()
        if server is not None:
            server.stop()
        replica_set.stop()


def stored_links(uri: str, database: str) -> dict[str, str]:
    """code -> url of every ``rs-`` link, read from the primary, majority-committed."""
    reader: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=10000)
    try:
        links = reader[database].get_collection("links", read_concern=ReadConcern("majority"))
        return {d["code"]: d["url"] for d in links.find({"code": {"$regex": "^rs-"}})}
    finally:
        reader.close()


def ending_after(failed: list[Outcome], moment: float) -> str:
    """When the last of ``failed`` ended, in s after ``moment``, for the report."""
    if not failed:
        return ""
    return f", the last ending {max(o.ended for o in failed) - moment:.2f} s after it"


def in_flight(outcomes: list[Outcome], moment: float) -> int:
    """How many requests had begun and not ended at ``moment``."""
    return sum(o.started <= moment <= o.ended for o in outcomes)


def between(outcomes: list[Outcome], start: float, end: float) -> list[Outcome]:
    """The requests that ended in [start, end)."""
    return [o for o in outcomes if start <= o.ended < end]
