"""A tiny app for the CLI tests."""

from werkzeug.middleware.proxy_fix import ProxyFix

from microraab import App

app = App(__name__, config={"SECRET_KEY": "cli-test"})
app.add_url_rule("/", "index", lambda request: "hello")
app.add_url_rule("/items/<int:n>", "item", lambda request, n: "", methods=["GET", "DELETE"])


def create_app() -> App:
    return app


wrapped = ProxyFix(app)
not_an_app = 42
