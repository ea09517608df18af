"""Request and Response: Werkzeug's wrappers, plus what an application needs from them.

The Request knows its app (for limits, sessions and ``url_for``) and what routing found;
the Response adds a JSON constructor and defaults to HTML.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, cast

from markupsafe import escape
from werkzeug.datastructures import EnvironHeaders, Headers
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import MapAdapter
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response as _Response
from werkzeug.wsgi import LimitedStream, get_input_stream

from microraab import json
from microraab.routing import relative_url

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

    from microraab.app import App
    from microraab.routing import Route
    from microraab.sessions import Session


HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]] | Headers


def _wsgi_str(value: str) -> str:
    """A path from the environ as text: PEP 3333 carries its UTF-8 bytes as latin-1."""
    return value.encode("latin1").decode(errors="replace")


class _JSONModule:
    """What Werkzeug's ``Request.json_module`` expects: ``loads`` and ``dumps``."""

    loads = staticmethod(json.loads)
    dumps = staticmethod(json.dumps)


class Request(_Request):
    """An HTTP request, passed explicitly to every view, hook and handler.

    Besides Werkzeug's API: ``app``, ``id`` (the request id), ``route`` and ``view_args``
    (set by routing), ``session`` (read from the cookie on first use), ``url_for``.
    """

    json_module = _JSONModule  # type: ignore[assignment]
    shallow = False  # a class attribute: one assignment less a request
    route: Route | None = None
    view_args: dict[str, Any]
    routing_exception: HTTPException | None = None

    def __init__(self, environ: WSGIEnvironment, app: App, request_id: str = "-") -> None:
        # PERF: Werkzeug's __init__ reads eight values from the environ; routing needs two,
        # method and path, and the other six are read on first use (the cached properties
        # below): ~1 µs less a request. Nor is environ["werkzeug.request"] set, a
        # reference cycle that would leave every request to the cyclic GC (~8 µs).
        # tests/microraab/test_wrappers.py checks every value against Werkzeug's.
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO") or ""
        if not path.isascii():  # PERF: for ASCII, nearly every path, the round trip is a no-op
            path = _wsgi_str(path)
        # Werkzeug's "/" + path.lstrip("/"), without building a new string for the usual path.
        self.path = path if path[:1] == "/" and path[1:2] != "/" else "/" + path.lstrip("/")
        self.app = app
        self.id = request_id
        self.view_args = {}

    @cached_property
    def scheme(self) -> str:  # type: ignore[override]
        return self.environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]

    @cached_property
    def server(self) -> tuple[str, int | None] | None:  # type: ignore[override]
        name = self.environ.get("SERVER_NAME")
        if name is None:
            return None
        try:
            port: int | None = int(self.environ.get("SERVER_PORT"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            port = None  # a unix socket
        return name, port

    @cached_property
    def root_path(self) -> str:  # type: ignore[override]
        return _wsgi_str(self.environ.get("SCRIPT_NAME") or "").rstrip("/")

    @cached_property
    def query_string(self) -> bytes:  # type: ignore[override]
        return self.environ.get("QUERY_STRING", "").encode("latin1")  # type: ignore[no-any-return]

    @cached_property
    def headers(self) -> EnvironHeaders:  # type: ignore[override]
        return EnvironHeaders(self.environ)

    @cached_property
    def remote_addr(self) -> str | None:  # type: ignore[override]
        return self.environ.get("REMOTE_ADDR")

    # Limits come from the app's config; they are read only when a body is parsed.
    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        return self.app.config["MAX_CONTENT_LENGTH"]  # type: ignore[no-any-return]

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        return self.app.config["MAX_FORM_MEMORY_SIZE"]  # type: ignore[no-any-return]

    @property
    def max_form_parts(self) -> int | None:  # type: ignore[override]
        return self.app.config["MAX_FORM_PARTS"]  # type: ignore[no-any-return]

    @cached_property
    def stream(self) -> IO[bytes]:
        """Werkzeug's guarded input stream, with two fixes: a body over ``max_content_length``
        is 413 however it is framed, and a body the server cannot read is 400."""
        limit = self.max_content_length
        if limit is None or "wsgi.input_terminated" not in self.environ:
            guarded = get_input_stream(self.environ, max_content_length=limit)
            return cast(IO[bytes], _BodyStream(guarded))
        if (self.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        # Werkzeug stops a server-terminated (chunked) body at the limit and returns what
        # it read, so a longer one would arrive cut short: bad JSON (400) or a form missing
        # its tail. One byte past the limit tells "exactly at" from "over".
        body = LimitedStream(self.environ["wsgi.input"], limit + 1, is_max=True)
        return cast(IO[bytes], _BodyStream(cast(IO[bytes], body), limit))

    @property
    def endpoint(self) -> str | None:
        """The matched route's endpoint, or None when routing failed."""
        return self.route.endpoint if self.route is not None else None

    @property
    def module(self) -> str | None:
        """The name of the Module the matched route belongs to, if any."""
        return self.route.module if self.route is not None else None

    @property
    def session_loaded(self) -> bool:
        """Whether a view or hook has touched ``session`` (so it may need saving)."""
        return "session" in self.__dict__

    @cached_property
    def session(self) -> Session:
        """The signed-cookie session, read on first access (never before)."""
        return self.app.session_interface.open_session(self)

    @cached_property
    def url_adapter(self) -> MapAdapter:
        """The URL map bound to this request's host, scheme and script root."""
        return self.app.router.bind_to_request(self, self.app.config["SERVER_NAME"])

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _external: bool | None = None,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        **values: Any,
    ) -> str:
        """Build a URL for ``endpoint``; werkzeug's BuildError names what is missing."""
        if not _external and _anchor is _method is _scheme is None:
            # PERF: a relative URL without App.url_for's keywords passed on (~0.5 µs).
            url = relative_url(self.url_adapter, endpoint, values)
            if url is not None:
                return url
        return self.app.url_for(
            endpoint,
            _request=self,
            _external=_external,
            _anchor=_anchor,
            _method=_method,
            _scheme=_scheme,
            **values,
        )

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Turn a bad JSON body into 415 (wrong type) or 400 (malformed) with a clear message."""
        if e is None:
            raise UnsupportedMediaType(
                "Expected a JSON body with 'Content-Type: application/json'"
                f" (got {self.mimetype or 'no content type'!r})."
            )
        raise BadRequest(f"The request body is not valid JSON: {e}")


class _BodyStream(io.RawIOBase):
    """A request body whose read errors are the client's: 400, not 500.

    Werkzeug turns the OSError or ValueError of a broken connection into a 400 already;
    a server may raise its own exception for a body it cannot parse (gunicorn raises
    ``InvalidChunkSize`` from ``wsgi.input.read`` for bad chunked encoding), which would
    otherwise reach the view as an unexplained 500.
    """

    def __init__(self, stream: IO[bytes], limit: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when -1), as the wrapped stream reads them;
        RequestEntityTooLarge once more than ``limit`` bytes have been read."""
        try:
            data = self._stream.read(-1 if size is None else size)
        except HTTPException:
            raise  # 413, or Werkzeug's own 400 for a disconnect
        except Exception as e:
            raise BadRequest(
                f"The request body could not be read ({type(e).__name__}: {e})."
            ) from e
        if self._limit is not None:
            self._position += len(data)
            if self._position > self._limit:
                raise RequestEntityTooLarge()
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Response(_Response):
    """An HTTP response; HTML unless told otherwise."""

    default_mimetype = "text/html"
    default_content_type = "text/html; charset=utf-8"

    def __init__(
        self,
        response: Iterable[bytes] | Iterable[str] | bytes | str | None = None,
        status: int | str | None = None,
        headers: HeadersLike | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        if headers or not isinstance(response, (bytes, str)) or direct_passthrough:
            if content_type is None and mimetype is None and not headers:
                # PERF: saves ~1.5 µs: without a type, Werkzeug looks for a Content-Type in
                # the (empty) headers, and Headers answers "not there" by raising KeyError.
                content_type = self.default_content_type
            super().__init__(response, status, headers, mimetype, content_type, direct_passthrough)
            return
        # PERF: a buffered body and no headers, what nearly every view returns, set up
        # here rather than by Werkzeug's general path: 1.4 -> 0.5 µs. Its two headers go
        # straight into the list (a content type checked once, a number), and a known
        # status takes its line from a table instead of Werkzeug's parsing setter. It sets
        # exactly the attributes Werkzeug's __init__ sets; tests/microraab/test_wrappers.py
        # compares.
        if content_type is None:
            if mimetype is None:
                content_type = self.default_content_type
            else:
                content_type = _content_types.get(mimetype) or _content_type(mimetype)
        else:
            check_header_value(content_type)
        data = response.encode() if isinstance(response, str) else response
        self.headers = headers = Headers.__new__(Headers)  # its __init__ only sets _list
        headers._list = [("Content-Type", content_type)]
        if self.automatically_set_content_length:
            headers._list.append(("Content-Length", str(len(data))))
        if status is None:
            status = self.default_status
        line = _STATUS_LINES.get(status) if isinstance(status, int) else None
        if line is None:
            self.status = status
        else:
            self._status, self._status_code = line, int(status)
        self.direct_passthrough = False
        self._on_close = []
        self.response = [data]

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        """The headers as sent: Werkzeug's, and no Content-Type on a 1xx or 204.

        A 204 has no content, so no type for it (RFC 9110 15.3.5; PEP 3333's checker,
        ``wsgiref.validate``, refuses one). Werkzeug drops the body and Content-Length of
        these, and a 304's entity headers, but keeps the type of a 204.
        """
        headers = super().get_wsgi_headers(environ)
        status = self.status_code
        if status == 204 or 100 <= status < 200:
            headers.remove("Content-Type")
        return headers


# "200 OK" for 200, as Werkzeug's status setter writes it.
_STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}
_content_types: dict[str, str] = {}


def _content_type(mimetype: str) -> str:
    """``mimetype`` with ``; charset=utf-8`` where it takes one, as Werkzeug adds it;
    remembered in ``_content_types``."""
    content_type = get_content_type(mimetype, "utf-8")
    check_header_value(content_type)
    if len(_content_types) < 64:  # PERF: ~0.3 µs a response; mimetypes come from code
        _content_types[mimetype] = content_type
    return content_type


def check_header_value(value: str) -> None:
    """Refuse what Werkzeug's Headers refuses: a newline would split the header."""
    if "\n" in value or "\r" in value:
        raise ValueError("Header values must not contain newline characters.")


class PlainTextResponse(Response):
    """A ``text/plain`` response in UTF-8 (what ``mimetype="text/plain"`` gives, ~0.2 µs less)."""

    default_mimetype = "text/plain"
    default_content_type = "text/plain; charset=utf-8"


class JSONResponse(Response):
    """A response whose body is ``value`` encoded as JSON (``application/json``)."""

    default_mimetype = "application/json"
    default_content_type = "application/json"

    def __init__(
        self,
        value: Any,
        status: int | str | None = None,
        headers: HeadersLike | None = None,
    ) -> None:
        super().__init__(json.dumps(value), status, headers)


def redirect(location: str, code: int = 302) -> Response:
    """A redirect response to ``location`` (302 by default; 303 after a form post)."""
    response = Response(
        f'<!doctype html>\n<title>Redirecting...</title>\n<p>Redirecting to <a href="'
        f'{escape(location)}">{escape(location)}</a>.</p>',
        code,
    )
    response.headers["Location"] = location
    return response
