"""The HTTP profiler: py-spy's samples as µs per request, compared between targets."""

from __future__ import annotations

import re

import pytest

from benchmarks.profile_http import Profile, average, compare, fold, main, parse_args
from benchmarks.techempower import TARGETS

# py-spy --format raw: a stack of "function (file:line)" frames and a sample count.
RAW = """\
handle (gunicorn/workers/base_async.py:55);app (benchmarks/targets/raw_app.py:31) 3
handle (gunicorn/workers/base_async.py:55);app (benchmarks/targets/raw_app.py:40);\
start_response (gunicorn/http/wsgi.py:338) 1
handle (gunicorn/workers/base_async.py:60) 6
"""


def test_samples_become_own_and_inclusive_cost_per_request_by_function() -> None:
    own, inclusive = fold(RAW, us_per_sample=0.5)
    assert own == {
        "app (benchmarks/targets/raw_app.py)": 1.5,
        "start_response (gunicorn/http/wsgi.py)": 0.5,
        "handle (gunicorn/workers/base_async.py)": 3.0,
    }
    assert inclusive == {
        "handle (gunicorn/workers/base_async.py)": 5.0,
        "app (benchmarks/targets/raw_app.py)": 2.0,
        "start_response (gunicorn/http/wsgi.py)": 0.5,
    }


def test_a_recursive_function_counts_once_a_sample() -> None:
    own, inclusive = fold("f (a.py:1);f (a.py:2);f (a.py:3) 4\n", us_per_sample=1.0)
    assert own == inclusive == {"f (a.py)": 4.0}


def test_runs_are_averaged_with_a_missing_frame_as_zero() -> None:
    mean = average([Profile({"x": 2.0}, {"x": 4.0}, 100.0), Profile({"y": 1.0}, {"x": 2.0}, 120.0)])
    assert (mean.own, mean.inclusive, mean.cpu_us) == ({"x": 1.0, "y": 0.5}, {"x": 3.0}, 110.0)


def test_the_frames_that_differ_most_from_the_first_target_come_first() -> None:
    profiles = {
        "raw": Profile({"parse": 40.0, "app": 0.5}, {"parse": 40.0, "app": 0.5}, 101.0),
        "microraab": Profile({"parse": 41.0, "wsgi_app": 3.0}, {"wsgi_app": 9.0}, 110.0),
    }
    text = compare(["raw", "microraab"], profiles, top=2)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == [
        "| `wsgi_app` | 0.00 | 0.00 | 3.00 | 9.00 |",
        "| `parse` | 40.00 | 40.00 | 41.00 | 0.00 |",
    ]
    assert "raw 101.0, microraab 110.0" in text


def test_an_experiment_is_named_by_its_module_and_an_unknown_name_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = "benchmarks.experiments.flat_app:app"
    args = parse_args(["--targets", f"raw,flat={spec}"])
    assert (args.targets, args.specs) == (["raw", "flat"], {"raw": TARGETS["raw"], "flat": spec})
    with pytest.raises(SystemExit):
        parse_args(["--targets", "raw,nosuch"])
    assert "unknown target 'nosuch'" in capsys.readouterr().err


def test_a_short_run_finds_the_raw_callable_inside_its_gunicorn_worker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 3 s, not 1: the raw callable's own frames are ~1 % of a worker's samples, and a 1 s
    # run (a few hundred samples) once caught none of them in a fresh-clone CI run.
    argv = ["--targets", "raw", "--test", "plaintext", "--seconds", "3", "--runs", "1"]
    assert main([*argv, "--top", "1000"]) == 0
    out = capsys.readouterr().out
    cpu = re.search(r"worker CPU µs per request: raw ([\d.]+)", out)
    assert cpu is not None and 10 < float(cpu.group(1)) < 5000, out[:500]
    app_row = re.search(r"`app \(benchmarks/targets/raw_app.py\)` \| ([\d.]+) \| ([\d.]+) \|", out)
    assert app_row is not None, out[:2000]
    assert 0 < float(app_row.group(1)) <= float(app_row.group(2))
