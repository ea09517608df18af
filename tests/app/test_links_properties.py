"""Properties of the links rules, checked on many generated inputs (hypothesis)."""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from app.links import (
    MAX_URL_LENGTH,
    RESERVED_CODES,
    InvalidLink,
    generate_code,
    normalize_target_url,
    validate_custom_code,
)

MODEST = settings(max_examples=300, deadline=None)
CODE_RULE = re.compile(r"[A-Za-z0-9_-]{3,32}")
CONTROL_OR_WHITESPACE = re.compile(r"[\x00-\x20\x7f-\x9f\s]")

# Inputs that look like URLs often enough to reach every rule, not just the first one.
schemes = st.sampled_from(
    ["http", "https", "HTTP", "hTtPs", "javascript", "data", "ftp", "mailto", "", " http"]
)
separators = st.sampled_from(["://", ":", ":/", ":///", "//", "://user:pw@", "://a@"])
hosts = st.one_of(
    st.sampled_from(["example.com", "Bücher.example", "[::1]", "[zz::1]", "127.0.0.1", "a..b"]),
    st.from_regex(r"[A-Za-z0-9äöüß_.%\[\]:-]{0,20}", fullmatch=True),
    st.text(max_size=12),
)
ports = st.sampled_from(["", ":", ":80", ":0", ":65535", ":99999", ":x"])
rests = st.one_of(st.sampled_from(["", "/", "/a?b=c#d", "?", "#"]), st.text(max_size=30))
url_like = st.builds(lambda *parts: "".join(parts), schemes, separators, hosts, ports, rests)
# Mostly-valid URLs, so that many inputs are accepted and the properties have work to do.
labels = st.text(st.characters(categories=["Ll", "Lu", "Lo", "Nd"]), min_size=1, max_size=10)
plausible_urls = st.builds(
    "{}://{}{}{}".format,
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["", ":", ":8080", ":1"]),
    st.one_of(st.just(""), st.text(min_size=1, max_size=30).map("/".__add__)),
)
any_input = st.one_of(
    url_like, plausible_urls, st.text(max_size=80), st.from_regex(r"https?://\S+")
)


def normalized_or_none(value: str) -> str | None:
    try:
        return normalize_target_url(value)
    except InvalidLink:
        return None


@MODEST
@given(any_input)
def test_every_accepted_url_is_http_with_a_host_and_no_spaces(value: str) -> None:
    url = normalized_or_none(value)
    if url is None:
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname
    assert "@" not in parts.netloc
    assert parts.port is None or 1 <= parts.port <= 65535
    assert not CONTROL_OR_WHITESPACE.search(url)
    assert len(url) <= MAX_URL_LENGTH
    assert parts.netloc.isascii()  # punycode, not the internationalised name


@MODEST
@given(any_input)
def test_normalising_an_accepted_url_again_changes_nothing(value: str) -> None:
    url = normalized_or_none(value)
    if url is not None:
        assert normalize_target_url(url) == url


@MODEST
@given(st.randoms(use_true_random=False))
def test_every_generated_code_is_seven_base62_characters(rng: random.Random) -> None:
    code = generate_code(rng)
    assert re.fullmatch(r"[A-Za-z0-9]{7}", code)
    assert validate_custom_code(code) == code  # so it is never reserved either


code_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(CODE_RULE, fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_.\-/ \n]{0,34}", fullmatch=True),
    st.sampled_from(sorted(RESERVED_CODES)).flatmap(
        lambda word: st.sampled_from([word, word.upper(), word.title(), word.swapcase()])
    ),
)


@MODEST
@given(code_like)
def test_custom_codes_are_accepted_exactly_when_they_follow_the_rule(value: str) -> None:
    expected = bool(CODE_RULE.fullmatch(value)) and value.lower() not in RESERVED_CODES
    try:
        accepted = validate_custom_code(value) == value
    except InvalidLink as error:
        assert error.status == 422
        accepted = False
    assert accepted == expected or (value == "" and validate_custom_code(value) is None)
