"""The JSON API: create, list, read and delete links.

Errors are JSON (``{"error": {"status": ..., "message": ...}}``); no CSRF token is needed,
because the API only accepts ``application/json`` bodies, which a browser cannot send
cross-site without a CORS preflight.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import BadRequest, NotFound

from app.links import Link, parse_limit
from app.openapi import OPENAPI
from app.web import link_store
from microraab import JSONResponse, Module, Request, Response

api = Module("api", url_prefix="/api", api=True, csrf=False)

CREATE_FIELDS = frozenset({"url", "code"})


def link_json(request: Request, link: Link) -> dict[str, Any]:
    """The API's view of a link, with its absolute short URL."""
    return link.to_json(request.host_url)


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 415 for another content type, 400 for anything else."""
    data = request.get_json()
    if not isinstance(data, dict):
        raise BadRequest(f"Expected a JSON object, got {type(data).__name__}.")
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(map(repr, unknown))}.")
    return data


@api.route("/links", methods=["POST"])
def create_link(request: Request) -> Response:
    """``{"url": ..., "code": optional}`` -> 201 with the link and its Location."""
    data = json_object(request)
    if "url" not in data:
        raise BadRequest("The field 'url' is required.")
    link = link_store(request).create(data["url"], data.get("code"))
    location = request.url_for("api.get_link", code=link.code, _external=True)
    return JSONResponse(link_json(request, link), 201, {"Location": location})


@api.route("/links")
def list_links(request: Request) -> dict[str, Any]:
    """A page of links, newest first: ``?limit=1..100&cursor=<next_cursor>``."""
    limit = parse_limit(request.args.get("limit"))
    links, next_cursor = link_store(request).recent(limit, request.args.get("cursor") or None)
    return {"links": [link_json(request, link) for link in links], "next_cursor": next_cursor}


@api.route("/links/<code:code>")
def get_link(request: Request, code: str) -> dict[str, Any]:
    """One link, or 404."""
    link = link_store(request).get(code)
    if link is None:
        raise NotFound(f"There is no short link {code!r}.")
    return link_json(request, link)


@api.route("/links/<code:code>", methods=["DELETE"])
def delete_link(request: Request, code: str) -> Response:
    """Delete a link: 204, or 404 if there was none."""
    if not link_store(request).delete(code):
        raise NotFound(f"There is no short link {code!r}.")
    return Response(status=204)


@api.route("/openapi.json")
def openapi(request: Request) -> Response:
    """The OpenAPI 3 description of this API (see :mod:`app.openapi`)."""
    return JSONResponse(OPENAPI)
