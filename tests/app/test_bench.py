"""The benchmark app against TechEmpower's rules, on a real, seeded ``mongod``.

The rules: https://github.com/TechEmpower/FrameworkBenchmarks/wiki/Project-Information-Framework-Tests-Overview
(headers: Content-Type and Content-Length; Server and Date are not required here).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from pymongo import CursorType, MongoClient
from pymongo.database import Database
from werkzeug.test import TestResponse

from app import worlds
from app.bench import create_bench_app
from app.db import MongoProvider, MongoSettings
from app.mongo_server import MongoServer, free_port
from microraab.testing import TestClient

FORTUNE_ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>")


@dataclass
class DatabaseHolder:
    """What create_bench_app needs from a provider: a real database."""

    database: Database[Any]


@pytest.fixture
def seeded_db(mongo_db: Database[Any]) -> Database[Any]:
    worlds.seed(mongo_db)
    return mongo_db


@pytest.fixture
def client(seeded_db: Database[Any]) -> TestClient:
    return create_bench_app(DatabaseHolder(seeded_db)).test_client()


def assert_content_length(response: TestResponse) -> None:
    assert response.headers["Content-Length"] == str(len(response.get_data()))


def assert_world(value: Any) -> None:
    assert isinstance(value, dict)
    assert set(value) == {"id", "randomNumber"}
    assert type(value["id"]) is int and 1 <= value["id"] <= 10_000
    assert type(value["randomNumber"]) is int and 1 <= value["randomNumber"] <= 10_000


# -- json and plaintext -------------------------------------------------------------------


def test_json_returns_the_hello_world_object(client: TestClient) -> None:
    response = client.get("/json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"message": "Hello, World!"}
    assert_content_length(response)


def test_plaintext_returns_hello_world_as_text(client: TestClient) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data() == b"Hello, World!"
    assert_content_length(response)


# -- db and queries -----------------------------------------------------------------------


def test_db_returns_one_world_object_that_exists(
    client: TestClient, seeded_db: Database[Any]
) -> None:
    response = client.get("/db")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_content_length(response)
    world: Any = response.json
    assert_world(world)
    assert seeded_db.world.find_one({"_id": world["id"]}, {"_id": 0}) == world


def assert_worlds(response: TestResponse, expected: int) -> None:
    """A 200 JSON array of ``expected`` well-formed worlds, with a true Content-Length."""
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_content_length(response)
    body = response.json
    assert isinstance(body, list) and len(body) == expected
    for world in body:
        assert_world(world)


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("queries=20", 20),
        ("queries=0", 1),
        ("queries=-3", 1),
        ("queries=foo", 1),
        ("queries=", 1),
        ("", 1),
        ("queries=501", 500),
    ],
)
def test_queries_returns_an_array_of_the_clamped_count(
    client: TestClient, query_string: str, expected: int
) -> None:
    assert_worlds(client.get(f"/queries?{query_string}"), expected)


# -- fortunes -----------------------------------------------------------------------------


def fortune_rows(client: TestClient) -> list[tuple[int, str]]:
    html = client.get("/fortunes").get_data(as_text=True)
    return [(int(id_), unescape(message)) for id_, message in FORTUNE_ROW.findall(html)]


def test_fortunes_is_utf8_html_in_techempower_markup(client: TestClient) -> None:
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert_content_length(response)
    html = response.get_data(as_text=True)
    assert html.startswith(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        "<tr><th>id</th><th>message</th></tr><tr><td>"
    )
    assert html.endswith("</td></tr></table></body></html>")
    assert "\n" not in html


def test_fortunes_lists_all_thirteen_sorted_by_message(client: TestClient) -> None:
    rows = fortune_rows(client)
    expected = [*worlds.FORTUNES, (0, "Additional fortune added at request time.")]
    assert len(rows) == 13
    assert rows == sorted(expected, key=lambda row: row[1])


def test_fortunes_escapes_the_script_fortune(client: TestClient) -> None:
    html = client.get("/fortunes").get_data(as_text=True)
    assert "<script>" not in html
    assert "<tr><td>11</td><td>&lt;script&gt;alert(" in html


def test_fortunes_keeps_the_japanese_fortune_intact(client: TestClient) -> None:
    html = client.get("/fortunes").get_data(as_text=True)
    assert "<tr><td>12</td><td>フレームワークのベンチマーク</td></tr>" in html


def test_fortunes_includes_the_one_added_at_request_time(client: TestClient) -> None:
    assert (0, "Additional fortune added at request time.") in fortune_rows(client)


# -- updates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [("queries=5", 5), ("queries=0", 1), ("queries=foo", 1), ("", 1), ("queries=501", 500)],
)
def test_updates_returns_an_array_of_the_clamped_count(
    client: TestClient, query_string: str, expected: int
) -> None:
    assert_worlds(client.get(f"/updates?{query_string}"), expected)


def test_updates_persist_the_returned_random_numbers(
    client: TestClient, seeded_db: Database[Any]
) -> None:
    body: Any = client.get("/updates?queries=20").json
    assert isinstance(body, list) and len(body) == 20
    last = {world["id"]: world for world in body}  # an id drawn twice keeps its later number
    for id_, world in last.items():
        stored = seeded_db.world.find_one({"_id": id_}, {"_id": 0, "id": 1, "randomNumber": 1})
        assert stored == world


def test_update_worlds_updates_an_id_drawn_twice_once_per_draw(
    seeded_db: Database[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = seeded_db.world.find_one({"_id": 7}, {"_id": 0})
    assert before is not None
    monkeypatch.setattr(worlds, "random_id", lambda: 7)
    updated = worlds.update_worlds(seeded_db, 3)
    assert [world["id"] for world in updated] == [7, 7, 7]
    numbers = [before["randomNumber"]] + [world["randomNumber"] for world in updated]
    assert all(a != b for a, b in itertools.pairwise(numbers))  # each update changes it
    assert seeded_db.world.find_one({"_id": 7}, {"_id": 0}) == updated[-1]


# -- as TechEmpower's verifier counts ----------------------------------------------------


@pytest.fixture(scope="module")
def counted_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database[Any]]:
    """A seeded database on a ``mongod`` of its own, where nothing else runs operations.

    The session cache's refresh (every 5 minutes by default) adds queries and updates of
    its own to the opcounters; pushed out to an hour, it cannot land inside a test.
    """
    refresh = ["--setParameter", "logicalSessionRefreshMillis=3600000"]
    server = MongoServer(tmp_path_factory.mktemp("counted"), extra_args=refresh).start()
    client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
    worlds.seed(client.bench)
    yield client.bench
    client.close()
    server.stop()


def server_counts(db: Database[Any]) -> tuple[int, int, int]:
    """What TechEmpower's verifier reads from ``serverStatus``: queries, updates (the
    opcounters) and documents updated."""
    status = db.client.admin.command("serverStatus")
    opcounters = status["opcounters"]
    return opcounters["query"], opcounters["update"], status["metrics"]["document"]["updated"]


def test_each_query_is_one_read_and_each_update_one_write_as_techempower_counts(
    counted_db: Database[Any],
) -> None:
    client = create_bench_app(DatabaseHolder(counted_db)).test_client()
    before = server_counts(counted_db)
    for _ in range(10):
        assert len(client.get("/updates?queries=20").json) == 20  # type: ignore[arg-type]
    # 500 ids from 10,000 repeat one with a probability of 1 - 4e-6: the case to count.
    drawn = [world["id"] for world in client.get("/updates?queries=500").json]  # type: ignore[union-attr]
    assert len(set(drawn)) < len(drawn)
    client.get("/queries?queries=20")
    client.get("/db")
    reads, updates, documents_updated = (
        after - start for after, start in zip(server_counts(counted_db), before, strict=True)
    )
    assert (reads, updates, documents_updated) == (700 + 21, 700, 700)


def test_a_database_that_does_not_answer_is_503_with_retry_after() -> None:
    settings = MongoSettings(f"mongodb://127.0.0.1:{free_port()}/", "bench", external=True)
    provider = MongoProvider(settings, serverSelectionTimeoutMS=200)
    client = create_bench_app(provider).test_client()
    for path in ("/db", "/queries?queries=2", "/fortunes", "/updates?queries=2"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "5"
    provider.close()


def test_no_free_pooled_connection_is_503_not_500(mongo_uri: str, seeded_db: Database[Any]) -> None:
    settings = MongoSettings(mongo_uri, seeded_db.name, external=True)
    provider = MongoProvider(settings, maxPoolSize=1, waitQueueTimeoutMS=200)
    client = create_bench_app(provider).test_client()
    assert client.get("/db").status_code == 200
    # An exhaust cursor keeps the pool's only connection until it is read to the end.
    held = provider.database.world.find({}, batch_size=2, cursor_type=CursorType.EXHAUST)
    next(held)
    try:
        response = client.get("/updates?queries=2")
        assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    finally:
        held.close()
    assert client.get("/db").status_code == 200
    provider.close()


# -- parse_queries and seed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 1),
        ("", 1),
        ("foo", 1),
        ("1.5", 1),
        ("0", 1),
        ("-1", 1),
        ("1", 1),
        ("20", 20),
        ("500", 500),
        ("501", 500),
        ("9" * 5000, 500),
        ("-" + "9" * 5000, 1),
    ],
)
def test_parse_queries_follows_techempower(value: str | None, expected: int) -> None:
    assert worlds.parse_queries(value) == expected


def test_seed_creates_the_worlds_and_fortunes(mongo_db: Database[Any]) -> None:
    assert worlds.seed(mongo_db) == {"world": 10_000, "fortune": 12}
    assert mongo_db.world.count_documents({}) == 10_000
    assert mongo_db.world.find_one({"_id": 10_000}, {"_id": 0, "id": 1}) == {"id": 10_000}
    stored = [(doc["id"], doc["message"]) for doc in mongo_db.fortune.find().sort("_id")]
    assert stored == list(worlds.FORTUNES)


def test_seed_again_changes_nothing(mongo_db: Database[Any]) -> None:
    worlds.seed(mongo_db)
    before = list(mongo_db.world.find().sort("_id"))
    assert worlds.seed(mongo_db) == {"world": 0, "fortune": 0}
    assert list(mongo_db.world.find().sort("_id")) == before
    assert mongo_db.fortune.count_documents({}) == 12


def test_seed_with_force_replaces_the_data(mongo_db: Database[Any]) -> None:
    worlds.seed(mongo_db)
    mongo_db.world.update_one({"_id": 1}, {"$set": {"randomNumber": 0}})
    mongo_db.fortune.insert_one({"_id": 99, "id": 99, "message": "extra"})
    assert worlds.seed(mongo_db, force=True) == {"world": 10_000, "fortune": 12}
    assert mongo_db.world.count_documents({}) == 10_000
    assert mongo_db.world.find_one({"_id": 1}, {"_id": 0, "randomNumber": 1}) != {"randomNumber": 0}
    assert mongo_db.fortune.count_documents({}) == 12


def test_seed_from_two_processes_at_once_seeds_once(mongo_db: Database[Any]) -> None:
    # Each gunicorn worker seeds on its first request; they may race on an empty database.
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def seed_after_barrier() -> None:
        barrier.wait()
        results.append(worlds.seed(mongo_db))

    threads = [threading.Thread(target=seed_after_barrier) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert sum(result["world"] for result in results) == 10_000
    assert sum(result["fortune"] for result in results) == 12
    assert mongo_db.world.count_documents({}) == 10_000
    assert mongo_db.fortune.count_documents({}) == 12
