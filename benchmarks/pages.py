"""The demo's own pages and API calls in-process, against a real mongod, beside ``/bench``.

    python -m benchmarks.pages [--rounds 7] [--number 300] [--links 30]
    python -m benchmarks.pages --profile         # GET / under py-spy: µs by stage and call
    python -m benchmarks.pages --url-for         # url_for against Werkzeug's MapAdapter.build
    python -m benchmarks.pages --redirect        # what the click's $inc costs the clicker

The demo app is built as deployed (:func:`app.create_app` in production mode, ``/bench``
mounted), on a private ``mongod`` seeded with ``--links`` links and TechEmpower's worlds.
Each request is a fresh environ passed to the app's WSGI callable, its body consumed and
closed: no HTTP, no test client, so what is timed is the framework, the app and the
database. A pymongo ``CommandListener`` adds up every command's ``duration_micros`` (from
sending the command to its reply read): the part of a request spent waiting on MongoDB.
Every request is checked once before it is timed. Requests run interleaved, round by
round; each page's ratio to ``/bench/fortunes`` and ``/bench/db`` is the median of the
same-round ratios, so the drift of a shared machine cancels.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pymongo import MongoClient, monitoring
from pymongo.database import Database

from app.mongo_server import MongoServer

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]
DATABASE = "pages_benchmark"
HOST = "links.example"
# The targets: each page's median same-round ratio to a /bench page.
TARGETS = {
    "GET /": ("GET /bench/fortunes", 1.3),
    "GET / (new visitor)": ("GET /bench/fortunes", 1.3),
    "GET /<code>+": ("GET /bench/fortunes", 1.3),
    "GET /api/links?limit=10": ("GET /bench/db", 1.3),
}
URL_FOR_TARGET = 1.2  # url_for at most 1.2x MapAdapter.build for the same rule


class CommandTimer(monitoring.CommandListener):
    """Adds up the durations of every MongoDB command that finished, in µs, and counts them."""

    def __init__(self) -> None:
        self.micros = 0
        self.commands = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.micros += event.duration_micros
        self.commands += 1

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.micros += event.duration_micros
        self.commands += 1


def environ(
    method: str,
    path: str,
    query: str = "",
    *,
    body: bytes = b"",
    content_type: str = "",
    cookie: str = "",
) -> Environ:
    """An environ like gunicorn's for one request from a browser (or an API client)."""
    env: Environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": HOST,
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.5",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    if body or method in ("POST", "PUT", "PATCH"):
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = content_type
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


def call(app: WSGIApp, env: Environ) -> Answer:
    """One request through the WSGI interface, the body read and closed, as a server does."""
    seen: list[Any] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen[:] = [status, headers]
        return None

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(seen[0], list(seen[1]), body)


@dataclass
class Case:
    """One page or API call: ``environs(n)`` makes n requests (untimed); ``check`` its answer."""

    name: str
    environs: Callable[[int], list[Environ]]
    status: int
    contains: bytes = b""


class Site:
    """The demo app on a seeded database, and the requests that exercise every page."""

    def __init__(self, mongo_uri: str, database: str, links: int) -> None:
        from app import create_app
        from app.links import LinkStore
        from app.worlds import seed

        self.timer = CommandTimer()
        monitoring.register(self.timer)  # for the clients made from now on: the app's own
        self.app = create_app(
            {
                "MONGODB_URI": f"{mongo_uri.rstrip('/')}/{database}",
                "MONGODB_DATABASE": database,
                "SECRET_KEY": secrets.token_hex(32),
                "ENV": "production",
            }
        )
        self.client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        self.db: Database[dict[str, Any]] = self.client[database]
        store = LinkStore(self.db)
        store.ensure_indexes()
        seed(self.db)
        self.store = store
        self.codes = [
            store.create(f"https://example.com/article/{i}?ref=bench").code for i in range(links)
        ]
        self.code = self.codes[len(self.codes) // 2]
        first = call(self.app, environ("GET", "/"))
        self.cookie = first.header("Set-Cookie").split(";", 1)[0]
        token = re.search(rb'name="csrf_token" value="([^"]+)"', first.body)
        if not self.cookie or token is None:
            raise SystemExit(f"GET / gave no session cookie or CSRF token: {first}")
        self.csrf_token = token.group(1).decode()

    def close(self) -> None:
        self.app.extensions["mongo"].close()
        self.client.close()

    def cases(self) -> list[Case]:
        """Every page and API call of the demo, and the /bench pages to compare them with."""
        code, cookie = self.code, self.cookie
        listed = b'class="code"'  # the list of recent links is there

        def same(*args: Any, **kwargs: Any) -> Callable[[int], list[Environ]]:
            return lambda n: [environ(*args, **kwargs) for _ in range(n)]

        def form_posts(n: int) -> list[Environ]:
            fields = {"url": "https://example.com/a/new/page", "csrf_token": self.csrf_token}
            body = urlencode(fields).encode()
            kind = "application/x-www-form-urlencoded"
            return [
                environ("POST", "/", body=body, content_type=kind, cookie=cookie) for _ in range(n)
            ]

        def api_posts(n: int) -> list[Environ]:
            body = json.dumps({"url": "https://example.com/from/the/api"}).encode()
            kind = "application/json"
            return [environ("POST", "/api/links", body=body, content_type=kind) for _ in range(n)]

        def deletes(n: int) -> list[Environ]:
            # Links made for the purpose, untimed, so every DELETE finds one.
            made = [self.store.create("https://example.com/to/delete").code for _ in range(n)]
            return [environ("DELETE", f"/api/links/{made_code}") for made_code in made]

        return [
            Case("GET /", same("GET", "/", cookie=cookie), 200, listed),
            Case("GET / (new visitor)", same("GET", "/"), 200, listed),
            Case("GET /<code>", same("GET", f"/{code}"), 302),
            Case("GET /<code>+", same("GET", f"/{code}+", cookie=cookie), 200, code.encode()),
            Case("POST / (form)", form_posts, 303),
            Case("GET /<unknown>+ (404)", same("GET", "/nosuchcode+", cookie=cookie), 404),
            Case(
                "GET /api/links?limit=10",
                same("GET", "/api/links", "limit=10"),
                200,
                b"next_cursor",
            ),
            Case("GET /api/links/<code>", same("GET", f"/api/links/{code}"), 200, code.encode()),
            Case("POST /api/links", api_posts, 201),
            Case("DELETE /api/links/<code>", deletes, 204),
            Case("GET /api/openapi.json", same("GET", "/api/openapi.json"), 200, b"openapi"),
            Case("GET /healthz", same("GET", "/healthz"), 200, b"ok"),
            Case("GET /readyz", same("GET", "/readyz"), 200, b"ready"),
            Case("GET /bench/plaintext", same("GET", "/bench/plaintext"), 200, b"Hello"),
            Case("GET /bench/db", same("GET", "/bench/db"), 200, b"randomNumber"),
            Case("GET /bench/fortunes", same("GET", "/bench/fortunes"), 200, b"fortune"),
        ]

    def check(self, case: Case) -> None:
        """Refuse to time a request that is not answered as the demo answers it."""
        answer = call(self.app, case.environs(1)[0])
        if not answer.status.startswith(str(case.status)) or case.contains not in answer.body:
            raise SystemExit(f"{case.name} answers wrongly: {answer.status} {answer.body[:300]!r}")


@dataclass
class Timing:
    """One request's figures over a round: medians of its requests, in µs."""

    us: float  # wall time
    cpu_us: float  # this process's CPU time: the framework's and the app's work, pymongo's
    mongo_us: float  # waiting on MongoDB commands (their duration_micros)
    mongo_share: float  # all the waits over all the wall time
    commands: float  # MongoDB commands a request (mean)


def time_round(site: Site, cases: list[Case], number: int) -> dict[str, Timing]:
    """``number`` requests of each case, interleaved one by one (so drift hits all alike)."""
    app: WSGIApp = site.app
    timer = site.timer
    environs = {case.name: case.environs(number) for case in cases}  # untimed
    walls: dict[str, list[float]] = {case.name: [] for case in cases}
    cpus: dict[str, list[float]] = {case.name: [] for case in cases}
    waits: dict[str, list[float]] = {case.name: [] for case in cases}
    commands = dict.fromkeys(walls, 0)

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        return None

    wall_clock, cpu_clock = time.perf_counter, time.thread_time
    for i in range(number):
        shift = i % len(cases)  # rotated: no request always follows the same one
        for case in cases[shift:] + cases[:shift]:
            env = environs[case.name][i]
            waited, counted = timer.micros, timer.commands
            cpu, wall = cpu_clock(), wall_clock()
            result = app(env, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
            wall, cpu = wall_clock() - wall, cpu_clock() - cpu
            walls[case.name].append(wall * 1e6)
            cpus[case.name].append(cpu * 1e6)
            waits[case.name].append(timer.micros - waited)
            commands[case.name] += timer.commands - counted
    return {
        name: Timing(
            statistics.median(walls[name]),
            statistics.median(cpus[name]),
            statistics.median(waits[name]),
            sum(waits[name]) / sum(walls[name]),
            commands[name] / number,
        )
        for name in walls
    }


@dataclass
class Results:
    rounds: list[dict[str, Timing]]

    def median(self, name: str, field: str = "us") -> float:
        return float(statistics.median(getattr(run[name], field) for run in self.rounds))

    def ratios(self, name: str, base: str, field: str = "us") -> list[float]:
        return [getattr(run[name], field) / getattr(run[base], field) for run in self.rounds]


def measure(site: Site, rounds: int, number: int, only: list[str] | None = None) -> Results:
    """Check every request, warm them up, then time ``rounds`` rounds of ``number`` each."""
    cases = [c for c in site.cases() if not only or c.name in only]
    for case in cases:
        site.check(case)
    time_round(site, cases, max(1, number // 10))  # templates compiled, pools filled
    return Results([time_round(site, cases, number) for _ in range(rounds)])


def _ratio(results: Results, name: str, base: str, field: str = "us") -> str:
    ratios = results.ratios(name, base, field)
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def report(results: Results, rounds: int, number: int) -> str:
    """Markdown: each request's medians, its ratios to /bench, and the targets."""
    names = list(results.rounds[0])
    lines = [
        f"{rounds} rounds x {number} requests of each, interleaved one by one, in-process "
        "(no HTTP). µs: the median request of a round, then the median over rounds; "
        "ratios: the median of the same-round ratios, the rounds' range in brackets.",
        "",
        "| request | µs | CPU µs | MongoDB µs | MongoDB share | commands "
        "| x /bench/fortunes | x /bench/db | CPU x /bench/fortunes | CPU x /bench/db |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bases = [b for b in ("GET /bench/fortunes", "GET /bench/db") if b in names]
    for name in names:
        cells = [_ratio(results, name, base) for base in bases]
        cells += [_ratio(results, name, base, "cpu_us") for base in bases]
        cells += ["-"] * (4 - len(cells))
        lines.append(
            f"| `{name}` | {results.median(name):,.0f} | {results.median(name, 'cpu_us'):,.0f} "
            f"| {results.median(name, 'mongo_us'):,.0f} "
            f"| {results.median(name, 'mongo_share'):.0%} "
            f"| {results.median(name, 'commands'):.0f} | " + " | ".join(cells) + " |"
        )
    targets = [(name, *TARGETS[name]) for name in names if TARGETS.get(name, ("",))[0] in names]
    if targets:
        lines += ["", "| target | wall time | met | CPU time | met |", "|---|---:|---|---:|---|"]
    for name, base, ceiling in targets:
        verdicts = []
        for field in ("us", "cpu_us"):
            ratio = statistics.median(results.ratios(name, base, field))
            verdicts += [
                _ratio(results, name, base, field),
                "yes" if ratio <= ceiling else "**no**",
            ]
        lines.append(f"| `{name}` <= {ceiling} x `{base}` | " + " | ".join(verdicts) + " |")
    return "\n".join(lines)


# -- url_for ------------------------------------------------------------------------------


def url_for_costs(site: Site, number: int) -> dict[str, float]:
    """µs per call of url_for, each way it is reached, and of MapAdapter.build, same rule."""
    from microraab.templating import _url_for

    app = site.app
    request = app.request_class(environ("GET", "/"), app, "id")
    adapter = request.url_adapter  # bound to the request, as url_for's own is
    template = app.jinja_env.from_string("{{ url_for('pages.detail', code=code) }}")
    context = template.new_context({"request": request, "code": site.code})
    expected = adapter.build("pages.detail", {"code": site.code})
    if not app.url_for("pages.detail", _request=request, code=site.code) == expected:
        raise AssertionError("url_for and MapAdapter.build disagree")
    code = site.code
    pieces: dict[str, Callable[[], Any]] = {
        "MapAdapter.build": lambda: adapter.build("pages.detail", {"code": code}),
        "request.url_for": lambda: request.url_for("pages.detail", code=code),
        "App.url_for": lambda: app.url_for("pages.detail", _request=request, code=code),
        "url_for in a template": lambda: _url_for(context, "pages.detail", code=code),
    }
    return interleaved(pieces, number)


def interleaved(
    pieces: dict[str, Callable[[], Any]], number: int, batch: int = 100
) -> dict[str, float]:
    """µs per call of each piece: batches of ``batch`` calls, the pieces taking turns, and
    each piece's median batch (a busy machine's pauses fall on a few batches)."""
    batches: dict[str, list[float]] = {name: [] for name in pieces}
    calls = range(batch)
    for _ in range(max(1, number // batch)):
        for name, piece in pieces.items():
            start = time.perf_counter()
            for _call in calls:
                piece()
            batches[name].append((time.perf_counter() - start) / batch * 1e6)
    return {name: statistics.median(found) for name, found in batches.items()}


# -- the redirect ------------------------------------------------------------------------


def redirect_costs(site: Site, number: int) -> dict[str, float]:
    """µs a call: the redirect as served, and the database calls it could be made of.

    The redirect answers after ``record_click``, one ``findAndModify`` (``$inc``) with
    ``w="majority"``. Answering first would need the link's URL first: a ``find_one``,
    then the ``$inc`` after the response. The difference between the two calls is what
    the clicker would gain; the unacknowledged-journal write (``j=False``, ``w=1``) shows
    what of the ``$inc`` is the wait for durability.
    """
    from pymongo import WriteConcern

    from app.links import LinkStore

    database = site.app.extensions["mongo"].database
    store = LinkStore(database)
    fast = LinkStore(database.with_options(write_concern=WriteConcern(w=1, j=False)))
    code = site.code
    follow = next(case for case in site.cases() if case.name == "GET /<code>")
    environs = iter(follow.environs(number * 2))
    pieces: dict[str, Callable[[], Any]] = {
        "record_click: $inc, w=majority": lambda: store.record_click(code),
        "record_click: $inc, w=1, j=False": lambda: fast.record_click(code),
        "get: find_one": lambda: store.get(code),
    }
    figures = interleaved(pieces, number, batch=10)
    # The redirect as a server serves it: the 302 sent (its body read), then closed.
    sent, closed = [], []
    app: WSGIApp = site.app
    for _ in range(number):
        start = time.perf_counter()
        body = app(next(environs), lambda status, headers, exc_info=None: None)
        for _chunk in body:
            pass
        sent.append(time.perf_counter() - start)
        body.close()  # type: ignore[attr-defined]
        closed.append(time.perf_counter() - start)
    figures["GET /<code>: the 302 sent"] = statistics.median(sent) * 1e6
    figures["GET /<code>: closed (the click counted)"] = statistics.median(closed) * 1e6
    return figures


# -- profile -----------------------------------------------------------------------------

STAGES = (
    "wsgi_app", "full_dispatch_request", "match_request", "preprocess_request",
    "dispatch_request", "make_response", "process_response", "send_response",
)  # fmt: skip


REQUEST_FRAME = "App.__call__ (microraab/app.py:"  # every request's outermost frame


def profile(name: str, seconds: float, rate: int, top: int, mongodb_uri: str | None = None) -> str:
    """Run this benchmark's request ``name`` under py-spy; µs a request by stage and call.

    py-spy samples a child that serves only ``name``, in a loop, and measures its
    requests' wall time, CPU time and MongoDB waits. Every sample counts (``--idle``: the
    waits on MongoDB too, in pymongo's ``recv_into``), but only those inside a request,
    each worth the requests' wall time over their samples: the frames add up to the
    request's wall time.
    """
    from benchmarks.profile_http import fold

    with tempfile.TemporaryDirectory(prefix="microraab-pages-") as temp:
        output, counted = Path(temp) / "profile.txt", Path(temp) / "count.txt"
        command = [
            "py-spy", "record", "--idle", "--nonblocking", "-r", str(rate),
            "-f", "raw", "-o", str(output),
            "--", sys.executable, "-m", "benchmarks.pages", "--serve", name,
            "--seconds", str(seconds), "--count-file", str(counted),
            *(["--mongodb-uri", mongodb_uri] if mongodb_uri else []),
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 120, check=False
        )
        if done.returncode != 0 or not output.exists() or not counted.exists():
            raise RuntimeError(f"py-spy failed: {(done.stderr or done.stdout).strip()[-800:]}")
        requests, wall, cpu, waits = (float(n) for n in counted.read_text().split())
        raw = "\n".join(line for line in output.read_text().splitlines() if REQUEST_FRAME in line)
    samples = sum(fold(raw, 1.0)[0].values())
    us_per_request = wall / requests * 1e6
    own, inclusive = fold(raw, us_per_request / max(samples, 1))
    lines = [
        f"`{name}`: {requests:.0f} requests under py-spy at {rate} Hz, {samples:.0f} samples "
        f"inside them. A request: {us_per_request:,.0f} µs, of which "
        f"{waits / requests:,.0f} waiting on MongoDB (the CommandListener), "
        f"{cpu / requests * 1e6:,.0f} µs of CPU; by frame below (wall µs a request)",
        "",
        "| stage | inclusive µs | share |",
        "|---|---:|---:|",
    ]
    for stage in STAGES:
        frame = f"App.{stage} (microraab/app.py)"
        if frame in inclusive:
            cost = inclusive[frame]
            lines.append(f"| `{stage}` | {cost:.0f} | {cost / us_per_request:.0%} |")
    lines += ["", "| call | own µs | inclusive µs |", "|---|---:|---:|"]
    for frame in sorted(inclusive, key=lambda frame: -inclusive[frame])[:top]:
        lines.append(f"| `{frame}` | {own.get(frame, 0.0):.1f} | {inclusive[frame]:.1f} |")
    return "\n".join(lines)


def serve(site: Site, name: str, seconds: float, count_file: Path) -> None:
    """Serve request ``name`` in a loop for ``seconds`` (the profiled child): count, time."""
    case = next(case for case in site.cases() if case.name == name)
    site.check(case)
    served, wall, cpu = 0, 0.0, 0.0
    site.timer.micros = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for env in case.environs(100):
            start, start_cpu = time.perf_counter(), time.thread_time()
            call(site.app, env)
            wall += time.perf_counter() - start
            cpu += time.thread_time() - start_cpu
        served += 100
    count_file.write_text(f"{served} {wall} {cpu} {site.timer.micros}")


# -- command line ------------------------------------------------------------------------


@contextlib.contextmanager
def running_site(args: argparse.Namespace) -> Iterator[Site]:
    """The demo app on ``--mongodb-uri``, or on a private mongod started (and stopped) here."""
    with contextlib.ExitStack() as stack:
        uri = args.mongodb_uri
        if not uri:
            temp = stack.enter_context(tempfile.TemporaryDirectory(prefix="microraab-pages-"))
            server = MongoServer(Path(temp) / "db").start()
            stack.callback(server.stop)
            uri = server.uri
        database = f"{DATABASE}_{os.getpid()}"
        site = Site(uri, database, args.links)
        stack.callback(site.close)  # last, after the database is dropped
        stack.callback(site.client.drop_database, database)
        yield site


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds [7]")
    parser.add_argument("--number", type=int, default=300, help="requests a round [300]")
    parser.add_argument("--links", type=int, default=30, help="links stored first [30]")
    parser.add_argument("--only", action="append", help="time only this request (repeatable)")
    parser.add_argument("--mongodb-uri", help="use this mongod instead of starting one")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--profile", metavar="REQUEST", nargs="?", const="GET /",
                      help="py-spy on one request, by stage and call [GET /]")  # fmt: skip
    what.add_argument("--url-for", action="store_true", help="url_for against MapAdapter.build")
    what.add_argument("--redirect", action="store_true", help="the redirect and its $inc")
    what.add_argument("--serve", metavar="REQUEST", help=argparse.SUPPRESS)  # --profile's child
    parser.add_argument("--seconds", type=float, default=10, help="profiled seconds [10]")
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples a second [1000]")
    parser.add_argument("--top", type=int, default=30, help="calls listed by --profile [30]")
    parser.add_argument("--count-file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        print(profile(args.profile, args.seconds, args.rate, args.top, args.mongodb_uri))
        return 0
    with running_site(args) as site:
        if args.serve:
            serve(site, args.serve, args.seconds, args.count_file)
            return 0
        if args.url_for:
            runs = [url_for_costs(site, args.number) for _ in range(args.rounds)]
            build = statistics.median(run["MapAdapter.build"] for run in runs)
            print(
                "url_for('pages.detail', code=...), µs a call, "
                f"median of {args.rounds} x {args.number}"
            )
            for name in runs[0]:
                us = statistics.median(run[name] for run in runs)
                ratios = [run[name] / run["MapAdapter.build"] for run in runs]
                print(f"{name:<24}{us:8.2f}  x build {statistics.median(ratios):.2f} "
                      f"({min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip
            print(f"target: url_for <= {URL_FOR_TARGET} x MapAdapter.build ({build:.2f} µs)")
            return 0
        if args.redirect:
            runs = [redirect_costs(site, args.number) for _ in range(args.rounds)]
            print(f"the redirect, µs, median of {args.rounds} x {args.number}")
            for name in runs[0]:
                print(f"{name:<40}{statistics.median(run[name] for run in runs):10.0f}")
            return 0
        results = measure(site, args.rounds, args.number, args.only)
        print(report(results, args.rounds, args.number))
    return 0


if __name__ == "__main__":
    sys.exit(main())
