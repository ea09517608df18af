"""The command line: ``python -m microraab run|routes APP`` and ``explain APP METHOD PATH``.

``APP`` is ``module:attribute`` (``app:app``), ``module:factory()`` or just ``module``
(which must have ``app`` or ``create_app``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from microraab.app import App
from microraab.explain import explain, format_explanation


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
    candidates = [attribute] if attribute else ["app", "create_app()"]
    for candidate in candidates:
        name = candidate.removesuffix("()")
        obj: Any = getattr(module, name, None)
        if obj is None:
            continue
        if candidate.endswith("()"):
            obj = obj()
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


def command_routes(args: argparse.Namespace) -> int:
    """Print every rule with its methods and endpoint."""
    app = load_app(args.app)
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
    print(format_explanation(explain(load_app(args.app), args.method, args.path)))
    return 0


def command_run(args: argparse.Namespace) -> int:
    """Serve the app with Werkzeug's development server."""
    from werkzeug.serving import run_simple

    # The dev server is for development; set the mode before the app reads its config.
    os.environ.setdefault("MICRORAAB_ENV", "development")
    if args.debug:
        os.environ["MICRORAAB_DEBUG"] = "true"
    app = load_app(args.app)
    if args.debug and not app.development:
        raise CLIError(
            "refusing to start the Werkzeug debugger: the app is in production mode "
            "(the debugger runs arbitrary code for whoever can reach it). "
            "Use MICRORAAB_ENV=development."
        )
    run_simple(
        args.host,
        args.port,
        app,
        use_reloader=args.reload,
        use_debugger=args.debug,
        threaded=True,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``python -m microraab``."""
    parser = argparse.ArgumentParser(prog="python -m microraab", description=__doc__)
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
