"""Soak: wrk against ``gunicorn app:app`` (gevent) on loopback, on a page that reads MongoDB and
on the redirect that writes to it; reports errors, p99 and worker memory before and after.

    python -m benchmarks.soak                      # 60 s per target, 256 connections
    python -m benchmarks.soak --duration 20 --json soak.json

Starts its own ``mongod`` (temporary data directory) unless ``--mongo-uri`` is given, and its
own gunicorn master on a free 127.0.0.1 port; stops both (by pid) at the end. Every load is
bounded: ``--duration`` seconds per target, ``--connections`` connections.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.mongo_server import MongoServer, free_port, stop_process  # noqa: E402


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "--ppid", str(master), "-o", "pid="], capture_output=True, text=True, check=False
    ).stdout
    return sorted(int(pid) for pid in out.split())


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB, from /proc/<pid>/status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests, rate, socket errors, non-2xx/3xx and latency percentiles from wrk's text."""
    result: dict[str, Any] = {}
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    result["requests"] = int(total.group(1)) if total else None
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["requests_per_second"] = float(rate.group(1)) if rate else None
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    names = ("connect", "read", "write", "timeout")
    counts = [int(n) for n in errors.groups()] if errors else [0, 0, 0, 0]
    result["socket_errors"] = dict(zip(names, counts, strict=True))
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx_3xx"] = int(non.group(1)) if non else 0
    latency = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.MULTILINE)
    result["max_ms"] = round(_ms(latency.group(3)), 2) if latency else None
    for percentile in ("50", "90", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+\w+)", output, re.MULTILINE)
        result[f"p{percentile}_ms"] = round(_ms(found.group(1)), 2) if found else None
    return result


def run_wrk(url: str, duration: int, connections: int, threads: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    command = [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "10s", url,
    ]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    result = parse_wrk(output)
    result["url"] = url
    return result


def start_gunicorn(
    port: int, env: dict[str, str], log: Path, *options: str
) -> subprocess.Popen[bytes]:
    """``gunicorn app:app`` with ``options`` on ``port``, returned once ``/readyz`` is 200."""
    command = [
        sys.executable, "-m", "gunicorn", "app:app", "--no-control-socket",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", *options,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(port, "GET", "/readyz")[0] == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process, 15)
            raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def soak(args: argparse.Namespace, mongo_uri: str, workdir: Path) -> dict[str, Any]:
    from pymongo import MongoClient

    port = free_port()
    database = f"soak_{secrets.token_hex(4)}"
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database,
        "MICRORAAB_SECRET_KEY": secrets.token_hex(16),
        "WEB_CONCURRENCY": str(args.workers),
    }
    env.pop("MONGODB_HOST", None)
    log = workdir / "gunicorn.log"
    process = start_gunicorn(port, env, log)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        for number in range(5):
            status, _ = call(port, "POST", "/api/links", {"url": f"https://example.com/{number}"})
            assert status == 201, status
        soak_link = {"url": "https://example.com/soak", "code": "soak"}
        status, _ = call(port, "POST", "/api/links", soak_link)
        assert status == 201, status
        workers = worker_pids(process.pid)
        rss_start = {pid: rss_kib(pid) for pid in workers}
        base = f"http://127.0.0.1:{port}"
        targets = {}
        for name, path in (("read", "/api/links?limit=10"), ("redirect_write", "/soak")):
            print(f"wrk {path}: {args.duration} s, {args.connections} connections", flush=True)
            targets[name] = run_wrk(base + path, args.duration, args.connections, args.threads)
            targets[name]["rss_kib_after"] = {pid: rss_kib(pid) for pid in workers}
        soaked = client[database].links.find_one({"code": "soak"})
        assert soaked is not None, "the soak link is gone"
        clicks = soaked["clicks"]
        workers_end = worker_pids(process.pid)
        ready = call(port, "GET", "/readyz")[0]
    finally:
        stop_process(process, 15)
        client.drop_database(database)
        client.close()
    log_text = log.read_text(errors="replace")
    return {
        "duration_s_per_target": args.duration,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "gunicorn_workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "targets": targets,
        "redirect_clicks_counted": clicks,
        "worker_pids_start": workers,
        "worker_pids_end": workers_end,
        "workers_restarted": workers != workers_end,
        "rss_kib_start": rss_start,
        "rss_kib_end": targets["redirect_write"]["rss_kib_after"],
        "readyz_after": ready,
        "tracebacks_in_log": log_text.count("Traceback"),
        # app/web.py logs each 503 it answers for a database error, with the error's type.
        "database_unavailable_in_log": dict(
            Counter(re.findall(r"database unavailable: (\w+)", log_text))
        ),
        "worker_timeouts_in_log": log_text.count("WORKER TIMEOUT"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per target (60)")
    parser.add_argument("--connections", type=int, default=256, help="wrk connections (256)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--mongo-uri", help="an existing MongoDB (default: start one)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 3600 or not 1 <= args.connections <= 10_000:
        parser.error("--duration must be 1..3600 and --connections 1..10000")
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        workdir = Path(tmp)
        if args.mongo_uri:
            results = soak(args, args.mongo_uri, workdir)
        else:
            with MongoServer(workdir / "mongod") as mongod:
                results = soak(args, mongod.uri, workdir)
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
