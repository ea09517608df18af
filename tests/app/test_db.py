"""MongoDB settings from the environment, the per-process client, and outages."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database
from pymongo.errors import ConnectionFailure

from app.db import MongoProvider, MongoSettings, connect
from app.mongo_server import MongoServer


@pytest.mark.parametrize(
    ("environ", "uri", "database", "external"),
    [
        ({}, "", "microraab", False),
        ({"MONGODB_URI": "mongodb://db.example:27017/links"}, "mongodb://db.example:27017/links",
         "links", True),
        ({"MONGODB_URI": "mongodb://db.example/", "MONGODB_DATABASE": "x"},
         "mongodb://db.example/", "x", True),
        ({"MONGODB_HOST": "mongo", "MONGODB_PORT": "27018"}, "mongodb://mongo:27018/",
         "microraab", True),
        ({"MONGODB_HOST": "mongo"}, "mongodb://mongo:27017/", "microraab", True),
        ({"MONGODB_HOST": "::1", "MONGODB_PORT": "1"}, "mongodb://[::1]:1/", "microraab", True),
        ({"MONGODB_HOST": "m", "MONGODB_USER": "a@b", "MONGODB_PASSWORD": "p:w/d"},
         "mongodb://a%40b:p%3Aw%2Fd@m:27017/", "microraab", True),
        ({"MONGODB_URI": "mongodb://127.0.0.1:27018/", "MICRORAAB_LOCAL_MONGODB": "1"},
         "mongodb://127.0.0.1:27018/", "microraab", False),
    ],
)  # fmt: skip
def test_settings_from_environment(
    environ: dict[str, str], uri: str, database: str, external: bool
) -> None:
    assert MongoSettings.from_env(environ) == MongoSettings(uri, database, external)


def test_provider_creates_no_client_until_used_and_one_per_process(mongo_uri: str) -> None:
    provider = MongoProvider(MongoSettings(mongo_uri, "provider_test", True))
    assert provider._client is None
    first = provider.client
    assert provider.client is first
    assert provider.database.name == "provider_test"
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports whether it got a new client
        os.write(write_end, b"new" if provider.client is not first else b"same")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 10)
    os.waitpid(pid, 0)
    assert answer == b"new"
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


def test_an_outage_answers_within_seconds(tmp_path: Path) -> None:
    server = MongoServer(tmp_path / "db").start()
    client = connect(MongoSettings(server.uri, "outage", True))
    client.admin.command("ping")
    server.stop()
    started = time.monotonic()
    with pytest.raises(ConnectionFailure):
        client.outage.links.find_one({})
    assert time.monotonic() - started < 3.5
    client.close()
