"""The in-process benchmark refuses wrong answers and times every app it lists."""

from __future__ import annotations

import json

import pytest

from benchmarks import inprocess


def test_every_app_answers_both_routes_correctly() -> None:
    for name, factory in inprocess.APPS.items():
        inprocess.check(name, factory())  # SystemExit on a wrong answer


def test_check_refuses_an_app_that_answers_wrongly() -> None:
    def wrong(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"Goodbye"]

    with pytest.raises(SystemExit, match="answers /plaintext wrongly"):
        inprocess.check("wrong", wrong)


def test_a_short_run_reports_every_app_and_route(capsys: pytest.CaptureFixture[str]) -> None:
    assert inprocess.main(["--rounds", "1", "--number", "50", "--json"]) == 0
    medians = json.loads(capsys.readouterr().out)
    expected = {f"{app} {path}" for app in inprocess.APPS for path in ("/plaintext", "/json")}
    assert set(medians) == expected
    assert all(value > 0 for value in medians.values())


def test_the_stage_costs_cover_the_pieces_of_a_request() -> None:
    costs = inprocess.stage_costs(20)
    assert {"whole request", "Request()", "Response()", "send_response"} <= set(costs)
    assert all(value > 0 for value in costs.values())


def test_the_render_costs_time_both_ways_of_rendering_the_same_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    costs = inprocess.render_costs(20)  # AssertionError if the two pages differ
    assert set(costs) == {"Jinja2 Template.render", "microraab App.render"}
    assert all(value > 0 for value in costs.values())
    assert inprocess.main(["--render", "--rounds", "1", "--number", "10"]) == 0
    assert "microraab App.render" in capsys.readouterr().out
