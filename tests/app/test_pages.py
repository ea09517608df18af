"""The HTML pages, through the test client, on a real MongoDB."""

from __future__ import annotations

import re
from typing import Any

from pymongo.database import Database

from microraab import App
from microraab.testing import TestClient


def post_form(client: TestClient, **fields: str) -> Any:
    return client.post("/", data={"csrf_token": client.csrf_token(), **fields})


def test_home_page_shows_the_form_with_a_csrf_token(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<label for="url">' in page
    assert re.search(r'name="csrf_token" value="[\w-]{20,}"', page)
    assert "No links yet" in page


def test_home_page_sends_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_posting_the_form_stores_the_link_and_redirects_303_to_its_page(
    client: TestClient, mongo_db: Database[Any]
) -> None:
    response = post_form(client, url="https://example.com/a/long/path")
    assert response.status_code == 303
    code = re.fullmatch(r"/([A-Za-z0-9]{7})\+", response.location)
    assert code is not None
    stored = mongo_db.links.find_one({"code": code.group(1)})
    assert stored is not None and stored["url"] == "https://example.com/a/long/path"
    page = client.get(response.location)
    assert page.status_code == 200
    assert "https://example.com/a/long/path" in page.get_data(as_text=True)
    assert "Your short link is ready." in page.get_data(as_text=True)


def test_posting_a_custom_code_uses_it(client: TestClient) -> None:
    response = post_form(client, url="https://example.com/", code="my-code")
    assert response.status_code == 303
    assert response.location == "/my-code+"


def test_posting_without_csrf_token_is_403_and_stores_nothing(
    client: TestClient, mongo_db: Database[Any]
) -> None:
    response = client.post("/", data={"url": "https://example.com/"})
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)
    assert mongo_db.links.count_documents({}) == 0


def test_posting_an_invalid_url_shows_the_form_again_with_400_and_stores_nothing(
    client: TestClient, mongo_db: Database[Any]
) -> None:
    response = post_form(client, url="javascript:alert(1)")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "javascript:alert(1)" in page  # the value typed is kept in the form
    assert mongo_db.links.count_documents({}) == 0


def test_posting_a_taken_code_is_409_and_keeps_the_first_link(
    client: TestClient, mongo_db: Database[Any]
) -> None:
    post_form(client, url="https://first.example/", code="taken")
    response = post_form(client, url="https://second.example/", code="taken")
    assert response.status_code == 409
    assert mongo_db.links.find_one({"code": "taken"})["url"] == "https://first.example/"


def test_posting_a_field_twice_is_400(client: TestClient, mongo_db: Database[Any]) -> None:
    token = client.csrf_token()
    response = client.post(
        "/",
        data={"csrf_token": token, "url": ["https://a.example/", "https://b.example/"]},
    )
    assert response.status_code == 400
    assert "more than once" in response.get_data(as_text=True)
    assert mongo_db.links.count_documents({}) == 0


def test_following_a_short_link_redirects_302_and_counts_the_click(
    client: TestClient, mongo_db: Database[Any]
) -> None:
    post_form(client, url="https://example.com/target", code="follow-me")
    for _ in range(3):
        response = client.get("/follow-me")
        assert response.status_code == 302
        assert response.location == "https://example.com/target"
        response.close()  # as a server does once the response is sent
    assert mongo_db.links.find_one({"code": "follow-me"})["clicks"] == 3
    assert '<dd id="clicks">3</dd>' in client.get("/follow-me+").get_data(as_text=True)


def test_unknown_code_is_a_404_page_in_the_layout(client: TestClient) -> None:
    response = client.get("/nosuchcode")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is no short link" in page
    assert 'href="/static/style.css"' in page


def test_a_path_that_cannot_be_a_code_is_404(client: TestClient) -> None:
    assert client.get("/a").status_code == 404
    assert client.get("/../etc/passwd").status_code == 404
    assert client.get("/" + "x" * 40).status_code == 404


def test_target_and_code_are_escaped_in_every_page(client: TestClient) -> None:
    url = 'https://example.com/?q="><script>alert(1)</script>'
    response = post_form(client, url=url, code="xss-check")
    assert response.status_code == 303
    for path in ("/", "/xss-check+"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;" in page


def test_recent_links_are_paginated_newest_first(client: TestClient) -> None:
    for number in range(12):
        assert post_form(client, url=f"https://example.com/{number}").status_code == 303
    first = client.get("/").get_data(as_text=True)
    assert "https://example.com/11<" in first and "https://example.com/2<" in first
    assert "https://example.com/1<" not in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_link is not None
    second = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "https://example.com/1<" in second and "https://example.com/0<" in second
    assert "https://example.com/11" not in second
    assert 'rel="next"' not in second


def test_static_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert client.get("/static/../app/__init__.py").status_code == 404


def test_a_long_url_is_shortened_in_the_list_and_whole_in_its_title_and_page(
    client: TestClient,
) -> None:
    url = "https://example.com/" + "x" * (2048 - len("https://example.com/"))
    assert post_form(client, url=url, code="long-one").status_code == 303
    home = client.get("/").get_data(as_text=True)
    shown = re.search(r'<span class="target" title="([^"]*)">([^<]*)</span>', home)
    assert shown is not None
    assert shown[1] == url
    assert shown[2] == url[:59] + "…"
    assert home.count(url) == 1  # in the title only: no wall of text in the list
    page = client.get("/long-one+").get_data(as_text=True)
    assert f'id="target">{url}</dd>' in page


def test_a_short_url_is_shown_whole_in_the_list(client: TestClient) -> None:
    url = "https://example.com/" + "y" * 40  # 60 characters: the most shown whole
    assert post_form(client, url=url).status_code == 303
    assert f'title="{url}">{url}</span>' in client.get("/").get_data(as_text=True)


def test_the_link_page_shows_the_api_s_created_time_readably(client: TestClient) -> None:
    created = client.post("/api/links", json={"url": "https://example.com/", "code": "when"})
    iso = created.json["created"]  # type: ignore[index]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", iso)
    page = client.get("/when+").get_data(as_text=True)
    shown = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert shown is not None and shown[1] == iso
    year, month, day, hour, minute = (int(part) for part in re.split(r"[-T:]", iso)[:5])
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    month_name = months[month - 1]
    assert shown[2] == f"{day} {month_name} {year}, {hour:02d}:{minute:02d} UTC"


def follow_unclosed(app: App, path: str) -> tuple[str, Any]:
    """GET ``path`` through the WSGI interface as gunicorn does: the status and the body
    iterable, sent but not yet closed."""
    from werkzeug.test import EnvironBuilder

    started: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        started.append(status)

    body = app(EnvironBuilder(path).get_environ(), start_response)
    assert b"".join(body) is not None
    return started[0], body


def test_the_click_is_counted_after_the_redirect_is_sent_not_before(
    links_app: App, client: TestClient, mongo_db: Database[Any]
) -> None:
    post_form(client, url="https://example.com/target", code="sent-first")
    status, body = follow_unclosed(links_app, "/sent-first")
    assert status == "302 FOUND"
    assert mongo_db.links.find_one({"code": "sent-first"})["clicks"] == 0
    body.close()  # what the server does after sending it: the $inc runs now
    assert mongo_db.links.find_one({"code": "sent-first"})["clicks"] == 1


def test_a_link_deleted_before_its_click_is_counted_was_still_followed(
    links_app: App, client: TestClient, mongo_db: Database[Any]
) -> None:
    post_form(client, url="https://example.com/target", code="gone-soon")
    status, body = follow_unclosed(links_app, "/gone-soon")
    mongo_db.links.delete_one({"code": "gone-soon"})
    body.close()  # the $inc finds no link: nothing counted, nothing raised
    assert status == "302 FOUND"
    assert mongo_db.links.count_documents({"code": "gone-soon"}) == 0
