"""The command line: ``python -m microraab routes|run``."""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from microraab import App, ConfigError
from microraab.cli import CLIError, announce_debugger, load_app, main
from microraab.config import introspecting, introspection
from tests.terminal import sigint_as_ctrl_c

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


@pytest.fixture
def keyless(monkeypatch: pytest.MonkeyPatch, restored_environ: None) -> Iterator[None]:
    """Production mode, no secret key, and the keyless apps imported afresh by each test."""
    monkeypatch.delenv("MICRORAAB_SECRET_KEY", raising=False)
    names = ("cliapps.keyless", "cliapps.keyless_factory")
    for name in names:
        sys.modules.pop(name, None)
    yield
    for name in names:
        sys.modules.pop(name, None)


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


def test_routes_lists_the_static_rule_only_for_an_app_with_a_static_folder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["routes", "cliapps.hello:app"]) == 0  # cliapps/static does not exist
    assert "/static/" not in capsys.readouterr().out
    assert main(["routes", "cliapps.explainable:app"]) == 0  # tests/microraab/static does
    assert "/static/<path:filename>" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["routes", "cliapps.keyless:app"],
        ["routes", "cliapps.keyless_factory"],
        ["explain", "cliapps.keyless:app", "GET", "/hello/x"],
    ],
)
def test_routes_and_explain_need_no_secret_key_in_production(
    argv: list[str], capsys: pytest.CaptureFixture[str], keyless: None
) -> None:
    # They load the app to look at it, never to serve it: nothing is signed.
    assert main(argv) == 0
    assert "/hello/<name>" in capsys.readouterr().out or argv[1].endswith("factory")


@pytest.mark.parametrize("spec", ["cliapps.keyless:app", "cliapps.keyless_factory"])
def test_loading_a_keyless_app_to_serve_it_in_production_is_a_one_line_error(
    spec: str, keyless: None
) -> None:
    with pytest.raises(CLIError, match="SECRET_KEY is not set and ENV is 'production'"):
        load_app(spec)


def test_introspection_ends_with_its_block(keyless: None) -> None:
    with introspection():
        assert introspecting()
        App("keyless")
    assert not introspecting()
    with pytest.raises(ConfigError):
        App("keyless")


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


# The dev-server tests only catch hangs (a server that never answers, never restarts or
# never stops on Ctrl-C waits forever), so their deadline is generous: each server runs
# under coverage on a possibly loaded machine. A healthy one starts, restarts and stops in
# about a second. (A Ctrl-C that never stopped one was SIGINT inherited ignored, not load:
# tests/terminal.py.)
HANG_SECONDS = 60


def test_python_dash_m_microraab_routes_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "microraab", "routes", "cliapps.hello:app"],
        cwd=HERE, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/items/<int:n>" in result.stdout


def test_the_microraab_console_script_runs_the_same_command_line() -> None:
    script = Path(sys.executable).parent / "microraab"  # setup.cfg's console_scripts
    assert script.exists(), "no microraab script: reinstall with pip install -e '.[dev]'"
    result = subprocess.run(
        [str(script), "routes", "cliapps.hello:app"],
        cwd=HERE, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "/items/<int:n>" in result.stdout
    usage = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert usage.stdout.startswith("usage: microraab ")


def test_run_serves_the_app_on_loopback_until_interrupted() -> None:
    port = free_loopback_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICRORAAB_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "microraab", "run", "cliapps.hello:app", "--port", str(port)],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=sigint_as_ctrl_c,
    )  # fmt: skip
    try:
        body = b""
        deadline = time.monotonic() + HANG_SECONDS
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
        _, stderr = server.communicate(timeout=HANG_SECONDS)
        assert server.returncode == 0, stderr
        assert f"http://127.0.0.1:{port}".encode() in stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def get(port: int, path: str = "/") -> tuple[int, bytes] | None:
    """One GET to the development server on loopback; None while nothing answers."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()
    except OSError:
        return None


def wait_until(condition: Callable[[], bool], server: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``condition`` while the server lives; fail after HANG_SECONDS (a restart: ~1 s)."""
    deadline = time.monotonic() + HANG_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        assert server.poll() is None, f"the server exited ({server.returncode}) before {what}"
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# dev_server(*args, **env) -> (port, process, log file)
StartServer = Callable[..., tuple[int, subprocess.Popen[bytes], Path]]


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start ``python -m microraab run ARGS --port N`` in ``tmp_path``; stopped by its pid."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, **env: str) -> tuple[int, subprocess.Popen[bytes], Path]:
        port = free_loopback_port()
        log = tmp_path / f"server-{port}.log"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("MICRORAAB_")}
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "microraab", "run", *args, "--port", str(port)],
                cwd=tmp_path, env={**environ, **env}, stdout=output, stderr=output,
                start_new_session=True,  # the reloader's child is stopped with its parent
                preexec_fn=sigint_as_ctrl_c,
            )  # fmt: skip
        started.append(server)
        return port, server, log

    yield start
    for server in started:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=HANG_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


HELLO = 'from microraab import App\n\napp = App(__name__)\napp.add_url_rule("/", "index", {view})\n'


@pytest.mark.parametrize("reload", [False, True])
def test_run_debug_prints_the_debugger_pin_at_start(
    reload: bool, tmp_path: Path, dev_server: StartServer
) -> None:
    (tmp_path / "hello.py").write_text(HELLO.format(view='lambda request: "hello"'))
    args = ["hello:app", "--debug", *(["--reload"] if reload else [])]
    port, server, log = dev_server(*args, WERKZEUG_DEBUG_PIN="123-456-789")
    wait_until(lambda: get(port) == (200, b"hello"), server, "the first answer")
    output = log.read_text()
    # Werkzeug's words; without the reloader Werkzeug itself would print nothing.
    assert output.count(" * Debugger is active!") == 1, output
    assert output.count(" * Debugger PIN: 123-456-789") == 1, output


def test_the_debugger_announcement_says_when_the_pin_is_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from werkzeug.debug import DebuggedApplication

    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        announce_debugger(DebuggedApplication(App("pinless", config={"SECRET_KEY": "k"})))
    assert " * Debugger PIN disabled. DEBUGGER UNSECURED!" in caplog.text


def test_run_reload_survives_a_syntax_error_and_serves_again_once_fixed(
    tmp_path: Path, dev_server: StartServer
) -> None:
    source = tmp_path / "hello.py"
    source.write_text(HELLO.format(view='lambda request: "version 1"'))
    port, server, log = dev_server("hello:app", "--reload")
    wait_until(lambda: get(port) == (200, b"version 1"), server, "version 1")

    source.write_text(HELLO.format(view='lambda request: "version 2"') + "def broken(:\n")
    # The reloader's new child reports the error and answers 500; the reloader keeps watching.
    wait_until(lambda: (get(port) or (0,))[0] == 500, server, "the 500 of the broken save")
    assert "SyntaxError" in log.read_text()

    source.write_text(HELLO.format(view='lambda request: "version 3"'))
    wait_until(lambda: get(port) == (200, b"version 3"), server, "the fixed save")


def test_run_without_reload_fails_at_once_on_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("def broken(:\n")
    result = subprocess.run(
        [sys.executable, "-m", "microraab", "run", "hello:app", "--port", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "SyntaxError" in result.stderr
