"""The command line: ``microraab run|routes APP`` and ``explain APP METHOD PATH``.

The same as ``python -m microraab ...`` (the ``microraab`` console script calls
:func:`main`). ``APP`` is ``module:attribute`` (``app:app``), ``module:factory()`` or just
``module`` (which must have ``app`` or ``create_app``). ``routes`` and ``explain`` load the
app without serving it (:func:`microraab.config.introspection`: no ``SECRET_KEY`` needed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from microraab.app import App
from microraab.config import ConfigError, introspection
from microraab.explain import explain, format_explanation

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.debug import DebuggedApplication


class CLIError(Exception):
    """A problem the user can fix; printed without a traceback."""


def load_app(spec: str) -> App:
    """Import the App named by ``spec``; CLIError says what was wrong."""
    sys.path.insert(0, os.getcwd())
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise CLIError(f"cannot import {module_name!r}: {error}") from error
    except ConfigError as error:  # App() at import time; its message says what to set
        raise CLIError(f"{spec}: {error}") from error
    candidates = [attribute] if attribute else ["app", "create_app()"]
    for candidate in candidates:
        name = candidate.removesuffix("()")
        try:
            obj: Any = getattr(module, name, None)
            if obj is not None and candidate.endswith("()"):
                obj = obj()
        except ConfigError as error:  # a factory, or a lazy module attribute (the demo's)
            raise CLIError(f"{spec}: {error}") from error
        if obj is None:
            continue
        app = _unwrap(obj)
        if isinstance(app, App):
            return app
        raise CLIError(f"{spec!r} is a {type(obj).__name__}, not a microraab App")
    raise CLIError(f"no {' or '.join(candidates)} found in module {module_name!r}")


def _unwrap(obj: Any) -> Any:
    """Follow ``.app`` through middleware that keeps it (ProxyFix, DispatcherMiddleware)."""
    seen = 0
    while not isinstance(obj, App) and hasattr(obj, "app") and seen < 10:
        obj, seen = obj.app, seen + 1
    return obj


def inspect_app(spec: str) -> App:
    """Load the App named by ``spec`` only to look at it: nothing will be served."""
    with introspection():
        return load_app(spec)


def command_routes(args: argparse.Namespace) -> int:
    """Print every rule with its methods and endpoint."""
    app = inspect_app(args.app)
    rows = [
        (rule.rule, ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})), rule.endpoint)
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    ]
    header = ("Rule", "Methods", "Endpoint")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def command_explain(args: argparse.Namespace) -> int:
    """Print how the router answers METHOD on PATH: rules considered, verdict, url_for."""
    print(format_explanation(explain(inspect_app(args.app), args.method, args.path)))
    return 0


def command_run(args: argparse.Namespace) -> int:
    """Serve the app with Werkzeug's development server."""
    from werkzeug.debug import DebuggedApplication
    from werkzeug.serving import is_running_from_reloader, run_simple

    # The dev server is for development; set the mode before the app reads its config.
    os.environ.setdefault("MICRORAAB_ENV", "development")
    if args.debug:
        os.environ["MICRORAAB_DEBUG"] = "true"
    application: WSGIApplication
    try:
        application = load_app(args.app)
    except Exception as error:
        if not is_running_from_reloader():
            raise
        # Flask's way: the reloader's child reports the error and keeps serving (a 500, or
        # the debugger's traceback), so the reloader keeps watching and the next save that
        # fixes the code serves again. Exiting would end the reloader too.
        report = f"error: {error}\n" if isinstance(error, CLIError) else traceback.format_exc()
        print(report, end="", file=sys.stderr)
        application = _failing_app(error)
    if args.debug and isinstance(application, App) and not application.development:
        raise CLIError(
            "refusing to start the Werkzeug debugger: the app is in production mode "
            "(the debugger runs arbitrary code for whoever can reach it). "
            "Use MICRORAAB_ENV=development."
        )
    if args.debug:
        application = DebuggedApplication(application, evalex=True)
        if not args.reload:
            announce_debugger(application)
    run_simple(args.host, args.port, application, use_reloader=args.reload, threaded=True)
    return 0


def announce_debugger(debugged: DebuggedApplication) -> None:
    """Log the debugger's PIN as Werkzeug does, which it does only in the reloader's child."""
    from werkzeug._internal import _log

    _log("warning", " * Debugger is active!")
    if debugged.pin is None:
        _log("warning", " * Debugger PIN disabled. DEBUGGER UNSECURED!")
    else:
        _log("info", " * Debugger PIN: %s", debugged.pin)


def _failing_app(error: Exception) -> WSGIApplication:
    """A WSGI app that raises ``error`` on every request (the dev server answers 500)."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise error

    return app


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``python -m microraab``."""
    program = os.path.basename(sys.argv[0])
    prog = "python -m microraab" if program in ("__main__.py", "-m", "-c", "") else program
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve APP with the Werkzeug development server")
    run.add_argument("app", help="module:attribute, e.g. app:app")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=5000)
    run.add_argument("--debug", action="store_true", help="the interactive Werkzeug debugger")
    run.add_argument("--reload", action="store_true", help="restart when code changes")
    run.set_defaults(func=command_run)
    routes = commands.add_parser("routes", help="list APP's rules, methods and endpoints")
    routes.add_argument("app", help="module:attribute, e.g. app:app")
    routes.set_defaults(func=command_routes)
    explain = commands.add_parser("explain", help="show how APP's router answers METHOD PATH")
    explain.add_argument("app", help="module:attribute, e.g. app:app")
    explain.add_argument("method", help="GET, POST, ...")
    explain.add_argument("path", help="the URL path, e.g. /api/links/abc (a ?query is kept)")
    explain.set_defaults(func=command_explain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except CLIError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return status
