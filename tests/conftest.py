"""Fixtures shared by every test: a real ``mongod`` for the session, a fresh database per test.

``mongod`` (the :class:`app.mongo_server.MongoServer`), ``mongo_uri`` and ``mongo_client``
last the session; ``mongo_db`` is a new, uniquely named database for each test, dropped
after it. No mongod binary is a failure, not a skip: CI must have one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from app.db import MongoSettings, connect
from app.mongo_server import MongodNotFound, MongoServer


@pytest.fixture(scope="session")
def mongod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoServer]:
    """A private ``mongod`` on a free loopback port with a temporary data directory."""
    try:
        server = MongoServer(tmp_path_factory.mktemp("mongod")).start()
    except MongodNotFound as error:
        pytest.fail(str(error))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_uri(mongod: MongoServer) -> str:
    """The test ``mongod``'s connection string."""
    return mongod.uri


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    """One client to the test ``mongod`` for the whole session."""
    client = connect(MongoSettings(mongo_uri, "test", external=True))
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Database[dict[str, Any]]]:
    """A fresh, uniquely named database for one test, dropped afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    yield mongo_client[name]
    mongo_client.drop_database(name)
