"""The OpenAPI 3 description of the links app's JSON API, served at ``/api/openapi.json``.

A plain dict, kept true by ``tests/app/test_openapi.py``: every route under ``/api`` (and
the health checks) is described here and nothing else is, real responses validate against
these schemas, and schemathesis finds no 5xx and no undocumented response.
"""

from __future__ import annotations

from typing import Any

from app.links import CUSTOM_CODE, MAX_LIMIT, MAX_URL_LENGTH

CODE_PATTERN = f"^{CUSTOM_CODE.pattern}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


_ERROR_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a value of the wrong type, an unknown field, "
    "a bad limit or cursor.",
    404: "No such short link.",
    409: "The custom code is already taken.",
    413: "The body is larger than MAX_CONTENT_LENGTH (1 MB by default).",
    415: "The body is not application/json.",
    422: "The URL or the custom code breaks a rule (scheme, host, length, reserved code).",
    503: "The database is not answering; try again after Retry-After seconds.",
}

_CODE_PARAMETER = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "The short code (a path that cannot be a code is a 404).",
    "schema": {"type": "string", "pattern": CODE_PATTERN},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "microraab links",
        "version": "1.0.0",
        "description": (
            "A URL shortener's JSON API. Bodies are application/json; no CSRF token is "
            'needed. Every error is `{"error": {"status": <int>, "message": <str>}}`. '
            "Each response carries an X-Request-ID header."
        ),
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/links": {
            "post": {
                "operationId": "createLink",
                "summary": "Shorten a URL, with an optional custom code.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewLink")}},
                },
                "responses": {
                    "201": {
                        "description": "The link was stored.",
                        "headers": {
                            "Location": {
                                "description": "The link's URL in this API.",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {"application/json": {"schema": _ref("Link")}},
                    },
                    **_errors(400, 409, 413, 415, 422, 503),
                },
            },
            "get": {
                "operationId": "listLinks",
                "summary": "A page of links, newest first.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "Page size (default 20, also when empty).",
                        "allowEmptyValue": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "description": "The next_cursor of the previous page (none: the first).",
                        "allowEmptyValue": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of links.",
                        "content": {"application/json": {"schema": _ref("LinkPage")}},
                    },
                    **_errors(400, 503),
                },
            },
        },
        "/api/links/{code}": {
            "parameters": [_CODE_PARAMETER],
            "get": {
                "operationId": "getLink",
                "summary": "One link.",
                "responses": {
                    "200": {
                        "description": "The link.",
                        "content": {"application/json": {"schema": _ref("Link")}},
                    },
                    **_errors(404, 503),
                },
            },
            "delete": {
                "operationId": "deleteLink",
                "summary": "Delete a link.",
                "responses": {
                    "204": {"description": "Deleted."},
                    **_errors(404, 503),
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This description.",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers (never touches the database).",
                "responses": {
                    "200": {
                        "description": "Alive.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: the database answers a ping.",
                "responses": {
                    "200": {
                        "description": "Ready.",
                        "content": {"application/json": {"schema": _ref("Readiness")}},
                    },
                    "503": {
                        "description": "The database does not answer (within ~2 s).",
                        "headers": {"Retry-After": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": _ref("Readiness")}},
                    },
                },
            }
        },
    },
    "components": {
        "schemas": {
            "NewLink": {
                "type": "object",
                "required": ["url"],
                "additionalProperties": False,
                "properties": {
                    "url": {
                        "type": "string",
                        "description": "An http(s) URL with a host and no credentials.",
                        "maxLength": MAX_URL_LENGTH,
                    },
                    "code": {
                        "type": ["string", "null"],
                        "description": "A custom code; omitted, null or empty for a random one.",
                        "pattern": f"^$|{CODE_PATTERN}",
                    },
                },
            },
            "Link": {
                "type": "object",
                "required": ["code", "url", "short_url", "created", "clicks"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": CODE_PATTERN},
                    "url": {"type": "string", "maxLength": MAX_URL_LENGTH},
                    "short_url": {"type": "string"},
                    "created": {"type": "string", "format": "date-time"},
                    "clicks": {"type": "integer", "minimum": 0},
                },
            },
            "LinkPage": {
                "type": "object",
                "required": ["links", "next_cursor"],
                "additionalProperties": False,
                "properties": {
                    "links": {"type": "array", "maxItems": MAX_LIMIT, "items": _ref("Link")},
                    "next_cursor": {"type": ["string", "null"]},
                },
            },
            "Readiness": {
                "type": "object",
                "required": ["status"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "string", "enum": ["ready", "unavailable"]},
                    "database": {
                        "type": "string",
                        "description": "The exception's class name when unavailable.",
                    },
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["status", "message"],
                        "additionalProperties": False,
                        "properties": {
                            "status": {"type": "integer", "minimum": 400, "maximum": 599},
                            "message": {"type": "string"},
                        },
                    }
                },
            },
        },
        "responses": {
            f"Error{status}": {
                **_error(description),
                **(
                    {"headers": {"Retry-After": {"schema": {"type": "string"}}}}
                    if status == 503
                    else {}
                ),
            }
            for status, description in _ERROR_DESCRIPTIONS.items()
        },
    },
}
