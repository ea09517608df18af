"""``python -m microraab explain APP METHOD PATH``: the rules considered, the verdict, url_for."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug.routing import Rule

from microraab import App
from microraab.cli import main
from microraab.explain import explain, format_explanation

HERE = Path(__file__).resolve().parent
APP = "cliapps.explainable:app"


@pytest.fixture(autouse=True)
def importable_cliapps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[[str, str], str]:
    """Run ``explain`` on the explainable app through the CLI and return what it printed."""

    def run(method: str, path: str) -> str:
        assert main(["explain", APP, method, path]) == 0
        return capsys.readouterr().out

    return run


def table(output: str) -> dict[str, tuple[str, str, str]]:
    """The rule table by endpoint: (chosen marker, path column, method column)."""
    rows: dict[str, tuple[str, str, str]] = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == "->":
            rows[cells[-1]] = ("->", cells[1], cells[2])
        elif cells[0] in ("yes", "no", "redirect"):
            rows[cells[-1]] = ("", cells[0], cells[1])
    return rows


def test_a_match_names_the_rule_the_values_and_the_view(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/api/links/abc")
    assert "matched: /api/links/<code> -> endpoint 'api.get_link', " in output
    assert "view cliapps.explainable.get_link" in output
    assert "values: code='abc' (str)" in output


def test_every_rule_is_marked_for_the_path_and_for_the_method(
    run: Callable[[str, str], str],
) -> None:
    rows = table(run("GET", "/api/links/abc"))
    assert rows["api.get_link"] == ("->", "yes", "yes")
    assert rows["api.delete_link"] == ("", "yes", "no")
    assert rows["index"] == ("", "no", "yes")
    assert len(rows) == len(list(_app().url_map.iter_rules()))


def test_url_for_builds_the_same_path_back(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/items/42")
    assert "values: n=42 (int)" in output
    assert "url_for('item', n=42) -> /items/42: the same path." in output


def test_a_non_canonical_path_is_told_apart_from_what_url_for_builds(
    run: Callable[[str, str], str],
) -> None:
    output = run("GET", "/price/1.50")
    assert "url_for('price', amount=1.5) -> /price/1.5: another path" in output


def test_an_automatic_options_is_answered_by_the_framework_not_the_view(
    run: Callable[[str, str], str],
) -> None:
    output = run("OPTIONS", "/api/links/abc")
    assert ("(the view is not called: the framework answers 200 with "
            "Allow: DELETE, GET, HEAD, OPTIONS)") in output  # fmt: skip
    # What the app really does with it.
    response = _app().test_client().options("/api/links/abc")
    assert (response.status_code, response.headers["Allow"]) == (200, "DELETE, GET, HEAD, OPTIONS")
    assert response.data == b""


def test_a_view_that_lists_options_answers_it_itself(run: Callable[[str, str], str]) -> None:
    output = run("OPTIONS", "/custom-options")
    assert "view cliapps.explainable.custom_options (the view sets the status)" in output


def test_no_rule_for_the_path_is_a_404(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/nothing/here")
    assert "404 Not Found: no rule matches the path." in output
    assert {path for _, path, _ in table(output).values()} == {"no"}


def test_a_slash_redirect_only_for_rules_that_accept_the_method(
    run: Callable[[str, str], str],
) -> None:
    output = run("POST", "/items")
    assert table(output)["items"] == ("", "redirect", "no")
    assert "404 Not Found: no rule matches the path as it is. /items/ would after a redirect" in (
        output
    )


def test_a_path_matched_with_the_wrong_method_is_a_405_with_allow(
    run: Callable[[str, str], str],
) -> None:
    output = run("post", "/api/links/abc")
    assert output.startswith("POST /api/links/abc\n")
    assert "405 Method Not Allowed: 2 rule(s) match the path, none accepts POST." in output
    assert "Allow: DELETE, GET, HEAD, OPTIONS" in output


def test_a_missing_trailing_slash_is_a_308_to_the_slash_with_the_query_kept(
    run: Callable[[str, str], str],
) -> None:
    output = run("GET", "/items?page=2")
    assert table(output)["items"] == ("", "redirect", "yes")
    assert "308 Permanent Redirect to http://localhost/items/?page=2" in output
    assert "because the rule ends with a slash and the path does not (strict_slashes)" in output
    assert "GET /items/ then matches /items/ -> endpoint 'items'" in output


def test_repeated_slashes_are_a_308_to_the_merged_path(run: Callable[[str, str], str]) -> None:
    output = run("GET", "//items//3")
    assert "308 Permanent Redirect to http://localhost/items/3" in output
    assert "repeated slashes are merged into one (merge_slashes)" in output


@pytest.mark.parametrize(
    ("path", "location", "then"),
    [
        ("/old/3", "http://localhost/items/3", "GET /items/3 then matches /items/<int:n>"),
        ("/gone", "http://localhost/nowhere", "GET /nowhere then answers 404 Not Found"),
        ("/elsewhere", "https://example.com/", "the location is outside this app"),
    ],
)
def test_redirect_to_is_a_308_followed_one_step(
    run: Callable[[str, str], str], path: str, location: str, then: str
) -> None:
    output = run("GET", path)
    assert f"308 Permanent Redirect to {location}\n" in output
    assert "because the rule redirects (redirect_to)" in output
    assert then in output


def test_an_http_request_for_a_websocket_rule_is_a_400(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/ws")
    assert table(output)["socket (websocket)"] == ("", "yes", "yes")
    assert "400: Werkzeug refused the request" in output


def test_a_mounted_app_is_explained_with_its_own_router(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/bench/json")
    assert output.startswith("GET /bench/json\n")
    assert "note: app.wsgi_app mounts the App 'bench' at /bench (DispatcherMiddleware)" in output
    assert "matched: /json -> endpoint 'json'" in output
    assert "index" not in table(output)


def test_the_mount_point_itself_reaches_the_mounted_root(run: Callable[[str, str], str]) -> None:
    assert "its router gets /\n" in run("GET", "/bench")


def test_a_mounted_wsgi_callable_is_outside_the_router(run: Callable[[str, str], str]) -> None:
    output = run("GET", "/raw/anything")
    assert "mounts <function raw" in output
    assert "The request never reaches this app's router." in output


def test_an_existing_static_file_is_served_before_the_router(
    run: Callable[[str, str], str],
) -> None:
    output = run("GET", "/static/site.css")
    assert "SharedDataMiddleware serves /static/: it answers with the file site.css" in output
    assert "The request never reaches this app's router." in output


def test_a_missing_static_file_falls_through_to_the_router(
    run: Callable[[str, str], str],
) -> None:
    output = run("GET", "/static/missing.css")
    assert "no such file, so the router decides" in output
    assert table(output)["static (build only)"] == ("", "no", "yes")
    assert "404 Not Found" in output


def test_a_percent_encoded_path_is_decoded_as_the_server_would(
    make_app: Callable[..., App],
) -> None:
    app = make_app(SERVE_STATIC=False)
    app.add_url_rule("/hello/<name>", "hello", lambda request, name: name)
    explanation = explain(app, "GET", "/hello/Jos%C3%A9")
    assert explanation.values == {"name": "José"}
    assert explanation.built == "/hello/Jos%C3%A9"
    assert "the same path." in format_explanation(explanation)


def test_a_plain_werkzeug_rule_accepts_any_method_and_has_no_view(
    make_app: Callable[..., App],
) -> None:
    app = make_app(SERVE_STATIC=False, APPLICATION_ROOT="/root")
    app.url_map.add(Rule("/any", endpoint="anything"))
    output = format_explanation(explain(app, "PATCH", "/any"))
    assert table(output)["anything"] == ("->", "yes", "yes")
    assert "  any  " in output  # the methods column
    assert "view (none)" in output
    assert "url_for('anything') -> /root/any: the same path." in output


def _app() -> App:
    from cliapps.explainable import app

    return app
