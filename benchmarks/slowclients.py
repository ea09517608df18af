"""Slow and hostile clients against ``gunicorn app:app``, with real traffic beside them.

    python -m benchmarks.slowclients                  # 1,000 connections, 30 s a mode, both workers
    python -m benchmarks.slowclients --smoke          # CI: 400 connections, 3 s a mode, microraab's
    python -m benchmarks.slowclients --latency        # tail latency: gunicorn's worker against ours
    python -m benchmarks.slowclients --sockets 1500   # memory per idle and per trickling socket
    python -m benchmarks.slowclients --sigterm        # SIGTERM with slow and idle clients
    python -m benchmarks.slowclients --cpu            # worker CPU per plaintext request
    python -m benchmarks.slowclients --split          # how a client's connections spread
    python -m benchmarks.slowclients --control        # the legitimate load twice, no attack

Starts its own ``mongod`` (temporary data directory) and a gunicorn master (the repository's
``gunicorn.conf.py``, ``--workers`` gevent workers, on a free 127.0.0.1 port) for each worker
class: microraab's (``microraab/worker.py``, what gunicorn.conf.py names) and gunicorn's own
(``-k gevent --worker-connections 100``, the configuration before it). For each
``slowhttptest`` mode (``-H`` slowloris, ``-B`` slow body, ``-X`` slow read) it measures wrk
at 16 connections on ``GET /`` and on ``POST /api/links`` without the attack, then during it,
while ``/healthz`` is polled every 0.5 s with a 1 s timeout; the workers' memory before and
after; and whether anything but wrk's own links was stored. The targets (issue 13) are
checked and printed. Everything runs on loopback, bounded by ``--duration``; every process
started here is stopped here, by its pid.

``--sockets N`` opens N idle kept-alive connections, then N slow bodies, to one worker (its
deadlines lengthened to a minute) and reads the worker's memory and ``/healthz`` after each.

``--sigterm`` opens a slow body, slow headers, an idle kept-alive connection and a request
in flight to a gunicorn with the repository's settings (its own ``BODY_GRACE`` and
``graceful_timeout``), sends the master SIGTERM and times its exit, for each worker class.

``--cpu`` measures what each worker class costs a plaintext request in its worker's CPU
time (one worker each, wrk at 32 connections, rounds interleaved): steadier than req/s on a
machine the load generator shares.

``--latency`` instead compares the workers on plaintext, ``GET /`` and the db test at 64
and 256 connections, in rounds that alternate them (ratios within one run, as in
docs/benchmarks.md), with the other fairness rules of benchmarks/experiments/worker_turns.py.

``--split`` counts (with ``ss``) how the 16 connections of a wrk run spread over the
workers, once a round; ``--control`` runs the attacks' legitimate load twice in a row with
no attack, once a round, to show how far each wrk run's ratio moves by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.mongo_server import MongoServer, free_port, stop_process  # noqa: E402
from benchmarks import soak  # noqa: E402
from benchmarks.techempower import children, cpu_seconds, parse_wrk, rss_mb  # noqa: E402

WORKERS = {
    "microraab": [],  # gunicorn.conf.py's worker_class
    # gunicorn's own worker as configured before microraab's (the attacks' baseline)
    "stock": ["-k", "gevent", "--worker-connections", "100"],
    # gunicorn's own worker with gunicorn.conf.py's worker_connections, as microraab's
    # (the tail-latency baseline: with 100 a worker, 56 of 256 connections wait unaccepted
    # and wrk times none of their requests, which flatters it)
    "gevent": ["-k", "gevent"],
    "never-yields": ["-k", "benchmarks.experiments.worker_turns.NeverYields"],
    "always-yields": ["-k", "benchmarks.experiments.worker_turns.AlwaysYields"],
    "next-iteration": ["-k", "benchmarks.experiments.worker_turns.NextIteration"],
    "accept-one": ["-k", "benchmarks.experiments.worker_turns.AcceptOne"],
    "fixed-batch": ["-k", "benchmarks.experiments.worker_turns.FixedBatch"],
    "every-second": ["-k", "benchmarks.experiments.worker_turns.EverySecond"],
    "every-fourth": ["-k", "benchmarks.experiments.worker_turns.EveryFourth"],
    "two-sends": ["-k", "benchmarks.experiments.worker_turns.TwoSends"],
}
# The attacks: slowhttptest's intervals, with the body mode's 10-byte ticks.
MODES = {
    "H": ["-H", "-i", "5", "-x", "10"],
    "B": ["-B", "-i", "5", "-x", "10", "-s", "8192", "-t", "POST"],
    "X": ["-X", "-n", "5", "-z", "32"],
}
# The slow bodies go to the page's form (POST /), which reads its form-encoded body before
# it answers (400 here: no CSRF token). POST /api/links answers slowhttptest's form body
# 415 unread, and gunicorn then closes the connection: that measured nothing of bodies.
MODE_PATHS = {"H": "/", "B": "/", "X": "/"}
WRK_URL = "https://example.com/wrk"
WRK_POST = f"""wrk.method = "POST"
wrk.body = '{{"url": "{WRK_URL}"}}'
wrk.headers["Content-Type"] = "application/json"
"""
LEGIT_CONNECTIONS = 16
POLL_EVERY = 0.5
POLL_TIMEOUT = 1.0
ATTACK_RATE = 200  # new attacking connections a second, as in the issue
# Before any baseline: a worker's first requests compile the templates and prepare the
# database, blocking its loop, so the first wrk runs on a fresh server put 28 of their 32
# connections on the other worker and their baseline was skewed (the first mode's ratios,
# -H's, were 1.07-1.29 and 0.78-0.86 until this warm-up).
WARM_UP_SECONDS = 3


def call(port: int, method: str, path: str, body: Any = None, timeout: float = 10) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start_gunicorn(
    mongo_uri: str, database: str, worker: str, workers: int, log: Path
) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "MICRORAAB_SECRET_KEY": "slowclients",
        "WEB_CONCURRENCY": str(workers),
    }
    return port, soak.start_gunicorn(port, env, log, *WORKERS[worker])


def wrk(
    url: str,
    seconds: int,
    connections: int,
    threads: int = 1,
    script: Path | None = None,
) -> subprocess.Popen[str]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        *(["-s", str(script)] if script else []),
        url,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wrk_result(process: subprocess.Popen[str], seconds: int) -> dict[str, Any]:
    out, err = process.communicate(timeout=seconds + 60)
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.strip()}")
    sample = parse_wrk(out)
    return {
        "rps": sample.requests_per_sec,
        "p50_ms": sample.p50_ms,
        "p99_ms": sample.p99_ms,
        "errors": sample.socket_errors + sample.non_2xx,
    }


def warm_up(port: int, post_script: Path) -> None:
    """A link stored, then the legitimate load for WARM_UP_SECONDS: every worker warm."""
    call(port, "POST", "/api/links", {"url": "https://example.com/seed"})
    legit_load(f"http://127.0.0.1:{port}", WARM_UP_SECONDS, post_script)


def legit_load(base: str, seconds: int, post_script: Path) -> dict[str, dict[str, Any]]:
    """wrk on GET / and on POST /api/links at once, LEGIT_CONNECTIONS each."""
    pages = wrk(base + "/", seconds, LEGIT_CONNECTIONS)
    posts = wrk(base + "/api/links", seconds, LEGIT_CONNECTIONS, script=post_script)
    return {"GET /": wrk_result(pages, seconds), "POST /api/links": wrk_result(posts, seconds)}


@dataclass
class Poller:
    """``GET /healthz`` every POLL_EVERY s with a POLL_TIMEOUT s timeout, in a thread."""

    port: int
    answers: list[float] = field(default_factory=list)  # seconds, for each 200
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = call(self.port, "GET", "/healthz", timeout=POLL_TIMEOUT)
                took = time.monotonic() - started
                if status == 200 and took <= POLL_TIMEOUT:
                    self.answers.append(took)
                else:
                    self.failures.append(f"{status} in {took:.2f} s")
            except OSError as error:
                self.failures.append(type(error).__name__)
            self._stop.wait(max(0.0, POLL_EVERY - (time.monotonic() - started)))

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        return {
            "polls": len(self.answers) + len(self.failures),
            "failures": self.failures,
            "slowest_s": round(max(self.answers, default=0.0), 3),
        }


def workers_rss(master: int) -> float:
    """The mean resident memory of the master's workers, MB."""
    pids = children(master)
    return sum(rss_mb(pid) for pid in pids) / max(1, len(pids))


def others_stored(mongo_uri: str, database: str) -> int:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        return client[database].links.count_documents({"url": {"$ne": WRK_URL}})
    finally:
        client.close()


def stored_codes(mongo_uri: str, database: str) -> list[str]:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        return sorted(link["code"] for link in client[database].links.find({}, {"code": 1}))
    finally:
        client.close()


def attack(
    mode: str,
    port: int,
    master: int,
    mongo_uri: str,
    database: str,
    args: argparse.Namespace,
    post_script: Path,
    workdir: Path,
) -> dict[str, Any]:
    """One slowhttptest mode: legit load without it, then during it; what it cost."""
    base = f"http://127.0.0.1:{port}"
    seconds = args.duration
    before = legit_load(base, seconds, post_script)
    time.sleep(1)
    rss_before = workers_rss(master)
    stored_before = others_stored(mongo_uri, database)
    ramp = -(-args.connections // ATTACK_RATE)
    command = [
        *(["nice", "-n", str(args.attacker_nice)] if args.attacker_nice else []),
        "slowhttptest", *MODES[mode], "-c", str(args.connections), "-r", str(ATTACK_RATE),
        "-l", str(ramp + seconds + 2), "-p", "2", "-u", base + MODE_PATHS[mode],
    ]  # fmt: skip
    log = workdir / f"slowhttptest-{mode}.log"
    with log.open("w") as out:
        slow = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        poller = Poller(port)
        time.sleep(ramp)
        during = legit_load(base, seconds, post_script)
        polls = poller.stop()
        slow.wait(timeout=seconds + 60)
    finally:
        stop_process(slow, 5)
    time.sleep(args.settle)
    rss_after = workers_rss(master)
    report = log.read_text(errors="replace")
    return {
        "mode": mode,
        "connections": args.connections,
        "seconds": seconds,
        "before": before,
        "during": during,
        "ratio": {
            name: round(during[name]["rps"] / before[name]["rps"], 3) if before[name]["rps"] else 0
            for name in before
        },
        # Both wrk runs share the CPU, and which gets more of it varies run to run: their
        # sum is the steadier figure (reported, not judged).
        "combined_ratio": round(
            sum(sample["rps"] for sample in during.values())
            / max(1e-9, sum(sample["rps"] for sample in before.values())),
            3,
        ),
        "healthz": polls,
        "rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
        "stored_by_attack": others_stored(mongo_uri, database) - stored_before,
        "slowhttptest_last_status": _last_status(report),
    }


def _last_status(report: str) -> str:
    """slowhttptest's last counts (connected, closed, ...) on one line."""
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", report)
    keys = ("pending", "connected", "error", "closed", "service available")
    last: dict[str, str] = {}
    for line in plain.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in keys and value.strip():
            last[name.strip()] = value.strip()
    return ", ".join(f"{key} {value}" for key, value in last.items())


def targets_met(result: dict[str, Any]) -> list[str]:
    """What the issue's targets say of one mode's result: a list of misses (empty: met)."""
    misses = faults(result)
    for name, ratio in result["ratio"].items():
        if ratio < 0.9:
            misses.append(f"{name} kept {ratio:.2f} of its throughput")
    if result["healthz"]["failures"]:
        misses.append(f"/healthz failed {len(result['healthz']['failures'])} times")
    grown = result["rss_mb"]["after"] - result["rss_mb"]["before"]
    if grown > 10:
        misses.append(f"worker RSS grew {grown:.1f} MB")
    return misses


def faults(result: dict[str, Any]) -> list[str]:
    """What no load on the machine excuses, for ``--smoke`` (CI): errors in the legitimate
    traffic, links stored by the attack, and /healthz unreachable for most of it, as it
    was with gunicorn's own worker (29 of 35 polls timed out). Throughput and the 1 s
    bound on each poll depend on what else the machine runs, so only the full run checks
    them."""
    found = []
    for name, during in result["during"].items():
        if during["errors"]:
            found.append(f"{name}: {during['errors']} errors")
    if result["stored_by_attack"]:
        found.append(f"{result['stored_by_attack']} links stored by the attack")
    health = result["healthz"]
    if len(health["failures"]) * 2 > health["polls"]:
        found.append(f"/healthz failed {len(health['failures'])} of {health['polls']} polls")
    return found


def run_attacks(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    post_script = workdir / "post.lua"
    post_script.write_text(WRK_POST)
    results: dict[str, Any] = {}
    for worker in args.workers_to_compare:
        database = f"slowclients_{worker.replace('-', '_')}"
        port, process = start_gunicorn(
            mongo.uri, database, worker, args.workers, workdir / f"gunicorn-{worker}.log"
        )
        try:
            warm_up(port, post_script)
            results[worker] = []
            for mode in args.modes:
                print(
                    f"{worker}: slowhttptest -{mode}, {args.connections} connections, "
                    f"{args.duration} s",
                    flush=True,
                )
                result = attack(
                    mode, port, process.pid, mongo.uri, database, args, post_script, workdir
                )
                result["misses"] = faults(result) if args.smoke else targets_met(result)
                results[worker].append(result)
                print(summary(result, "no fault" if args.smoke else "targets met"), flush=True)
        finally:
            stop_process(process, 15)
    return results


def summary(result: dict[str, Any], met: str) -> str:
    ratios = ", ".join(f"{name} {ratio:.2f}" for name, ratio in result["ratio"].items())
    ratios += f" (together {result.get('combined_ratio', 0):.2f})"
    during = result["during"]
    errors = ", ".join(f"{name} {during[name]['errors']}" for name in during)
    health = result["healthz"]
    verdict = "MISSED: " + "; ".join(result["misses"]) if result["misses"] else met
    return (
        f"  -{result['mode']}: throughput kept {ratios}; errors {errors}; /healthz "
        f"{health['polls'] - len(health['failures'])}/{health['polls']} within "
        f"{POLL_TIMEOUT:.0f} s (slowest {health['slowest_s']} s); RSS "
        f"{result['rss_mb']['before']} -> {result['rss_mb']['after']} MB; stored by the "
        f"attack {result['stored_by_attack']}; slowhttptest: {result['slowhttptest_last_status']}"
        f"\n     {verdict}"
    )


def run_sockets(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """What one idle and one trickling socket cost a worker: RSS before and after N each."""
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * args.sockets + 256)), hard))
    port = free_port()
    env = {**os.environ, "MONGODB_URI": mongo.uri, "MONGODB_DATABASE": "sockets",
           "MICRORAAB_SECRET_KEY": "slowclients", "WEB_CONCURRENCY": "1",
           "HEADER_TIMEOUT": "60", "BODY_GRACE": "60"}  # fmt: skip
    command = [
        sys.executable, "-m", "gunicorn", "app:app", "--no-control-socket", "--keep-alive", "60",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
    ]  # fmt: skip
    log = workdir / "gunicorn-sockets.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    opened: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if call(port, "GET", "/readyz") == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        for _ in range(50):
            call(port, "GET", "/")
        (worker,) = children(process.pid)
        time.sleep(1)
        readings = {"before": rss_mb(worker)}
        requests = {
            "idle": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            "slow_body": post_head(8000) + b"{",
        }
        for kind, first_bytes in requests.items():
            for _ in range(args.sockets):
                sock = socket.create_connection(("127.0.0.1", port))
                sock.sendall(first_bytes)
                opened.append(sock)
            if kind == "idle":
                for sock in opened:
                    sock.recv(65536)  # answered: now idle, kept alive
            time.sleep(2)
            readings[kind] = rss_mb(worker)
            started = time.monotonic()
            status = call(port, "GET", "/healthz")
            readings[f"{kind}_healthz_ms"] = round((time.monotonic() - started) * 1000, 1)
            readings[f"{kind}_healthz_status"] = status
    finally:
        for sock in opened:
            sock.close()
        stop_process(process, 15)
    per_idle = (readings["idle"] - readings["before"]) * 1024 / args.sockets
    per_slow = (readings["slow_body"] - readings["idle"]) * 1024 / args.sockets
    print(
        f"one worker: RSS {readings['before']:.1f} MB; with {args.sockets} idle kept-alive "
        f"sockets {readings['idle']:.1f} MB ({per_idle:.1f} kB each), /healthz "
        f"{readings['idle_healthz_status']} in {readings['idle_healthz_ms']} ms; and "
        f"{args.sockets} slow bodies more {readings['slow_body']:.1f} MB ({per_slow:.1f} kB "
        f"each), /healthz {readings['slow_body_healthz_status']} in "
        f"{readings['slow_body_healthz_ms']} ms"
    )
    return {"sockets": args.sockets, **readings, "kb_per_idle": per_idle, "kb_per_slow": per_slow}


def post_head(length: int) -> bytes:
    return (
        b"POST /api/links HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


def trickle(sock: Any, data: bytes, every: float) -> None:
    """Send ``data`` a byte at a time, one every ``every`` s, until the server closes."""
    for byte in data:
        time.sleep(every)
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return


def read_until_closed(sock: Any) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


def read_and_time(answers: dict[str, Any], since: float, name: str, sock: Any) -> None:
    """Read ``sock`` until closed; its first line and when it closed, into ``answers``."""
    answer = read_until_closed(sock)
    answers[name] = {
        "after_s": round(time.monotonic() - since, 2),
        "answer": answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed",
    }


def run_sigterm(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """Each worker: slow, idle and in-flight clients open, then SIGTERM; what became of
    each, and how long the master took to exit."""
    import socket

    results: dict[str, Any] = {}
    for worker in args.workers_to_compare:
        database = f"sigterm_{worker.replace('-', '_')}"
        port, process = start_gunicorn(
            mongo.uri, database, worker, 1, workdir / f"gunicorn-sigterm-{worker}.log"
        )
        try:
            connect = partial(socket.create_connection, ("127.0.0.1", port), timeout=30)
            body = json.dumps({"url": "https://example.com/slow", "code": "slow"}).encode()
            slow = connect()
            slow.sendall(post_head(len(body)) + body[:2])  # then a byte a second
            slowloris = connect()
            slowloris.sendall(b"GET / HTTP/1.1\r\n")  # then a header byte a second
            idle = connect()
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"ok\n"):  # answered, now idle
                answer += idle.recv(65536)
            flight_body = json.dumps({"url": "https://example.com/f", "code": "inflight"})
            in_flight = connect()
            in_flight.sendall(post_head(len(flight_body)) + flight_body[:5].encode())
            trickles = [
                threading.Thread(target=trickle, args=(slow, body[2:], 1.0), daemon=True),
                threading.Thread(
                    target=trickle, args=(slowloris, b"X-Slow: " + b"a" * 60, 1.0), daemon=True
                ),
            ]
            for thread in trickles:
                thread.start()
            time.sleep(1)
            term_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            in_flight.sendall(flight_body[5:].encode())
            answers: dict[str, dict[str, Any]] = {}
            read = partial(read_and_time, answers, term_at)
            readers = [
                threading.Thread(target=read, args=item)
                for item in (("in flight", in_flight), ("slow body", slow),
                             ("slow headers", slowloris), ("idle", idle))
            ]  # fmt: skip
            for thread in readers:
                thread.start()
            for thread in readers:
                thread.join(timeout=60)
            process.wait(timeout=60)
            exited = time.monotonic() - term_at
            for sock in (slow, slowloris, idle, in_flight):
                sock.close()
        finally:
            stop_process(process, 15)
        results[worker] = {
            "master_exited_s": round(exited, 2),
            "clients": answers,
            "stored": stored_codes(mongo.uri, database),  # "inflight" only, if all is well
        }
        print(f"{worker}: master exited {exited:.2f} s after SIGTERM; stored "
              f"{results[worker]['stored']}; " + "; ".join(
                  f"{name}: {value['answer']} after {value['after_s']} s"
                  for name, value in answers.items()), flush=True)  # fmt: skip
    return results


LATENCY_PATHS = {"plaintext": "/bench/plaintext", "GET /": "/", "db": "/bench/db"}


def run_cpu(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """Worker CPU per plaintext request, µs, for each worker class: best and median."""
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    samples: dict[str, list[float]] = {worker: [] for worker in args.workers_to_compare}
    try:
        for worker in args.workers_to_compare:
            servers[worker] = start_gunicorn(
                mongo.uri, "cpu", worker, 1, workdir / f"gunicorn-cpu-{worker}.log"
            )
        for round_number in range(args.rounds):
            for worker, (port, process) in servers.items():
                (pid,) = children(process.pid)
                before = cpu_seconds(pid)
                url = f"http://127.0.0.1:{port}{LATENCY_PATHS['plaintext']}"
                sample = wrk_result(wrk(url, args.duration, 32), args.duration)
                used = cpu_seconds(pid) - before
                samples[worker].append(used / (sample["rps"] * args.duration) * 1e6)
                print(
                    f"round {round_number + 1} {worker}: {sample['rps']:.0f} req/s, "
                    f"{samples[worker][-1]:.1f} us of worker CPU a request",
                    flush=True,
                )
    finally:
        for _, process in servers.values():
            stop_process(process, 15)
    results = {
        worker: {
            "best_us": round(min(values), 1),
            "median_us": round(sorted(values)[len(values) // 2], 1),
        }
        for worker, values in samples.items()
    }
    for worker, figures in results.items():
        print(f"{worker}: best {figures['best_us']} us, median {figures['median_us']} us a request")
    return results


def run_control(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """The attacks' legitimate load twice in a row with no attack, ``--rounds`` pairs: how
    far each wrk run's throughput moves by itself (the attacks' ratios with nothing to
    cause them)."""
    post_script = workdir / "post.lua"
    post_script.write_text(WRK_POST)
    results: dict[str, list[dict[str, Any]]] = {}
    for worker in args.workers_to_compare:
        log = workdir / f"gunicorn-control-{worker}.log"
        port, process = start_gunicorn(mongo.uri, "control", worker, args.workers, log)
        try:
            warm_up(port, post_script)
            base = f"http://127.0.0.1:{port}"
            for round_number in range(args.rounds):
                first = legit_load(base, args.duration, post_script)
                time.sleep(1)
                second = legit_load(base, args.duration, post_script)
                time.sleep(1)
                ratio = {name: round(second[name]["rps"] / first[name]["rps"], 3) for name in first}
                results.setdefault(worker, []).append(ratio)
                print(f"round {round_number + 1} {worker}: second over first {ratio}", flush=True)
        finally:
            stop_process(process, 15)
    return results


def run_split(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """How the 16 connections of a wrk run on ``GET /`` (the attacks' legitimate load)
    spread over the workers: for each worker class, a round's count on each worker, from
    ``ss`` one second into the run."""
    results: dict[str, list[list[int]]] = {}
    for worker in args.workers_to_compare:
        log = workdir / f"gunicorn-split-{worker}.log"
        port, process = start_gunicorn(mongo.uri, "split", worker, args.workers, log)
        try:
            pids = children(process.pid)
            for round_number in range(args.rounds):
                load = wrk(f"http://127.0.0.1:{port}/", 2, 16)
                time.sleep(1)
                ss = ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"]
                listing = subprocess.run(ss, capture_output=True, text=True, check=True).stdout
                counts = [listing.count(f"pid={pid},") for pid in pids]
                wrk_result(load, 2)
                results.setdefault(worker, []).append(counts)
                print(f"round {round_number + 1} {worker}: {counts} connections", flush=True)
        finally:
            stop_process(process, 15)
    return results


def run_latency(args: argparse.Namespace, mongo: MongoServer, workdir: Path) -> dict[str, Any]:
    """Rounds of wrk on each path and connection count, each worker in turn."""
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    try:
        for worker in args.workers_to_compare:
            servers[worker] = start_gunicorn(
                mongo.uri,
                "slowclients_latency",
                worker,
                args.workers,
                workdir / f"gunicorn-latency-{worker}.log",
            )
        samples: dict[str, list[dict[str, Any]]] = {}
        for round_number in range(args.rounds):
            for path_name, path in LATENCY_PATHS.items():
                for connections in (64, 256):
                    for worker, (port, master) in servers.items():
                        key = f"{worker} {path_name} c{connections}"
                        url = f"http://127.0.0.1:{port}{path}"
                        pids = children(master.pid)
                        before = sum(cpu_seconds(pid) for pid in pids), wrk_cpu_seconds()
                        load = wrk(url, args.duration, connections, threads=2)
                        sample = wrk_result(load, args.duration)
                        # Where the CPU went, in µs a request: the workers' and wrk's (the
                        # two share the machine's cores, so either can cost throughput).
                        requests = max(1.0, sample["rps"] * args.duration)
                        used = (sum(cpu_seconds(pid) for pid in pids) - before[0],
                                wrk_cpu_seconds() - before[1])  # fmt: skip
                        sample["worker_us"] = round(used[0] / requests * 1e6, 1)
                        sample["wrk_us"] = round(used[1] / requests * 1e6, 1)
                        samples.setdefault(key, []).append(sample)
                        print(f"round {round_number + 1} {key}: {sample}", flush=True)
    finally:
        for _, process in servers.values():
            stop_process(process, 15)
    return {key: _median(values) for key, values in samples.items()}


def _median(values: list[dict[str, Any]]) -> dict[str, Any]:
    middle = len(values) // 2
    return {
        name: sorted(value[name] for value in values)[middle]
        for name in ("rps", "p50_ms", "p99_ms", "errors", "worker_us", "wrk_us")
    }


def wrk_cpu_seconds() -> float:
    """User + system CPU of the children this process has waited for (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def latency_table(medians: dict[str, Any], workers: list[str]) -> str:
    """The medians as a markdown table; the first worker is the baseline. "target" is the
    issue's: p99 <= 4x p50 at >= 0.95x the baseline's throughput; for the db test "not
    worse": >= 0.95x its throughput and a p99 within 1.1x of its."""
    baseline = workers[0]
    lines = [
        f"| worker | test | conns | req/s | vs {baseline} | p50 ms | p99 ms | p99/p50 | errors "
        "| worker µs/req | wrk µs/req | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path_name in LATENCY_PATHS:
        for connections in (64, 256):
            base = medians[f"{baseline} {path_name} c{connections}"]
            for worker in workers:
                row = medians[f"{worker} {path_name} c{connections}"]
                versus = row["rps"] / base["rps"] if base["rps"] else 0.0
                ratio = row["p99_ms"] / row["p50_ms"] if row["p50_ms"] else float("inf")
                if path_name == "db":
                    met = versus >= 0.95 and row["p99_ms"] <= base["p99_ms"] * 1.1
                else:
                    met = versus >= 0.95 and ratio <= 4
                lines.append(
                    f"| {worker} | {path_name} | {connections} | {row['rps']:.0f} | "
                    f"{versus:.3f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {ratio:.1f} | "
                    f"{row['errors']} | {row.get('worker_us', '')} | {row.get('wrk_us', '')} | "
                    f"{'met' if met else 'missed'} |"
                )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    smoke = "CI's short form: 400 connections, 3 s a mode, microraab's worker, fails on a fault"
    parser.add_argument("--smoke", action="store_true", help=smoke)
    parser.add_argument("--latency", action="store_true", help="the tail-latency comparison")
    parser.add_argument("--sockets", type=int, help="measure memory per idle/slow socket (N)")
    parser.add_argument("--sigterm", action="store_true", help="SIGTERM with slow clients")
    parser.add_argument("--cpu", action="store_true", help="worker CPU per plaintext request")
    split = "how a wrk run's 16 connections spread over the workers, --rounds times"
    parser.add_argument("--split", action="store_true", help=split)
    control = "the attacks' legitimate load twice, no attack, --rounds pairs"
    parser.add_argument("--control", action="store_true", help=control)
    parser.add_argument("--connections", type=int, default=1000, help="attacking (1000)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load a phase (30)")
    parser.add_argument("--modes", default="H,B,X", help="slowhttptest modes (H,B,X)")
    parser.add_argument(
        "--worker",
        action="append",
        choices=sorted(WORKERS),
        help="a worker to measure, repeatable (microraab and stock)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--rounds", type=int, default=3, help="--latency rounds (3)")
    settle = "seconds between the attack's end and the memory reading (3)"
    parser.add_argument("--settle", type=float, default=3.0, help=settle)
    nice = "run slowhttptest at this nice value, 0: not niced (19; see the module)"
    parser.add_argument("--attacker-nice", type=int, default=19, help=nice)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if args.smoke:
        args.connections, args.duration, args.settle = 400, 3, 1.0
        # The smoke judges no throughput, and a niced attacker on a busy machine (CI's
        # neighbours, stress-ng) hardly attacks at all.
        args.attacker_nice = 0
        args.worker = args.worker or ["microraab"]
    if args.latency:
        default = ["gevent", "microraab", "never-yields", "always-yields", "next-iteration",
                   "accept-one"]  # fmt: skip
    elif args.cpu:
        default = ["gevent", "microraab", "never-yields", "always-yields"]
    elif args.split:
        default = ["gevent", "microraab", "fixed-batch"]
    elif args.control:
        default = ["microraab"]
    else:
        default = ["stock", "microraab"]
    args.workers_to_compare = args.worker or default
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_only = args.latency or args.cpu or args.split or args.control
    measures = wrk_only or args.sockets or args.sigterm
    for tool in ("wrk",) if wrk_only else ("wrk", "slowhttptest"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install {tool})")
    results: dict[str, Any]
    with tempfile.TemporaryDirectory(prefix="slowclients-") as tmp:
        workdir = Path(tmp)
        mongo = MongoServer(workdir / "mongod").start()
        try:
            if args.sockets:
                results = {"sockets": run_sockets(args, mongo, workdir)}
            elif args.cpu:
                results = {"cpu": run_cpu(args, mongo, workdir)}
            elif args.split:
                results = {"split": run_split(args, mongo, workdir)}
            elif args.control:
                results = {"control": run_control(args, mongo, workdir)}
            elif args.sigterm:
                results = {"sigterm": run_sigterm(args, mongo, workdir)}
            elif args.latency:
                medians = run_latency(args, mongo, workdir)
                print(latency_table(medians, args.workers_to_compare))
                results = {"latency": medians}
            else:
                results = run_attacks(args, mongo, workdir)
        finally:
            mongo.stop()
    results["args"] = {k: v for k, v in vars(args).items() if k != "json"}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if measures:
        return 0
    # Fails (exit 1) when microraab's worker misses a target; gunicorn's is only measured.
    return 1 if any(result["misses"] for result in results.get("microraab", [])) else 0


if __name__ == "__main__":
    raise SystemExit(main())
