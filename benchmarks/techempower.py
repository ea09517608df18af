"""TechEmpower's six tests over real HTTP: microraab against its peers, under one gunicorn.

    python -m benchmarks.techempower                  # every target, every test
    python -m benchmarks.techempower --smoke          # correctness + ~2 s on raw and microraab
    python -m benchmarks.techempower --targets raw,microraab,flask --tests json,db \\
        --duration 10 --rounds 5
    python -m benchmarks.techempower --pin --targets raw,microraab --tests plaintext \\
        --duration 2 --rounds 10                     # a quieter A/B: one core each side
    python -m benchmarks.techempower --targets raw,microraab --tests plaintext \\
        --target flat=benchmarks.experiments.flat_app:app   # an experiment beside them
    python -m benchmarks.techempower --target demo=app:app@/bench  # the demo as deployed

One private ``mongod`` (temporary directory, free port) is started and seeded with
:func:`app.worlds.seed`. Each target (``benchmarks/targets/*.py``) is served by its own
gunicorn (``-k gevent``, same workers and connections for all) on a free loopback port.
Every target is first checked against TechEmpower's rules (:mod:`benchmarks.checks`); a
test a target gets wrong is reported and not measured. Then ``wrk`` loads each target in
turn, round-robin over several rounds (the order rotating), so drift hits all alike.
The report gives medians of req/s, p50 and p99, errors, worker CPU and memory, each
target's ratio to Flask and to the raw WSGI callable (the median of same-round ratios), and
microraab against the issue's targets, as markdown (printed, and ``<output>.md``) and JSON.

Every process started here (gunicorn masters and their workers, mongod) is stopped on
exit, Ctrl-C and errors alike.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from app import worlds
from app.mongo_server import MongoServer, free_port, own_process_group
from benchmarks.checks import check_target

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = Path(__file__).resolve().parent / "gunicorn.conf.py"
DATABASE = "hello_world"

TARGETS: dict[str, str] = {
    "raw": "benchmarks.targets.raw_app:app",
    "microraab": "benchmarks.targets.microraab_app:app",
    "werkzeug": "benchmarks.targets.werkzeug_app:app",
    "flask": "benchmarks.targets.flask_app:app",
    "bottle": "benchmarks.targets.bottle_app:app",
    "falcon": "benchmarks.targets.falcon_app:app",
}
TESTS: dict[str, str] = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=5",
}
PACKAGES = (
    "microraab",
    "werkzeug",
    "jinja2",
    "flask",
    "bottle",
    "falcon",
    "gunicorn",
    "gevent",
    "pymongo",
)


# -- wrk ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """One wrk run."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    timeouts: int
    non_2xx: int
    # Filled by measure(): CPU time per request of the target's gunicorn (master and
    # workers) and of mongod, and the CPU other processes on the machine used meanwhile
    # (in % of one CPU): a busy neighbour makes req/s unreliable, CPU/request much less.
    server_cpu_us: float = 0.0
    mongod_cpu_us: float = 0.0
    foreign_cpu_pct: float = 0.0
    # The mean resident memory of the target's workers right after the run, in MB.
    worker_rss_mb: float = 0.0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unreadable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Sample:
    """The numbers in ``wrk --latency`` output; ValueError if it has none."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unreadable wrk output:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Sample(
        requests_per_sec=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        timeouts=int(errors.group(4)) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


# ``--pin``: the server on CPU 0 and wrk on CPU 1, so neither takes the other's core.
SERVER_CPU = ["taskset", "-c", "0"]
WRK_CPU = ["taskset", "-c", "1"]


def run_wrk(url: str, duration: float, connections: int, threads: int, pin: bool = False) -> Sample:
    """Load ``url`` for ``duration`` seconds and return what wrk measured."""
    command = [
        *(WRK_CPU if pin else []),
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return parse_wrk(result.stdout)


# -- CPU accounting (Linux /proc) --------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (0 if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (gunicorn's workers)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_busy_seconds() -> float:
    """CPU time all processors have spent busy (not idle or waiting for I/O) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    return (sum(values[:8]) - idle - iowait) / _TICK


def waited_children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(server: Server, mongod_pid: int, path: str, args: argparse.Namespace) -> Sample:
    """One wrk run on ``server``, with the CPU each side used per request."""
    pids = [server.process.pid, *children(server.process.pid)]
    server_before = sum(cpu_seconds(pid) for pid in pids)
    mongod_before = cpu_seconds(mongod_pid)
    machine_before, wrk_before = machine_busy_seconds(), waited_children_seconds()
    started = time.monotonic()
    sample = run_wrk(
        server.base_url + path, args.duration, args.connections, args.threads, args.pin
    )
    elapsed = time.monotonic() - started
    server_used = sum(cpu_seconds(pid) for pid in pids) - server_before
    mongod_used = cpu_seconds(mongod_pid) - mongod_before
    wrk_used = waited_children_seconds() - wrk_before
    machine_used = machine_busy_seconds() - machine_before
    requests = max(sample.requests, 1)
    sample.server_cpu_us = server_used / requests * 1e6
    sample.mongod_cpu_us = mongod_used / requests * 1e6
    foreign = max(0.0, machine_used - server_used - mongod_used - wrk_used)
    sample.foreign_cpu_pct = foreign / elapsed * 100
    workers = pids[1:]
    if workers:
        sample.worker_rss_mb = sum(rss_mb(pid) for pid in workers) / len(workers)
    return sample


# -- processes ----------------------------------------------------------------------------


@dataclass
class Server:
    """One gunicorn master (in its own process group, with its workers) serving a target."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    prefix: str = ""  # where the app serves the tests: "/bench" in the demo app

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful), then SIGKILL to the group if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            # The master and its workers share a process group of their own.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def target_env(mongo_uri: str, worker_connections: int) -> dict[str, str]:
    """The environment every target's gunicorn gets: ours, with the run's own database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGODB_")}
    env.update(
        MONGODB_URI=f"{mongo_uri.rstrip('/')}/{DATABASE}",
        MONGODB_DATABASE=DATABASE,
        BENCH_WORKER_CONNECTIONS=str(worker_connections),
        PYTHONPATH=str(ROOT),
    )
    # The demo app (``--target demo=app:app@/bench``) refuses to start in production mode
    # without a key; the peers ignore it.
    env.setdefault("MICRORAAB_SECRET_KEY", "benchmark-" + os.urandom(16).hex())
    return env


def start_server(
    name: str, spec: str, env: dict[str, str], workers: int, log_dir: Path, pin: bool = False
) -> Server:
    """Start gunicorn for ``spec`` on a free port (it is not ready yet: see wait_ready).

    ``spec`` is ``MODULE:APP``, or ``MODULE:APP@/PREFIX`` for an app that serves the tests
    under a prefix (the demo app mounts the bench app at ``/bench``).
    """
    spec, _, prefix = spec.partition("@")
    port = free_port()
    command = [
        *(SERVER_CPU if pin else []),
        sys.executable, "-m", "gunicorn",
        "-c", str(GUNICORN_CONF),
        "-k", "gevent",
        "-w", str(workers),
        "--worker-connections", env["BENCH_WORKER_CONNECTIONS"],
        "--no-control-socket",
        "-b", f"127.0.0.1:{port}",
        spec,
    ]  # fmt: skip
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            **own_process_group(),
        )
    return Server(name, port, process, log_path, prefix.rstrip("/"))


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    """Wait until the target answers ``/plaintext``; RuntimeError if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: gunicorn exited:\n{server.log_tail()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(server.base_url + "/plaintext", timeout=2),
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: not answering after {timeout} s:\n{server.log_tail()}")


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C, so every ``finally`` stops what it started.

    SIGINT is set to raise KeyboardInterrupt even when started in the background by a
    shell, which would otherwise have it ignored.
    """
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


# -- the run ------------------------------------------------------------------------------


@dataclass
class Report:
    meta: dict[str, Any]
    correctness: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def paired_ratios(self, test: str, target: str, base: str) -> list[float]:
        """``target``'s req/s over ``base``'s, round by round ([] if either is missing).

        Targets run back to back within a round, so a round's ratio cancels the drift of
        a shared machine that a ratio of two medians (from different rounds) keeps.
        """
        ours = self.samples.get(target, {}).get(test, [])
        theirs = self.samples.get(base, {}).get(test, [])
        if not ours or not theirs:
            return []
        pairs = zip(ours, theirs, strict=True)  # one sample a round each
        # A round where either served nothing (wrk counted no request: a starved machine)
        # has no ratio.
        return [
            a.requests_per_sec / b.requests_per_sec
            for a, b in pairs
            if a.requests_per_sec and b.requests_per_sec
        ]

    def paired_ratio(self, test: str, target: str, base: str) -> float | None:
        """The median of :meth:`paired_ratios`, None if there are none."""
        ratios = self.paired_ratios(test, target, base)
        return statistics.median(ratios) if ratios else None

    def medians(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for target, by_test in self.samples.items():
            for test, samples in by_test.items():
                if not samples:
                    continue
                rps = [s.requests_per_sec for s in samples]
                to_raw = self.paired_ratios(test, target, "raw") or [0.0]
                out.setdefault(test, {})[target] = {
                    "x_raw": statistics.median(to_raw),
                    # The rounds' lowest and highest: how far one round's ratio can stray.
                    "x_raw_min": min(to_raw),
                    "x_raw_max": max(to_raw),
                    "x_flask": self.paired_ratio(test, target, "flask") or 0.0,
                    "requests_per_sec": statistics.median(rps),
                    "spread_pct": (max(rps) - min(rps)) / statistics.median(rps) * 100,
                    "p50_ms": statistics.median(s.p50_ms for s in samples),
                    "p99_ms": statistics.median(s.p99_ms for s in samples),
                    "socket_errors": sum(s.socket_errors for s in samples),
                    "timeouts": sum(s.timeouts for s in samples),
                    "non_2xx": sum(s.non_2xx for s in samples),
                    "server_cpu_us": statistics.median(s.server_cpu_us for s in samples),
                    "mongod_cpu_us": statistics.median(s.mongod_cpu_us for s in samples),
                    "worker_rss_mb": statistics.median(s.worker_rss_mb for s in samples),
                    "foreign_cpu_pct_max": max(s.foreign_cpu_pct for s in samples),
                    "rounds": len(samples),
                }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "correctness": self.correctness,
            "medians": self.medians(),
            "samples": {
                target: {test: [asdict(s) for s in samples] for test, samples in by_test.items()}
                for target, by_test in self.samples.items()
            },
            "failures": self.failures,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """The Report that :meth:`to_json` wrote (its medians are recomputed)."""
        samples = {
            target: {test: [Sample(**s) for s in found] for test, found in by_test.items()}
            for target, by_test in data["samples"].items()
        }
        return cls(data["meta"], data["correctness"], samples, data.get("failures", []))

    def to_markdown(self) -> str:
        meta = self.meta
        lines = [
            "# HTTP benchmark: TechEmpower's six tests",
            "",
            f"{meta['date']} · {meta['cpus']} CPUs · Python {meta['python']} · "
            f"gunicorn -k gevent -w {meta['workers']} --worker-connections "
            f"{meta['worker_connections']} · wrk -t{meta['threads']} -c{meta['connections']} "
            f"-d{meta['duration']:g}s, {meta['rounds']} round(s) (medians; spread: half the "
            "range of req/s over the median; x flask and x raw: the median over rounds of the "
            "ratio of req/s in the same round; CPU µs/req: user+system time of the target's "
            "gunicorn processes, or of mongod, over the requests served; worker RSS: the mean "
            "resident memory of one worker after the run) · "
            + ("pinned: gunicorn on CPU 0, wrk on CPU 1 · " if meta.get("pinned") else "")
            + "MongoDB "
            f"{meta['mongodb']} on loopback, same machine",
            "",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
            "",
            f"Command: `{meta['command']}`",
            "",
        ]
        medians = self.medians()
        lines += targets_markdown(self)
        for test, path in TESTS.items():
            by_target = medians.get(test)
            if not by_target:
                continue
            raw_cpu = by_target.get("raw", {}).get("server_cpu_us")
            lines += [
                f"## {test} (`{path}`)",
                "",
                "| target | req/s | spread | p50 ms | p99 ms | socket errors (timeouts) "
                "| non-2xx | x flask | x raw | server CPU µs/req | CPU x raw | mongod CPU µs/req "
                "| worker RSS MB |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for target, m in sorted(by_target.items(), key=lambda kv: -kv[1]["requests_per_sec"]):
                rps = m["requests_per_sec"]
                lines.append(
                    f"| {target} | {rps:,.0f} | ±{m['spread_pct'] / 2:.0f}% | {m['p50_ms']:.2f} "
                    f"| {m['p99_ms']:.2f} | {m['socket_errors']} ({m['timeouts']}) "
                    f"| {m['non_2xx']} | {_paired(m['x_flask'])} | {_paired(m['x_raw'])} "
                    f"| {m['server_cpu_us']:.0f} | {_ratio(m['server_cpu_us'], raw_cpu)} "
                    f"| {m['mongod_cpu_us']:.0f} | {m.get('worker_rss_mb', 0.0):.1f} |"
                )
            lines.append("")
        busiest = max(
            (
                m["foreign_cpu_pct_max"]
                for by_target in medians.values()
                for m in by_target.values()
            ),
            default=0.0,
        )
        if busiest > 10:
            lines += [
                f"**Noisy machine**: other processes used up to {busiest:.0f}% of a CPU during "
                "some runs; compare the CPU-per-request columns rather than req/s.",
                "",
            ]
        failed = {
            (target, test): problems
            for target, by_test in self.correctness.items()
            for test, problems in by_test.items()
            if problems
        }
        lines += ["## Correctness", ""]
        if not failed:
            lines.append(
                "Every target passed every test: "
                "headers, JSON shapes, `queries` clamping (0, foo, 501, missing), fortunes "
                "escaping and order, updates persisted."
            )
        for (target, test), problems in failed.items():
            lines.append(f"- **{target} / {test}**: not measured: " + "; ".join(problems[:5]))
        lines += [f"- {failure}" for failure in self.failures]
        lines.append("")
        return "\n".join(lines)


# The targets for microraab (issue 17), each the median of same-round req/s ratios.
FALCON_FLOOR = 0.97  # at least 0.97x Falcon on every test Falcon serves
BEHIND_US = ("bottle", "werkzeug", "flask")  # ahead of each of them on every test
DEMO = "demo"  # the demo app as deployed: ``--target demo=app:app@/bench``
DEMO_FLOOR = 0.97  # the demo's /bench no more than 3 % below the bench app alone


def targets_markdown(report: Report) -> list[str]:
    """microraab against its targets: each ratio's median over rounds, its range, met or not.

    Columns for targets not measured in the run are left out.
    """
    measured = set(report.samples)
    if "microraab" not in measured:
        return []
    columns: list[tuple[str, str, float | None]] = []  # (target, heading, floor)
    if "falcon" in measured:
        columns.append(("falcon", f"x falcon (>= {FALCON_FLOOR})", FALCON_FLOOR))
    columns += [(peer, f"x {peer} (> 1)", 1.0) for peer in BEHIND_US if peer in measured]
    if DEMO in measured:
        columns.append((DEMO, f"demo x microraab (>= {DEMO_FLOOR})", DEMO_FLOOR))
    if "raw" in measured:
        columns.append(("raw", "x raw", None))
    lines = [
        "## microraab against its targets",
        "",
        "Each cell: the median over rounds of the same-round req/s ratio, the rounds' lowest "
        "and highest in brackets, and whether the target is met. Targets: at least "
        f"{FALCON_FLOOR}x Falcon; ahead of (above 1x) {', '.join(BEHIND_US)}; the demo app "
        f"(`app:app`, the tests under `/bench`) at least {DEMO_FLOOR}x the bench app alone.",
        "",
        "| test | rounds | " + " | ".join(heading for _, heading, _ in columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    rows = 0
    for test in TESTS:
        ours = report.samples["microraab"].get(test)
        if not ours:
            continue
        cells = []
        for target, _, floor in columns:
            if target == DEMO:
                ratios = report.paired_ratios(test, DEMO, "microraab")
            else:
                ratios = report.paired_ratios(test, "microraab", target)
            if not ratios:
                cells.append("-")
                continue
            median = statistics.median(ratios)
            cell = f"{median:.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
            if floor is not None:
                met = round(median, 3) > floor if floor == 1.0 else round(median, 3) >= floor
                cell += " yes" if met else " **no**"
            cells.append(cell)
        rows += 1
        lines.append(f"| {test} | {len(ours)} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    # Server CPU per request is steadier than req/s on a busy machine: the same targets.
    names = ["microraab", *(target for target, _, _ in columns)]
    lines += [
        "",
        "Server CPU µs a request (gunicorn's processes; the median over rounds), the same "
        "targets: steadier than req/s when other processes share the machine.",
        "",
        "| test | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for test in TESTS:
        if report.samples["microraab"].get(test):
            cpu = [
                statistics.median(s.server_cpu_us for s in report.samples[name].get(test, []))
                if report.samples[name].get(test)
                else None
                for name in names
            ]
            cells = [f"{value:.0f}" if value is not None else "-" for value in cpu]
            lines.append(f"| {test} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _paired(ratio: float) -> str:
    return f"{ratio:.3f}" if ratio else "-"


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base else "-"


def pooled(reports: list[Report]) -> Report:
    """One Report holding every round of ``reports``, for targets measured in all of them.

    Each run's rounds stay paired (every target has one sample a round), so the pooled
    same-round ratios are the runs' ratios side by side: more rounds, a steadier median.
    """
    samples: dict[str, dict[str, list[Sample]]] = {}
    for target in reports[0].samples:
        for test in reports[0].samples[target]:
            runs = [report.samples.get(target, {}).get(test) for report in reports]
            if all(runs):
                samples.setdefault(target, {})[test] = [s for run in runs for s in run or []]
    return Report({"pooled": [report.meta.get("date") for report in reports]}, samples=samples)


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return found


def run(args: argparse.Namespace) -> Report:
    """Start mongod and the targets, check them, load them, stop everything."""
    report = Report(
        meta={
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "versions": versions(),
            "workers": args.workers,
            "worker_connections": args.worker_connections,
            "pinned": args.pin,
            "threads": args.threads,
            "connections": args.connections,
            "duration": args.duration,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "targets": args.targets,
            "tests": args.tests,
            "paths": {test: TESTS[test] for test in args.tests},
            "mongodb": "?",
            "command": " ".join(["python -m benchmarks.techempower", *sys.argv[1:]]),
        }
    )
    servers: dict[str, Server] = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(sigterm_as_exit())
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="microraab-bench-")))
        mongo = stack.enter_context(start_mongod(temp / "db"))
        assert mongo.pid is not None
        client: MongoClient[dict[str, Any]] = MongoClient(mongo.uri, serverSelectionTimeoutMS=5000)
        stack.callback(client.close)
        db = client[DATABASE]
        report.meta["mongodb"] = client.server_info()["version"]
        print(
            f"mongod {report.meta['mongodb']} at {mongo.uri}: seeded {worlds.seed(db)}", flush=True
        )

        env = target_env(mongo.uri, args.worker_connections)
        stack.callback(_stop_all, servers)
        for name in args.targets:
            spec = args.extra_targets.get(name) or TARGETS[name]
            servers[name] = start_server(name, spec, env, args.workers, temp, args.pin)
        for name, server in list(servers.items()):
            try:
                wait_ready(server)
            except RuntimeError as error:
                report.failures.append(str(error).splitlines()[0])
                print(error, file=sys.stderr)
                server.stop()
                del servers[name]

        measurable: dict[str, list[str]] = {}
        for name, server in servers.items():
            # All six are checked even when fewer are measured: a check costs milliseconds.
            report.correctness[name] = check_target(server.base_url, db, list(TESTS))
            measurable[name] = [t for t in args.tests if not report.correctness[name][t]]
            for test, problems in report.correctness[name].items():
                status = "ok" if not problems else "FAILED: " + "; ".join(problems[:3])
                print(f"check {name:<10} {test:<10} {status}", flush=True)

        if args.warmup > 0:
            for name, server in servers.items():
                for test in measurable[name]:
                    run_wrk(
                        server.base_url + TESTS[test],
                        args.warmup,
                        args.connections,
                        args.threads,
                        args.pin,
                    )
        names = list(servers)
        for round_number in range(args.rounds):
            # Rotate the order each round, so no target always runs first (or last).
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for test in args.tests:
                for name in order:
                    if test not in measurable[name]:
                        continue
                    sample = measure(servers[name], mongo.pid, TESTS[test], args)
                    report.samples.setdefault(name, {}).setdefault(test, []).append(sample)
                    print(
                        f"round {round_number + 1}/{args.rounds} {test:<10} {name:<10} "
                        f"{sample.requests_per_sec:>10,.0f} req/s  p50 {sample.p50_ms:.2f} ms  "
                        f"p99 {sample.p99_ms:.2f} ms  errors {sample.socket_errors}  "
                        f"non-2xx {sample.non_2xx}  CPU/req {sample.server_cpu_us:.0f} µs "
                        f"(mongod {sample.mongod_cpu_us:.0f} µs)  "
                        f"others {sample.foreign_cpu_pct:.0f}% CPU",
                        flush=True,
                    )
        for name, server in servers.items():
            problems = [
                line
                for line in server.log_tail(200).splitlines()
                if "Traceback" in line or "ERROR" in line or "CRITICAL" in line
            ]
            if problems:
                report.failures.append(
                    f"{name}: its gunicorn log has {len(problems)} "
                    f"error lines, e.g. {problems[0][:200]}"
                )
    return report


def _stop_all(servers: dict[str, Server]) -> None:
    for server in servers.values():
        server.stop()


@contextlib.contextmanager
def start_mongod(dbpath: Path) -> Iterator[MongoServer]:
    """A private mongod for the run, stopped (by its pid) afterwards."""
    server = MongoServer(dbpath)
    try:
        yield server.start()
    finally:
        server.stop()


# -- command line -------------------------------------------------------------------------


def _names(value: str, known: dict[str, str]) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(known)} (got {value!r})")
    return names


def _extra_target(value: str) -> tuple[str, str]:
    name, _, spec = value.partition("=")
    app, _, prefix = spec.partition("@")
    if (
        not re.fullmatch(r"[a-z0-9_-]+", name)
        or name in TARGETS
        or ":" not in app
        or (prefix and not prefix.startswith("/"))
    ):
        raise argparse.ArgumentTypeError(
            f"expected NAME=MODULE:APP[@/PREFIX] with a new lowercase name (got {value!r})"
        )
    return name, spec


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.techempower", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run [10]")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2,
        help="seconds of unmeasured load per target and test first [2]",
    )
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds [3]")
    parser.add_argument(
        "--targets",
        type=lambda v: _names(v, TARGETS),
        default=list(TARGETS),
        help=f"comma-separated, from {','.join(TARGETS)} [all]",
    )
    parser.add_argument(
        "--tests",
        type=lambda v: _names(v, TESTS),
        default=list(TESTS),
        help=f"comma-separated, from {','.join(TESTS)} [all]",
    )
    parser.add_argument(
        "--target",
        dest="extra_targets",
        type=_extra_target,
        action="append",
        default=[],
        metavar="NAME=MODULE:APP",
        help="also measure this WSGI app, e.g. from benchmarks/experiments/, or the demo "
        "app with the tests under /bench: demo=app:app@/bench (repeatable)",
    )
    parser.add_argument("--connections", type=int, default=64, help="wrk -c [64]")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t [2]")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn -w [2]")
    parser.add_argument(
        "--worker-connections", type=int, default=1000, help="gunicorn --worker-connections [1000]"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="gunicorn on CPU 0 with 1 worker, wrk on CPU 1 with 1 thread (taskset): "
        "less noise for an A/B of the framework layer, not the deployment's figures",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="correctness, then ~2 s of plaintext and db on raw and microraab",
    )
    parser.add_argument(
        "--pool",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="instead of running, print the targets table of these runs' rounds together",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="write <output>.md and <output>.json "
        "[benchmarks/results/latest, or .../smoke with --smoke]",
    )
    args = parser.parse_args(argv)
    args.extra_targets = dict(args.extra_targets)
    args.targets += [name for name in args.extra_targets if name not in args.targets]
    if args.pin:
        args.workers, args.threads = 1, 1
    if args.smoke:
        args.targets, args.tests = ["raw", "microraab"], ["plaintext", "db"]
        args.duration, args.warmup, args.rounds = 2, 0, 1
    if args.output is None:
        name = "smoke" if args.smoke else "latest"
        args.output = Path(__file__).resolve().parent / "results" / name
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pool:
        runs = [Report.from_json(json.loads(path.read_text())) for path in args.pool]
        report = pooled(runs)
        rounds = max(
            len(found) for by_test in report.samples.values() for found in by_test.values()
        )
        print(f"Pooled: {rounds} rounds from {', '.join(str(p) for p in args.pool)}\n")
        print("\n".join(targets_markdown(report)))
        return 0
    try:
        report = run(args)
    except KeyboardInterrupt:
        print("interrupted: every server started was stopped", file=sys.stderr)
        return 130
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # The samples first: a run's minutes of data survive a report that fails.
    args.output.with_suffix(".json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    markdown = report.to_markdown()
    print()
    print(markdown)
    args.output.with_suffix(".md").write_text(markdown)
    print(f"written: {args.output.with_suffix('.md')} and .json")
    failed = report.failures or any(
        problems for by_test in report.correctness.values() for problems in by_test.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
