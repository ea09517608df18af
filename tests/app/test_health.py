"""Health checks, and what the app does when its database is down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import WriteConcernError, WriteError

from app import create_app
from app.mongo_server import MongoServer
from app.web import TRANSIENT_CODES
from microraab import App, Request
from tests.reliability.replica_set import ReplicaSet
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


def test_a_failover_reported_as_a_write_error_is_503_not_500(links_app: App) -> None:
    # The server reports a write that met a step-down inside the command as a write error,
    # which pymongo raises as WriteError and never retries.
    error = WriteError("Not primary while writing to x.links", 10107, {"code": 10107})

    @links_app.route("/raises", api=True)
    def raises(request: Request) -> Any:
        raise error

    response = links_app.test_client().get("/raises")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")


def test_the_transient_codes_are_those_pymongo_retries_on() -> None:
    # pymongo's own list is private: a pymongo that changes it fails here, not in an outage
    from pymongo import helpers_shared

    assert helpers_shared._RETRYABLE_ERROR_CODES == TRANSIENT_CODES


@pytest.fixture(scope="module")
def one_member_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaSet]:
    """A replica set of one mongod with MongoDB's fail points (retryable writes need a set)."""
    replica_set = ReplicaSet(tmp_path_factory.mktemp("rs"), members=1, fail_points=True)
    yield replica_set.start()
    replica_set.stop()


def fail_twice(replica_set: ReplicaSet, command: str, code: int) -> None:
    """The next two ``command``s fail with ``code``: the operation and pymongo's one retry."""
    primary = replica_set.primary()
    assert primary is not None
    replica_set.client(primary).admin.command(
        "configureFailPoint", "failCommand", mode={"times": 2},
        data={"failCommands": [command], "errorCode": code},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "status"),
    [(262, 503), (189, 503), (2, 500)],  # ExceededTimeLimit, PrimarySteppedDown; BadValue
)
def test_a_server_error_after_pymongos_retry_is_503_if_transient_else_500(
    one_member_set: ReplicaSet, code: int, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    database = f"transient_{code}"
    app = create_app(
        {"MONGODB_URI": one_member_set.uri, "MONGODB_DATABASE": database, "SECRET_KEY": "k"}
    )
    try:
        client = app.test_client()
        assert client.get("/api/links").status_code == 200  # prepared: indexes made
        fail_twice(one_member_set, "insert", code)
        response = client.post("/api/links", json={"url": "https://example.com/", "code": "t-1"})
        assert response.status_code == status
        assert "Traceback" not in response.get_data(as_text=True)
        if status == 503:
            assert response.headers["Retry-After"] == "5"
            assert response.json["error"]["message"].startswith("The database is not answering")
        else:  # a bug, not an outage: logged with its traceback
            logged = [r for r in caplog.records if r.getMessage().startswith("Exception on")]
            assert logged and logged[-1].exc_info
        fail_twice(one_member_set, "find", code)  # a read: pymongo retries it once too
        assert client.get("/api/links").status_code == status
        reader: MongoClient[dict[str, Any]] = MongoClient(one_member_set.uri)
        try:
            assert reader[database].links.count_documents({}) == 0  # nothing half-written
        finally:
            reader.close()
    finally:
        app.extensions["mongo"].close()
