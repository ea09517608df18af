"""What every target shares: the database, the fortunes template, the fixed answers.

Nothing here connects at import: the MongoDB client is created by the provider on the
first query, in each gunicorn worker after the fork.
"""

from __future__ import annotations

import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from app.db import MongoProvider, MongoSettings

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORTUNES_TEMPLATE = "bench/fortunes.html"
HELLO = "Hello, World!"
HELLO_BYTES = HELLO.encode()
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


def database_provider() -> MongoProvider:
    """The database named by ``MONGODB_URI`` (and ``MONGODB_DATABASE``), connected lazily."""
    return MongoProvider(MongoSettings.from_env(os.environ))


def fortunes_template() -> Template:
    """The fortunes page, from the same file and with the same autoescaping as microraab's."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        auto_reload=False,
    )
    return env.get_template(FORTUNES_TEMPLATE)
