"""docs/: every link leads somewhere, every cited function exists, every shown command runs.

The conventions checked here are stated in docs/README.md:

- a relative link points to a file in this repository;
- a citation of code is a link whose fragment names what the file defines, and whose text
  (in backticks) names it the same way: [`App.wsgi_app`](../microraab/app.py#wsgi_app)
  needs ``class App`` and ``def wsgi_app`` in microraab/app.py; a fragment on a Markdown
  file names one of its headings;
- a dotted name in backticks that starts with a library's name (`werkzeug.routing.Map`),
  and is not a file here (`gunicorn.conf.py`), can be imported;
- every command in a ```sh block runs offline and exits 0, unless a comment marks it
  ``# not run by the docs test: <why>`` (alone on a line: the rest of its block).
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
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


def commands() -> list[tuple[str, str]]:
    """(doc name, command) for every command in a ```sh block, without the marked ones."""
    found = []
    for doc in DOCS:
        for language, body in FENCE.findall(doc.read_text()):
            if language != "sh":
                continue
            for line in re.sub(r"\\\n\s*", "", body).splitlines():
                line = line.strip()
                if line.startswith(SKIP_MARKER):
                    break
                if line and not line.startswith("#") and SKIP_MARKER not in line:
                    found.append((doc.name, line))
    return found


def test_there_are_docs_with_links_citations_and_commands() -> None:
    assert {"walkthrough.md", "flask-side-by-side.md", "deploying.md"} <= {d.name for d in DOCS}
    assert len([link for link in local_links() if "#" in link[2]]) >= 20
    assert len(commands()) >= 5


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
def test_a_shown_command_runs(doc: str, command: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{doc}: {command}\n{result.stdout}\n{result.stderr}"


def test_every_skipped_command_says_why() -> None:
    for doc in DOCS:
        for language, body in FENCE.findall(doc.read_text()):
            if language == "sh" and SKIP_MARKER in body:
                for reason in re.findall(re.escape(SKIP_MARKER) + "(.*)", body):
                    assert reason.strip(), f"{doc.name}: a skipped command without a reason"
