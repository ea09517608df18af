"""``python -m microraab explain APP METHOD PATH``: how the router answers one request.

Lists every rule, in the order it was added, with whether it matches the path and whether
it accepts the method; then Werkzeug's verdict as ``App.match_request`` gets it: the rule
and the converted values (and the URL ``url_for`` builds back from them), 404, 405 with
the allowed methods, or a 308 redirect and where to. Middleware that takes the path before
the router does (a ``DispatcherMiddleware`` mount, ``SharedDataMiddleware`` files) is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, MapAdapter, RequestRedirect, Rule

from microraab.app import App

# How far to follow ``.app`` through middleware before giving up (a cycle, or a tower).
_MAX_LAYERS = 10


@dataclass
class RuleCheck:
    """One rule: does it match the path (``yes``, ``no`` or ``redirect``), accept the method?"""

    rule: Rule
    path: str
    method: bool


@dataclass
class Explanation:
    """What the router does with ``method`` on ``path``.

    ``status`` is 200 when a rule matched (the view will set the real one), Werkzeug's
    404/405/308/400 otherwise, and None when middleware takes the request first.
    ``automatic_options`` holds the ``Allow`` methods when the framework answers an
    ``OPTIONS`` itself (the rule's view does not list it), else it is empty.
    """

    method: str
    path: str
    status: int | None
    checks: list[RuleCheck] = field(default_factory=list)
    rule: Rule | None = None
    view: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)
    location: str | None = None
    then: str | None = None
    built: str | None = None
    script_root: str = ""
    mount: str = ""  # where a DispatcherMiddleware mounted this app, as in SCRIPT_NAME
    notes: list[str] = field(default_factory=list)
    automatic_options: list[str] = field(default_factory=list)


def explain(app: App, method: str, target: str) -> Explanation:
    """Explain how ``app`` routes ``method`` on ``target`` (a path, with an optional query).

    The path is percent-decoded as a WSGI server decodes ``PATH_INFO``.
    """
    method = method.upper()
    raw_path, _, query = target.partition("?")
    path = unquote(raw_path) or "/"
    notes: list[str] = []
    diverted = _before_router(app, method, path, query, notes)
    if diverted is not None:
        return diverted
    config = app.config
    adapter = app.router.bind_default(
        config["SERVER_NAME"], config["APPLICATION_ROOT"], config["PREFERRED_URL_SCHEME"]
    )
    explanation = Explanation(method, path, 200, notes=notes)
    explanation.script_root = adapter.script_name.rstrip("/")
    explanation.checks = [_check(rule, app.url_map, adapter, method, path) for rule in
                          app.url_map.iter_rules()]  # fmt: skip
    try:
        rule, values = adapter.match(path, method, return_rule=True, query_args=query)
    except RequestRedirect as redirect:
        explanation.status = redirect.code
        explanation.location = redirect.new_url
        explanation.then = _follow(adapter, method, redirect.new_url)
    except MethodNotAllowed as error:
        explanation.status = 405
        explanation.allowed = sorted(error.valid_methods or ())
    except HTTPException as error:  # NotFound, or WebsocketMismatch (400)
        explanation.status = error.code
    else:
        explanation.rule, explanation.values = rule, dict(values)
        view = getattr(rule, "view", None) or app.view_functions.get(rule.endpoint)
        if view is not None:
            explanation.view = f"{view.__module__}.{view.__qualname__}"
        explanation.built = adapter.build(rule.endpoint, dict(values), method=method)
        if method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            explanation.automatic_options = app.router.allowed_methods(path)
    return explanation


def _before_router(
    app: App, method: str, path: str, query: str, notes: list[str]
) -> Explanation | None:
    """Walk the middleware in ``app.wsgi_app`` (through ``.app``), outermost first.

    Returns the explanation when one takes the request away from the router (a mount,
    a static file); adds to ``notes`` what the others do with it.
    """
    layer: Any = app.wsgi_app
    depth = 0
    while layer is not None and depth < _MAX_LAYERS:
        if isinstance(getattr(layer, "mounts", None), dict):
            mounted = _mounted(layer.mounts, path)
            if mounted is not None:
                prefix, inner, rest = mounted
                name = f"the App {inner.import_name!r}" if isinstance(inner, App) else repr(inner)
                note = f"app.wsgi_app mounts {name} at {prefix} (DispatcherMiddleware)"
                if not isinstance(inner, App):
                    return Explanation(method, path, None, notes=[*notes, note])
                inner_explanation = explain(inner, method, (rest or "/") + f"?{query}")
                inner_explanation.notes[:0] = [*notes, f"{note}: its router gets {rest or '/'}"]
                inner_explanation.mount = prefix + inner_explanation.mount
                return inner_explanation
        for prefix, loader in getattr(layer, "exports", None) or ():
            note, served = _static_file(prefix, loader, path)
            if note:
                notes.append(note)
            if served:
                return Explanation(method, path, None, notes=notes)
        layer, depth = getattr(layer, "app", None), depth + 1
    return None


def _mounted(mounts: dict[str, Any], path: str) -> tuple[str, Any, str] | None:
    """The (prefix, app, rest of the path) DispatcherMiddleware would pick, if any mount."""
    script, rest = path, ""
    while "/" in script:
        if script in mounts:
            return script, mounts[script], rest
        script, last = script.rsplit("/", 1)
        rest = f"/{last}{rest}"
    return (script, mounts[script], rest) if script in mounts else None


def _static_file(prefix: str, loader: Any, path: str) -> tuple[str, bool]:
    """What SharedDataMiddleware says of ``path`` under ``prefix``; whether it serves it."""
    folder = prefix.rstrip("/") + "/"
    if not path.startswith(folder):
        return "", False
    filename, _ = loader(path[len(folder) :])
    if filename is None:
        return f"SharedDataMiddleware serves {folder}: no such file, so the router decides", False
    return f"SharedDataMiddleware serves {folder}: it answers with the file {filename}", True


def _check(rule: Rule, url_map: Map, adapter: MapAdapter, method: str, path: str) -> RuleCheck:
    """Match ``path`` against ``rule`` alone, with a method it accepts, in a one-rule Map.

    (``Rule.empty()`` copies neither ``websocket`` nor ``merge_slashes``: the copy is an
    HTTP rule under the map's slash setting, which is what the path question needs.)
    """
    accepts = rule.methods is None or method in rule.methods
    single = Map(
        [rule.empty()],
        default_subdomain=url_map.default_subdomain,
        strict_slashes=url_map.strict_slashes,
        merge_slashes=url_map.merge_slashes,
        converters=url_map.converters,
        host_matching=url_map.host_matching,
    )
    probe = method if accepts or rule.methods is None else sorted(rule.methods)[0]
    bound = single.bind(adapter.server_name, adapter.script_name, url_scheme=adapter.url_scheme)
    try:
        bound.match(path, probe)
    except RequestRedirect:
        return RuleCheck(rule, "redirect", accepts)
    except NotFound:
        return RuleCheck(rule, "no", accepts)
    return RuleCheck(rule, "yes", accepts)


def _follow(adapter: MapAdapter, method: str, location: str) -> str:
    """What the router does with the redirect's target, if it is in this app."""
    url = urlsplit(location)
    root = adapter.script_name.rstrip("/")
    path = unquote(url.path)
    if url.netloc != adapter.server_name or not path.startswith(root + "/"):
        return "the location is outside this app"
    path = path[len(root) :]
    try:
        rule, _ = adapter.match(path, method, return_rule=True)
    except HTTPException as error:
        return f"{method} {path} then answers {error.code} {error.name}"
    return f"{method} {path} then matches {rule.rule} -> endpoint {rule.endpoint!r}"


def format_explanation(explanation: Explanation) -> str:
    """The explanation as the text ``python -m microraab explain`` prints."""
    e = explanation
    lines = [f"{e.method} {e.mount}{e.path}"]
    lines += [f"note: {note}" for note in e.notes]
    if e.status is None:
        lines.append("The request never reaches this app's router.")
        return "\n".join(lines)
    lines += ["", *_table(e), ""]
    lines += _verdict(e)
    return "\n".join(lines)


def _table(e: Explanation) -> list[str]:
    header = ("", "path", "method", "rule", "methods", "endpoint")
    rows = [header, tuple("-" * len(cell) for cell in header)]
    for check in e.checks:
        rule = check.rule
        chosen = rule is e.rule and e.status == 200
        methods = ", ".join(sorted(rule.methods)) if rule.methods is not None else "any"
        endpoint = (
            rule.endpoint
            + (" (build only)" if rule.build_only else "")
            + (" (websocket)" if rule.websocket else "")
        )
        rows.append(("->" if chosen else "", check.path, "yes" if check.method else "no",
                     rule.rule, methods, endpoint))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def _verdict(e: Explanation) -> list[str]:
    if e.rule is not None:
        values = ", ".join(f"{k}={v!r} ({type(v).__name__})" for k, v in e.values.items())
        arguments = "".join(f", {k}={v!r}" for k, v in e.values.items())
        built = e.built or ""
        same = unquote(urlsplit(built).path) == e.script_root + e.path
        who = "the view sets the status"
        if e.automatic_options:  # App.dispatch_request answers before the view
            who = (f"the view is not called: the framework answers 200 with "
                   f"Allow: {', '.join(e.automatic_options)}")  # fmt: skip
        return [
            f"matched: {e.rule.rule} -> endpoint {e.rule.endpoint!r}, "
            f"view {e.view or '(none)'} ({who})",
            f"  values: {values or '(none)'}",
            f"url_for({e.rule.endpoint!r}{arguments}) -> {built}: "
            + ("the same path." if same else "another path to the same rule and values "
               "(the canonical URL url_for builds)."),
        ]  # fmt: skip
    if e.location is not None:
        return [
            f"{e.status} Permanent Redirect to {e.location}",
            f"  because {_redirect_reason(e.path, unquote(urlsplit(e.location).path))}",
            f"  {e.then}",
        ]
    if e.status == 405:
        matching = [check for check in e.checks if check.path == "yes"]
        return [
            f"405 Method Not Allowed: {len(matching)} rule(s) match the path, "
            f"none accepts {e.method}.",
            f"  Allow: {', '.join(e.allowed)}",
        ]
    if e.status == 404:
        after_redirect = [check.rule.rule for check in e.checks if check.path == "redirect"]
        if after_redirect:
            return [
                "404 Not Found: no rule matches the path as it is. "
                f"{', '.join(after_redirect)} would after a redirect,",
                f"  but Werkzeug redirects only to a rule that accepts {e.method}.",
            ]
        return ["404 Not Found: no rule matches the path."]
    return [f"{e.status}: Werkzeug refused the request (an HTTP request for a WebSocket rule)."]


def _redirect_reason(path: str, new_path: str) -> str:
    if new_path.endswith(path + "/"):
        return "the rule ends with a slash and the path does not (strict_slashes)"
    if "//" in path:
        return "repeated slashes are merged into one (merge_slashes)"
    return "the rule redirects (redirect_to), or these values have a canonical URL (defaults)"
