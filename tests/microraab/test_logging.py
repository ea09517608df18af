"""Logging: the line format, request ids in and out."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator

import pytest
from werkzeug.test import EnvironBuilder

from microraab import App, Request, configure_logging, request_logger
from microraab.logging import RequestIdFilter, RequestIds


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_writes_one_line_with_the_request_id(
    app: App, restore_root_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("INFO")

    @app.route("/")
    def index(request: Request) -> str:
        request_logger(app.logger, request).info("inside the view")
        return "x"

    app.test_client().get("/", headers={"X-Request-ID": "abc-123"})
    logging.getLogger("outside").warning("no request here")
    lines = stream.getvalue().splitlines()
    assert any(line.endswith("[abc-123] inside the view") for line in lines)
    assert any(line.endswith("[-] no request here") for line in lines)


def test_well_formed_request_id_is_echoed(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: request.id)
    response = app.test_client().get("/", headers={"X-Request-ID": "trace.42:a-b"})
    assert response.headers["X-Request-ID"] == "trace.42:a-b"
    assert response.data == b"trace.42:a-b"


@pytest.mark.parametrize(
    "bad",
    ["has space", "x" * 129, "line\nbreak", "crlf\r\nX-Evil: 1", "semi;colon", "<script>", ""],
)
def test_malformed_request_id_is_replaced(app: App, bad: str) -> None:
    app.add_url_rule("/", "i", lambda request: request.id)
    environ = EnvironBuilder(path="/").get_environ()
    environ["HTTP_X_REQUEST_ID"] = bad  # raw, as a server would pass it on
    headers: list[tuple[str, str]] = []
    body = b"".join(app(environ, lambda status, h: headers.extend(h)))
    sent = dict(headers)["X-Request-ID"]
    assert sent != bad
    assert body.decode() == sent
    assert sent.replace("-", "").isalnum() and len(sent) < 40


def test_request_id_of_128_characters_is_accepted(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: "x")
    longest = "a" * 128
    assert (
        app.test_client().get("/", headers={"X-Request-ID": longest}).headers["X-Request-ID"]
        == longest
    )


def test_generated_ids_are_unique(app: App) -> None:
    app.add_url_rule("/", "i", lambda request: "x")
    client = app.test_client()
    ids = {client.get("/").headers["X-Request-ID"] for _ in range(1000)}
    assert len(ids) == 1000


def test_request_id_header_can_be_turned_off(make_app: Callable[..., App]) -> None:
    app = make_app(REQUEST_ID_HEADER=None)
    app.add_url_rule("/", "i", lambda request: request.id)
    response = app.test_client().get("/", headers={"X-Request-ID": "given"})
    assert "X-Request-ID" not in response.headers
    assert response.data != b"given"


def test_app_configures_root_logging_when_nothing_else_has(
    make_app: Callable[..., App], restore_root_logging: None
) -> None:
    root = logging.getLogger()
    root.handlers[:] = []
    make_app()
    assert len(root.handlers) == 1
    assert any(isinstance(f, RequestIdFilter) for f in root.handlers[0].filters)


def test_app_leaves_existing_root_logging_alone(
    make_app: Callable[..., App], restore_root_logging: None
) -> None:
    root = logging.getLogger()
    mine = logging.NullHandler()
    root.handlers[:] = [mine]
    make_app()
    assert root.handlers == [mine]


def test_forked_child_draws_a_new_id_prefix() -> None:
    ids = RequestIds("X-Request-ID")
    parent_id = ids({})
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, ids({}).encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 100).decode()
    os.waitpid(pid, 0)
    assert child_id.split("-")[0] != parent_id.split("-")[0]
