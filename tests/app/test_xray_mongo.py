"""The demo app's X-ray shows every MongoDB command a request sent (development only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pymongo.database import Database

from app import create_app
from app.xray_mongo import describe, elide
from microraab.xray import Trace


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


def test_a_short_links_trace_lists_the_mongodb_command_inside_the_view(
    mongo_uri: str, mongo_db: Database[Any], tmp_path: Path
) -> None:
    app = create_app(
        {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": mongo_db.name, "ENV": "development",
         "SECRET_KEY": "test", "XRAY_DIR": str(tmp_path)}
    )  # fmt: skip
    try:
        client = app.test_client()
        client.post("/api/links", json={"url": "https://example.com/", "code": "traced"})
        response = client.get("/traced")
        assert response.status_code == 302
        assert app.xray is not None
        trace = Trace.from_document(app.xray.store.get(response.headers["X-Request-ID"]) or {})
        spans = [(e.kind, e.name, e.depth) for e in trace.events if e.depth >= 2]
        # The command runs inside the view, which runs inside dispatch_request. (The
        # click's findAndModify runs after the 302 is sent: outside the request's trace.)
        assert spans == [("view", "pages.follow", 2), ("mongodb", "find", 3)]
        [command] = [e for e in trace.events if e.kind == "mongodb"]
        assert command.detail == 'links {"code": "?"}'
        assert command.duration_ms > 0
        assert "mongodb;dur=" in response.headers["Server-Timing"]
        assert b"xray-toolbar" not in response.data  # a redirect
        page = client.get("/traced+").get_data(as_text=True)
        assert "mongodb <b>1</b> in" in page and "<b>1</b> template<" in page
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
