"""The command line: ``python -m microraab routes|run``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from microraab.cli import CLIError, load_app, main

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def importable_cliapps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


def test_routes_lists_rules_methods_and_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cliapps.hello:app"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Rule", "Methods", "Endpoint"]
    assert any(line.split() == ["/items/<int:n>", "DELETE,", "GET", "item"] for line in lines)
    assert any(line.split() == ["/", "GET", "index"] for line in lines)


@pytest.mark.parametrize(
    "spec", ["cliapps.hello:app", "cliapps.hello:create_app()", "cliapps.hello",
             "cliapps.hello:wrapped", "cliapps.factory_only"]
)  # fmt: skip
def test_load_app_forms(spec: str) -> None:
    assert load_app(spec).url_map is not None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cliapps.nope", "cannot import"),
        ("cliapps.hello:missing", "no missing found"),
        ("cliapps.hello:not_an_app", "not a microraab App"),
    ],
)
def test_load_app_errors_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(CLIError, match=message):
        load_app(spec)


def test_cli_error_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cliapps.nope:app"]) == 2
    assert "error: cannot import" in capsys.readouterr().err


def test_run_refuses_the_debugger_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICRORAAB_ENV", "production")
    monkeypatch.delenv("MICRORAAB_DEBUG", raising=False)
    assert main(["run", "cliapps.factory_only", "--debug"]) == 2
    assert "refusing to start the Werkzeug debugger" in capsys.readouterr().err


def test_python_dash_m_microraab_routes_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "microraab", "routes", "cliapps.hello:app"],
        cwd=HERE, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/items/<int:n>" in result.stdout
