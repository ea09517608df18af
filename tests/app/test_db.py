"""MongoDB settings from the environment, the per-process client, and outages."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database
from pymongo.errors import AutoReconnect, ConnectionFailure

from app.db import MongoProvider, MongoSettings, connect, max_pool_size, ping_database
from app.mongo_server import MongoServer, free_port
from tests.time_bounds import OUTAGE_OPERATION_BOUND


@pytest.mark.parametrize(
    ("environ", "uri", "database", "external"),
    [
        # Nothing configured: the caller runs a local mongod.
        ({}, "", "microraab", False),
        ({"MONGODB_DATABASE": "x"}, "", "x", False),
        # MONGODB_URI wins; its path names the database unless MONGODB_DATABASE does.
        ({"MONGODB_URI": "mongodb://db.example:27017/links"}, "mongodb://db.example:27017/links",
         "links", True),
        ({"MONGODB_URI": "mongodb://db.example/links?replicaSet=rs0", "MONGODB_DATABASE": "x"},
         "mongodb://db.example/links?replicaSet=rs0", "x", True),
        ({"MONGODB_URI": "mongodb://db.example/?replicaSet=rs0"},
         "mongodb://db.example/?replicaSet=rs0", "microraab", True),
        ({"MONGODB_URI": "mongodb://[::1]:1,[::2]:2/li%6Eks?w=1"},
         "mongodb://[::1]:1,[::2]:2/li%6Eks?w=1", "links", True),
        ({"MONGODB_URI": "mongodb+srv://cluster.example", "MONGODB_HOST": "ignored"},
         "mongodb+srv://cluster.example", "microraab", True),
        # What Rainbond injects for a dependency with port alias MONGODB.
        ({"MONGODB_HOST": "mongo", "MONGODB_PORT": "27018"}, "mongodb://mongo:27018/",
         "microraab", True),
        ({"MONGODB_HOST": "mongo"}, "mongodb://mongo:27017/", "microraab", True),
        ({"MONGODB_HOST": "mongo", "MONGODB_DATABASE": "links"}, "mongodb://mongo:27017/",
         "links", True),
        # IPv6 literals are bracketed (once).
        ({"MONGODB_HOST": "::1", "MONGODB_PORT": "1"}, "mongodb://[::1]:1/", "microraab", True),
        ({"MONGODB_HOST": "[fd00::2]"}, "mongodb://[fd00::2]:27017/", "microraab", True),
        # Credentials are percent-escaped.
        ({"MONGODB_HOST": "m", "MONGODB_USER": "a@b", "MONGODB_PASSWORD": "p:w/d %"},
         "mongodb://a%40b:p%3Aw%2Fd+%25@m:27017/", "microraab", True),
        ({"MONGODB_HOST": "m", "MONGODB_USER": "x509"}, "mongodb://x509@m:27017/",
         "microraab", True),
        ({"MONGODB_HOST": "m", "MONGODB_PASSWORD": "no user"}, "mongodb://m:27017/",
         "microraab", True),
        # The local mongod that app.local started and exported is not external.
        ({"MONGODB_URI": "mongodb://127.0.0.1:27018/", "MICRORAAB_LOCAL_MONGODB": "1"},
         "mongodb://127.0.0.1:27018/", "microraab", False),
    ],
)  # fmt: skip
def test_settings_from_environment(
    environ: dict[str, str], uri: str, database: str, external: bool
) -> None:
    assert MongoSettings.from_env(environ) == MongoSettings(uri, database, external)


def test_escaped_credentials_reach_pymongo_intact() -> None:
    settings = MongoSettings.from_env(
        {"MONGODB_HOST": "m", "MONGODB_USER": "a@b", "MONGODB_PASSWORD": "p:w/d %"}
    )
    client = connect(settings, connect=False)
    credentials = client.options.pool_options._credentials
    assert credentials is not None
    assert (credentials.username, credentials.password) == ("a@b", "p:w/d %")
    client.close()


def test_a_port_that_is_not_a_number_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="MONGODB_PORT"):
        MongoSettings.from_env({"MONGODB_HOST": "mongo", "MONGODB_PORT": "mongo:27017"})


def test_max_pool_size_comes_from_the_environment() -> None:
    assert max_pool_size({}) == 100
    assert max_pool_size({"MONGODB_MAX_POOL_SIZE": "7"}) == 7
    for bad in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="MONGODB_MAX_POOL_SIZE"):
            max_pool_size({"MONGODB_MAX_POOL_SIZE": bad})


def test_client_has_short_timeouts_and_majority_writes() -> None:
    client = connect(MongoSettings("mongodb://127.0.0.1:1/", "x", True), connect=False)
    options = client.options
    assert options.server_selection_timeout == 1.5
    assert options.pool_options.connect_timeout == 2
    assert options.pool_options.socket_timeout == 5
    assert options.pool_options.wait_queue_timeout == 2
    assert options.write_concern.document == {"w": "majority"}
    assert options.retry_writes and options.retry_reads
    assert options.pool_options.max_pool_size == 100
    assert options.codec_options.tz_aware
    client.close()


def test_overrides_replace_the_defaults() -> None:
    settings = MongoSettings("mongodb://127.0.0.1:1/", "x", True)
    client = connect(settings, serverSelectionTimeoutMS=200, maxPoolSize=3, connect=False)
    assert client.options.server_selection_timeout == 0.2
    assert client.options.pool_options.max_pool_size == 3
    client.close()


def test_provider_creates_no_client_until_used_and_one_per_process(mongo_uri: str) -> None:
    provider = MongoProvider(MongoSettings(mongo_uri, "provider_test", True))
    assert provider._client is None
    first = provider.client
    assert provider.client is first
    assert provider.database.name == "provider_test"
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports whether it got a new, working client
        answer = b"error"
        try:
            fresh = provider.client is not first and provider.client is provider.client
            answer = b"new" if fresh and ping_database(provider.database) else b"same"
        finally:
            os.write(write_end, answer)
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 10)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer == b"new"
    # The parent's client still works: the child did not close it.
    assert provider.client is first and ping_database(provider.database)
    provider.close()
    assert provider._client is None


def test_prepare_runs_once_and_again_after_a_failure(mongo_uri: str) -> None:
    calls: list[str] = []

    def prepare(database: Database[Any]) -> None:
        calls.append(database.name)
        if len(calls) == 1:
            raise ConnectionError("database down")

    provider = MongoProvider(MongoSettings(mongo_uri, "prepare_test", True), prepare)
    with pytest.raises(ConnectionError):
        provider.database  # noqa: B018
    provider.database  # noqa: B018
    provider.database  # noqa: B018
    assert calls == ["prepare_test", "prepare_test"]
    provider.close()


def test_ping_database_answers_for_a_live_and_a_dead_server(mongo_db: Database[Any]) -> None:
    assert ping_database(mongo_db)
    dead = connect(MongoSettings(f"mongodb://127.0.0.1:{free_port()}/", "x", True),
                   serverSelectionTimeoutMS=200)  # fmt: skip
    assert not ping_database(dead.x)
    dead.close()


def test_an_outage_answers_within_seconds(tmp_path: Path) -> None:
    server = MongoServer(tmp_path / "db").start()
    client = connect(MongoSettings(server.uri, "outage", True))
    try:
        client.outage.links.insert_one({"_id": 1})
        server.stop()
        for operation in (
            lambda: client.outage.links.find_one({}),
            lambda: client.outage.links.insert_one({"_id": 2}),
        ):
            started = time.monotonic()
            with pytest.raises(ConnectionFailure) as info:
                operation()
            # Fault: pymongo's 30 s default selection (tests/time_bounds.py). A retry that
            # doubled the 1.5 s selection (3.0-4.0 s) is within the margin, not caught here.
            assert time.monotonic() - started < OUTAGE_OPERATION_BOUND
            assert isinstance(info.value, AutoReconnect)
    finally:
        client.close()
        server.stop()
