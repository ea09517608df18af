"""A bare WSGI callable: the floor of framework overhead (no request or response objects)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from app import worlds
from benchmarks.targets.shared import (
    HELLO,
    HELLO_BYTES,
    HTML_TYPE,
    JSON_TYPE,
    TEXT_TYPE,
    database_provider,
    fortunes_template,
)

provider = database_provider()
template = fortunes_template()


def _queries(environ: dict[str, Any]) -> int:
    values = parse_qs(environ.get("QUERY_STRING", "")).get("queries")
    return worlds.parse_queries(values[0] if values else None)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/plaintext":
        body, content_type = HELLO_BYTES, TEXT_TYPE
    elif path == "/json":
        body, content_type = json.dumps({"message": HELLO}).encode(), JSON_TYPE
    elif path == "/db":
        body, content_type = json.dumps(worlds.random_world(provider.database)).encode(), JSON_TYPE
    elif path == "/queries":
        found = worlds.random_worlds(provider.database, _queries(environ))
        body, content_type = json.dumps(found).encode(), JSON_TYPE
    elif path == "/fortunes":
        rows = worlds.fortunes(provider.database)
        body, content_type = template.render(fortunes=rows).encode(), HTML_TYPE
    elif path == "/updates":
        updated = worlds.update_worlds(provider.database, _queries(environ))
        body, content_type = json.dumps(updated).encode(), JSON_TYPE
    else:
        start_response("404 Not Found", [("Content-Type", TEXT_TYPE), ("Content-Length", "9")])
        return [b"Not Found"]
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
