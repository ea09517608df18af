"""The pages benchmark: every demo page checked, then timed beside /bench, in a tiny run."""

from __future__ import annotations

import pytest

from benchmarks import pages


def test_a_tiny_run_times_every_page_and_api_call_and_says_which_targets_are_met(
    mongo_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--rounds", "1", "--number", "3", "--links", "12", "--mongodb-uri", mongo_uri]
    assert pages.main(argv) == 0  # SystemExit if any request were answered wrongly
    out = capsys.readouterr().out
    for name in ("GET /", "GET /<code>", "GET /<code>+", "POST / (form)", "POST /api/links",
                 "DELETE /api/links/<code>", "GET /bench/fortunes", "GET /bench/db"):  # fmt: skip
        assert f"| `{name}` |" in out
    for name, (base, ceiling) in pages.TARGETS.items():
        assert f"| `{name}` <= {ceiling} x `{base}` |" in out


def test_a_wrong_answer_is_refused_before_anything_is_timed(mongo_uri: str) -> None:
    with pages.running_site(pages.parse_args(["--mongodb-uri", mongo_uri, "--links", "3"])) as site:
        wrong = pages.Case("GET /", lambda n: [pages.environ("GET", "/")] * n, 200, b"nowhere")
        with pytest.raises(SystemExit, match="GET / answers wrongly"):
            site.check(wrong)


def test_url_for_and_the_redirect_are_timed_in_their_own_modes(
    mongo_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--rounds", "1", "--mongodb-uri", mongo_uri, "--links", "3"]
    assert pages.main(["--url-for", "--number", "200", *common]) == 0
    assert "url_for in a template" in capsys.readouterr().out
    assert pages.main(["--redirect", "--number", "20", *common]) == 0
    assert "record_click: $inc, w=majority" in capsys.readouterr().out


def test_the_profile_of_a_page_gives_its_stages_and_calls(mongo_uri: str) -> None:
    table = pages.profile("GET /", seconds=1, rate=200, top=5, mongodb_uri=mongo_uri)
    assert "| `dispatch_request` |" in table
    assert "| call | own µs | inclusive µs |" in table
