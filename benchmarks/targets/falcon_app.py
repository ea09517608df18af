"""Falcon 4: one resource per test, JSON through ``resp.media``, Jinja2 for the page."""

from __future__ import annotations

import falcon

from app import worlds
from benchmarks.targets.shared import (
    HELLO,
    HTML_TYPE,
    TEXT_TYPE,
    database_provider,
    fortunes_template,
)

provider = database_provider()
template = fortunes_template()


class JSONResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": HELLO}


class PlaintextResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = TEXT_TYPE
        resp.text = HELLO


class DBResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = worlds.random_world(provider.database)


class QueriesResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        count = worlds.parse_queries(req.get_param("queries"))
        resp.media = worlds.random_worlds(provider.database, count)


class FortunesResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = HTML_TYPE
        resp.text = template.render(fortunes=worlds.fortunes(provider.database))


class UpdatesResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        count = worlds.parse_queries(req.get_param("queries"))
        resp.media = worlds.update_worlds(provider.database, count)


app = falcon.App()
app.add_route("/json", JSONResource())
app.add_route("/plaintext", PlaintextResource())
app.add_route("/db", DBResource())
app.add_route("/queries", QueriesResource())
app.add_route("/fortunes", FortunesResource())
app.add_route("/updates", UpdatesResource())
