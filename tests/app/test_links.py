"""The links rules (target URLs, codes) and the LinkStore on a real MongoDB."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo.database import Database

from app.links import (
    CUSTOM_CODE,
    RESERVED_CODES,
    CodeTaken,
    InvalidLink,
    LinkStore,
    generate_code,
    normalize_target_url,
    parse_limit,
    validate_custom_code,
)


@pytest.mark.parametrize(
    ("given_url", "stored"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("  http://Example.COM/Path  ", "http://example.com/Path"),
        ("HTTPS://example.com", "https://example.com"),
        ("http://bücher.example/ä", "http://xn--bcher-kva.example/ä"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
        ("https://example.com:443/", "https://example.com:443/"),
    ],
)
def test_accepted_urls_are_normalised(given_url: str, stored: str) -> None:
    assert normalize_target_url(given_url) == stored


@pytest.mark.parametrize(
    ("given_url", "status", "fragment"),
    [
        ({"$gt": ""}, 400, "must be a string"),
        (["http://a.example"], 400, "must be a string"),
        (42, 400, "must be a string"),
        (None, 400, "must be a string"),
        (b"http://a.example", 400, "must be a string"),
        ("", 422, "Enter a URL"),
        ("   ", 422, "Enter a URL"),
        ("javascript:alert(1)", 422, "Only http"),
        (" JaVaScript:alert(1)", 422, "Only http"),
        ("\x01javascript:alert(1)", 422, "control"),
        ("java\tscript:alert(1)", 422, "control"),
        ("data:text/html,<script>alert(1)</script>", 422, "Only http"),
        ("ftp://example.com/", 422, "Only http"),
        ("//example.com/", 422, "Only http"),
        ("http:example.com", 422, "host name"),
        ("http:/example.com", 422, "host name"),
        ("http://", 422, "no host"),
        ("http://user:pw@example.com/", 422, "user name or password"),
        ("http://evil.example@good.example/", 422, "user name or password"),
        ("http://example.com:99999/", 422, "malformed"),
        ("http://[zz::1]/", 422, ""),
        ("http://exa mple.com/", 422, "spaces"),
        ("http://example.com/" + "a" * 2048, 422, "longer than 2048"),
        ("http://ex_ample..com/", 422, "host name"),
    ],
)
def test_refused_urls_say_why(given_url: Any, status: int, fragment: str) -> None:
    with pytest.raises(InvalidLink) as info:
        normalize_target_url(given_url)
    assert info.value.status == status
    assert fragment in str(info.value)


@pytest.mark.parametrize("code", ["abc", "A_b-9", "x" * 32])
def test_custom_codes_following_the_rule_are_accepted(code: str) -> None:
    assert validate_custom_code(code) == code


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ab", 422), ("x" * 33, 422), ("../x", 422), ("a b", 422), ("abc\n", 422),
        ("api", 422), ("API", 422), ("Healthz", 422), ("bench", 422),
        ({"$ne": None}, 400), (7, 400), (["abc"], 400),
    ],
)  # fmt: skip
def test_bad_custom_codes_are_refused(code: Any, status: int) -> None:
    with pytest.raises(InvalidLink) as info:
        validate_custom_code(code)
    assert info.value.status == status


def test_empty_code_means_generate() -> None:
    assert validate_custom_code(None) is None
    assert validate_custom_code("") is None


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1e3", " 5"])
def test_bad_limits_are_400(limit: str) -> None:
    with pytest.raises(InvalidLink) as info:
        parse_limit(limit)
    assert info.value.status == 400


def test_limits_default_and_parse() -> None:
    assert parse_limit(None) == 20
    assert parse_limit("") == 20
    assert parse_limit("100") == 100


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"(?i)(https?|javascript|data):/{0,3}[^/]{0,20}/.*"))
def test_every_accepted_url_is_http_with_a_host(value: str) -> None:
    try:
        url = normalize_target_url(value)
    except InvalidLink:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert not re.search(r"[\x00-\x20\x7f]", url)
    assert normalize_target_url(url) == url


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10))
def test_every_generated_code_matches_the_code_rule(_: int) -> None:
    code = generate_code()
    assert re.fullmatch(r"[A-Za-z0-9]{7}", code)
    assert validate_custom_code(code) == code or code.lower() in RESERVED_CODES


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_custom_codes_are_accepted_exactly_when_they_follow_the_rule(value: str) -> None:
    expected = bool(CUSTOM_CODE.fullmatch(value)) and value.lower() not in RESERVED_CODES
    try:
        accepted = validate_custom_code(value) is not None
    except InvalidLink:
        accepted = False
    assert accepted == (expected and value != "")


# -- the store ----------------------------------------------------------------------------


@pytest.fixture
def store(mongo_db: Database[Any]) -> LinkStore:
    links = LinkStore(mongo_db)
    links.ensure_indexes()
    return links


def test_create_and_get(store: LinkStore) -> None:
    link = store.create("https://example.com/", "mine")
    assert (link.code, link.url, link.clicks) == ("mine", "https://example.com/", 0)
    assert store.get("mine") == link


def test_generated_code_has_the_format(store: LinkStore) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{7}", store.create("https://example.com/").code)


def test_taken_custom_code_raises_and_changes_nothing(
    store: LinkStore, mongo_db: Database[Any]
) -> None:
    store.create("https://first.example/", "dup")
    with pytest.raises(CodeTaken):
        store.create("https://second.example/", "dup")
    assert mongo_db.links.count_documents({}) == 1
    assert mongo_db.links.find_one({"code": "dup"})["url"] == "https://first.example/"


def test_invalid_input_writes_nothing(store: LinkStore, mongo_db: Database[Any]) -> None:
    with pytest.raises(InvalidLink):
        store.create({"$gt": ""})
    with pytest.raises(InvalidLink):
        store.create("https://example.com/", {"$ne": None})
    assert mongo_db.links.count_documents({}) == 0


def test_concurrent_clicks_are_all_counted(store: LinkStore) -> None:
    store.create("https://example.com/", "busy")
    threads = [threading.Thread(target=store.record_click, args=("busy",)) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    link = store.get("busy")
    assert link is not None and link.clicks == 50


def test_unknown_codes_are_none_and_delete_reports(store: LinkStore) -> None:
    assert store.get("nothing") is None
    assert store.record_click("nothing") is None
    store.create("https://example.com/", "gone")
    assert store.delete("gone") is True
    assert store.delete("gone") is False


@pytest.mark.parametrize("method", ["get", "record_click", "delete"])
def test_non_string_codes_never_reach_a_query(store: LinkStore, method: str) -> None:
    with pytest.raises(InvalidLink):
        getattr(store, method)({"$ne": None})


def test_recent_pages_through_every_link_once_newest_first(store: LinkStore) -> None:
    made = [store.create(f"https://example.com/{n}").code for n in range(45)]
    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    while True:
        links, cursor = store.recent(20, cursor)
        sizes.append(len(links))
        seen += [link.code for link in links]
        if cursor is None:
            break
    assert sizes == [20, 20, 5]
    assert seen == list(reversed(made))


@pytest.mark.parametrize("cursor", ["!!!", "AAAA", "x" * 40])
def test_bad_cursor_is_400(store: LinkStore, cursor: str) -> None:
    with pytest.raises(InvalidLink) as info:
        store.recent(10, cursor)
    assert info.value.status == 400


def test_indexes_exist_and_creation_is_idempotent(store: LinkStore) -> None:
    store.ensure_indexes()
    indexes = store.collection.index_information()
    assert indexes["code_unique"]["unique"] is True
    assert indexes["recent_first"]["key"] == [("created", -1), ("_id", -1)]
