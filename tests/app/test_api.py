"""The JSON API, through the test client, on a real MongoDB."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.database import Database

from microraab.testing import TestClient


def create(client: TestClient, **body: Any) -> Any:
    return client.post("/api/links", json=body)


def test_create_returns_201_with_the_link_and_location(client: TestClient) -> None:
    response = create(client, url="https://example.com/x", code="api-1")
    assert response.status_code == 201
    assert response.headers["Location"] == "http://localhost/api/links/api-1"
    body = response.json
    assert body["code"] == "api-1"
    assert body["url"] == "https://example.com/x"
    assert body["short_url"] == "http://localhost/api-1"
    assert body["clicks"] == 0
    assert body["created"].endswith("+00:00")


def test_create_needs_no_csrf_token(client: TestClient) -> None:
    assert create(client, url="https://example.com/").status_code == 201


def test_get_returns_the_link_and_unknown_is_json_404(client: TestClient) -> None:
    create(client, url="https://example.com/", code="api-2")
    assert client.get("/api/links/api-2").json["url"] == "https://example.com/"
    missing = client.get("/api/links/nope-nope")
    assert missing.status_code == 404
    assert missing.json == {
        "error": {"status": 404, "message": "There is no short link 'nope-nope'."}
    }


def test_unmatched_api_path_answers_json_404(client: TestClient) -> None:
    response = client.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404


def test_delete_returns_204_then_404(client: TestClient, mongo_db: Database[Any]) -> None:
    create(client, url="https://example.com/", code="api-3")
    assert client.delete("/api/links/api-3").status_code == 204
    assert mongo_db.links.count_documents({"code": "api-3"}) == 0
    assert client.delete("/api/links/api-3").status_code == 404


def test_list_pages_through_every_link_once(client: TestClient) -> None:
    for number in range(7):
        create(client, url=f"https://example.com/{number}")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/links", query_string=query).json
        seen += [link["url"] for link in page["links"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"https://example.com/{n}" for n in reversed(range(7))]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"url": {"$gt": ""}}, 400, "string"),
        ({"url": "https://example.com/", "code": {"$ne": None}}, 400, "string"),
        ({"$where": "1"}, 400, "Unknown field"),
        ({"url": "https://example.com/", "extra": 1}, 400, "Unknown field"),
        ({}, 400, "'url' is required"),
        (["https://example.com/"], 400, "JSON object"),
        ({"url": "javascript:alert(1)"}, 422, "http"),
        ({"url": "https://example.com/", "code": "api"}, 422, "reserved"),
        ({"url": "https://example.com/", "code": "a"}, 422, ""),
    ],
)
def test_bad_create_bodies_are_refused_and_store_nothing(
    client: TestClient, mongo_db: Database[Any], body: Any, status: int, fragment: str
) -> None:
    response = client.post("/api/links", json=body)
    assert response.status_code == status
    assert fragment in response.json["error"]["message"]
    assert mongo_db.links.count_documents({}) == 0


def test_taken_code_is_409(client: TestClient) -> None:
    create(client, url="https://example.com/", code="api-4")
    response = create(client, url="https://other.example/", code="api-4")
    assert response.status_code == 409
    assert response.json["error"]["status"] == 409


def test_malformed_json_is_400_and_wrong_content_type_415(client: TestClient) -> None:
    bad = client.post("/api/links", data="{nope", content_type="application/json")
    assert bad.status_code == 400
    assert "not valid JSON" in bad.json["error"]["message"]
    form = client.post("/api/links", data={"url": "https://example.com/"})
    assert form.status_code == 415


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_bad_limit_is_400(client: TestClient, limit: str) -> None:
    response = client.get("/api/links", query_string={"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json["error"]["message"]


def test_bad_cursor_is_400(client: TestClient) -> None:
    response = client.get("/api/links", query_string={"cursor": "not-a-cursor!"})
    assert response.status_code == 400
