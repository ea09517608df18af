"""An app that sets no secret key, as a user's first hello.py does."""

from microraab import App

app = App(__name__)
app.add_url_rule("/hello/<name>", "hello", lambda request, name: f"Hello, {name}!")
