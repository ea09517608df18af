"""The request X-ray: spans nested on one axis, a store every worker shares, a toolbar on
HTML pages, the index and the JSON; never in production."""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from microraab import App, PlainTextResponse, Request, Response, redirect
from microraab.xray import Trace, record_event
from microraab.xray_store import default_directory


@pytest.fixture
def xray_app(make_app: Callable[..., App], tmp_path: Path) -> App:
    app = make_app(ENV="development", XRAY=True, XRAY_KEEP=3, XRAY_DIR=str(tmp_path / "xray"))

    @app.route("/hello/<name>")
    def hello(request: Request, name: str) -> object:
        time.sleep(0.001)  # a command sent at once could seem to start before its view
        record_event("mongodb", "find", 'links {"code": "?"}', 0.000001)
        return request.app.render(request, "page.html", name=name)

    @app.route("/dir/")
    def directory(request: Request) -> str:
        return "dir"

    app.before_request(lambda request: None)
    return app


def trace_of(app: App, request_id: str) -> Trace:
    assert app.xray is not None
    document = app.xray.store.get(request_id)
    assert document is not None, f"no trace of {request_id}"
    return Trace.from_document(document)


def test_spans_are_recorded_in_order_and_nested(xray_app: App) -> None:
    response = xray_app.test_client().get("/hello/ada")
    trace = trace_of(xray_app, response.headers["X-Request-ID"])
    assert [(e.kind, e.name, e.depth) for e in trace.events] == [
        ("stage", "match_request", 1),
        ("stage", "preprocess_request", 1),
        ("hook", "before_request", 2),
        ("stage", "dispatch_request", 1),
        ("view", "hello", 2),
        ("mongodb", "find", 3),
        ("template", "render", 3),
        ("stage", "make_response", 1),
        ("stage", "process_response", 1),
    ]
    assert trace.route == "/hello/<name> -> hello {'name': 'ada'}"
    assert all(e.duration_ms >= 0 for e in trace.events)
    assert trace.status == "200 OK"
    assert trace.calls()["mongodb"][0] == 1 and trace.templates() == 1


def test_server_timing_header_names_each_stage_and_each_kind_of_call(xray_app: App) -> None:
    timing = xray_app.test_client().get("/hello/ada").headers["Server-Timing"]
    assert timing.startswith("match-request;dur=")
    assert "mongodb;dur=0.001" in timing and "total;dur=" in timing


def test_the_timeline_draws_a_bar_per_span_with_offsets_and_durations(xray_app: App) -> None:
    client = xray_app.test_client()
    response = client.get("/hello/ada")
    page = client.get(response.headers["X-Xray"]).get_data(as_text=True)
    assert "GET" in page and "/hello/ada" in page and "page.html" in page
    assert "links {&#34;code&#34;: &#34;?&#34;}" in page
    bars = re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)"', page)
    assert len(bars) == 10  # the request, then its nine spans
    assert bars[0] == ("0.00", "1000.00")
    assert all(0 <= float(x) <= 1000 and float(w) >= 2 for x, w in bars)
    for depth in (0, 1, 2, 3):
        assert f"xray-depth-{depth} " in page


@pytest.mark.parametrize("path", ["/hello/ada", "/_xray/", "/_xray/{id}"])
def test_the_pages_and_toolbar_need_no_inline_script_or_style(xray_app: App, path: str) -> None:
    client = xray_app.test_client()
    request_id = client.get("/hello/ada").headers["X-Request-ID"]
    page = client.get(path.format(id=request_id)).get_data(as_text=True)
    assert "<script" not in page and "<style" not in page and "style=" not in page
    assert '<link rel="stylesheet" href="/_xray/static/xray.css">' in page
    stylesheet = client.get("/_xray/static/xray.css")
    assert stylesheet.mimetype == "text/css" and b".xray-timeline" in stylesheet.data


@pytest.mark.parametrize(
    ("path", "method", "route"),
    [
        ("/nowhere", "GET", "404: no rule matches the path"),
        ("/dir", "GET", "308 redirect to http://localhost/dir/"),
        (
            "/dir/",
            "POST",
            "405: the path matches, the method does not (allowed: GET, HEAD, OPTIONS)",
        ),
    ],
)
def test_routing_failures_are_explained(xray_app: App, path: str, method: str, route: str) -> None:
    response = xray_app.test_client().open(path, method=method)
    assert trace_of(xray_app, response.headers["X-Request-ID"]).route == route


def test_only_the_last_traces_are_kept_and_old_ids_are_404(xray_app: App) -> None:
    client = xray_app.test_client()
    first = client.get("/hello/a").headers["X-Xray"]
    for name in "bcd":
        client.get(f"/hello/{name}")
    assert xray_app.xray is not None and len(xray_app.xray.store.newest()) == 3
    missing = client.get(first)
    assert missing.status_code == 404
    assert "only the last 3 are kept" in missing.get_data(as_text=True)


def test_a_trace_made_by_one_worker_is_served_by_another(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    config = {"ENV": "development", "XRAY": True, "XRAY_DIR": str(tmp_path)}
    workers = [make_app(**config), make_app(**config)]  # two processes' apps, one directory
    workers[0].add_url_rule("/", "index", lambda request: "<p>first</p>")
    first = workers[0].test_client().get("/")
    other = workers[1].test_client()
    assert other.get(first.headers["X-Xray"]).status_code == 200
    assert other.get(first.headers["X-Xray"] + ".json").json["request_id"] == (
        first.headers["X-Request-ID"]
    )
    assert first.headers["X-Xray"] in other.get("/_xray/").get_data(as_text=True)


def test_the_index_lists_newest_first_and_filters_by_path(xray_app: App) -> None:
    client = xray_app.test_client()
    client.get("/hello/ada")
    client.get("/dir/")
    page = client.get("/_xray/").get_data(as_text=True)
    assert page.index(">/dir/</a>") < page.index(">/hello/ada</a>")
    assert "<th class=\"num\">mongodb</th>" in page and "<th class=\"num\">worker</th>" in page
    filtered = client.get("/_xray/?path=hello").get_data(as_text=True)
    assert ">/hello/ada</a>" in filtered and ">/dir/</a>" not in filtered
    assert "No requests traced with that path yet." in client.get("/_xray/?path=zz").text


def test_each_trace_is_also_json(xray_app: App) -> None:
    client = xray_app.test_client()
    response = client.get("/hello/ada")
    document = client.get(response.headers["X-Xray"] + ".json").json
    assert document["path"] == "/hello/ada" and document["status"] == "200 OK"
    assert document["calls"] == {"mongodb": [1, pytest.approx(0.001, abs=1e-6)]}
    assert document["templates"] == 1
    assert {"kind", "name", "detail", "start_ms", "duration_ms", "depth"} == set(
        document["events"][0]
    )
    assert client.get("/_xray/nope.json").status_code == 404


def test_cookie_values_are_hidden_in_traces(xray_app: App) -> None:
    @xray_app.route("/login")
    def login(request: Request) -> str:
        request.session["user"] = "ada"
        return "ok"

    response = xray_app.test_client().get("/login")
    headers = dict(trace_of(xray_app, response.headers["X-Request-ID"]).headers)
    assert headers["Set-Cookie"] == "session=(hidden)"


def test_record_event_outside_a_traced_request_records_nothing(xray_app: App) -> None:
    record_event("mongodb", "outside", "x", 0.001)  # between requests: no trace to join
    response = xray_app.test_client().get("/dir/")
    assert trace_of(xray_app, response.headers["X-Request-ID"]).calls() == {}


def test_a_trace_keeps_its_first_thousand_spans(xray_app: App) -> None:
    @xray_app.route("/chatty")
    def chatty(request: Request) -> str:
        for _ in range(1200):
            record_event("mongodb", "find", "", 0.0)
        return "done"

    response = xray_app.test_client().get("/chatty")
    trace = trace_of(xray_app, response.headers["X-Request-ID"])
    assert len(trace.events) == 1000 and trace.dropped > 200
    page = xray_app.test_client().get(response.headers["X-Xray"]).text
    assert f"{trace.dropped} later spans were not recorded" in page


# -- the toolbar ------------------------------------------------------------------------


def test_the_toolbar_is_added_to_an_html_page(xray_app: App) -> None:
    response = xray_app.test_client().get("/hello/ada")
    body = response.get_data(as_text=True)
    toolbar = body[body.index('<details class="xray-toolbar"') :]
    assert body.rstrip().endswith("</html>") and toolbar.index("</details>") < toolbar.index(
        "</body>"
    )
    assert f'href="{response.headers["X-Xray"]}"' in toolbar
    assert "mongodb <b>1</b> in 0.0 ms" in toolbar and "<b>1</b> template<" in toolbar
    assert int(response.headers["Content-Length"]) == len(response.data)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/json", "GET"),
        ("/text", "GET"),
        ("/go", "GET"),
        ("/stream", "GET"),
        ("/fragment", "GET"),
        ("/hello/ada", "HEAD"),
    ],
    ids=["json", "plain-text", "redirect", "streamed", "fragment", "head"],
)
def test_the_toolbar_is_never_added_where_it_does_not_belong(
    xray_app: App, path: str, method: str
) -> None:
    xray_app.add_url_rule("/json", "json", lambda request: {"page": "<body></body>"})
    xray_app.add_url_rule("/text", "text", lambda request: PlainTextResponse("<body></body>"))
    xray_app.add_url_rule("/go", "go", lambda request: redirect("/hello/ada"))

    def stream(request: Request) -> Iterator[str]:
        yield "<html><body>"
        yield "</body></html>"

    xray_app.add_url_rule("/stream", "stream", stream)
    xray_app.add_url_rule("/fragment", "fragment", lambda request: "<p>part</p>")
    response = xray_app.test_client().open(path, method=method)
    assert response.status_code in (200, 302)
    assert b"xray-toolbar" not in response.data
    assert "X-Xray" in response.headers  # traced all the same


def test_an_app_can_turn_the_toolbar_off(make_app: Callable[..., App], tmp_path: Path) -> None:
    app = make_app(ENV="development", XRAY=True, XRAY_DIR=str(tmp_path), XRAY_TOOLBAR=False)
    app.add_url_rule("/", "index", lambda request: Response("<html><body>x</body></html>"))
    response = app.test_client().get("/")
    assert response.data == b"<html><body>x</body></html>" and "X-Xray" in response.headers


# -- where it is, and where it is not ---------------------------------------------------


def test_xray_is_absent_in_production(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    app = make_app(XRAY=True, XRAY_DIR=str(tmp_path / "never"))
    app.add_url_rule("/", "index", lambda request: "<html><body>x</body></html>")
    client = app.test_client()
    response = client.get("/")
    assert app.xray is None
    assert "Server-Timing" not in response.headers and "X-Xray" not in response.headers
    assert b"xray-toolbar" not in response.data
    assert client.get("/_xray/").status_code == 404
    assert client.get("/_xray/static/xray.css").status_code == 404
    assert not (tmp_path / "never").exists()
    assert any("XRAY is ignored in production" in r.getMessage() for r in caplog.records)
    assert all(r.levelno <= logging.WARNING for r in caplog.records)


def test_xray_is_off_by_default_even_in_development(make_app: Callable[..., App]) -> None:
    app = make_app(ENV="development")
    assert app.xray is None
    assert app.match_request.__func__ is App.match_request  # type: ignore[attr-defined]


def test_by_default_the_traces_are_kept_per_server(make_app: Callable[..., App]) -> None:
    app = make_app(ENV="development", XRAY=True)
    assert app.xray is not None
    directory = app.xray.store.directory
    try:
        assert directory == default_directory(app.import_name)
        app.add_url_rule("/", "index", lambda request: "x")
        request_id = app.test_client().get("/").headers["X-Request-ID"]
        assert [json.loads(p.read_text())["request_id"] for p in directory.iterdir()] == [
            request_id
        ]
    finally:
        shutil.rmtree(directory)
