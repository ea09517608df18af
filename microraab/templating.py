"""Templates: one Jinja2 Environment per app, with Flask's template globals.

Autoescape is on for ``.html``, ``.htm``, ``.xml`` and ``.jinja`` files and for strings;
development mode uses ``StrictUndefined`` (a typo is an error, not an empty string) and
reloads changed files. Globals: ``url_for``, ``config``, ``get_flashed_messages`` and
``csrf_token``; the request being served is ``request`` in every page's context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from microraab.config import DEVELOPMENT
from microraab.csrf import csrf_token as _csrf_token
from microraab.sessions import get_flashed_messages as _get_flashed_messages

if TYPE_CHECKING:  # pragma: no cover
    from microraab.app import App


@pass_context
def _url_for(context: Context, endpoint: str, **values: Any) -> str:
    app: App = context["app"]
    return app.url_for(endpoint, _request=context.get("request"), **values)


@pass_context
def _flashed(context: Context, with_categories: bool = False, category_filter: Any = ()) -> Any:
    return _get_flashed_messages(context["request"], with_categories, category_filter)


@pass_context
def _csrf(context: Context) -> str:
    return _csrf_token(context["request"])


def create_environment(app: App) -> Environment:
    """The Jinja2 Environment for ``app``, loading from its template folder."""
    development = app.config["ENV"] == DEVELOPMENT
    auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
    env = Environment(
        loader=FileSystemLoader(app.template_folder) if app.template_folder else None,
        autoescape=select_autoescape(("html", "htm", "xml", "jinja"), default_for_string=True),
        undefined=StrictUndefined if development else Undefined,
        # PERF: production never stats template files again once loaded.
        auto_reload=development if auto_reload is None else bool(auto_reload),
    )
    env.globals.update(
        app=app,
        config=app.config,
        url_for=_url_for,
        get_flashed_messages=_flashed,
        csrf_token=_csrf,
    )
    return env
