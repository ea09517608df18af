"""The X-ray under ``MICRORAAB_ENV=development gunicorn app:app`` with two gevent workers: every
``X-Xray`` link resolves, whichever worker made the trace and whichever serves its page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from pymongo.database import Database

from app.mongo_server import stop_process
from microraab.xray_store import default_directory
from tests.gunicorn_app import request, start_app

# The serving worker's pid and the path, on each access log line.
ACCESS_FORMAT = "served-by=%(p)s path=%(U)s status=%(s)s"
ACCESS_LINE = re.compile(r"served-by=<(\d+)> path=(\S+) status=(\d+)")


def test_every_xray_link_resolves_whichever_worker_answers(
    mongo_uri: str, mongo_db: Database[Any], tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    port, master = start_app(
        mongo_uri, mongo_db.name, log, workers=2,
        args=["--access-logformat", ACCESS_FORMAT],
        env={"MICRORAAB_ENV": "development"},
    )  # fmt: skip
    try:
        link_body = {"url": "https://example.com/", "code": "xray"}
        assert request(port, "POST", "/api/links", link_body).status == 201
        links: dict[str, int] = {}  # X-Xray link -> the worker that traced the request
        # Each request on a new connection, which either worker may accept: 200 at most,
        # until both workers have made traces.
        for number in range(200):
            page = request(port, "GET", "/xray+" if number % 2 else "/")
            assert page.status == 200 and b'class="xray-toolbar"' in page.body
            link = page.headers["X-Xray"]
            assert f'href="{link}"'.encode() in page.body  # the toolbar links to it
            trace = request(port, "GET", link + ".json")
            assert trace.status == 200, f"{link} answered {trace.status}"
            links[link] = trace.json()["worker"]
            if len(set(links.values())) == 2 and len(links) >= 20:
                break
        assert len(set(links.values())) == 2, "one worker answered every request"
        for link in links:
            assert request(port, "GET", link).status == 200
        index = request(port, "GET", "/_xray/").body.decode()
        for worker in set(links.values()):
            assert f'<td class="num">{worker}</td>' in index
    finally:
        stop_process(master, 15)
    served_by = {
        path: int(pid) for pid, path, status in ACCESS_LINE.findall(log.read_text())
        if path in links and status == "200"
    }  # fmt: skip
    crossed = [link for link, worker in links.items() if served_by[link] != worker]
    assert crossed, "no page was served by another worker than the one that traced it"
    shutil.rmtree(default_directory("app").with_name(f"app-{master.pid}"), ignore_errors=True)


def test_production_gunicorn_has_no_xray(
    mongo_uri: str, mongo_db: Database[Any], tmp_path: Path
) -> None:
    port, master = start_app(mongo_uri, mongo_db.name, tmp_path / "gunicorn.log")
    try:
        page = request(port, "GET", "/")
        assert page.status == 200
        assert "X-Xray" not in page.headers and "Server-Timing" not in page.headers
        assert b"xray-toolbar" not in page.body
        assert request(port, "GET", "/_xray/").status == 404
    finally:
        stop_process(master, 15)
    assert not default_directory("app").with_name(f"app-{master.pid}").exists()
