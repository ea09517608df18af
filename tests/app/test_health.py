"""Health checks, and what the app does when its database is down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import WriteConcernError

from app import create_app
from app.mongo_server import MongoServer
from microraab import App, Request
from tests.time_bounds import OUTAGE_OPERATION_BOUND


@pytest.fixture
def app_on_stopped_mongod(tmp_path: Path) -> Iterator[App]:
    """The links app pointed at a mongod that has been stopped."""
    server = MongoServer(tmp_path / "db")
    server.start()
    uri = server.uri
    server.stop()
    app = create_app({"MONGODB_URI": uri, "SECRET_KEY": "test-key"})
    yield app
    app.extensions["mongo"].close()


def test_healthz_is_200(links_app: App) -> None:
    response = links_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"


def test_readyz_is_200_when_mongodb_answers(links_app: App) -> None:
    response = links_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_with_mongodb_down_readyz_and_pages_answer_503_fast_and_healthz_200(
    app_on_stopped_mongod: App,
) -> None:
    client = app_on_stopped_mongod.test_client()
    assert client.get("/healthz").status_code == 200
    for path, accept in (("/readyz", "*/*"), ("/", "text/html"), ("/api/links", "*/*")):
        started = time.monotonic()
        response = client.get(path, headers={"Accept": accept})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, path
        assert elapsed < OUTAGE_OPERATION_BOUND, (path, elapsed)  # 1.5-2.0 s measured
        assert response.headers["Retry-After"] == "5"
    page = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "database is not answering" in page
    assert "Traceback" not in page
    api = client.get("/api/links").json
    assert api["error"]["status"] == 503


def test_a_write_concern_error_pymongo_gave_up_on_is_503_not_500(links_app: App) -> None:
    # What a write caught by a primary's step-down while it waited for the majority raises
    # when pymongo does not retry it (docs/reliability.md, replica-set failover).
    error = WriteConcernError("operation was interrupted", 11602, {"code": 11602})

    @links_app.route("/raises", api=True)
    def raises(request: Request) -> Any:
        raise error

    response = links_app.test_client().get("/raises")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["error"]["message"].startswith("The database is not answering")
