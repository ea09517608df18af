"""Links: the rules for target URLs and codes, and their storage in MongoDB.

No web code here. Every value from outside is checked for its type before anything else,
so ``{"url": {"$gt": ""}}`` is refused here and never reaches a query.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from urllib.parse import urlsplit

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

MAX_URL_LENGTH = 2048
CODE_ALPHABET = string.ascii_letters + string.digits  # base62
CODE_LENGTH = 7
CUSTOM_CODE = re.compile(r"[A-Za-z0-9_-]{3,32}")  # always used with fullmatch, never match
# Paths the app serves itself. Compared lowercased: /API and /api must not differ in meaning.
# favicon.ico and robots.txt cannot pass CUSTOM_CODE anyway; they are listed so the rule
# still holds if the code rule is ever widened.
RESERVED_CODES = frozenset(
    {"api", "static", "healthz", "readyz", "bench", "_xray", "admin", "login", "logout",
     "favicon.ico", "robots.txt"}
)  # fmt: skip
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
GENERATE_ATTEMPTS = 5

# ASCII whitespace only: stripping str.strip()'s wider set would silently drop control
# characters such as \x1c-\x1f, which we would rather refuse.
_SURROUNDING_SPACE = " \t\n\r\f\v"
# Never valid inside a URL we store: C0 controls and space, DEL and C1 controls, any Unicode
# whitespace (\s), and the bidi controls, which can make a URL display as another one.
_FORBIDDEN_CHARACTER = re.compile(
    r"[\x00-\x20\x7f-\x9f\s\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# netloc without credentials: a host (or a [bracketed] IP literal) and an optional :port.
_HOST_AND_PORT = re.compile(r"(?P<host>\[[^\[\]]*\]|[^\[\]:]*)(?::(?P<port>[^:]*))?")
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_PORT = re.compile(r"[0-9]{1,5}")
_LIMIT = re.compile(r"[0-9]{1,3}")
# IDNA 2003 (encodings.idna) maps these to other letters (ß -> ss) where IDNA 2008 and browsers
# keep them: storing the 2003 form would send visitors to a different host than the one typed.
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CURSOR = re.compile(r"[A-Za-z0-9_-]{27}")  # 20 bytes (8 created + 12 _id), unpadded base64url
# The milliseconds since the epoch a datetime can hold (years 1..9999, UTC).
_MIN_CURSOR_MS = (datetime.min.replace(tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)
_MAX_CURSOR_MS = (datetime.max.replace(tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)
_BAD_CURSOR = "invalid cursor: use the next_cursor of the previous page."
_BAD_LIMIT = f"limit must be a whole number from 1 to {MAX_LIMIT}."


class InvalidLink(ValueError):
    """Input that cannot become a link.

    ``status`` is 400 for a value of the wrong type or shape, 422 for a well-formed value that
    breaks a rule; ``message`` (also ``str(error)``) says what to fix, for a person.
    """

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class CodeTaken(Exception):
    """The custom code is already used by another link (409)."""


# -- target URLs --------------------------------------------------------------------------


def normalize_target_url(value: object) -> str:
    """The URL to store for ``value``: ``http(s)://host[:port]`` and the rest as given.

    Surrounding ASCII whitespace is stripped; the scheme and host are lowercased, and an
    internationalised host becomes punycode. Raises InvalidLink: 400 for a non-string, 422
    for a string that is not an absolute http(s) URL with a host, has spaces or control
    characters, credentials, a bad port, or is longer than MAX_URL_LENGTH.
    """
    if not isinstance(value, str):
        raise InvalidLink("url must be a string.", 400)
    url = value.strip(_SURROUNDING_SPACE)
    if not url:
        raise InvalidLink("Enter a URL to shorten.")
    if len(url) > MAX_URL_LENGTH:  # before any parsing, so huge inputs cost nothing
        raise InvalidLink(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARACTER.search(url):
        raise InvalidLink("The URL may not contain spaces or control characters.")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: MongoDB could not store them
        raise InvalidLink("The URL is not valid text.") from None
    scheme, _, after_scheme = url.partition(":")
    # Checked by hand before urlsplit, which accepts "http:host" and "//host" without a word.
    if scheme.lower() not in ("http", "https"):
        raise InvalidLink("Only http:// and https:// URLs can be shortened.")
    if not after_scheme.startswith("//"):
        raise InvalidLink("The URL must start with http:// or https:// and a host name.")
    try:
        netloc = urlsplit(url).netloc
    except ValueError as error:
        raise InvalidLink(f"The URL is malformed: {error}.") from None
    if "@" in netloc:
        # user:password@host is how phishing links hide the real host: http://bank.example@evil.example
        raise InvalidLink("URLs with a user name or password are not accepted.")
    # The rest is copied as typed (urlunsplit would drop an empty "?" or "#"); the offset is
    # exact because everything urlsplit would strip or remove was refused above.
    rest = url[len(scheme) + 3 + len(netloc) :]
    normalized = f"{scheme.lower()}://{_canonical_netloc(netloc)}{rest}"
    if len(normalized) > MAX_URL_LENGTH:  # punycode can lengthen it; keep it idempotent
        raise InvalidLink(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    return normalized


def _canonical_netloc(netloc: str) -> str:
    """``host[:port]`` checked, the host canonical; InvalidLink (422) otherwise.

    Parsed here rather than trusting urlsplit's ``hostname``/``port``, which let ``[::1]x``,
    ``[v1.x]`` and ``:0`` through.
    """
    match = _HOST_AND_PORT.fullmatch(netloc)
    if match is None:
        raise InvalidLink("The URL's host name is not valid.")
    host, port = match["host"], match["port"]
    if not host:
        raise InvalidLink("The URL has no host name.")
    name = _canonical_ipv6(host[1:-1]) if host.startswith("[") else _canonical_host_name(host)
    if not port:  # "host:" means the default port, as in browsers
        return name
    if not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise InvalidLink("The URL's port must be a number from 1 to 65535.")
    return f"{name}:{int(port)}"


def _canonical_ipv6(address: str) -> str:
    """``[address]`` in its compressed form; InvalidLink (422) if not a plain IPv6 address."""
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        raise InvalidLink("The URL's IPv6 address is not valid.") from None
    if ip.scope_id is not None:  # fe80::1%eth0 names an interface of the visitor's machine
        raise InvalidLink("The URL's IPv6 address may not name a network interface.")
    return f"[{ip.compressed}]"


def _canonical_host_name(host: str) -> str:
    """The host as lowercase ASCII (punycode for IDN); InvalidLink (422) if not a host name."""
    if _IDNA_DEVIATIONS.intersection(host):
        raise InvalidLink("The host name has a letter (such as ß) that browsers read differently.")
    try:
        name = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidLink("The URL's host name is not valid.") from None
    labels = name.removesuffix(".").split(".")  # a trailing dot is a valid, rooted name
    if len(name) > 254 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidLink("The URL's host name is not valid.")
    if labels[-1].isdigit():
        # Browsers read a name ending in a number as an IPv4 address (even 2130706433), so only
        # an unambiguous dotted-quad is allowed.
        try:
            ipaddress.IPv4Address(name.removesuffix("."))
        except ValueError:
            raise InvalidLink("The URL's IPv4 address is not valid.") from None
    return name


# -- codes --------------------------------------------------------------------------------


def validate_custom_code(value: object) -> str | None:
    """``value`` as a custom code, or None (for None or "") to have one generated.

    Raises InvalidLink: 400 for a non-string, 422 for a code that breaks the rule or is reserved.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidLink("code must be a string.", 400)
    if value == "":
        return None
    if not CUSTOM_CODE.fullmatch(value):
        raise InvalidLink("A custom code is 3 to 32 characters: letters, digits, '_' and '-'.")
    if value.lower() in RESERVED_CODES:
        raise InvalidLink(f"The code {value!r} is reserved; choose another.")
    return value


class RandomChoice(Protocol):
    """Anything with ``choice``: the ``secrets`` module, or a seeded ``random.Random`` in tests."""

    def choice(self, seq: str, /) -> str: ...


def generate_code(rng: RandomChoice = secrets) -> str:
    """A random code: CODE_LENGTH base62 characters (62**7, about 3.5e12), never reserved."""
    while True:
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code.lower() not in RESERVED_CODES:  # "healthz" has 7 letters too
            return code


# -- paging -------------------------------------------------------------------------------


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT) -> int:
    """A page size from a query string: ``default`` if absent, else 1..MAX_LIMIT.

    Raises InvalidLink (400) for anything else ("abc", "0", "-1", "1e3", "101").
    """
    if value is None or value == "":
        return default
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
    if not (isinstance(value, str) and _LIMIT.fullmatch(value) and 1 <= int(value) <= MAX_LIMIT):
        raise InvalidLink(_BAD_LIMIT, 400)
    return int(value)


def encode_cursor(created: datetime, object_id: ObjectId) -> str:
    """An opaque, URL-safe cursor for the position just after the link (created, _id).

    Both sort keys are in it, so the next page needs no lookup and survives that link's deletion.
    """
    milliseconds = (created - _EPOCH) // timedelta(milliseconds=1)
    raw = milliseconds.to_bytes(8, "big", signed=True) + object_id.binary
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: object) -> tuple[datetime, ObjectId]:
    """The (created, _id) in ``cursor``; InvalidLink (400) unless it has the cursor's shape.

    Any 27 base64url characters are a position (what the OpenAPI document promises): a
    time outside what datetime holds (years 1..9999) is taken as the nearest one it holds.
    """
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise InvalidLink(_BAD_CURSOR, 400)
    raw = base64.urlsafe_b64decode(cursor + "=")  # 28 base64url characters: always 20 bytes
    milliseconds = int.from_bytes(raw[:8], "big", signed=True)
    milliseconds = min(max(milliseconds, _MIN_CURSOR_MS), _MAX_CURSOR_MS)
    return _EPOCH + timedelta(milliseconds=milliseconds), ObjectId(raw[8:])


# -- the store ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A stored link: ``created`` is timezone-aware UTC, to the millisecond (BSON's precision)."""

    code: str
    url: str
    created: datetime
    clicks: int

    @property
    def created_iso(self) -> str:
        """``created`` in ISO 8601 to the millisecond (``2026-01-02T03:04:05.678+00:00``): the
        API's ``created`` and the pages' ``<time datetime>``, one format for both."""
        return self.created.isoformat(timespec="milliseconds")

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The link as JSON-ready data; ``base_url`` is where the app is served."""
        return {
            "code": self.code,
            "url": self.url,
            "short_url": base_url.rstrip("/") + "/" + self.code,
            "created": self.created_iso,
            "clicks": self.clicks,
        }


_FIELDS = {"_id": 1, "code": 1, "url": 1, "created": 1, "clicks": 1}
_NEWEST_FIRST = [("created", DESCENDING), ("_id", DESCENDING)]


def link_from_document(document: dict[str, Any]) -> Link:
    """A Link from its MongoDB document (naive datetimes, from a non-tz-aware client, are UTC)."""
    created: datetime = document["created"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return Link(
        document["code"], document["url"], created.astimezone(timezone.utc),
        int(document.get("clicks", 0)),
    )  # fmt: skip


class LinkStore:
    """The ``links`` collection of ``database``: documents ``{_id, code, url, created, clicks}``.

    Every method checks its input itself, so no caller can store a bad link or send a
    non-string (``{"$ne": None}``) into a query. ``rng`` draws the generated codes.
    """

    def __init__(self, database: Database[Any], rng: RandomChoice = secrets) -> None:
        self.database = database
        self.collection = database["links"]
        self.rng = rng

    def ensure_indexes(self) -> None:
        """Create the indexes (idempotent): unique codes, and newest-first listing.

        ``create`` relies on the unique index to detect taken codes.
        """
        self.collection.create_index([("code", ASCENDING)], unique=True, name="code_unique")
        self.collection.create_index(_NEWEST_FIRST, name="recent_first")

    def create(self, url: object, code: object = None) -> Link:
        """Validate and store a link with ``code``, or a generated one.

        Raises InvalidLink (see normalize_target_url, validate_custom_code), CodeTaken if the
        custom code is in use, RuntimeError if GENERATE_ATTEMPTS generated codes all were.
        """
        target = normalize_target_url(url)
        custom = validate_custom_code(code)
        now = datetime.now(timezone.utc)
        created = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as BSON stores it
        for _ in range(GENERATE_ATTEMPTS):
            document = {
                "code": custom or generate_code(self.rng),
                "url": target,
                "created": created,
                "clicks": 0,
            }
            try:
                self.collection.insert_one(document)  # adds _id to document
            except DuplicateKeyError:
                if custom:
                    raise CodeTaken(f"The code {custom!r} is already taken.") from None
                continue  # a random code collided: draw another
            return link_from_document(document)
        raise RuntimeError(f"no free code in {GENERATE_ATTEMPTS} attempts; is the code space full?")

    def get(self, code: str) -> Link | None:
        """The link with ``code``, or None. InvalidLink (400) if ``code`` is not a string."""
        document = self.collection.find_one({"code": _code_key(code)}, _FIELDS)
        return link_from_document(document) if document else None

    def record_click(self, code: str) -> Link | None:
        """Count one click and return the link as counted; None if there is no such link.

        One atomic ``$inc`` (no read-modify-write), so concurrent clicks are never lost.
        """
        document = self.collection.find_one_and_update(
            {"code": _code_key(code)},
            {"$inc": {"clicks": 1}},
            projection=_FIELDS,
            return_document=ReturnDocument.AFTER,
        )
        return link_from_document(document) if document else None

    def delete(self, code: str) -> bool:
        """Delete the link with ``code``; whether there was one."""
        return self.collection.delete_one({"code": _code_key(code)}).deleted_count == 1

    def recent(self, limit: int, cursor: str | None = None) -> tuple[list[Link], str | None]:
        """Up to ``limit`` (1..MAX_LIMIT) links, newest first, after ``cursor``.

        Returns the page and the cursor of the next one (None on the last page). Keyset
        paging on (created, _id): no skip, and no duplicates or gaps while links are added.
        Raises InvalidLink (400) for a bad limit or cursor.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidLink(_BAD_LIMIT, 400)
        query: dict[str, Any] = {}
        if cursor is not None:
            created, object_id = decode_cursor(cursor)
            query = {
                "$or": [
                    {"created": {"$lt": created}},
                    {"created": created, "_id": {"$lt": object_id}},
                ]
            }
        # One extra document tells whether another page exists.
        documents = list(self.collection.find(query, _FIELDS).sort(_NEWEST_FIRST).limit(limit + 1))
        page = [link_from_document(document) for document in documents[:limit]]
        if len(documents) <= limit:
            return page, None
        return page, encode_cursor(page[-1].created, documents[limit - 1]["_id"])


def _code_key(code: object) -> str:
    """``code`` if it is a string, for a query; InvalidLink (400) otherwise."""
    if not isinstance(code, str):
        raise InvalidLink("code must be a string.", 400)
    return code
