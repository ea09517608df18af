"""Request X-ray (development mode only): what each request did, stage by stage, with timings.

Turned on by ``XRAY = True`` in development mode, it wraps the app's pipeline methods and
hooks with timers, so that when it is off there is no code of it on the request path at
all. Each request's trace is kept (the last ``XRAY_KEEP``), sent as a ``Server-Timing``
header, and shown at ``/_xray/`` and ``/_xray/<request-id>``. Anything else that wants to
appear in the trace (the demo app's MongoDB command listener) calls :func:`record_event`.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import NotFound

from microraab.proxies import ORIGINAL_KEY

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Response as WerkzeugResponse

    from microraab.app import App
    from microraab.wrappers import Request, Response

PREFIX = "/_xray"
# The trace of the request being served, per thread or greenlet: pymongo's listeners are
# called without a request, so this is how they find it. Only set while X-ray is on.
_current: ContextVar[Trace | None] = ContextVar("microraab_xray_trace", default=None)


@dataclass
class Event:
    """One thing a request did: a pipeline stage, a hook, a template, a database command."""

    kind: str
    name: str
    detail: str
    start_ms: float
    duration_ms: float


@dataclass
class Trace:
    """Everything recorded for one request."""

    request_id: str
    method: str
    path: str
    environ: dict[str, str]
    started: float
    events: list[Event] = field(default_factory=list)
    route: str = ""
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    total_ms: float = 0.0

    def add(self, kind: str, name: str, detail: str, start: float, end: float) -> None:
        """Record an event that ran from ``start`` to ``end`` (perf_counter seconds)."""
        self.events.append(
            Event(kind, name, detail, (start - self.started) * 1000, (end - start) * 1000)
        )

    def server_timing(self) -> str:
        """The ``Server-Timing`` header value: the pipeline stages and the total."""
        parts = [
            f"{e.name.replace('_', '-')};dur={e.duration_ms:.3f}"
            for e in self.events
            if e.kind == "stage"
        ]
        database = sum(e.duration_ms for e in self.events if e.kind == "mongodb")
        if database:
            parts.append(f"db;dur={database:.3f}")
        parts.append(f"total;dur={self.total_ms:.3f}")
        return ", ".join(parts)


def record_event(kind: str, name: str, detail: str, duration_s: float) -> None:
    """Add an event that just ended, lasting ``duration_s``, to the current request's trace.

    Does nothing outside a traced request, so callers need not know whether X-ray is on.
    """
    trace = _current.get()
    if trace is not None:
        end = time.perf_counter()
        trace.add(kind, name, detail, end - duration_s, end)


def environ_brief(environ: dict[str, Any]) -> dict[str, str]:
    """The parts of the WSGI environ worth showing: who served the request, and how."""
    return {
        "method": str(environ.get("REQUEST_METHOD")),
        "path": str(environ.get("PATH_INFO")),
        "query": str(environ.get("QUERY_STRING", "")),
        "server": f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}",
        # The client's address: a trusted proxy's X-Forwarded-For applied (microraab.proxies).
        "client": str(environ.get("REMOTE_ADDR", "-")),
        "via proxy": str(environ.get(ORIGINAL_KEY, {}).get("REMOTE_ADDR", "-")),
        "software": str(environ.get("SERVER_SOFTWARE", "-")),
        "worker pid": str(os.getpid()),
        # Under gunicorn's gevent worker, threading is patched: this is the greenlet's id.
        "thread or greenlet": hex(threading.get_ident()),
        "multithread": str(environ.get("wsgi.multithread")),
        "multiprocess": str(environ.get("wsgi.multiprocess")),
    }


class XRay:
    """Traces every request of ``app``; install with ``XRay(app)`` (the App does it)."""

    STAGES = (
        "match_request", "preprocess_request", "dispatch_request", "make_response",
        "process_response",
    )  # fmt: skip

    def __init__(self, app: App, keep: int = 50) -> None:
        self.app = app
        self.traces: collections.OrderedDict[str, Trace] = collections.OrderedDict()
        self.keep = keep
        self._hooks_wrapped: set[int] = set()
        self.env = Environment(
            loader=PackageLoader("microraab", "templates"), autoescape=select_autoescape()
        )
        for name in self.STAGES:
            setattr(app, name, self._timed_stage(name, getattr(app, name)))
        inner_dispatch = app.full_dispatch_request
        app.full_dispatch_request = functools.partial(self._traced, inner_dispatch)  # type: ignore[method-assign]
        inner_render = app.render
        app.render = functools.partial(self._timed_render, inner_render)  # type: ignore[method-assign]
        app.add_url_rule(PREFIX + "/", "_xray.index", self.index_view)
        app.add_url_rule(PREFIX + "/<request_id>", "_xray.detail", self.detail_view)

    def _timed_stage(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(request: Request, *args: Any) -> Any:
            trace = _current.get()
            if trace is None:
                return method(request, *args)
            start = time.perf_counter()
            try:
                return method(request, *args)
            finally:
                detail = ""
                if name == "match_request":
                    detail = self._routing_detail(request)
                    trace.route = detail
                trace.add("stage", name, detail, start, time.perf_counter())

        return timed

    @staticmethod
    def _routing_detail(request: Request) -> str:
        if request.route is not None:
            return f"{request.route.rule} -> {request.route.endpoint} {request.view_args}"
        error = request.routing_exception
        if error is not None and error.code == 308:
            return f"308 redirect to {getattr(error, 'new_url', '?')}"
        if error is not None and error.code == 405:
            allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
            return f"405: the path matches, the method does not (allowed: {allowed})"
        return "404: no rule matches the path"

    def _wrap_hooks(self) -> None:
        # Hooks can be registered until the first request, so they are wrapped then.
        for scaffold in (self.app, *self.app.modules.values()):
            for kind in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"):
                funcs: list[Callable[..., Any]] = getattr(scaffold, kind)
                for index, func in enumerate(funcs):
                    if id(func) not in self._hooks_wrapped:
                        funcs[index] = self._timed_hook(kind.removesuffix("_funcs"), func)
                        self._hooks_wrapped.add(id(funcs[index]))

    def _timed_hook(self, kind: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args)
            finally:
                trace = _current.get()
                if trace is not None:
                    trace.add("hook", kind, func.__qualname__, start, time.perf_counter())

        return timed

    def _timed_render(
        self,
        render: Callable[..., Response],
        request: Request,
        template_name: str,
        /,
        **context: Any,
    ) -> Response:
        start = time.perf_counter()
        try:
            return render(request, template_name, **context)
        finally:
            trace = _current.get()
            if trace is not None:
                trace.add("template", "render", template_name, start, time.perf_counter())

    def _traced(
        self, full_dispatch: Callable[[Request], WerkzeugResponse], request: Request
    ) -> WerkzeugResponse:
        if request.path.startswith(PREFIX + "/"):
            return full_dispatch(request)
        self._wrap_hooks()
        trace = Trace(
            request.id, request.method, request.path, environ_brief(request.environ),
            time.perf_counter(),
        )  # fmt: skip
        token = _current.set(trace)
        try:
            response = full_dispatch(request)
        finally:
            _current.reset(token)
        trace.total_ms = (time.perf_counter() - trace.started) * 1000
        trace.status = response.status
        response.headers["Server-Timing"] = trace.server_timing()
        response.headers["X-Xray"] = f"{request.script_root}{PREFIX}/{request.id}"
        # Cookie values are secrets even in development: show that one was set, not what.
        trace.headers = [
            (name, value.split("=", 1)[0] + "=(hidden)" if name.lower() == "set-cookie" else value)
            for name, value in response.headers.items()
        ]
        self.traces[request.id] = trace
        while len(self.traces) > self.keep:
            self.traces.popitem(last=False)
        return response

    def index_view(self, request: Request) -> Response:
        """The recent requests, newest first."""
        html = self.env.get_template("xray_index.html").render(
            request=request, traces=list(reversed(self.traces.values()))
        )
        return self.app.response_class(html)

    def detail_view(self, request: Request, request_id: str) -> Response:
        """One request's trace."""
        trace = self.traces.get(request_id)
        if trace is None:
            raise NotFound(f"No X-ray for request {request_id!r} (only the last {self.keep}).")
        html = self.env.get_template("xray_detail.html").render(request=request, trace=trace)
        return self.app.response_class(html)
