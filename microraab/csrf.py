"""Cross-site request forgery protection for form posts.

Every session gets a random token; pages put it in their forms (``csrf_token()`` in
templates) and unsafe requests (POST, PUT, PATCH, DELETE) must send it back, in the
``csrf_token`` form field or the ``X-CSRF-Token`` header, or they get 403. Routes that
only accept JSON may opt out (``csrf=False``): browsers cannot send a cross-site
``application/json`` request without a CORS preflight.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from werkzeug.exceptions import Forbidden

if TYPE_CHECKING:  # pragma: no cover
    from microraab.wrappers import Request

SESSION_KEY = "_csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CSRFError(Forbidden):
    """403: the CSRF token is missing or does not match the session's."""

    description = (
        "The form's security token is missing or does not match. "
        "Reload the page and submit the form again."
    )


def csrf_token(request: Request) -> str:
    """This session's token, created (and stored in the session) on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def check_csrf(request: Request) -> None:
    """Raise CSRFError unless the request carries this session's token."""
    config = request.app.config
    sent = request.headers.get(config["CSRF_HEADER_NAME"]) or request.form.get(
        config["CSRF_FIELD_NAME"]
    )
    expected = request.session.get(SESSION_KEY)
    if not sent or not isinstance(expected, str):
        raise CSRFError()
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError()
