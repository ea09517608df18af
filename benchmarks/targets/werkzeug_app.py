"""Werkzeug and Jinja2 as the Shortly tutorial uses them: microraab's step 0."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from app import worlds
from benchmarks.targets.shared import FORTUNES_TEMPLATE, HELLO, TEMPLATES, database_provider


class Bench:
    """Shortly's shape: a Map, a Jinja2 environment, ``on_<endpoint>`` views."""

    def __init__(self) -> None:
        self.provider = database_provider()
        self.jinja_env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",))
        )
        self.url_map = Map(
            [
                Rule("/json", endpoint="json"),
                Rule("/plaintext", endpoint="plaintext"),
                Rule("/db", endpoint="db"),
                Rule("/queries", endpoint="queries"),
                Rule("/fortunes", endpoint="fortunes"),
                Rule("/updates", endpoint="updates"),
            ]
        )

    def render_template(self, template_name: str, **context: Any) -> Response:
        template = self.jinja_env.get_template(template_name)
        return Response(template.render(context), mimetype="text/html")

    def json_response(self, value: Any) -> Response:
        return Response(json.dumps(value), mimetype="application/json")

    def on_json(self, request: Request) -> Response:
        return self.json_response({"message": HELLO})

    def on_plaintext(self, request: Request) -> Response:
        return Response(HELLO, mimetype="text/plain")

    def on_db(self, request: Request) -> Response:
        return self.json_response(worlds.random_world(self.provider.database))

    def on_queries(self, request: Request) -> Response:
        count = worlds.parse_queries(request.args.get("queries"))
        return self.json_response(worlds.random_worlds(self.provider.database, count))

    def on_fortunes(self, request: Request) -> Response:
        rows = worlds.fortunes(self.provider.database)
        return self.render_template(FORTUNES_TEMPLATE, fortunes=rows)

    def on_updates(self, request: Request) -> Response:
        count = worlds.parse_queries(request.args.get("queries"))
        return self.json_response(worlds.update_worlds(self.provider.database, count))

    def dispatch_request(self, request: Request) -> Response | HTTPException:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            response: Response = getattr(self, f"on_{endpoint}")(request, **values)
            return response
        except HTTPException as e:
            return e

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch_request(request)
        return response(environ, start_response)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)


app = Bench()
