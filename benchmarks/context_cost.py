"""What Flask's request context costs per request, measured in-process.

Flask's ``wsgi_app`` builds a ``RequestContext`` and pushes it (which pushes an
``AppContext`` too) before the view runs, and pops both after. Part of that is work any
framework does (build the Request, bind the URL map, match, open the session); the rest is
the context machinery: the two context objects, their ``contextvars`` tokens, the
``appcontext_pushed``/``appcontext_popped``/``appcontext_tearing_down`` signals and the
teardown calls. This measures, in µs per request:

- ``flask request``: a whole plaintext request through ``app(environ, start_response)``;
- ``context push/pop``: ``app.request_context(environ)``, ``push()``, ``pop()`` and no view;
- ``same work, no context``: what push/pop does that is not about contexts (Request,
  ``create_url_adapter``, ``match``, ``open_session``), called directly;
- ``app context alone``: ``app.app_context()``, ``push()``, ``pop()``;
- ``open_session alone``: the part of push that reads the session cookie, which Flask does
  for every request (microraab only when a view touches ``request.session``);
- ``microraab request``: the same plaintext request on microraab, which has no contexts.

The context machinery costs ``context push/pop - same work, no context``. Operations are
timed interleaved, in many short rounds; each one's fastest round is reported, the one
least disturbed by whatever else the machine was doing.

    python benchmarks/context_cost.py [--rounds 30] [--number 2000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from typing import Any

MESSAGE = "Hello, World!"
SECRET_KEY = "benchmark-only-key"


def make_environ() -> dict[str, Any]:
    """A fresh environ like gunicorn's for ``GET /plaintext``."""
    return {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/plaintext",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }  # fmt: skip


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


def flask_app() -> Any:
    from flask import Flask

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET_KEY

    @app.route("/plaintext")
    def plaintext() -> tuple[str, int, dict[str, str]]:
        return MESSAGE, 200, {"Content-Type": "text/plain"}

    return app


def microraab_app() -> Any:
    from microraab import App, Response

    app = App("context_cost", static_folder=None, config={"SECRET_KEY": SECRET_KEY})

    @app.route("/plaintext")
    def plaintext(request: Any) -> Response:
        return Response(MESSAGE, mimetype="text/plain")

    return app


def measurements() -> dict[str, Callable[[], None]]:
    """Each measured operation, as a function doing it once on a fresh environ."""
    flask = flask_app()
    microraab = microraab_app()

    def flask_request() -> None:
        for _ in flask(make_environ(), start_response):
            pass

    def context_push_pop() -> None:
        context = flask.request_context(make_environ())
        context.push()
        context.pop()

    def same_work_without_context() -> None:
        request = flask.request_class(make_environ())
        request.json_module = flask.json
        adapter = flask.create_url_adapter(request)
        request.url_rule, request.view_args = adapter.match(return_rule=True)
        session = flask.session_interface.open_session(flask, request)
        assert session is not None
        request.close()
        request.environ["werkzeug.request"] = None  # as pop() does: no cycle left for the GC

    def app_context_alone() -> None:
        context = flask.app_context()
        context.push()
        context.pop()

    session_request = flask.request_class(make_environ())

    def open_session_alone() -> None:
        flask.session_interface.open_session(flask, session_request)

    def microraab_request() -> None:
        for _ in microraab(make_environ(), start_response):
            pass

    return {
        "flask request": flask_request,
        "context push/pop": context_push_pop,
        "same work, no context": same_work_without_context,
        "app context alone": app_context_alone,
        "open_session alone": open_session_alone,
        "microraab request": microraab_request,
    }


def measure(rounds: int, number: int) -> dict[str, float]:
    """µs per call of each operation: the fastest of ``rounds`` interleaved rounds."""
    operations = measurements()
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for operation in operations.values():  # warm up: imports, caches, first-call costs
        for _ in range(min(number, 1000)):
            operation()
    for _ in range(rounds):
        for name, operation in operations.items():
            start = time.perf_counter()
            for _ in range(number):
                operation()
            samples[name].append((time.perf_counter() - start) / number * 1e6)
    return {name: min(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args(argv)
    results = measure(args.rounds, args.number)
    for name, micros in results.items():
        print(f"{name:<24} {micros:7.1f} µs")
    context = results["context push/pop"] - results["same work, no context"]
    share = context / results["flask request"] * 100
    print(f"{'context machinery':<24} {context:7.1f} µs  ({share:.0f}% of a Flask request)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
