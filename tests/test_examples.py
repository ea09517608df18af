"""examples/: the same greeting app three ways (raw WSGI, Werkzeug + Jinja2, microraab).

Every test runs against all three, so they stay the same app.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["raw_wsgi", "werkzeug_jinja", "microraab_app"]


class CheckedClient(Client):
    """Werkzeug's client, through PEP 3333's checker; each body read and closed at once."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture(params=EXAMPLES)
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.syspath_prepend(str(ROOT))
    module = importlib.import_module(f"examples.{request.param}")
    return CheckedClient(validator(module.app))


def test_the_page_greets_the_world_by_default(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<h1>Hello, World!</h1>" in response.text


def test_the_page_escapes_the_name_from_the_query_string(client: Client) -> None:
    response = client.get("/", query_string={"name": '<script>alert("x")</script>'})
    assert response.status_code == 200
    assert "<h1>Hello, &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;!</h1>" in response.text
    assert "<script>" not in response.text


def test_the_json_endpoint_greets_the_name_in_the_path(client: Client) -> None:
    response = client.get("/api/hello/Jos%C3%A9")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"greeting": "Hello, José!"}


def test_an_unknown_path_is_404(client: Client) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.get("/api/hello/a/b").status_code == 404


def test_post_on_the_json_route_is_405_with_allow(client: Client) -> None:
    response = client.post("/api/hello/Ada")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_head_has_the_headers_and_no_body(client: Client) -> None:
    response = client.head("/api/hello/Ada")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(client.get("/api/hello/Ada").data))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_serves_itself_when_run_as_a_script(name: str) -> None:
    port = _free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("MICRORAAB_ENV", None)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / f"{name}.py")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/hello/Ada"
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert b"Hello, Ada!" in response.read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
