"""microraab: a small WSGI framework made by hand from Werkzeug and Jinja2.

from microraab import App

app = App(__name__)

@app.route("/hello/<name>")
def hello(request, name):
    return f"Hello, {name}!"
"""

from werkzeug.exceptions import HTTPException, abort
from werkzeug.routing import BuildError

from microraab.app import App
from microraab.config import ConfigError
from microraab.csrf import CSRFError, csrf_token
from microraab.logging import configure_logging, request_logger
from microraab.modules import Module
from microraab.sessions import Session, flash, get_flashed_messages
from microraab.wrappers import JSONResponse, PlainTextResponse, Request, Response, redirect

__all__ = [
    "App",
    "BuildError",
    "CSRFError",
    "ConfigError",
    "HTTPException",
    "JSONResponse",
    "Module",
    "PlainTextResponse",
    "Request",
    "Response",
    "Session",
    "abort",
    "configure_logging",
    "csrf_token",
    "flash",
    "get_flashed_messages",
    "redirect",
    "request_logger",
]
