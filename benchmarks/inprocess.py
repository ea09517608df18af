"""In-process dispatch cost: µs per request straight through the WSGI interface.

Each app serves a plaintext route and a JSON route; each request is a fresh copy of a
realistic environ passed to ``app(environ, start_response)``, with the body consumed.
Apps are measured interleaved, several rounds, and the median is reported.

    python benchmarks/inprocess.py [--rounds 7] [--number 20000]

``--stages`` times the pieces of one microraab request instead; ``--render`` the fortunes
page's render (Jinja2 as the peer apps use it, against microraab's ``App.render``).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MESSAGE = "Hello, World!"
ROOT = Path(__file__).resolve().parent.parent


def make_environ(path: str) -> dict[str, Any]:
    """An environ like gunicorn's for a GET of ``path`` with a browser's usual headers."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def raw_app() -> WSGIApp:
    """A bare WSGI callable: the floor of framework overhead."""
    plaintext = MESSAGE.encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/plaintext":
            body, ctype = plaintext, "text/plain"
        elif path == "/json":
            body, ctype = json.dumps({"message": MESSAGE}).encode(), "application/json"
        else:
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    return app


def microraab_app(**config: Any) -> WSGIApp:
    from microraab import App, JSONResponse, PlainTextResponse

    app = App("bench", config={"SECRET_KEY": "bench", "SERVE_STATIC": False, **config})

    @app.route("/plaintext")
    def plaintext(request: Any) -> PlainTextResponse:
        return PlainTextResponse(MESSAGE)

    @app.route("/json")
    def json_view(request: Any) -> JSONResponse:
        return JSONResponse({"message": MESSAGE})

    return app


def flask_app() -> WSGIApp:
    from flask import Flask, Response, jsonify

    app = Flask("bench")

    @app.route("/plaintext")
    def plaintext() -> Response:
        return Response(MESSAGE, mimetype="text/plain")

    @app.route("/json")
    def json_view() -> Response:
        return jsonify(message=MESSAGE)

    return app


def werkzeug_app() -> WSGIApp:
    """Werkzeug used naively: Request -> bind_to_environ().match() -> Response."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map, Rule
    from werkzeug.wrappers import Request, Response

    url_map = Map([Rule("/plaintext", endpoint="plaintext"), Rule("/json", endpoint="json")])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, _ = url_map.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return e(environ, start_response)
        if endpoint == "plaintext":
            response = Response(MESSAGE, mimetype="text/plain")
        else:
            response = Response(json.dumps({"message": MESSAGE}), mimetype="application/json")
        return response(environ, start_response)

    return app


def bottle_app() -> WSGIApp:
    import bottle  # type: ignore[import-untyped]

    app = bottle.Bottle()

    # Bottle ships no type information: its decorators are untyped.
    @app.route("/plaintext")  # type: ignore[untyped-decorator]
    def plaintext() -> str:
        bottle.response.content_type = "text/plain"
        return MESSAGE

    @app.route("/json")  # type: ignore[untyped-decorator]
    def json_view() -> dict[str, str]:
        return {"message": MESSAGE}

    return cast(WSGIApp, app)


def falcon_app() -> WSGIApp:
    import falcon

    class Plaintext:
        def on_get(self, request: Any, response: Any) -> None:
            response.content_type = falcon.MEDIA_TEXT
            response.text = MESSAGE

    class JSON:
        def on_get(self, request: Any, response: Any) -> None:
            response.media = {"message": MESSAGE}

    app = falcon.App()
    app.add_route("/plaintext", Plaintext())
    app.add_route("/json", JSON())
    return app


APPS: dict[str, Callable[[], WSGIApp]] = {
    "raw": raw_app,
    "microraab": microraab_app,
    "werkzeug": werkzeug_app,
    "flask": flask_app,
    "bottle": bottle_app,
    "falcon": falcon_app,
}


def check(name: str, app: WSGIApp) -> None:
    """Refuse to time an app that does not answer correctly."""
    for path, ctype, body in (
        ("/plaintext", "text/plain", MESSAGE.encode()),
        ("/json", "application/json", b'{"message":'),
    ):
        seen: dict[str, Any] = {}

        def start_response(
            status: str, headers: Any, exc_info: Any = None, seen: Any = seen
        ) -> None:
            seen.update(s=status, h=headers)

        result = b"".join(app(make_environ(path), start_response))
        headers = {k.lower(): v for k, v in seen["h"]}
        ok = seen["s"].startswith("200") and headers["content-type"].startswith(ctype)
        if not ok or not result.replace(b" ", b"").startswith(body.replace(b" ", b"")):
            raise SystemExit(f"{name} answers {path} wrongly: {seen} {result!r}")


def time_app(app: WSGIApp, path: str, number: int) -> float:
    """µs per request over ``number`` requests."""
    template = make_environ(path)

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        return None

    start = time.perf_counter()
    for _ in range(number):
        environ = template.copy()
        result = app(environ, start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return (time.perf_counter() - start) / number * 1e6


def time_pieces(pieces: dict[str, Callable[[], Any]], number: int) -> dict[str, float]:
    """µs per call of each piece, over ``number`` calls, one piece after the other."""
    costs = {}
    for name, piece in pieces.items():
        start = time.perf_counter()
        for _ in range(number):
            piece()
        costs[name] = (time.perf_counter() - start) / number * 1e6
    return costs


def stage_costs(number: int) -> dict[str, float]:
    """µs per call of each piece of microraab's plaintext request, timed one at a time on
    the same request: where the whole request's time goes."""
    from microraab import App, PlainTextResponse

    app = microraab_app()
    assert isinstance(app, App)
    environ = make_environ("/plaintext")
    request = app.request_class(environ, app, "id")
    app.match_request(request)
    response = PlainTextResponse(MESSAGE)

    def ignore(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], object]:
        return len

    def process_response() -> Any:  # a fresh response: it adds headers to the one it gets
        return app.process_response(request, PlainTextResponse(MESSAGE))

    pieces: dict[str, Callable[[], Any]] = {
        "whole request": lambda: app(environ, ignore),
        "Request()": lambda: app.request_class(environ, app, "id"),
        "request id": lambda: app.request_ids(environ),
        "match_request": lambda: app.match_request(request),
        "preprocess_request": lambda: app.preprocess_request(request),
        "Response()": lambda: PlainTextResponse(MESSAGE),
        "make_response": lambda: app.make_response(request, response),
        "Response()+process": process_response,
        "send_response": lambda: app.send_response(request, response, ignore),
    }
    return time_pieces(pieces, number)


def render_costs(number: int) -> dict[str, float]:
    """µs per render of TechEmpower's fortunes page (its 13 rows, no database): by a Jinja2
    Environment as the peer apps build it, and by microraab's ``App.render`` (which also
    puts ``request`` in the context and makes the HTML Response)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # run as a script: app/ and benchmarks/ are importable
    from app import worlds
    from benchmarks.targets.shared import FORTUNES_TEMPLATE, fortunes_template
    from microraab import App

    rows = sorted([*worlds.FORTUNES, worlds.ADDITIONAL_FORTUNE], key=lambda row: row[1])
    jinja_template = fortunes_template()
    app = App("bench", template_folder=ROOT / "templates", config={"SECRET_KEY": "bench"})
    request = app.request_class(make_environ("/fortunes"), app, "id")
    pieces: dict[str, Callable[[], Any]] = {
        "Jinja2 Template.render": lambda: jinja_template.render(fortunes=rows),
        "microraab App.render": lambda: app.render(request, FORTUNES_TEMPLATE, fortunes=rows),
    }
    page = jinja_template.render(fortunes=rows)
    if app.render(request, FORTUNES_TEMPLATE, fortunes=rows).get_data(as_text=True) != page:
        raise AssertionError("microraab renders the fortunes page differently from Jinja2")
    return time_pieces(pieces, number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--xray",
        action="store_true",
        help="also time microraab in development mode, with and without the request X-ray",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="instead, time the pieces of one microraab plaintext request one by one",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="instead, time the fortunes page's render: Jinja2 as the peers use it, microraab",
    )
    args = parser.parse_args(argv)
    if args.stages or args.render:
        costs = render_costs if args.render else stage_costs
        runs = [costs(args.number) for _ in range(args.rounds)]
        what = "the fortunes page" if args.render else "microraab /plaintext"
        print(f"{what}, µs per call, median of {args.rounds} x {args.number}")
        for name in runs[0]:
            print(f"{name:<24}{statistics.median(run[name] for run in runs):8.2f}")
        return 0
    if args.xray:
        APPS["microraab-dev"] = lambda: microraab_app(ENV="development")
        APPS["microraab-xray"] = lambda: microraab_app(ENV="development", XRAY=True)
    apps = {name: factory() for name, factory in APPS.items()}
    for name, app in apps.items():
        check(name, app)
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for path in ("/plaintext", "/json"):
            for name, app in apps.items():  # interleaved, so drift is shared
                samples.setdefault((name, path), []).append(time_app(app, path, args.number))
    medians = {key: statistics.median(values) for key, values in samples.items()}
    if args.json:
        print(json.dumps({f"{n} {p}": v for (n, p), v in medians.items()}, indent=2))
        return 0
    print(f"median µs per request, {args.rounds} rounds x {args.number} requests")
    print(
        f"{'app':<15}{'route':<12}{'µs':>8}{'x raw':>8}{'x flask':>9}{'x werkzeug':>12}"
        f"{'x falcon':>10}"
    )
    for path in ("/plaintext", "/json"):
        for name in apps:
            us = medians[(name, path)]
            print(
                f"{name:<15}{path:<12}{us:8.2f}{us / medians[('raw', path)]:8.2f}"
                f"{us / medians[('flask', path)]:9.3f}{us / medians[('werkzeug', path)]:12.3f}"
                f"{us / medians[('falcon', path)]:10.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
