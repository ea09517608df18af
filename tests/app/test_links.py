"""The links rules (target URLs, codes, page sizes) and the LinkStore on a real MongoDB."""

from __future__ import annotations

import random
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from pymongo.database import Database

from app.links import (
    CODE_ALPHABET,
    CODE_LENGTH,
    GENERATE_ATTEMPTS,
    MAX_URL_LENGTH,
    RESERVED_CODES,
    CodeTaken,
    InvalidLink,
    Link,
    LinkStore,
    decode_cursor,
    encode_cursor,
    generate_code,
    link_from_document,
    normalize_target_url,
    parse_limit,
    validate_custom_code,
)

# -- target URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_url", "stored"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("  http://Example.COM/Path  ", "http://example.com/Path"),
        ("\thttps://example.com/\r\n", "https://example.com/"),
        ("HTTPS://example.com", "https://example.com"),
        ("hTTp://example.com/", "http://example.com/"),
        ("http://bücher.example/ä", "http://xn--bcher-kva.example/ä"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
        ("http://[::1]:8000/", "http://[::1]:8000/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://[2001:DB8:0:0::1]/", "http://[2001:db8::1]/"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
        ("https://example.com:443/", "https://example.com:443/"),
        ("http://example.com:080/", "http://example.com:80/"),
        ("http://example.com:/x", "http://example.com/x"),
        ("http://example.com./", "http://example.com./"),
        ("http://my_host.example/", "http://my_host.example/"),
        ("http://example.com/a?", "http://example.com/a?"),
        ("http://example.com/%7Eme/Case?Q=%20#Frag", "http://example.com/%7Eme/Case?Q=%20#Frag"),
        ("http://example.com/über?ü=ö", "http://example.com/über?ü=ö"),
    ],
)
def test_accepted_urls_are_normalised(given_url: str, stored: str) -> None:
    assert normalize_target_url(given_url) == stored


@pytest.mark.parametrize(
    ("given_url", "status", "fragment"),
    [
        # Not a string: stopped before any query can see an operator like {"$gt": ""}.
        ({"$gt": ""}, 400, "must be a string"),
        (["http://a.example"], 400, "must be a string"),
        (42, 400, "must be a string"),
        (None, 400, "must be a string"),
        (b"http://a.example", 400, "must be a string"),
        ("", 422, "Enter a URL"),
        ("  \t ", 422, "Enter a URL"),
        # Only http(s), whatever the case and whatever hides in front.
        ("javascript:alert(1)", 422, "Only http"),
        (" JaVaScript:alert(1)", 422, "Only http"),
        ("JAVASCRIPT://example.com/%0aalert(1)", 422, "Only http"),
        ("\x00javascript:alert(1)", 422, "control"),
        ("\x01javascript:alert(1)", 422, "control"),
        ("\x1fhttp://example.com/", 422, "control"),
        ("java\tscript:alert(1)", 422, "control"),
        ("data:text/html,<script>alert(1)</script>", 422, "Only http"),
        ("ftp://example.com/", 422, "Only http"),
        ("mailto:someone@example.com", 422, "Only http"),
        ("//example.com/", 422, "Only http"),
        ("example.com", 422, "Only http"),
        # scheme:// and a host.
        ("http:example.com", 422, "must start with http:// or https://"),
        ("http:/example.com", 422, "must start with http:// or https://"),
        ("http://", 422, "no host"),
        ("http:///path", 422, "no host"),
        ("http://:80/", 422, "no host"),
        # Credentials are how phishing links show one host and open another.
        ("http://user:pw@example.com/", 422, "user name or password"),
        ("http://user@example.com/", 422, "user name or password"),
        ("http://bank.example@evil.example/", 422, "user name or password"),
        # Ports.
        ("http://example.com:99999/", 422, "port"),
        ("http://example.com:0/", 422, "port"),
        ("http://example.com:http/", 422, "port"),
        ("http://example.com:+80/", 422, "port"),
        # Hosts.
        ("http://[zz::1]/", 422, "address"),
        ("http://[::1]x/", 422, "host name"),
        ("http://[fe80::1%25eth0]/", 422, "network interface"),
        ("http://a..b/", 422, "host name"),
        ("http://./", 422, "host name"),
        ("http://ex%61mple.com/", 422, "host name"),
        ("http://2130706433/", 422, "IPv4"),
        ("http://999.1.1.1/", 422, "IPv4"),
        ("http://faß.example/", 422, "ß"),
        # Spaces and invisible characters anywhere.
        ("http://exa mple.com/", 422, "spaces"),
        ("http://example.com/a b", 422, "spaces"),
        ("http://example.com/\u00a0", 422, "spaces"),
        ("http://example.com/\u202egnp.exe", 422, "control"),
        ("http://example.com/\x7f", 422, "control"),
        ("http://example.com/\ud800", 422, "not valid text"),
        ("http://example.com/" + "a" * (MAX_URL_LENGTH + 1 - 19), 422, "longer than 2048"),
    ],
)
def test_refused_urls_say_why(given_url: Any, status: int, fragment: str) -> None:
    with pytest.raises(InvalidLink) as info:
        normalize_target_url(given_url)
    assert info.value.status == status
    assert fragment in str(info.value)
    assert info.value.message == str(info.value)


def test_a_url_of_exactly_the_maximum_length_is_accepted() -> None:
    url = "http://example.com/" + "a" * (MAX_URL_LENGTH - 19)
    assert normalize_target_url(url) == url


def test_a_url_that_punycode_makes_too_long_is_refused() -> None:
    url = "http://ä.example/" + "a" * (MAX_URL_LENGTH - 17)
    with pytest.raises(InvalidLink, match="longer than 2048"):
        normalize_target_url(url)


# -- codes --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["abc", "A_b-9", "x" * 32, "api-docs", "Healthz2", "---"])
def test_custom_codes_following_the_rule_are_accepted(code: str) -> None:
    assert validate_custom_code(code) == code


@pytest.mark.parametrize("empty", [None, ""])
def test_no_custom_code_means_generate_one(empty: str | None) -> None:
    assert validate_custom_code(empty) is None


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("ab", "3 to 32 characters"),
        ("x" * 33, "3 to 32 characters"),
        ("../x", "3 to 32 characters"),
        ("a/b", "3 to 32 characters"),
        ("a.b", "3 to 32 characters"),
        ("a b", "3 to 32 characters"),
        ("abc\n", "3 to 32 characters"),  # what "$" (not fullmatch) would let through
        ("abç", "3 to 32 characters"),
        ("abc٣", "3 to 32 characters"),
        ("api", "reserved"),
        ("API", "reserved"),
        ("Healthz", "reserved"),
        ("readyz", "reserved"),
        ("_XRay", "reserved"),
        ("bench", "reserved"),
        ("Admin", "reserved"),
        ("static", "reserved"),
        ("logout", "reserved"),
    ],
)
def test_custom_codes_breaking_the_rule_are_422(code: str, fragment: str) -> None:
    with pytest.raises(InvalidLink) as info:
        validate_custom_code(code)
    assert info.value.status == 422
    assert fragment in str(info.value)


@pytest.mark.parametrize("code", [{"$ne": None}, 7, ["abc"], b"abc", 1.5])
def test_custom_codes_that_are_not_strings_are_400(code: Any) -> None:
    with pytest.raises(InvalidLink, match="must be a string") as info:
        validate_custom_code(code)
    assert info.value.status == 400


def test_generated_code_is_seven_base62_characters() -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{7}", generate_code())
    assert (len(CODE_ALPHABET), CODE_LENGTH) == (62, 7)


class ScriptedChoices:
    """Randomness that spells out the given codes, one character per choice."""

    def __init__(self, *codes: str) -> None:
        self.characters = iter("".join(codes))

    def choice(self, seq: str, /) -> str:
        character = next(self.characters)
        assert character in seq
        return character


def test_generated_code_is_never_a_reserved_word() -> None:
    assert "healthz" in RESERVED_CODES
    assert generate_code(ScriptedChoices("HealthZ", "abcdefg")) == "abcdefg"


def test_generated_code_follows_the_given_random_generator() -> None:
    assert generate_code(random.Random(7)) == generate_code(random.Random(7))


# -- page sizes and cursors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "limit", ["0", "101", "abc", "-1", "1e3", " 5", "+5", "5.0", "²", "٣", "1" * 5000]
)
def test_bad_limits_are_400_and_name_the_range(limit: str) -> None:
    with pytest.raises(InvalidLink, match="from 1 to 100") as info:
        parse_limit(limit)
    assert info.value.status == 400


@pytest.mark.parametrize(("limit", "parsed"), [(None, 20), ("", 20), ("1", 1), ("100", 100)])
def test_limits_parse_with_a_default(limit: str | None, parsed: int) -> None:
    assert parse_limit(limit) == parsed


def test_limit_default_can_be_chosen() -> None:
    assert parse_limit(None, default=10) == 10


def test_cursor_round_trips_created_and_id() -> None:
    created = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=timezone.utc)
    object_id = ObjectId()
    cursor = encode_cursor(created, object_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert decode_cursor(cursor) == (created, object_id)


def test_every_cursor_of_the_right_shape_is_a_position() -> None:
    # What the OpenAPI document says a cursor is: 27 base64url characters, any of them.
    assert decode_cursor("f" * 27)[0] == datetime(9999, 12, 31, 23, 59, 59, 999000, timezone.utc)
    assert decode_cursor("_" * 27)[0] == datetime(1969, 12, 31, 23, 59, 59, 999000, timezone.utc)
    assert decode_cursor("v" * 27)[0] == datetime.min.replace(tzinfo=timezone.utc)  # before 1


def test_a_cursor_past_year_9999_starts_at_the_newest_and_one_before_year_1_is_empty(
    store: LinkStore,
) -> None:
    store.create("https://example.com/a")
    assert len(store.recent(10, "f" * 27)[0]) == 1
    assert store.recent(10, "v" * 27) == ([], None)


# -- Link ---------------------------------------------------------------------------------


def test_link_json_has_the_short_url_and_an_iso_date() -> None:
    created = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=timezone.utc)
    link = Link("abc", "https://example.com/", created, 3)
    assert link.to_json("http://sho.rt/") == {
        "code": "abc",
        "url": "https://example.com/",
        "short_url": "http://sho.rt/abc",
        "created": "2024-05-01T12:30:00.123+00:00",
        "clicks": 3,
    }


def test_link_from_a_naive_document_date_is_utc() -> None:
    document = {"code": "abc", "url": "https://example.com/", "created": datetime(2024, 5, 1)}
    link = link_from_document(document)
    assert link.created == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert link.clicks == 0


# -- the store ----------------------------------------------------------------------------


@pytest.fixture
def store(mongo_db: Database[Any]) -> LinkStore:
    links = LinkStore(mongo_db)
    links.ensure_indexes()
    return links


def test_created_link_can_be_read_back(store: LinkStore) -> None:
    link = store.create("https://example.com/", "mine")
    assert (link.code, link.url, link.clicks) == ("mine", "https://example.com/", 0)
    assert store.get("mine") == link


def test_created_time_is_utc_to_the_millisecond(store: LinkStore) -> None:
    before = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    link = store.create("https://example.com/")
    assert before <= link.created <= datetime.now(timezone.utc)
    assert link.created.tzinfo is not None and link.created.utcoffset() == timedelta(0)
    assert link.created.microsecond % 1000 == 0


def test_store_keeps_the_normalised_url(store: LinkStore, mongo_db: Database[Any]) -> None:
    store.create(" HTTP://Bücher.Example/x ", "norm")
    document = mongo_db.links.find_one({"code": "norm"})
    assert document is not None and document["url"] == "http://xn--bcher-kva.example/x"


def test_generated_code_is_stored_in_the_code_format(store: LinkStore) -> None:
    assert re.fullmatch(r"[A-Za-z0-9]{7}", store.create("https://example.com/").code)


def test_taken_custom_code_raises_and_changes_nothing(
    store: LinkStore, mongo_db: Database[Any]
) -> None:
    first = store.create("https://first.example/", "dup")
    with pytest.raises(CodeTaken, match="'dup' is already taken"):
        store.create("https://second.example/", "dup")
    assert mongo_db.links.count_documents({}) == 1
    assert store.get("dup") == first


@pytest.mark.parametrize(
    ("url", "code"),
    [({"$gt": ""}, None), ("javascript:alert(1)", None), ("https://example.com/", {"$ne": None})],
)
def test_invalid_input_writes_nothing(
    store: LinkStore, mongo_db: Database[Any], url: Any, code: Any
) -> None:
    with pytest.raises(InvalidLink):
        store.create(url, code)
    assert mongo_db.links.count_documents({}) == 0


def test_generated_code_collision_draws_another(mongo_db: Database[Any]) -> None:
    LinkStore(mongo_db).ensure_indexes()
    LinkStore(mongo_db).create("https://first.example/", "aaaaaaa")
    store = LinkStore(mongo_db, rng=ScriptedChoices("aaaaaaa", "bbbbbbb"))
    assert store.create("https://second.example/").code == "bbbbbbb"


def test_generated_codes_colliding_every_time_raise_runtime_error(
    mongo_db: Database[Any],
) -> None:
    LinkStore(mongo_db).ensure_indexes()
    LinkStore(mongo_db).create("https://first.example/", "aaaaaaa")
    store = LinkStore(mongo_db, rng=ScriptedChoices(*["aaaaaaa"] * GENERATE_ATTEMPTS))
    with pytest.raises(RuntimeError, match="no free code"):
        store.create("https://second.example/")
    assert mongo_db.links.count_documents({}) == 1


def test_click_is_counted_and_returns_the_link(store: LinkStore) -> None:
    store.create("https://example.com/", "clicky")
    clicked = store.record_click("clicky")
    assert clicked is not None and (clicked.url, clicked.clicks) == ("https://example.com/", 1)
    assert store.get("clicky") == clicked


def test_concurrent_clicks_are_all_counted(store: LinkStore) -> None:
    store.create("https://example.com/", "busy")
    start = threading.Barrier(50)

    def click() -> None:
        start.wait()
        store.record_click("busy")

    threads = [threading.Thread(target=click) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    link = store.get("busy")
    assert link is not None and link.clicks == 50


def test_click_on_unknown_code_is_none_and_creates_nothing(
    store: LinkStore, mongo_db: Database[Any]
) -> None:
    assert store.record_click("nothing") is None
    assert mongo_db.links.count_documents({}) == 0


def test_unknown_code_is_none(store: LinkStore) -> None:
    assert store.get("nothing") is None


def test_delete_removes_the_link(store: LinkStore) -> None:
    store.create("https://example.com/", "gone")
    assert store.delete("gone") is True
    assert store.get("gone") is None


def test_delete_of_unknown_code_is_false(store: LinkStore) -> None:
    assert store.delete("nothing") is False


@pytest.mark.parametrize("method", ["get", "record_click", "delete"])
def test_non_string_codes_never_reach_a_query(store: LinkStore, method: str) -> None:
    store.create("https://example.com/", "keep")
    with pytest.raises(InvalidLink) as info:
        getattr(store, method)({"$ne": None})
    assert info.value.status == 400
    assert store.get("keep") is not None


def all_pages(store: LinkStore, limit: int) -> tuple[list[str], list[int]]:
    """Every code from following next_cursor from the first page, and each page's size."""
    codes: list[str] = []
    sizes: list[int] = []
    links, cursor = store.recent(limit)
    while True:
        sizes.append(len(links))
        codes += [link.code for link in links]
        if cursor is None:
            return codes, sizes
        links, cursor = store.recent(limit, cursor)


def test_recent_pages_through_every_link_once_newest_first(store: LinkStore) -> None:
    made = [store.create(f"https://example.com/{n}").code for n in range(45)]
    codes, sizes = all_pages(store, 20)
    assert sizes == [20, 20, 5]
    assert codes == list(reversed(made))


def test_recent_breaks_ties_in_created_by_id(store: LinkStore, mongo_db: Database[Any]) -> None:
    same_time = datetime(2024, 5, 1, tzinfo=timezone.utc)
    mongo_db.links.insert_many(
        [{"code": f"tie{n:02}", "url": "https://example.com/", "created": same_time, "clicks": 0}
         for n in range(7)]
    )  # fmt: skip
    codes, sizes = all_pages(store, 3)
    assert sizes == [3, 3, 1]
    assert codes == [f"tie{n:02}" for n in reversed(range(7))]


def test_recent_last_full_page_has_no_next_cursor(store: LinkStore) -> None:
    for n in range(4):
        store.create(f"https://example.com/{n}")
    links, cursor = store.recent(4)
    assert (len(links), cursor) == (4, None)


def test_recent_of_no_links_is_an_empty_last_page(store: LinkStore) -> None:
    assert store.recent(20) == ([], None)


def test_recent_cursor_survives_deleting_the_page_boundary(store: LinkStore) -> None:
    made = [store.create(f"https://example.com/{n}").code for n in range(5)]
    links, cursor = store.recent(2)
    store.delete(links[-1].code)
    rest, _ = store.recent(2, cursor)
    assert [link.code for link in rest] == [made[2], made[1]]


def test_recent_later_pages_ignore_links_added_meanwhile(store: LinkStore) -> None:
    made = [store.create(f"https://example.com/{n}").code for n in range(4)]
    _, cursor = store.recent(2)
    store.create("https://example.com/new")
    rest, _ = store.recent(2, cursor)
    assert [link.code for link in rest] == [made[1], made[0]]


@pytest.mark.parametrize("cursor", ["!!!", "AAAA", "x" * 40, "", "f" * 26, "a+b/" * 7, 123])
def test_bad_cursor_is_400(store: LinkStore, cursor: Any) -> None:
    with pytest.raises(InvalidLink, match="invalid cursor") as info:
        store.recent(10, cursor)
    assert info.value.status == 400


@pytest.mark.parametrize("limit", [0, 101, -1, True, "20", 2.0])
def test_recent_refuses_a_limit_outside_1_to_100(store: LinkStore, limit: Any) -> None:
    with pytest.raises(InvalidLink, match="from 1 to 100") as info:
        store.recent(limit)
    assert info.value.status == 400


def test_indexes_exist_and_creation_is_idempotent(store: LinkStore) -> None:
    store.ensure_indexes()
    indexes = store.collection.index_information()
    assert indexes["code_unique"]["unique"] is True
    assert indexes["code_unique"]["key"] == [("code", 1)]
    assert indexes["recent_first"]["key"] == [("created", -1), ("_id", -1)]
