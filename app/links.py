"""Links: the rules for target URLs and codes, and their storage in MongoDB.

No web code here. Every value from outside is checked for its type before anything else,
so ``{"url": {"$gt": ""}}`` is refused here and never reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

MAX_URL_LENGTH = 2048
CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 7
CUSTOM_CODE = re.compile(r"[A-Za-z0-9_-]{3,32}")
RESERVED_CODES = frozenset(
    {"api", "static", "healthz", "readyz", "bench", "_xray", "admin", "login", "logout",
     "favicon.ico", "robots.txt"}
)  # fmt: skip
MAX_LIMIT = 100
_GENERATE_ATTEMPTS = 5
# Anything at or below space, and DEL: never valid inside a URL we store.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


class InvalidLink(ValueError):
    """Input that cannot become a link: ``status`` 400 (wrong type) or 422 (breaks a rule)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class CodeTaken(Exception):
    """The custom code is already used by another link (409)."""


def normalize_target_url(value: object) -> str:
    """The URL to store for ``value``: http(s), a host, no credentials, IDN as punycode.

    Raises InvalidLink (400 for a non-string, 422 for a string that breaks a rule).
    """
    if not isinstance(value, str):
        raise InvalidLink("url must be a string.", 400)
    url = value.strip()
    if not url:
        raise InvalidLink("Enter a URL to shorten.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidLink(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if _CONTROL_OR_SPACE.search(url):
        raise InvalidLink("The URL may not contain spaces or control characters.")
    scheme, separator, _ = url.partition(":")
    if not separator or scheme.lower() not in ("http", "https"):
        raise InvalidLink("Only http:// and https:// URLs can be shortened.")
    if not url[len(scheme) + 1 :].startswith("//"):
        raise InvalidLink("The URL must start with http:// or https:// and a host name.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidLink(f"The URL is malformed: {error}.") from None
    if "@" in parts.netloc:
        # user:password@host is how phishing links hide the real host.
        raise InvalidLink("URLs with a user name or password are not accepted.")
    host = parts.hostname or ""
    if not host:
        raise InvalidLink("The URL has no host name.")
    return urlunsplit(
        (scheme.lower(), _netloc(host, parts.netloc, port), parts.path, parts.query, parts.fragment)
    )


def _netloc(host: str, netloc: str, port: int | None) -> str:
    """``host[:port]`` with the host lowercased, punycoded, IPv6 literals checked and bracketed."""
    if netloc.startswith("["):
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidLink("The URL's IPv6 address is not valid.") from None
        name = f"[{address.compressed}]"
    else:
        try:
            name = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise InvalidLink("The URL's host name is not valid.") from None
        if not re.fullmatch(r"[a-z0-9._-]+", name) or ".." in name:
            raise InvalidLink("The URL's host name is not valid.")
    return f"{name}:{port}" if port is not None else name


def validate_custom_code(value: object) -> str | None:
    """``value`` as a custom code, or None to generate one.

    Raises InvalidLink: 400 for a non-string, 422 for a code that breaks the rule or is reserved.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidLink("code must be a string.", 400)
    if not CUSTOM_CODE.fullmatch(value):
        raise InvalidLink("A custom code is 3 to 32 characters: letters, digits, '_' and '-'.")
    if value.lower() in RESERVED_CODES:
        raise InvalidLink(f"The code {value!r} is reserved; choose another.")
    return value


def generate_code() -> str:
    """A random code: 7 base62 characters (62**7, about 3.5e12 of them)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def parse_limit(value: str | None, default: int = 20) -> int:
    """A page size from a query string: 1..100; InvalidLink (400) otherwise."""
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidLink(f"limit must be a whole number from 1 to {MAX_LIMIT}.", 400)
    return int(value)


def encode_cursor(object_id: ObjectId) -> str:
    """An opaque, URL-safe page cursor for the item ``object_id``."""
    return base64.urlsafe_b64encode(object_id.binary).decode().rstrip("=")


def decode_cursor(cursor: str) -> ObjectId:
    """The ObjectId in ``cursor``; InvalidLink (400) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 12:
            raise ValueError
        return ObjectId(raw)
    except (ValueError, binascii.Error):
        raise InvalidLink(
            "invalid cursor: use the next_cursor of the previous page.", 400
        ) from None


@dataclass(frozen=True, slots=True)
class Link:
    """A stored link."""

    code: str
    url: str
    created: datetime
    clicks: int

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The link as JSON-ready data; ``base_url`` is where the app is served."""
        return {
            "code": self.code,
            "url": self.url,
            "short_url": base_url.rstrip("/") + "/" + self.code,
            "created": self.created.isoformat(),
            "clicks": self.clicks,
        }


_FIELDS = {"_id": 1, "code": 1, "url": 1, "created": 1, "clicks": 1}


def link_from_document(document: dict[str, Any]) -> Link:
    """A Link from its MongoDB document."""
    created = document["created"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return Link(document["code"], document["url"], created, int(document.get("clicks", 0)))


class LinkStore:
    """The ``links`` collection of ``database``: documents ``{_id, code, url, created, clicks}``."""

    def __init__(self, database: Database[Any]) -> None:
        self.collection = database["links"]

    def ensure_indexes(self) -> None:
        """Create the indexes (idempotent): unique codes, and newest-first listing."""
        self.collection.create_index([("code", ASCENDING)], unique=True, name="code_unique")
        self.collection.create_index(
            [("created", DESCENDING), ("_id", DESCENDING)], name="recent_first"
        )

    def create(self, url: object, code: object = None) -> Link:
        """Validate and store a link; InvalidLink, or CodeTaken for a custom code in use."""
        target = normalize_target_url(url)
        custom = validate_custom_code(code)
        created = datetime.now(timezone.utc).replace(microsecond=0)
        for _ in range(1 if custom else _GENERATE_ATTEMPTS):
            document = {"code": custom or generate_code(), "url": target, "created": created,
                        "clicks": 0}  # fmt: skip
            try:
                self.collection.insert_one(document)
            except DuplicateKeyError:
                if custom:
                    raise CodeTaken(f"The code {custom!r} is already taken.") from None
                continue  # a random code collided: draw another
            return link_from_document(document)
        raise RuntimeError("could not find a free code; the code space is nearly full")

    def get(self, code: str) -> Link | None:
        """The link with ``code``, or None."""
        if not isinstance(code, str):
            raise InvalidLink("code must be a string.", 400)
        document = self.collection.find_one({"code": code}, _FIELDS)
        return link_from_document(document) if document else None

    def record_click(self, code: str) -> Link | None:
        """Count one click, atomically (``$inc``), and return the link; None if unknown."""
        if not isinstance(code, str):
            raise InvalidLink("code must be a string.", 400)
        document = self.collection.find_one_and_update(
            {"code": code},
            {"$inc": {"clicks": 1}},
            projection=_FIELDS,
            return_document=ReturnDocument.AFTER,
        )
        return link_from_document(document) if document else None

    def delete(self, code: str) -> bool:
        """Delete the link with ``code``; whether there was one."""
        if not isinstance(code, str):
            raise InvalidLink("code must be a string.", 400)
        return self.collection.delete_one({"code": code}).deleted_count == 1

    def recent(self, limit: int, cursor: str | None = None) -> tuple[list[Link], str | None]:
        """Up to ``limit`` links, newest first, after ``cursor``; and the next page's cursor."""
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidLink(f"limit must be a whole number from 1 to {MAX_LIMIT}.", 400)
        query: dict[str, Any] = {}
        if cursor is not None:
            if not isinstance(cursor, str):
                raise InvalidLink("invalid cursor", 400)
            last = self.collection.find_one({"_id": decode_cursor(cursor)}, {"created": 1})
            if last is None:
                raise InvalidLink("invalid cursor: that page no longer exists.", 400)
            query = {
                "$or": [
                    {"created": {"$lt": last["created"]}},
                    {"created": last["created"], "_id": {"$lt": last["_id"]}},
                ]
            }
        documents = list(
            self.collection.find(query, _FIELDS)
            .sort([("created", DESCENDING), ("_id", DESCENDING)])
            .limit(limit + 1)
        )
        next_cursor = encode_cursor(documents[limit - 1]["_id"]) if len(documents) > limit else None
        return [link_from_document(d) for d in documents[:limit]], next_cursor
