"""Templates: one Jinja2 Environment per app, with Flask's template globals.

Autoescape is on for ``.html``, ``.htm``, ``.xml`` and ``.jinja`` files and for strings;
development mode uses ``StrictUndefined`` (a typo is an error, not an empty string) and
reloads changed files. ``|tojson`` encodes with :mod:`microraab.json`. Globals: ``url_for``,
``config``, ``get_flashed_messages``, ``csrf_token`` and ``app``; the request being served is
``request`` in every page's context. Templates are microraab's :class:`Template`: Jinja2's,
with a cheaper copy of the globals per render.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context, new_context

from microraab import json
from microraab.config import DEVELOPMENT
from microraab.csrf import csrf_token as _csrf_token
from microraab.sessions import get_flashed_messages as _get_flashed_messages

if TYPE_CHECKING:  # pragma: no cover
    from microraab.app import App


@pass_context
def _url_for(context: Context, /, endpoint: str, **values: Any) -> str:
    # PERF: the page's request looked up as Context.resolve_or_missing does (its own
    # variables, then the render's), in two dict reads instead of three Python calls.
    found = context.vars if "request" in context.vars else context.parent
    app: App = context.parent["app"] if "app" not in context.vars else context.vars["app"]
    return app.url_for(endpoint, _request=found.get("request"), **values)


@pass_context
def _flashed(context: Context, with_categories: bool = False, category_filter: Any = ()) -> Any:
    return _get_flashed_messages(context["request"], with_categories, category_filter)


@pass_context
def _csrf(context: Context) -> str:
    return _csrf_token(context["request"])


class Template(jinja2.Template):
    """Jinja2's Template, with the globals copied into each render's context faster."""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        """A Context for rendering, exactly as Jinja2 builds it (see ``Template.new_context``)."""
        # PERF: a template's globals are a ChainMap (its own over the environment's, so a
        # global added later is still seen), and Jinja copies them into every render's
        # context with dict() and set(): one Python-level ChainMap.__getitem__ per global.
        # Merging the plain dicts underneath gives the same mapping, in C: with microraab's
        # eleven globals, App.render of the fortunes page went 28.3 -> 19.3 µs
        # (`python benchmarks/inprocess.py --render`).
        return new_context(
            self.environment, self.name, self.blocks, vars, shared, _merged(self.globals), locals
        )


def _merged(globals: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``globals`` as one dict, the first of a ChainMap's maps winning, as in the ChainMap."""
    if type(globals) is not ChainMap:
        return globals
    merged: dict[str, Any] = {}
    for layer in reversed(globals.maps):
        merged.update(layer)
    return merged


def create_environment(app: App) -> Environment:
    """The Jinja2 Environment for ``app``, loading from its template folder."""
    development = app.config["ENV"] == DEVELOPMENT
    auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
    if auto_reload is None:
        auto_reload = development or app.config["DEBUG"]  # DEBUG reloads too, as in Flask
    env = Environment(
        loader=FileSystemLoader(app.template_folder) if app.template_folder else None,
        autoescape=select_autoescape(("html", "htm", "xml", "jinja"), default_for_string=True),
        undefined=StrictUndefined if development else Undefined,
        # PERF: production never stats template files again once loaded.
        auto_reload=bool(auto_reload),
    )
    env.template_class = Template
    # |tojson through the app's encoding (dates, UUIDs...), as Flask sets it; Jinja2 still
    # escapes <, >, & and ' so the result is safe inside HTML and <script>.
    env.policies["json.dumps_function"] = json.dumps
    env.policies["json.dumps_kwargs"] = {}
    env.globals.update(
        app=app,
        config=app.config,
        url_for=_url_for,
        get_flashed_messages=_flashed,
        csrf_token=_csrf,
    )
    return env
