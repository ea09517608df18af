"""The HTML pages: shorten a URL, list the recent links, follow and inspect a short link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError
from werkzeug.exceptions import BadRequest, NotFound

from app.links import CodeTaken, InvalidLink, LinkStore, parse_limit
from app.web import link_store
from microraab import Module, Request, Response, flash, redirect

pages = Module("pages")

RECENT_PER_PAGE = 10


@pages.app_template_filter("readable_time")
def readable_time(moment: datetime) -> str:
    """``moment`` (UTC) for a person, ``2 Jan 2026, 03:04 UTC``; pages put it in a
    ``<time datetime>`` holding the API's ISO 8601 form (``Link.created_iso``)."""
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def single_field(request: Request, name: str) -> str:
    """The one value of form field ``name`` ("" if absent); 400 if it was sent twice."""
    values = request.form.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"The form field {name!r} was sent more than once.")
    return values[0] if values else ""


def render_index(request: Request, status: int = 200, **form: Any) -> Response:
    """The home page: the form (with any error and the values typed) and recent links."""
    cursor = request.args.get("cursor") or None
    limit = parse_limit(request.args.get("limit"), default=RECENT_PER_PAGE)
    links, next_cursor = link_store(request).recent(limit, cursor)
    response = request.app.render(
        request,
        "index.html",
        links=links,
        next_cursor=next_cursor,
        cursor=cursor,
        error=form.get("error"),
        url_value=form.get("url", ""),
        code_value=form.get("code", ""),
    )
    response.status_code = status
    return response


@pages.route("/")
def index(request: Request) -> Response:
    """The form and the most recent links, newest first, a page at a time."""
    return render_index(request)


@pages.route("/", methods=["POST"])
def shorten(request: Request) -> Response:
    """Store a new link from the form (CSRF-checked by the framework); 303 to its page.

    Invalid input shows the form again with the message and status 400 (409 for a taken
    code); nothing is stored.
    """
    url = single_field(request, "url")
    code = single_field(request, "code")
    try:
        link = link_store(request).create(url, code or None)
    except InvalidLink as error:
        return render_index(request, 400, error=str(error), url=url, code=code)
    except CodeTaken as error:
        return render_index(request, 409, error=str(error), url=url, code=code)
    flash(request, "Your short link is ready.", "success")
    return redirect(request.url_for("pages.detail", code=link.code), 303)


@pages.route("/<code:code>")
def follow(request: Request, code: str) -> Response:
    """Redirect to the target; the click is counted (atomically, ``$inc``) once it is sent.

    The count is written right after the response, in the same greenlet, with the same
    ``w="majority"``: the clicker does not wait for it. A crash in between loses that
    one click; a database error then is logged, as the 302 has gone already.
    """
    store = link_store(request)
    link = store.get(code)
    if link is None:
        raise NotFound(f"There is no short link {code!r}.")
    response = redirect(link.url, 302)
    # PERF: the durable $inc is most of what the redirect waited for: answering after a
    # find_one instead saves the clicker ~60 % of the database wait (docs/benchmarks.md,
    # "The redirect"; `python -m benchmarks.pages --redirect`).
    response.call_on_close(lambda: count_click(request, store, code))
    return response


def count_click(request: Request, store: LinkStore, code: str) -> None:
    """Count one click on ``code``, after its redirect was sent; a database error is logged."""
    try:
        store.record_click(code)
    except PyMongoError as error:
        request.app.logger.warning(
            "click on %r not counted: %s", code, type(error).__name__,
            extra={"request_id": request.id},
        )  # fmt: skip


@pages.route("/<code:code>+")
def detail(request: Request, code: str) -> Response:
    """The link's page: target, short URL, when it was made, how often it was followed."""
    link = link_store(request).get(code)
    if link is None:
        raise NotFound(f"There is no short link {code!r}.")
    short_url = request.url_for("pages.follow", code=link.code, _external=True)
    response = request.app.render(request, "link.html", link=link, short_url=short_url)
    # The click count changes: coming Back to this page must not show a cached copy.
    response.headers["Cache-Control"] = "no-store"
    return response
