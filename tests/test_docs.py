"""docs/ and README.md: every link leads somewhere, every cited function exists, every shown
command runs.

The conventions checked here are stated in docs/README.md:

- a relative link points to a file in this repository;
- a citation of code is a link whose fragment names what the file defines, and whose text
  (in backticks) names it the same way: [`App.wsgi_app`](../microraab/app.py#wsgi_app)
  needs ``class App`` and ``def wsgi_app`` in microraab/app.py; a fragment on a Markdown
  file names one of its headings;
- a dotted name in backticks that starts with a library's name (`werkzeug.routing.Map`),
  and is not a file here (`gunicorn.conf.py`), can be imported;
- every command in a ```sh block (in docs/ and README.md) runs offline and exits 0, unless a
  comment marks it ``# not run by the docs test: <why>`` (alone on a line: the rest of its
  block);
- a command that serves (``gunicorn APP``, ``microraab run``, ``python examples/X.py``) is
  started on a free loopback port, asked ``GET /`` (under 500), then each ``curl`` after it
  in its block, and stopped; the demo app gets the test ``mongod`` (never a local one);
- a ```python block whose first line is ``# NAME.py`` is that file, as the text asks the
  reader to save it (README's ``hello.py``): the commands can import it;
- every ```python block of flask-side-by-side.md runs, in order, in the namespace its first
  line names (``# Flask``, ``# microraab``, ``# Werkzeug``, ``# Flask and microraab``),
  unless that line is ``# not run by the docs test: <why>``.
"""

from __future__ import annotations

import http.client
import importlib
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app.mongo_server import free_port
from tests.terminal import sigint_as_ctrl_c

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
COMMAND_DOCS = [ROOT / "README.md", *DOCS]  # README's links are relative to the root: not here
LIBRARIES = ("flask", "gevent", "gunicorn", "itsdangerous", "jinja2", "markupsafe", "pymongo",
             "werkzeug")  # fmt: skip
SKIP_MARKER = "# not run by the docs test:"

FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.M | re.S)  # indented in lists too
LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
CITED_NAME = re.compile(r"`([A-Za-z_][\w.]*)(?:\(\))?`")
LIBRARY_NAME = re.compile(rf"(?:{'|'.join(LIBRARIES)})(?:\.\w+)+")


def prose(text: str) -> str:
    """The Markdown without its fenced blocks (whose brackets and backticks are code)."""
    return FENCE.sub("", text)


def links() -> list[tuple[str, str, str]]:
    """(doc name, link text, target) for every link in docs/*.md outside code blocks."""
    return [(doc.name, text, target) for doc in DOCS
            for text, target in LINK.findall(prose(doc.read_text()))]  # fmt: skip


def local_links() -> list[tuple[str, str, str]]:
    return [link for link in links() if not re.match(r"[a-z]+:", link[2])]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def defines(source: str, name: str) -> bool:
    """Whether Python ``source`` defines ``name``: a def, a class, or a top-level assignment."""
    pattern = rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
    return re.search(pattern, source, re.M) is not None


# A command that serves until stopped; --check-config only loads the app.
SERVES = re.compile(r"\bgunicorn\b(?!.*--check-config)|\bmicroraab run\b|^python examples/\S+\.py$")
COMMENT = re.compile(r"\s+#\s.*$")  # a command's trailing comment
LOCAL_URL = re.compile(r"127\.0\.0\.1:(?:8000|5000)\b")  # where the docs say it listens


def shell_lines() -> list[tuple[str, list[str]]]:
    """(doc name, the block's commands) for every ```sh block, without the marked ones."""
    found = []
    for doc in COMMAND_DOCS:
        for language, body in FENCE.findall(doc.read_text()):
            if language != "sh":
                continue
            lines = []
            for line in re.sub(r"\\\n\s*", "", body).splitlines():
                line = line.strip()
                if line.startswith(SKIP_MARKER):
                    break
                if line and not line.startswith("#") and SKIP_MARKER not in line:
                    lines.append(COMMENT.sub("", line))
            found.append((doc.name, lines))
    return found


def commands() -> list[tuple[str, str]]:
    """(doc name, command) for every command that runs and exits, without the marked ones."""
    return [(doc, line) for doc, lines in shell_lines() for line in lines
            if not SERVES.search(line) and not line.startswith("curl ")]  # fmt: skip


def servers() -> list[tuple[str, str, list[str]]]:
    """(doc name, server, the curl commands after it in its block), each distinct one once."""
    found: dict[tuple[str, tuple[str, ...]], str] = {}
    for doc, lines in shell_lines():
        server, clients = None, []
        for line in [*lines, None]:
            if line is None or SERVES.search(line):
                if server is not None:
                    found.setdefault((server, tuple(clients)), doc)
                server, clients = line, []
            elif server is not None and line.startswith("curl "):
                clients.append(line)
    return [(doc, command, list(clients)) for (command, clients), doc in found.items()]


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with each ```python block that starts ``# NAME.py`` saved as NAME.py."""
    folder = tmp_path_factory.mktemp("saved")
    for doc in COMMAND_DOCS:
        for language, body in FENCE.findall(doc.read_text()):
            named = re.match(r"# (\w+\.py)\n", body)
            if language == "python" and named:
                (folder / named.group(1)).write_text(body)
    return folder


@pytest.fixture
def command_env(saved_files: Path) -> dict[str, str]:
    """The environment the commands run in: this venv first, the saved files importable."""
    unset = ("MICRORAAB_ENV", "MICRORAAB_CONFIG_FILE", "MONGODB_HOST", "MONGODB_PORT")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(saved_files), env.get("PYTHONPATH")]))
    return env


def test_there_are_docs_with_links_citations_and_commands() -> None:
    assert {"walkthrough.md", "flask-side-by-side.md", "deploying.md"} <= {d.name for d in DOCS}
    assert len([link for link in local_links() if "#" in link[2]]) >= 20
    assert len(commands()) >= 5
    assert len(servers()) >= 5


@pytest.mark.parametrize(("doc", "text", "target"), local_links())
def test_a_relative_link_points_to_a_file_here(doc: str, text: str, target: str) -> None:
    path, _, fragment = target.partition("#")
    file = (ROOT / "docs" / path).resolve() if path else ROOT / "docs" / doc
    assert file.is_relative_to(ROOT), f"{target} leaves the repository"
    assert file.exists(), f"{doc}: [{text}]({target}): no such file"
    if not fragment:
        return
    source = file.read_text()
    if file.suffix == ".md":
        headings = [slug(h) for h in re.findall(r"^#+\s+(.*)$", prose(source), re.M)]
        assert fragment in headings, f"{doc}: {target}: no such heading"
        return
    assert file.suffix == ".py", f"{doc}: {target}: a fragment only on .py or .md files"
    assert defines(source, fragment), f"{doc}: {target}: {path} defines no {fragment!r}"
    cited = CITED_NAME.fullmatch(text)
    if cited:  # the text names what the fragment does, and every part of it is defined there
        parts = cited.group(1).split(".")
        assert parts[-1] == fragment, f"{doc}: [{text}]({target}): the text names another thing"
        for part in parts:
            assert defines(source, part), f"{doc}: [{text}]({target}): no {part!r} in {path}"


def test_every_code_citation_is_written_as_a_checkable_link() -> None:
    # A link to a .py file whose text names code, not the file or module, needs a fragment.
    loose = [(doc, text, target) for doc, text, target in local_links()
             if target.endswith(".py") and CITED_NAME.fullmatch(text)
             and not target.endswith((text.strip("`"), text.strip("`").replace(".", "/") + ".py"))
             ]  # fmt: skip
    assert loose == []


@pytest.mark.parametrize(
    "name",
    sorted({span for doc in DOCS for span in CODE_SPAN.findall(prose(doc.read_text()))
            if LIBRARY_NAME.fullmatch(span) and not (ROOT / span).exists()}),
)  # fmt: skip
def test_a_named_library_object_exists(name: str) -> None:
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return
    pytest.fail(f"cannot import {name}")


@pytest.mark.parametrize(("doc", "command"), commands())
def test_a_shown_command_runs(doc: str, command: str, command_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=command_env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{doc}: {command}\n{result.stdout}\n{result.stderr}"


def get_root(port: int) -> int | None:
    """The status of ``GET /`` on loopback, or None while nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


@pytest.fixture
def server_env(command_env: dict[str, str], mongo_uri: str) -> Iterator[dict[str, str]]:
    """For the servers: the test mongod (a database of their own), a key, one worker."""
    database = f"docs_{secrets.token_hex(4)}"
    yield {**command_env, "MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database,
           "MICRORAAB_SECRET_KEY": "docs-test-key", "WEB_CONCURRENCY": "1"}  # fmt: skip


@pytest.mark.parametrize(("doc", "command", "clients"), servers())
def test_a_shown_server_serves(
    doc: str, command: str, clients: list[str], server_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    if "gunicorn" in command:  # loopback only; gunicorn.conf.py binds 0.0.0.0
        command += f" --bind 127.0.0.1:{port}"
    elif "microraab run" in command:
        command += f" --port {port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-c", command], cwd=ROOT, env={**server_env, "PORT": str(port)},
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=sigint_as_ctrl_c,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30  # a gunicorn master and worker start in ~2 s
        status = None
        while status is None and time.monotonic() < deadline and server.poll() is None:
            status = get_root(port)
            time.sleep(0 if status else 0.1)
        assert status is not None and status < 500, f"{doc}: {command}\n{log.read_text()}"
        for client in clients:
            client = LOCAL_URL.sub(f"127.0.0.1:{port}", client)
            result = subprocess.run(
                ["bash", "-c", client], cwd=ROOT, env=server_env, capture_output=True,
                text=True, timeout=60, check=False,
            )  # fmt: skip
            assert result.returncode == 0, f"{doc}: {client}\n{result.stdout}{result.stderr}"
    finally:
        os.killpg(server.pid, signal.SIGINT)  # the reloader's child and gunicorn's workers too
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_every_skipped_command_says_why() -> None:
    for doc in COMMAND_DOCS:
        for language, body in FENCE.findall(doc.read_text()):
            if language == "sh" and SKIP_MARKER in body:
                for reason in re.findall(re.escape(SKIP_MARKER) + "(.*)", body):
                    assert reason.strip(), f"{doc.name}: a skipped command without a reason"


# | [`test_x.py`](../tests/flask_parity/test_x.py): what | Flask's | ported | passing |
PORTED_ROW = re.compile(
    r"^\| \[`[\w.]+`\]\(\.\./(tests/flask_parity/test_\w+\.py)\)[^|]*"
    r"\| (\d+) \| (\d+) \| (\d+) \|$",
    re.M,
)


def test_the_ported_suite_counts_are_true(tmp_path: Path) -> None:
    """docs/flask-side-by-side.md's table of Flask's ported tests: ported and passing, as run."""
    rows = PORTED_ROW.findall((ROOT / "docs" / "flask-side-by-side.md").read_text())
    assert len(rows) >= 5
    report = tmp_path / "report.xml"
    files = [path for path, *_ in rows]
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
         *files],
        cwd=ROOT, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    cases = ElementTree.parse(report).getroot().iter("testcase")
    counts: dict[str, list[int]] = {path: [0, 0] for path in files}
    for case in cases:
        path = case.get("classname", "").split(".")[:3]
        name = "/".join(path) + ".py"
        counts[name][0] += 1
        counts[name][1] += not any(child.tag in ("skipped", "failure", "error") for child in case)
    for path, _, ported, passing in rows:
        assert counts[path] == [int(ported), int(passing)], f"{path}: ported, passing as run"


GLOBALS_LIST = re.compile(r"globals:? ((?:`+\w+`+(?:,\s*|\s+and\s+))*`+\w+`+)", re.I)


@pytest.mark.parametrize("path", ["README.md", "docs/walkthrough.md", "microraab/templating.py"])
def test_a_list_of_the_template_globals_names_every_one(path: str) -> None:
    import jinja2

    from microraab import App

    app = App("globals", config={"SECRET_KEY": "docs"})
    ours = set(app.jinja_env.globals) - set(jinja2.Environment().globals)
    (listed,) = GLOBALS_LIST.findall((ROOT / path).read_text())
    assert set(re.findall(r"`+(\w+)`+", listed)) == ours, listed


SNIPPET_NAMESPACE = re.compile(r"# (Flask and microraab|Flask|microraab|Werkzeug)\b")


def test_the_side_by_side_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of flask-side-by-side.md runs, in order, in its namespace."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("Hello, {{ name }}!")
    (tmp_path / "templates" / "404.html").write_text("Not here.")
    (tmp_path / "config.toml").write_text('LOG_LEVEL = "INFO"\n')
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("MICRORAAB_", "FLASK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MICRORAAB_SECRET_KEY", "the docs' key")
    monkeypatch.setenv("FLASK_SECRET_KEY", "the docs' key")
    # Not importable, so both frameworks take the working directory as the app's root.
    spaces: dict[str, dict[str, object]] = {
        name: {"__name__": "side_by_side"} for name in ("Flask", "microraab", "Werkzeug")
    }
    ran = 0
    for language, body in FENCE.findall((ROOT / "docs" / "flask-side-by-side.md").read_text()):
        if language != "python" or body.lstrip().startswith(SKIP_MARKER):
            continue
        match = SNIPPET_NAMESPACE.match(body.lstrip())
        assert match, f"a python block names no namespace (# Flask, ...):\n{body}"
        names = ["Flask", "microraab"] if match[1] == "Flask and microraab" else [match[1]]
        for name in names:
            code = compile(textwrap.dedent(body), f"flask-side-by-side.md, {name}", "exec")
            try:
                exec(code, spaces[name])
            except Exception as error:
                pytest.fail(f"{name} block failed: {error!r}\n{body}")
            ran += 1
    assert ran >= 30
