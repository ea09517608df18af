"""Request X-ray (development mode only): what each request did, as spans on one time axis.

Turned on by ``XRAY = True`` in development mode, it wraps the app's pipeline methods,
hooks, views and ``App.render`` with timers, so that when it is off there is no code of it
on the request path at all. Anything else that wants to appear in the trace (the demo
app's MongoDB command listener) calls :func:`record_event`.

After each request, the X-ray's own step (:meth:`XRay.after_request`) saves the trace in
a :class:`~microraab.xray_store.TraceStore` that every worker of the server shares, adds a
``Server-Timing`` header and an ``X-Xray`` link, and puts a toolbar on HTML pages. Its
pages: ``/_xray/`` (newest first, filtered by ``?path=``), ``/_xray/<request-id>`` (the
timeline) and ``/_xray/<request-id>.json``; they are templates with their own stylesheet.

Settings: ``XRAY_KEEP`` traces (50) and ``XRAY_MAX_BYTES`` (5 MB) at most, in ``XRAY_DIR``
(default: see :func:`~microraab.xray_store.default_directory`); ``XRAY_TOOLBAR = False``
turns the toolbar off.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import NotFound

from microraab.proxies import ORIGINAL_KEY
from microraab.routing import Route
from microraab.wrappers import JSONResponse
from microraab.xray_store import TraceStore, default_directory, remove_orphans

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.wrappers import Response as WerkzeugResponse

    from microraab.app import App
    from microraab.wrappers import Request, Response

PREFIX = "/_xray"
# The kinds the framework records itself; any other kind came from record_event (a
# database command...) and is counted on its own in the toolbar and the index.
FRAMEWORK_KINDS = frozenset({"stage", "hook", "view", "template"})
# One trace stays a small file even for a view that sends thousands of commands.
MAX_EVENTS = 1000
# The trace of the request being served, per thread or greenlet: pymongo's listeners are
# called without a request, so this is how they find it. Only set while X-ray is on.
_current: ContextVar[Trace | None] = ContextVar("microraab_xray_trace", default=None)


@dataclass
class Event:
    """One span of a request: a pipeline stage, a hook, a view, a template, a command.

    ``depth`` is how many spans it runs inside (1 for a stage: inside the request).
    """

    kind: str
    name: str
    detail: str
    start_ms: float
    duration_ms: float
    depth: int = 1


@dataclass
class Trace:
    """Everything recorded for one request; saved as ``to_document()``."""

    request_id: str
    method: str
    path: str
    environ: dict[str, str]
    started: float
    worker: int = 0
    started_at: float = 0.0  # wall-clock time.time(), for the index
    events: list[Event] = field(default_factory=list)
    dropped: int = 0
    route: str = ""
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    total_ms: float = 0.0

    def add(self, kind: str, name: str, detail: str, start: float, end: float) -> None:
        """Record a span that ran from ``start`` to ``end`` (perf_counter seconds)."""
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return
        self.events.append(
            Event(kind, name, detail, (start - self.started) * 1000, (end - start) * 1000)
        )

    def nest(self) -> None:
        """Sort the spans by start and give each its depth: one more than the innermost
        span that contains it (spans run strictly inside one another in one request)."""
        self.events.sort(key=lambda e: (e.start_ms, -e.duration_ms))
        open_ends: list[float] = []
        for event in self.events:
            end = event.start_ms + event.duration_ms
            while open_ends and open_ends[-1] < end - 1e-6:
                open_ends.pop()
            event.depth = len(open_ends) + 1
            open_ends.append(end)

    def extent_ms(self) -> float:
        """How long the timeline's axis is: the request, or its last span if that ends later."""
        ends = (event.start_ms + event.duration_ms for event in self.events)
        return max(self.total_ms, *ends, 0.001)

    def calls(self) -> dict[str, tuple[int, float]]:
        """For each kind reported by :func:`record_event`: how many, and their total ms."""
        calls: dict[str, tuple[int, float]] = {}
        for event in self.events:
            if event.kind not in FRAMEWORK_KINDS:
                count, ms = calls.get(event.kind, (0, 0.0))
                calls[event.kind] = (count + 1, ms + event.duration_ms)
        return calls

    def templates(self) -> int:
        """How many templates were rendered."""
        return sum(1 for event in self.events if event.kind == "template")

    def server_timing(self) -> str:
        """The ``Server-Timing`` header value: the pipeline stages, each call kind, the total."""
        parts = [
            f"{e.name.replace('_', '-')};dur={e.duration_ms:.3f}"
            for e in self.events
            if e.kind == "stage"
        ]
        for kind, (_, ms) in self.calls().items():
            parts.append(f"{kind};dur={ms:.3f}")
        parts.append(f"total;dur={self.total_ms:.3f}")
        return ", ".join(parts)

    def to_document(self) -> dict[str, Any]:
        """The trace as JSON-ready data (what ``/_xray/<id>.json`` answers)."""
        # PERF: built by hand: dataclasses.asdict deep-copies every value (under cProfile,
        # 1.66 of a traced plaintext request's 3.9 ms).
        document = {name: getattr(self, name) for name in _DOCUMENT_FIELDS}
        document["events"] = [vars(event) for event in self.events]
        document["calls"] = {kind: list(value) for kind, value in self.calls().items()}
        document["templates"] = self.templates()
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Trace:
        """The trace that ``to_document`` made ``document`` from."""
        values = {k: v for k, v in document.items() if k not in ("calls", "templates")}
        values["events"] = [Event(**event) for event in values["events"]]
        values["headers"] = [tuple(pair) for pair in values["headers"]]
        return cls(started=0.0, **values)


# What a saved trace keeps: all but ``started``, a perf_counter reading that means nothing
# in another process.
_DOCUMENT_FIELDS = tuple(f.name for f in fields(Trace) if f.name not in ("started", "events"))


def record_event(kind: str, name: str, detail: str, duration_s: float) -> None:
    """Add a span that just ended, lasting ``duration_s``, to the current request's trace.

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

    def __init__(self, app: App) -> None:
        self.app = app
        config = app.config
        directory = config.get("XRAY_DIR")
        if directory:
            path = Path(directory)
        else:
            path = default_directory(app.import_name)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            remove_orphans(path.parent)
        self.store = TraceStore(path, config["XRAY_KEEP"], config["XRAY_MAX_BYTES"])
        self.toolbar = bool(config["XRAY_TOOLBAR"])
        self._wrapped: set[int] = set()
        self.env = Environment(
            loader=PackageLoader("microraab", "templates"), autoescape=select_autoescape()
        )
        self.env.globals["xray_kinds"] = FRAMEWORK_KINDS | {"request"}
        self.env.filters["ms"] = lambda value: f"{value:.3f}"
        self.env.filters["clock"] = lambda value: time.strftime("%H:%M:%S", time.gmtime(value))
        self.stylesheet = (files("microraab") / "static" / "xray.css").read_bytes()
        for name in self.STAGES:
            setattr(app, name, self._timed_stage(name, getattr(app, name)))
        inner_dispatch = app.full_dispatch_request
        app.full_dispatch_request = functools.partial(self._traced, inner_dispatch)  # type: ignore[method-assign]
        inner_render = app.render
        app.render = functools.partial(self._timed_render, inner_render)  # type: ignore[method-assign]
        app.add_url_rule(PREFIX + "/", "_xray.index", self.index_view)
        app.add_url_rule(PREFIX + "/<request_id>", "_xray.detail", self.detail_view)
        app.add_url_rule(PREFIX + "/<request_id>.json", "_xray.json", self.json_view)
        app.add_url_rule(PREFIX + "/static/xray.css", "_xray.stylesheet", self.stylesheet_view)

    # -- recording ------------------------------------------------------------------------

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

    def _wrap_hooks_and_views(self) -> None:
        # Hooks and routes can be added until the first request, so they are wrapped then.
        for scaffold in (self.app, *self.app.modules.values()):
            # Not teardown hooks: they run after the pipeline, once the trace is saved.
            for kind in ("before_request_funcs", "after_request_funcs"):
                funcs: list[Callable[..., Any]] = getattr(scaffold, kind)
                for index, func in enumerate(funcs):
                    if id(func) not in self._wrapped:
                        funcs[index] = self._timed("hook", kind.removesuffix("_funcs"), func)
                        self._wrapped.add(id(funcs[index]))
        for rule in self.app.url_map.iter_rules():
            if isinstance(rule, Route) and rule.view and id(rule.view) not in self._wrapped:
                rule.view = self._timed("view", rule.endpoint, rule.view)
                self._wrapped.add(id(rule.view))

    def _timed(self, kind: str, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                trace = _current.get()
                if trace is not None:
                    trace.add(kind, name, func.__qualname__, start, time.perf_counter())

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
            return full_dispatch(request)  # the X-ray's own pages are not traced
        self._wrap_hooks_and_views()
        trace = Trace(
            request.id, request.method, request.path, environ_brief(request.environ),
            time.perf_counter(), os.getpid(), time.time(),
        )  # fmt: skip
        token = _current.set(trace)
        try:
            response = full_dispatch(request)
        finally:
            _current.reset(token)
        trace.total_ms = (time.perf_counter() - trace.started) * 1000
        return self.after_request(request, response, trace)

    def after_request(
        self, request: Request, response: WerkzeugResponse, trace: Trace
    ) -> WerkzeugResponse:
        """The X-ray's own step after the pipeline: headers, the toolbar, the saved trace."""
        trace.nest()
        trace.status = response.status
        response.headers["Server-Timing"] = trace.server_timing()
        response.headers["X-Xray"] = f"{request.script_root}{PREFIX}/{request.id}"
        if self.toolbar and wants_toolbar(request, response):
            self.add_toolbar(request, response, trace)
        # Cookie values are secrets even in development: show that one was set, not what.
        trace.headers = [
            (name, value.split("=", 1)[0] + "=(hidden)" if name.lower() == "set-cookie" else value)
            for name, value in response.headers.items()
        ]
        self.store.save(request.id, trace.to_document())
        return response

    def add_toolbar(self, request: Request, response: WerkzeugResponse, trace: Trace) -> None:
        """Put the toolbar (and the X-ray's stylesheet) just before the page's ``</body>``."""
        body = response.get_data()
        at = body.lower().rfind(b"</body>")
        if at < 0:
            return  # a fragment, not a page
        toolbar = self.env.get_template("xray_toolbar.html").render(request=request, trace=trace)
        response.set_data(body[:at] + toolbar.encode() + body[at:])

    # -- the pages ------------------------------------------------------------------------

    def index_view(self, request: Request) -> Response:
        """The requests kept, newest first; ``?path=`` keeps those whose path contains it."""
        wanted = request.args.get("path", "")
        traces = [Trace.from_document(document) for document in self.store.newest()]
        shown = [trace for trace in traces if wanted in trace.path]
        kinds = sorted({kind for trace in shown for kind in trace.calls()})
        html = self.env.get_template("xray_index.html").render(
            request=request, traces=shown, kept=len(traces), kinds=kinds, wanted=wanted,
            store=self.store,
        )  # fmt: skip
        return self.app.response_class(html)

    def _document(self, request_id: str) -> dict[str, Any]:
        document = self.store.get(request_id)
        if document is None:
            raise NotFound(
                f"No X-ray for request {request_id!r}: only the last {self.store.keep} are kept."
            )
        return document

    def detail_view(self, request: Request, request_id: str) -> Response:
        """One request's timeline, routing decision, environ and headers."""
        trace = Trace.from_document(self._document(request_id))
        html = self.env.get_template("xray_detail.html").render(request=request, trace=trace)
        return self.app.response_class(html)

    def json_view(self, request: Request, request_id: str) -> Response:
        """One request's trace as JSON."""
        return JSONResponse(self._document(request_id))

    def stylesheet_view(self, request: Request) -> Response:
        """The X-ray's stylesheet (its pages' and the toolbar's)."""
        return self.app.response_class(self.stylesheet, mimetype="text/css")


def wants_toolbar(request: Request, response: WerkzeugResponse) -> bool:
    """Whether ``response`` is a whole HTML page that a toolbar can be added to: not a
    redirect, not streamed, not encoded, not the answer to a HEAD."""
    return (
        response.mimetype == "text/html"
        and not 300 <= response.status_code < 400
        and not response.is_streamed
        and not response.direct_passthrough
        and "Content-Encoding" not in response.headers
        and request.method != "HEAD"
    )
