"""The HTTP benchmark runner: wrk's output, same-round ratios, the targets table, worker memory."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from app import worlds
from benchmarks.checks import check_target
from benchmarks.techempower import (
    ROOT,
    TARGETS,
    TESTS,
    Report,
    Sample,
    main,
    parse_args,
    parse_wrk,
    pooled,
    rss_mb,
    start_server,
    targets_markdown,
    wait_ready,
)

# wrk 4.1.0 --latency, as printed on a loaded run (errors and non-2xx lines present).
WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:41209/db
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    58.46ms  113.84ms   1.28s    89.18%
    Req/Sec     3.27k     2.08k    7.23k    57.58%
  Latency Distribution
     50%  346.00us
     75%   67.46ms
     90%  181.50ms
     99%    1.28s
  32418 requests in 5.01s, 5.32MB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 7
Requests/sec:   6466.43
Transfer/sec:      1.06MB
"""


def test_parse_wrk_reads_throughput_latency_in_ms_and_errors() -> None:
    sample = parse_wrk(WRK_OUTPUT)
    assert sample.requests_per_sec == 6466.43
    assert sample.requests == 32418
    assert sample.p50_ms == pytest.approx(0.346)
    assert sample.p99_ms == pytest.approx(1280.0)
    assert (sample.socket_errors, sample.timeouts, sample.non_2xx) == (14, 12, 7)


def test_parse_wrk_counts_no_errors_when_wrk_reports_none() -> None:
    lines = [
        line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line
    ]
    sample = parse_wrk("\n".join(lines))
    assert (sample.socket_errors, sample.timeouts, sample.non_2xx) == (0, 0, 0)


def test_parse_wrk_refuses_output_without_results() -> None:
    with pytest.raises(ValueError, match="unreadable wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def _report(rps: dict[str, list[float]], test: str = "plaintext") -> Report:
    samples = {
        target: {test: [Sample(value, 1.0, 2.0, 100, 0, 0, 0) for value in values]}
        for target, values in rps.items()
    }
    return Report(meta={}, samples=samples)


def test_ratios_are_paired_round_by_round_not_taken_between_medians() -> None:
    # The machine slows down in round 3 for both: microraab is 0.95 of raw in every round,
    # while its median over raw's median would say 0.90 / 1.00 = 0.90.
    report = _report({"raw": [1.00, 1.00, 0.80], "microraab": [0.95, 0.95, 0.76]})
    assert report.paired_ratio("plaintext", "microraab", "raw") == pytest.approx(0.95)
    assert report.medians()["plaintext"]["microraab"]["x_raw"] == pytest.approx(0.95)
    assert report.paired_ratio("plaintext", "microraab", "flask") is None


def test_the_targets_table_gives_each_peers_ratio_its_range_and_whether_it_is_met() -> None:
    rps = {
        "raw": [100, 100],
        "microraab": [94, 92],
        "falcon": [95, 94],
        "flask": [60, 61],
        "demo": [92, 90],
    }
    table = "\n".join(targets_markdown(_report(rps)))
    heading = "| x falcon (>= 0.97) | x flask (> 1) | demo x microraab (>= 0.97) | x raw |"
    assert "| test | rounds " + heading in table
    assert (
        "| plaintext | 2 | 0.984 (0.979-0.989) yes | 1.537 (1.508-1.567) yes "
        "| 0.978 (0.978-0.979) yes | 0.930 (0.920-0.940) |"
    ) in table
    # Then each target's server CPU a request, the same columns, microraab first.
    assert "| test | microraab | falcon | flask | demo | raw |" in table
    assert "| plaintext | 0 | 0 | 0 | 0 | 0 |" in table
    slower = _report({"raw": [100, 100], "microraab": [90, 90], "bottle": [91, 91]}, test="db")
    assert "| db | 2 | 0.989 (0.989-0.989) **no** | 0.900 (0.900-0.900) |" in "\n".join(
        targets_markdown(slower)
    )
    assert targets_markdown(_report({"raw": [100]})) == []


def test_rss_is_read_from_proc_and_zero_for_a_process_that_is_gone() -> None:
    assert 1 < rss_mb(os.getpid()) < 4096
    assert rss_mb(2**22 + 1) == 0.0  # above Linux's largest pid


def test_pin_runs_one_worker_and_one_wrk_thread_each_on_its_own_core() -> None:
    args = parse_args(["--pin", "--workers", "2", "--threads", "2"])
    assert (args.pin, args.workers, args.threads) == (True, 1, 1)
    assert parse_args([]).pin is False


def test_an_extra_target_is_measured_beside_the_chosen_ones() -> None:
    spec = "benchmarks.experiments.flat_app:app"
    args = parse_args(["--targets", "raw,microraab", "--target", f"flat={spec}"])
    assert args.targets == ["raw", "microraab", "flat"]
    assert args.extra_targets == {"flat": spec}


@pytest.mark.parametrize(
    "value",
    [
        "flat",
        "flat=module",
        "Flat=module:app",
        "raw=benchmarks.experiments.flat_app:app",
        "demo=app:app@bench",
    ],
)
def test_an_extra_target_needs_a_new_name_a_module_and_an_app(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--target", value])
    assert "expected NAME=MODULE:APP[@/PREFIX]" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["raw_with_id_app", "flat_app"])
def test_each_experiment_passes_every_check_and_echoes_a_request_id(
    module: str, mongo_uri: str, mongo_client: MongoClient[dict[str, Any]], tmp_path: Path
) -> None:
    # An experiment prices one idea against microraab: it must answer as the targets do,
    # request id included, or its figure would price something else.
    database = mongo_client[f"bench_{module}_{os.getpid()}"]
    worlds.seed(database)
    env = {
        **os.environ,
        "BENCH_WORKER_CONNECTIONS": "10",
        "PYTHONPATH": str(ROOT),
        "MONGODB_URI": f"{mongo_uri.rstrip('/')}/{database.name}",
        "MONGODB_DATABASE": database.name,
    }
    server = start_server(module, f"benchmarks.experiments.{module}:app", env, 1, tmp_path)
    try:
        wait_ready(server)
        problems = check_target(server.base_url, database, list(TESTS))
        with urllib.request.urlopen(server.base_url + "/plaintext", timeout=5) as answer:
            request_id = answer.headers["X-Request-ID"]
    finally:
        server.stop()
        mongo_client.drop_database(database.name)
    assert problems == {test: [] for test in TESTS}
    assert request_id and len(request_id) > 9, request_id


def test_a_target_runs_in_its_own_process_group_but_in_our_session(tmp_path: Path) -> None:
    # A session of its own would make Linux's autogroup scheduler share the CPU between
    # gunicorn and wrk as two units, and starve some connections for seconds (p99 ~1 s,
    # wrk timeouts); a group of its own is what stopping the workers with it needs.
    env = {**os.environ, "BENCH_WORKER_CONNECTIONS": "10", "PYTHONPATH": str(ROOT)}
    server = start_server("raw", TARGETS["raw"], env, 1, tmp_path)
    try:
        wait_ready(server)
        pid = server.process.pid
        assert os.getpgid(pid) == pid != os.getpgid(0)
        assert os.getsid(pid) == os.getsid(0)
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_runs_pool_their_rounds_still_paired_and_round_trip_through_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _report({"raw": [100, 100], "microraab": [90, 90], "falcon": [80, 80]})
    second = _report({"raw": [50, 50], "microraab": [50, 48]})  # a slower machine, no falcon
    both = pooled([first, second])
    assert both.paired_ratios("plaintext", "microraab", "raw") == [0.9, 0.9, 1.0, 0.96]
    assert both.paired_ratio("plaintext", "microraab", "raw") == pytest.approx(0.93)
    assert "falcon" not in both.samples  # measured in one run only: not paired in the other
    assert Report.from_json(json.loads(json.dumps(first.to_json()))).samples == first.samples
    paths = []
    for name, report in (("first", first), ("second", second)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(report.to_json()))
    assert main(["--pool", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "Pooled: 4 rounds" in out
    assert "| plaintext | 4 | 0.930 (0.900-1.000) |" in out


def test_a_round_where_a_target_served_nothing_has_no_ratio() -> None:
    # A starved machine: wrk counted no request in one round; the others still pair.
    report = _report({"raw": [100, 100, 100], "falcon": [95, 0, 90]})
    assert report.paired_ratios("plaintext", "falcon", "raw") == [0.95, 0.9]
    assert report.medians()["plaintext"]["falcon"]["x_raw"] == pytest.approx(0.925)
