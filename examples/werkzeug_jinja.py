"""The greeting app on bare Werkzeug and Jinja2: Shortly's shape, without the class."""

import json
import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

TEMPLATES = Path(__file__).resolve().parent / "templates"
jinja_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
url_map = Map([
    Rule("/", endpoint="index", methods=["GET"]),
    Rule("/api/hello/<name>", endpoint="hello", methods=["GET"]),
])  # fmt: skip


def index(request):
    page = jinja_env.get_template("hello.html").render(name=request.args.get("name", "World"))
    return Response(page, mimetype="text/html")


def hello(request, name):
    return Response(json.dumps({"greeting": f"Hello, {name}!"}), mimetype="application/json")


views = {"index": index, "hello": hello}


def app(environ, start_response):
    request = Request(environ)
    try:
        endpoint, values = url_map.bind_to_environ(environ).match()
        response = views[endpoint](request, **values)
    except HTTPException as error:  # 404, 405 with Allow, 308: each is also a response
        response = error
    return response(environ, start_response)


if __name__ == "__main__":
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", int(os.environ.get("PORT", "5000")), app)
