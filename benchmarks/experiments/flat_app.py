"""An upper bound: microraab's bench app with its pipeline flattened into one function.

For a request to a route without variables (every TechEmpower test), it builds the same
Request, calls the same view and sends the same Response with its request id, but skips
every stage in between (match_request, preprocess_request, dispatch_request,
make_response, process_response, send_response). Anything else goes to microraab's
pipeline. It reads microraab's private state, and drops what the stages do (hooks,
CSRF, trusted hosts, security headers on HTML): a measurement, not a way to run an app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.targets.microraab_app import app as _app
from microraab.logging import _process_ids

_pipeline = _app.wsgi_app
_static_matches = _app.router._static_matches
_id_header = _app.config["REQUEST_ID_HEADER"]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    request = _app.request_class(
        environ, _app, f"{_process_ids.prefix}{next(_process_ids.counter):x}"
    )
    cached = _static_matches.get((request.path, request.method))
    if cached is None or "HTTP_X_REQUEST_ID" in environ:
        return _pipeline(environ, start_response)
    request.route = route = cached[0]
    assert route.view is not None
    response = route.view(request)
    items = response.headers._list
    items.append((_id_header, request.id))
    start_response(response._status, items)
    return response.response  # type: ignore[no-any-return]
