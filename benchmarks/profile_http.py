"""Where a request's worker CPU goes under real HTTP load: py-spy on one gunicorn worker.

    python -m benchmarks.profile_http --targets raw,microraab --test plaintext
    python -m benchmarks.profile_http --targets raw,microraab --test db --seconds 10 --runs 3
    python -m benchmarks.profile_http --targets microraab,flat=benchmarks.experiments.flat_app:app

For each target in turn (and again for each run): gunicorn with one gevent worker on
CPU 0, wrk (one thread, 64 connections) on CPU 1, and py-spy, also on CPU 1, sampling the
worker for ``--seconds`` in the middle of the load. A frame's share of the samples times
the worker's CPU time over the same window, divided by the requests served in it, is its
cost in µs per request: *own* (the function's code, and the system calls made from it)
and *inclusive* (with everything it calls). The table lists the frames whose cost differs
most from the first target's, averaged over the runs.

In-process timings (``benchmarks/inprocess.py``) run hot, in a loop; this shows what the
same code costs between gunicorn's parsing and sending, with other connections' work in
the caches. The figures carry sampling noise: repeat with ``--runs``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from app import worlds
from benchmarks.techempower import (
    DATABASE,
    TARGETS,
    TESTS,
    WRK_CPU,
    Sample,
    children,
    cpu_seconds,
    run_wrk,
    start_mongod,
    start_server,
    target_env,
    wait_ready,
)

# Samples a second. Each pauses the worker for a moment (py-spy's default, which keeps the
# stacks consistent), so its CPU per request reads a few µs higher while it is sampled.
RATE = 500
_LINE_NUMBER = re.compile(r":\d+\)$")


@dataclass
class Profile:
    """µs per request by frame (``function (file)``) for one target, over its runs."""

    own: dict[str, float]
    inclusive: dict[str, float]
    cpu_us: float  # the worker's CPU µs per request while it was sampled


def fold(raw: str, us_per_sample: float) -> tuple[dict[str, float], dict[str, float]]:
    """Own and inclusive µs per request by frame, from py-spy's ``--format raw`` output.

    Each line is ``frame;frame;...;leaf count``; line numbers are dropped, so a function
    is one frame however many of its lines were sampled.
    """
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        own[frames[-1]] += int(count)
        for frame in set(frames):  # a recursive function counts once per sample
            inclusive[frame] += int(count)
    return (
        {frame: n * us_per_sample for frame, n in own.items()},
        {frame: n * us_per_sample for frame, n in inclusive.items()},
    )


def average(profiles: list[Profile]) -> Profile:
    """The mean of several runs' profiles (a frame missing from a run counts as 0)."""
    count = len(profiles)
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for profile in profiles:
        own.update(profile.own)
        inclusive.update(profile.inclusive)
    return Profile(
        {k: v / count for k, v in own.items()},
        {k: v / count for k, v in inclusive.items()},
        sum(p.cpu_us for p in profiles) / count,
    )


def profile_once(url: str, worker: int, seconds: float, output: Path) -> Profile:
    """Load ``url`` and sample ``worker`` with py-spy for ``seconds`` in the middle of it."""
    loaded: list[Sample] = []
    load = threading.Thread(
        target=lambda: loaded.append(run_wrk(url, seconds + 3, 64, 1, pin=True)), daemon=True
    )
    load.start()
    time.sleep(1.5)  # past wrk's connection setup
    cpu_before, started = cpu_seconds(worker), time.monotonic()
    spy = subprocess.run(
        [
            *WRK_CPU, "py-spy", "record", "-r", str(RATE),
            "-d", str(max(1, round(seconds))), "-f", "raw", "-o", str(output),
            "-p", str(worker),
        ],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    cpu_used, elapsed = cpu_seconds(worker) - cpu_before, time.monotonic() - started
    load.join(seconds + 60)
    if spy.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed: {(spy.stderr or spy.stdout).strip()[-500:]}")
    if not loaded:
        raise RuntimeError(f"wrk did not finish loading {url}")
    raw = output.read_text()
    samples = sum(fold(raw, 1.0)[0].values())
    # The worker's CPU and its requests over the same window (wrk's rate is steady by now).
    cpu_us = cpu_used / (loaded[0].requests_per_sec * elapsed) * 1e6
    own, inclusive = fold(raw, cpu_us / max(samples, 1))
    return Profile(own, inclusive, cpu_us)


def compare(names: list[str], profiles: dict[str, Profile], top: int) -> str:
    """Markdown: the frames whose own cost differs most from the first target's."""
    base = profiles[names[0]]
    frames = set().union(*(p.own for p in profiles.values()))

    def order(frame: str) -> tuple[float, float]:
        # The largest difference to the first target; then (one target) the largest cost.
        own = [p.own.get(frame, 0.0) for p in profiles.values()]
        return max(abs(cost - base.own.get(frame, 0.0)) for cost in own), max(own)

    header = " | ".join(f"{n} own | {n} incl." for n in names)
    lines = [
        "worker CPU µs per request: " + ", ".join(f"{n} {profiles[n].cpu_us:.1f}" for n in names),
        "",
        f"| frame | {header} |",
        "|---|" + "---:|" * (2 * len(names)),
    ]
    for frame in sorted(frames, key=order, reverse=True)[:top]:
        cells = " | ".join(
            f"{profiles[n].own.get(frame, 0.0):.2f} | {profiles[n].inclusive.get(frame, 0.0):.2f}"
            for n in names
        )
        lines.append(f"| `{frame}` | {cells} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Profile]:
    """Start mongod and each target in turn, and profile it ``args.runs`` times."""
    found: dict[str, list[Profile]] = {name: [] for name in args.targets}
    with contextlib.ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="microraab-prof-")))
        mongo = stack.enter_context(start_mongod(temp / "db"))
        client: MongoClient[dict[str, Any]] = MongoClient(mongo.uri)
        stack.callback(client.close)
        worlds.seed(client[DATABASE])
        env = target_env(mongo.uri, 1000)
        for run_number in range(args.runs):
            for name in args.targets:
                server = start_server(name, args.specs[name], env, 1, temp, pin=True)
                try:
                    wait_ready(server)
                    worker = children(server.process.pid)[0]
                    output = temp / f"{name}-{run_number}.txt"
                    url = server.base_url + TESTS[args.test]
                    found[name].append(profile_once(url, worker, args.seconds, output))
                finally:
                    server.stop()
                print(
                    f"run {run_number + 1}/{args.runs} {name}: "
                    f"{found[name][-1].cpu_us:.1f} µs CPU a request",
                    file=sys.stderr,
                    flush=True,
                )
    return {name: average(profiles) for name, profiles in found.items()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_http", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--targets",
        default="raw,microraab",
        help="comma-separated names, or NAME=MODULE:APP for an experiment [raw,microraab]",
    )
    parser.add_argument("--test", choices=list(TESTS), default="plaintext", help="[plaintext]")
    parser.add_argument("--seconds", type=float, default=6, help="sampled per run [6]")
    parser.add_argument("--runs", type=int, default=2, help="runs per target, averaged [2]")
    parser.add_argument("--top", type=int, default=30, help="frames listed [30]")
    args = parser.parse_args(argv)
    args.specs = {}
    for item in args.targets.split(","):
        name, _, spec = item.partition("=")
        if not spec and name not in TARGETS:
            parser.error(f"unknown target {name!r}: choose from {', '.join(TARGETS)}")
        args.specs[name] = spec or TARGETS[name]
    args.targets = list(args.specs)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profiles = run(args)
    print(f"\n{args.test}, {args.runs} run(s) of {args.seconds:g} s at {RATE} Hz a target\n")
    print(compare(args.targets, profiles, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
