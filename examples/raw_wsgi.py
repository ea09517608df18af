"""The greeting app as a raw WSGI callable: the standard library, and Jinja2 for the page."""

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parent / "templates"
jinja_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
HELLO_PATH = re.compile(r"/api/hello/([^/]+)")


def index(environ):
    name = parse_qs(environ.get("QUERY_STRING", "")).get("name", ["World"])[0]
    page = jinja_env.get_template("hello.html").render(name=name)
    return "200 OK", "text/html; charset=utf-8", page


def hello(environ, name):
    return "200 OK", "application/json", json.dumps({"greeting": f"Hello, {name}!"})


def app(environ, start_response):
    # PEP 3333: PATH_INFO holds the request's bytes decoded as latin-1; recover the UTF-8.
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"
    if path == "/":
        view, values = index, {}
    elif match := HELLO_PATH.fullmatch(path):
        view, values = hello, {"name": match.group(1)}
    else:
        return respond(environ, start_response, "404 Not Found", "text/plain", "Not Found")
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
        return respond(environ, start_response, "405 Method Not Allowed", "text/plain",
                       "Method Not Allowed", [("Allow", "GET, HEAD")])  # fmt: skip
    status, content_type, body = view(environ, **values)
    return respond(environ, start_response, status, content_type, body)


def respond(environ, start_response, status, content_type, body, headers=()):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(data))), *headers])  # fmt: skip
    # A HEAD response has the GET's headers and no body.
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [data]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    port = int(os.environ.get("PORT", "5000"))
    print(f"Serving on http://127.0.0.1:{port}")
    make_server("127.0.0.1", port, app).serve_forever()
