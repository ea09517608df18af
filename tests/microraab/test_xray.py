"""The request X-ray: stages in order, hooks, templates, events; never in production."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from microraab import App, Request
from microraab.xray import record_event


@pytest.fixture
def xray_app(make_app: Callable[..., App]) -> App:
    app = make_app(ENV="development", XRAY=True, XRAY_KEEP=3)

    @app.route("/hello/<name>")
    def hello(request: Request, name: str) -> object:
        record_event("mongodb", "find", 'links {"code": "?"}', 0.000001)
        return request.app.render(request, "hello.html", name=name)

    @app.route("/dir/")
    def directory(request: Request) -> str:
        return "dir"

    app.before_request(lambda request: None)
    return app


def test_stages_hooks_templates_and_events_are_recorded_in_order(xray_app: App) -> None:
    client = xray_app.test_client()
    response = client.get("/hello/ada")
    assert xray_app.xray is not None
    trace = xray_app.xray.traces[response.headers["X-Request-ID"]]
    kinds = [(e.kind, e.name) for e in sorted(trace.events, key=lambda e: e.start_ms)]
    assert kinds == [
        ("stage", "match_request"),
        ("stage", "preprocess_request"),
        ("hook", "before_request"),
        ("stage", "dispatch_request"),
        ("mongodb", "find"),
        ("template", "render"),
        ("stage", "make_response"),
        ("stage", "process_response"),
    ]
    assert trace.route == "/hello/<name> -> hello {'name': 'ada'}"
    assert all(e.duration_ms >= 0 for e in trace.events)
    assert trace.status == "200 OK"


def test_server_timing_header_and_pages(xray_app: App) -> None:
    client = xray_app.test_client()
    response = client.get("/hello/ada")
    timing = response.headers["Server-Timing"]
    assert timing.startswith("match-request;dur=")
    assert "db;dur=0.001" in timing and "total;dur=" in timing
    detail = client.get(response.headers["X-Xray"]).get_data(as_text=True)
    assert "GET /hello/ada" in detail and "hello.html" in detail
    assert "links {&#34;code&#34;: &#34;?&#34;}" in detail or 'links {"code": "?"}' in detail
    index = client.get("/_xray/").get_data(as_text=True)
    assert response.headers["X-Request-ID"] in index


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
    assert xray_app.xray is not None
    assert xray_app.xray.traces[response.headers["X-Request-ID"]].route == route


def test_only_the_last_traces_are_kept_and_old_ids_are_404(xray_app: App) -> None:
    client = xray_app.test_client()
    first = client.get("/hello/a").headers["X-Xray"]
    for name in "bcd":
        client.get(f"/hello/{name}")
    assert xray_app.xray is not None and len(xray_app.xray.traces) == 3
    assert client.get(first).status_code == 404


def test_cookie_values_are_hidden_in_traces(xray_app: App) -> None:
    @xray_app.route("/login")
    def login(request: Request) -> str:
        request.session["user"] = "ada"
        return "ok"

    response = xray_app.test_client().get("/login")
    assert xray_app.xray is not None
    headers = dict(xray_app.xray.traces[response.headers["X-Request-ID"]].headers)
    assert headers["Set-Cookie"] == "session=(hidden)"


def test_record_event_outside_a_traced_request_records_nothing(xray_app: App) -> None:
    record_event("mongodb", "outside", "x", 0.001)  # between requests: no trace to join
    response = xray_app.test_client().get("/dir/")
    assert xray_app.xray is not None
    trace = xray_app.xray.traces[response.headers["X-Request-ID"]]
    assert [e.name for e in trace.events if e.kind == "mongodb"] == []


def test_xray_is_absent_in_production(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(XRAY=True)
    app.add_url_rule("/", "index", lambda request: "x")
    client = app.test_client()
    response = client.get("/")
    assert app.xray is None
    assert "Server-Timing" not in response.headers and "X-Xray" not in response.headers
    assert client.get("/_xray/").status_code == 404
    assert any("XRAY is ignored in production" in r.getMessage() for r in caplog.records)
    assert all(r.levelno <= logging.WARNING for r in caplog.records)


def test_xray_is_off_by_default_even_in_development(make_app: Callable[..., App]) -> None:
    app = make_app(ENV="development")
    assert app.xray is None
    assert app.match_request.__func__ is App.match_request  # type: ignore[attr-defined]
