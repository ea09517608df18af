"""The command line: ``python -m microraab routes|run``."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microraab.cli import CLIError, load_app, main

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def importable_cliapps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


@pytest.fixture
def restored_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo what ``run`` writes to os.environ (MICRORAAB_ENV, MICRORAAB_DEBUG).

    monkeypatch only restores variables it touched, so touch them first.
    """
    for name in ("MICRORAAB_ENV", "MICRORAAB_DEBUG"):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_routes_lists_rules_methods_and_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cliapps.hello:app"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Rule", "Methods", "Endpoint"]
    assert any(line.split() == ["/items/<int:n>", "DELETE,", "GET", "item"] for line in lines)
    assert any(line.split() == ["/", "GET", "index"] for line in lines)
    assert any(line.split() == ["/static/<path:filename>", "GET", "static"] for line in lines)


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("cliapps.hello:app", "/items/<int:n>"),
        ("cliapps.hello:create_app()", "/items/<int:n>"),
        ("cliapps.hello", "/items/<int:n>"),
        ("cliapps.hello:wrapped", "/items/<int:n>"),
        ("cliapps.factory_only", "/made"),
    ],
)
def test_load_app_accepts_attribute_factory_module_and_wrapped_forms(spec: str, rule: str) -> None:
    assert rule in {r.rule for r in load_app(spec).url_map.iter_rules()}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cliapps.nope", "cannot import 'cliapps.nope'"),
        ("cliapps.hello:missing", "no missing found in module 'cliapps.hello'"),
        ("cliapps.hello:not_an_app", "is a int, not a microraab App"),
    ],
)
def test_load_app_errors_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(CLIError, match=message):
        load_app(spec)


def test_missing_module_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cliapps.nope:app"]) == 2
    assert "error: cannot import 'cliapps.nope'" in capsys.readouterr().err


def test_missing_attribute_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "cliapps.hello:missing"]) == 2
    assert "error: no missing found in module 'cliapps.hello'" in capsys.readouterr().err


def test_run_debug_refuses_a_production_app_before_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restored_environ: None
) -> None:
    monkeypatch.setenv("MICRORAAB_ENV", "production")
    monkeypatch.setenv("MICRORAAB_SECRET_KEY", "cli-secret")
    assert main(["run", "cliapps.factory_only", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "refusing to start the Werkzeug debugger" in err
    assert "MICRORAAB_ENV=development" in err


def test_python_dash_m_microraab_routes_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "microraab", "routes", "cliapps.hello:app"],
        cwd=HERE, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/items/<int:n>" in result.stdout


def test_run_serves_the_app_on_loopback_until_interrupted() -> None:
    port = free_loopback_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICRORAAB_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "microraab", "run", "cliapps.hello:app", "--port", str(port)],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        body = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/")
                body = connection.getresponse().read()
                connection.close()
                break
            except OSError:
                time.sleep(0.1)
        assert body == b"hello"
        # The development server stops on Ctrl-C; run returns and the process exits 0.
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=20)
        assert server.returncode == 0, stderr
        assert f"http://127.0.0.1:{port}".encode() in stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
