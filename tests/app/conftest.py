"""Fixtures for the links app: the real app on the test session's real ``mongod``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.database import Database

from app import create_app
from microraab import App
from microraab.testing import TestClient


@pytest.fixture
def links_app(mongo_uri: str, mongo_db: Database[Any]) -> Iterator[App]:
    """The links app in production mode, on a fresh database of the test ``mongod``."""
    app = create_app(
        {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": mongo_db.name, "SECRET_KEY": "test-key"}
    )
    yield app
    app.extensions["mongo"].close()


@pytest.fixture
def client(links_app: App) -> TestClient:
    """A test client for the links app."""
    return links_app.test_client()
