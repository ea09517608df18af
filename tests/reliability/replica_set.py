"""A MongoDB replica set on loopback for the reliability tests: ``members`` ``mongod``
(:class:`app.mongo_server.MongoServer`) with ``--replSet rs0``, each started and stopped
by its pid. Used by the failover test and the gateway test (the ``replica_set`` fixture
in conftest.py), with the write load that checks no acknowledged write is lost."""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern

from app.mongo_server import MongoServer

REPLICA_SET = "rs0"
# Elections in a few seconds, not MongoDB's default 10 s: a member that has not heard from
# the primary for 2 s (plus a random offset of up to 15 %) calls one.
REPLICA_SET_SETTINGS = {"electionTimeoutMillis": 2000, "heartbeatIntervalMillis": 500}
MAX_REQUESTS_PER_WRITER = 4000  # a bound, far above what a run sends


class ReplicaSet:
    """Replica set ``rs0``: ``members`` MongoServer processes on 127.0.0.1, under ``root``.

    ``start()`` returns once one member is primary and every other one is secondary.
    """

    def __init__(self, root: Path, members: int = 3, fail_points: bool = False) -> None:
        """``fail_points``: with MongoDB's test commands, ``configureFailPoint`` among them."""
        arguments = [
            "--replSet", REPLICA_SET, "--oplogSize", "50",
            # On SIGTERM, mongod 5.0+ waits 15 s in "quiesce mode" for clients to move away
            # (a secondary too); nobody is left to move at the end of a test.
            "--setParameter", "shutdownTimeoutMillisForSignaledShutdown=500",
            *(["--setParameter", "enableTestCommands=1"] if fail_points else []),
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


def stored_links(uri: str, database: str) -> dict[str, str]:
    """code -> url of every ``rs-`` link, read from the primary, majority-committed."""
    reader: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=10000)
    try:
        links = reader[database].get_collection("links", read_concern=ReadConcern("majority"))
        return {d["code"]: d["url"] for d in links.find({"code": {"$regex": "^rs-"}})}
    finally:
        reader.close()
