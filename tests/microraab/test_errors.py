"""Error pages: HTML for people, JSON for programs."""

from __future__ import annotations

from werkzeug.exceptions import BadRequest

from microraab import App, Module


def test_html_error_page_for_browsers(app: App) -> None:
    response = app.test_client().get("/missing", headers={"Accept": "text/html,*/*"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"<h1>404 Not Found</h1>" in response.data


def test_json_error_when_the_client_asks_for_json(app: App) -> None:
    response = app.test_client().get("/missing", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert response.json["error"]["status"] == 404
    assert "not found" in response.json["error"]["message"].lower()


def test_json_error_for_api_routes_whatever_the_accept_header(app: App) -> None:
    app.add_url_rule("/api/x", "x", lambda request: "x", api=True)
    response = app.test_client().post("/api/x", headers={"Accept": "text/html"})
    assert response.status_code == 405
    assert response.json == {
        "error": {"status": 405, "message": "The method is not allowed for the requested URL."}
    }
    assert "GET" in response.headers["Allow"]


def test_html_error_pages_carry_the_security_headers(app: App) -> None:
    response = app.test_client().get("/missing")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response.headers


def test_accept_preferring_html_over_json_gets_html(app: App) -> None:
    response = app.test_client().get(
        "/missing", headers={"Accept": "text/html;q=0.9, application/json;q=0.5"}
    )
    assert response.mimetype == "text/html"


def test_json_405_for_an_api_route_matched_under_another_method(app: App) -> None:
    app.add_url_rule("/api/y", "y", lambda request: "y", methods=["DELETE"], api=True)
    response = app.test_client().get("/api/y")
    assert response.status_code == 405
    assert response.json["error"]["status"] == 405


def test_json_404_under_an_api_modules_prefix(app: App) -> None:
    app.register(Module("api", url_prefix="/api", api=True))
    assert app.test_client().get("/api/unknown").json["error"]["status"] == 404
    assert app.test_client().get("/apiary").mimetype == "text/html"


def test_error_message_is_escaped_in_html(app: App) -> None:
    def view(request: object) -> str:
        raise BadRequest("<script>x</script>")

    app.add_url_rule("/", "i", view)
    assert b"&lt;script&gt;" in app.test_client().get("/").data
