"""The demo app's X-ray shows every MongoDB command a request sent (development only)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from app import create_app
from app.xray_mongo import describe, elide


def test_elide_keeps_keys_and_hides_values() -> None:
    assert elide({"code": "abc", "$or": [{"a": 1}, {"b": {"$lt": 2}}]}) == {
        "code": "?",
        "$or": [{"a": "?"}, {"b": {"$lt": "?"}}],
    }


def test_describe_names_collection_and_filter_shape() -> None:
    assert describe({"find": "links", "filter": {"code": "x"}}, "find") == 'links {"code": "?"}'
    assert describe({"insert": "links", "documents": [{}, {}]}, "insert") == (
        'links {"documents": 2}'
    )
    assert describe({"update": "world", "updates": [{"q": {"_id": 3}}]}, "update") == (
        'world {"_id": "?"}'
    )


def test_home_page_trace_lists_the_mongodb_find_with_its_duration(
    mongo_uri: str, mongo_db: Database[Any]
) -> None:
    app = create_app(
        {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": mongo_db.name, "ENV": "development",
         "SECRET_KEY": "test"}
    )  # fmt: skip
    try:
        client = app.test_client()
        client.post("/api/links", json={"url": "https://example.com/", "code": "traced"})
        response = client.get("/traced")
        assert response.status_code == 302
        assert app.xray is not None
        trace = app.xray.traces[response.headers["X-Request-ID"]]
        commands = [e for e in trace.events if e.kind == "mongodb"]
        assert [c.name for c in commands] == ["findAndModify"]
        assert commands[0].detail == 'links {"code": "?"}'
        assert commands[0].duration_ms > 0
        assert "db;dur=" in response.headers["Server-Timing"]
    finally:
        app.extensions["mongo"].close()


def test_production_app_has_no_xray(mongo_uri: str, mongo_db: Database[Any]) -> None:
    app = create_app(
        {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": mongo_db.name, "SECRET_KEY": "test"}
    )
    try:
        response = app.test_client().get("/healthz")
        assert app.xray is None
        assert "Server-Timing" not in response.headers
        assert app.test_client().get("/_xray/").status_code == 404
    finally:
        app.extensions["mongo"].close()
