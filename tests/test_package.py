"""The package as a user gets it: the sdist and the wheel, built as PyPI would get them.

Built once for the module with ``python -m build`` (the sdist, then the wheel from the
unpacked sdist in a temporary directory) from a copy of this tree whose ignored ``build/``
holds stale files, as a developer's checkout may. Then checked as PyPI checks an upload
(``twine check``), and installed in a fresh virtualenv outside the repository, where its
``microraab`` script serves the README's hello world over HTTP.
"""

from __future__ import annotations

import ast
import configparser
import email
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from app.mongo_server import free_port
from tests.terminal import sigint_as_ctrl_c

ROOT = Path(__file__).resolve().parent.parent
NAME = "microraab-0.1.0"
STALE = ("build/lib/microraab/stale.py", "build/lib/gone_package/__init__.py")
BUILD_TIMEOUT = 600  # two isolated environments and two builds: ~20 s here


def tree_files() -> list[str]:
    """The tree's files as a clone has them: tracked, plus new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel that ``python -m build`` makes from a tree with a stale build/."""
    tree = tmp_path_factory.mktemp("tree")
    for name in tree_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    for name in STALE:  # what an earlier build left in the ignored build/
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("STALE = True\n")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(tree)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def wheel(dist: Path) -> zipfile.ZipFile:
    (path,) = dist.glob("*.whl")
    return zipfile.ZipFile(path)


def metadata(dist: Path) -> email.message.Message:
    return email.message_from_bytes(wheel(dist).read(f"{NAME}.dist-info/METADATA"))


def test_the_wheel_holds_the_package_files_of_the_tree_and_nothing_stale(dist: Path) -> None:
    names = set(wheel(dist).namelist())
    assert {name.split("/")[0] for name in names} == {"microraab", f"{NAME}.dist-info"}
    package = {name for name in tree_files() if name.startswith("microraab/")}
    assert {name for name in names if name.startswith("microraab/")} == package


def test_the_license_is_in_the_repository_the_sdist_and_the_wheel(dist: Path) -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("BSD 3-Clause License\n")
    assert "Copyright (c) 2026, the microraab authors" in license_text
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{NAME}/LICENSE")
        assert member is not None and member.read().decode() == license_text
    in_wheel = [name for name in wheel(dist).namelist() if name.endswith("/LICENSE")]
    assert len(in_wheel) == 1 and in_wheel[0].startswith(f"{NAME}.dist-info/")
    assert wheel(dist).read(in_wheel[0]).decode() == license_text
    assert metadata(dist)["License"] == "BSD-3-Clause"
    assert metadata(dist)["License-File"] == "LICENSE"


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    files = sorted(str(path) for path in dist.iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_classifiers_exist_and_claim_no_framework_it_is_not(dist: Path) -> None:
    from trove_classifiers import classifiers

    declared = metadata(dist).get_all("Classifier") or []
    assert declared and set(declared) <= classifiers, set(declared) - classifiers
    assert not [c for c in declared if c.startswith("Framework ::")]  # not a Flask extension


def test_the_microraab_console_script_is_declared(dist: Path) -> None:
    entry_points = wheel(dist).read(f"{NAME}.dist-info/entry_points.txt").decode()
    assert re.search(r"^\[console_scripts\]\nmicroraab = microraab\.cli:main$", entry_points, re.M)


def test_the_demo_extra_names_every_package_the_demo_imports() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    demo = [Requirement(line) for line in config["options.extras_require"]["demo"].split("\n")
            if line.strip()]  # fmt: skip
    declared = {r.name for r in demo} | {extra for r in demo for extra in r.extras}
    imported = set()
    for path in [*sorted((ROOT / "app").glob("*.py")), ROOT / "gunicorn.conf.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    ours = {"app", "microraab", "werkzeug"}  # the demo, and what microraab brings
    third_party = sorted(imported - set(sys.stdlib_module_names) - ours)
    providers = packages_distributions()
    missing = [name for name in third_party
               if not {d.lower() for d in providers.get(name, [])} & declared]  # fmt: skip
    assert third_party and missing == [], (third_party, missing)


@pytest.fixture
def fresh_venv(tmp_path: Path, dist: Path) -> Iterator[Path]:
    """A new virtualenv outside the repository with the wheel installed: its bin/."""
    venv = tmp_path / "venv"
    # Without its own pip (4 s saved): this pip installs into it (pip --python).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    (built,) = dist.glob("*.whl")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", str(built)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    yield venv / "bin"


def test_the_wheel_in_a_fresh_venv_serves_the_readmes_hello_world(
    fresh_venv: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    readme = (ROOT / "README.md").read_text()
    (project / "hello.py").write_text(re.search(r"```python\n(# hello\.py\n.*?)```", readme,
                                                re.S).group(1))  # type: ignore[union-attr]  # fmt: skip
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MICRORAAB_", "PYTHON", "COVERAGE"))}  # fmt: skip
    where = subprocess.run(
        [str(fresh_venv / "python"), "-c", "import microraab; print(microraab.__file__)"],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(fresh_venv.parent)), where  # the wheel's copy, not the tree's
    port = free_port()
    server = subprocess.Popen(
        [str(fresh_venv / "microraab"), "run", "hello:app", "--port", str(port)],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=sigint_as_ctrl_c,
    )  # fmt: skip
    try:
        answer = None
        deadline = time.monotonic() + 30
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/hello/wheel")
                response = connection.getresponse()
                answer = (response.status, response.read())
                connection.close()
            except OSError:
                time.sleep(0.1)
        assert answer == (200, b'{"greeting":"Hello, wheel!"}')
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
