"""The HTTP benchmark runner's reading of wrk's output."""

from __future__ import annotations

import pytest

from benchmarks.techempower import parse_wrk

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
