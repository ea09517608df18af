"""Error pages: an ``HTTPException`` rendered as HTML for people or JSON for programs.

JSON is chosen for routes (or Modules) marked ``api=True``, for unmatched paths under an
API module's prefix, and for clients whose ``Accept`` prefers ``application/json``.
The body never contains a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from microraab.wrappers import JSONResponse, Response

if TYPE_CHECKING:  # pragma: no cover
    from microraab.wrappers import Request

_HTML_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{code} {name}</title></head>
<body><h1>{code} {name}</h1><p>{message}</p></body>
</html>
"""


def wants_json(request: Request) -> bool:
    """Whether the error for ``request`` should be JSON rather than an HTML page."""
    route = request.route
    error = request.routing_exception
    if route is None and isinstance(error, MethodNotAllowed) and error.valid_methods:
        # The path matched a route, only not for this method: that route decides.
        route = request.app.router.route_for(request.path, next(iter(error.valid_methods)))
    if route is not None and route.api:
        return True
    if route is None and any(request.path.startswith(p) for p in request.app.api_prefixes):
        return True
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


def error_message(error: HTTPException) -> str:
    """What to tell the person: the exception's description, or its name."""
    return error.description or error.name


def error_response(
    request: Request, error: HTTPException, *, use_template: bool = True
) -> Response:
    """The default response for ``error``, with its headers (``Allow``, ...) kept.

    HTML pages use ``ERROR_TEMPLATE`` when it is set, unless ``use_template`` is False.
    """
    code = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    message = error_message(error)
    if wants_json(request):
        body = {"error": {"status": code, "message": message}}
        return JSONResponse(body, code, headers)
    template = request.app.config.get("ERROR_TEMPLATE")
    if template and use_template:
        response = request.app.render(
            request, template, status=code, name=error.name, message=message
        )
        response.status_code = code
        response.headers.extend(headers)
        return response
    page = _HTML_PAGE.format(code=code, name=escape(error.name), message=escape(message))
    return Response(page, code, headers)
