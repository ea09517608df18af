"""The OpenAPI 3 description of the links app's JSON API, served at ``/api/openapi.json``.

A plain dict, kept true by ``tests/app/test_openapi.py``: every route under ``/api`` (and
the health checks) is described here and nothing else is, real responses validate against
these schemas, and schemathesis finds no 5xx and no undocumented response.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bson import ObjectId

from app.links import CUSTOM_CODE, MAX_LIMIT, MAX_URL_LENGTH, RESERVED_CODES, encode_cursor

CODE_PATTERN = f"^{CUSTOM_CODE.pattern}$"
# The reserved codes, any case (JSON Schema's regexes have no flag for it): a custom code
# must not match.
RESERVED_PATTERN = "^(?:{})$".format(
    "|".join(
        "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in code)
        for code in sorted(RESERVED_CODES)
        if CUSTOM_CODE.fullmatch(code)
    )
)
# What a generator needs to make a URL the API stores: http(s), a host of lowercase ASCII
# labels (the last not a number), a port, then RFC 3986 path and query characters. A
# subset of what normalize_target_url accepts (any case, IDN hosts, IPv6, %-escapes and
# fragments are accepted too), kept simple because generators explore every branch of it;
# tests/app/test_openapi.py checks that every match is stored.
_LABEL = "[a-z0-9-]{1,20}"
_PATH_CHARACTER = "[A-Za-z0-9._~!$&'()*+,;=:@/-]"
URL_PATTERN = (
    f"^https?://(?:{_LABEL}\\.){{0,3}}[a-z][a-z0-9-]{{0,19}}(?::[1-9][0-9]{{0,3}})?"
    f"(?:/{_PATH_CHARACTER}*)?(?:\\?(?:{_PATH_CHARACTER}|\\?)*)?$"
)
URL_EXAMPLE = "https://example.com/a/long/path?with=query"
CODE_EXAMPLE = "docs-1"
CURSOR_PATTERN = "^[A-Za-z0-9_-]{27}$"
CURSOR_EXAMPLE = encode_cursor(
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), ObjectId("6957358d0123456789abcdef")
)
LINK_EXAMPLE = {
    "code": CODE_EXAMPLE,
    "url": URL_EXAMPLE,
    "short_url": f"http://127.0.0.1:8000/{CODE_EXAMPLE}",
    "created": "2026-01-02T03:04:05.678+00:00",
    "clicks": 0,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


# Not the app's answer but gunicorn's, before the app sees the request (gunicorn.conf.py's
# limit_request_line): its own HTML page. schemathesis found it with a long query string.
_URI_TOO_LONG = {
    "414": {
        "description": "The request line is longer than gunicorn's limit_request_line "
        "(4094 bytes); gunicorn's own HTML page.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


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
    "schema": {"type": "string", "pattern": CODE_PATTERN, "minLength": 3, "maxLength": 32},
    "example": CODE_EXAMPLE,
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
                    "content": {
                        "application/json": {
                            "schema": _ref("NewLink"),
                            "example": {"url": URL_EXAMPLE, "code": CODE_EXAMPLE},
                        }
                    },
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
                        "content": {
                            "application/json": {"schema": _ref("Link"), "example": LINK_EXAMPLE}
                        },
                        # For generators (schemathesis's stateful phase): a created link can
                        # be read and deleted.
                        "links": {
                            "GetCreatedLink": {
                                "operationId": "getLink",
                                "parameters": {"code": "$response.body#/code"},
                            },
                            "DeleteCreatedLink": {
                                "operationId": "deleteLink",
                                "parameters": {"code": "$response.body#/code"},
                            },
                        },
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
                        "example": 20,
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "description": (
                            "The next_cursor of the previous page (none, or empty: the first). "
                            "Any 27 base64url characters are a position; another shape is a 400."
                        ),
                        "allowEmptyValue": True,
                        "schema": {
                            "type": "string",
                            "pattern": CURSOR_PATTERN,
                            "minLength": 27,
                            "maxLength": 27,
                        },
                        "example": CURSOR_EXAMPLE,
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of links.",
                        "content": {
                            "application/json": {
                                "schema": _ref("LinkPage"),
                                "example": {"links": [LINK_EXAMPLE], "next_cursor": CURSOR_EXAMPLE},
                            }
                        },
                        "links": {
                            "GetListedLink": {
                                "operationId": "getLink",
                                "parameters": {"code": "$response.body#/links/0/code"},
                            }
                        },
                    },
                    **_errors(400, 503),
                    **_URI_TOO_LONG,
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
                        "content": {
                            "application/json": {"schema": _ref("Link"), "example": LINK_EXAMPLE}
                        },
                        "links": {
                            "DeleteReadLink": {
                                "operationId": "deleteLink",
                                "parameters": {"code": "$response.body#/code"},
                            }
                        },
                    },
                    **_errors(404, 503),
                    **_URI_TOO_LONG,
                },
            },
            "delete": {
                "operationId": "deleteLink",
                "summary": "Delete a link.",
                "responses": {
                    "204": {"description": "Deleted."},
                    **_errors(404, 503),
                    **_URI_TOO_LONG,
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
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "required": ["openapi", "paths"]},
                                "example": {"openapi": "3.1.0", "paths": {}},
                            }
                        },
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
                        "content": {"text/plain": {"schema": {"type": "string"}, "example": "ok"}},
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
                        "content": {
                            "application/json": {
                                "schema": _ref("Readiness"),
                                "example": {"status": "ready"},
                            }
                        },
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
                        "format": "uri",
                        "description": (
                            "An http(s) URL with a host and no credentials. The pattern is "
                            "what a generator can rely on; internationalised hosts, IPv6 "
                            "literals and other RFC 3986 URLs are accepted too, and stored "
                            "with the scheme and host lowercased (IDN as punycode)."
                        ),
                        "pattern": URL_PATTERN,
                        "minLength": 8,
                        "maxLength": MAX_URL_LENGTH,
                        "examples": [URL_EXAMPLE],
                    },
                    "code": {
                        "type": ["string", "null"],
                        "description": (
                            "A custom code; omitted, null or empty for a random one. The "
                            "reserved names (api, static, healthz, ... in any case) are a 422."
                        ),
                        "pattern": f"^$|{CODE_PATTERN}",
                        "maxLength": 32,
                        # "type" too: a bare pattern holds for null, so "not" would refuse it.
                        "not": {"type": "string", "pattern": RESERVED_PATTERN},
                        "examples": [CODE_EXAMPLE],
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
                    "short_url": {"type": "string", "format": "uri"},
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
                    "next_cursor": {
                        "type": ["string", "null"],
                        "pattern": CURSOR_PATTERN,
                        "description": "The cursor of the next page; null on the last page.",
                    },
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
