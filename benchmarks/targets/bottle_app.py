# Bottle ships no type information: its decorators are untyped.
# mypy: disallow-untyped-decorators=False
"""Bottle, with Jinja2 for the fortunes page (the same template as the others)."""

from __future__ import annotations

import json
from typing import Any

from bottle import Bottle, request, response  # type: ignore[import-untyped]

from app import worlds
from benchmarks.targets.shared import (
    HELLO,
    HTML_TYPE,
    JSON_TYPE,
    TEXT_TYPE,
    database_provider,
    fortunes_template,
)

app = Bottle()
provider = database_provider()
template = fortunes_template()


@app.route("/json")
def json_view() -> dict[str, Any]:
    return {"message": HELLO}  # Bottle encodes a dict as JSON itself


@app.route("/plaintext")
def plaintext() -> str:
    response.content_type = TEXT_TYPE
    return HELLO


@app.route("/db")
def db() -> dict[str, Any]:
    return worlds.random_world(provider.database)


@app.route("/queries")
def queries() -> str:
    count = worlds.parse_queries(request.query.get("queries"))
    response.content_type = JSON_TYPE
    return json.dumps(worlds.random_worlds(provider.database, count))


@app.route("/fortunes")
def fortunes() -> str:
    response.content_type = HTML_TYPE
    return template.render(fortunes=worlds.fortunes(provider.database))


@app.route("/updates")
def updates() -> str:
    count = worlds.parse_queries(request.query.get("queries"))
    response.content_type = JSON_TYPE
    return json.dumps(worlds.update_worlds(provider.database, count))
