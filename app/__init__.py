"""The links demo app: a URL shortener on MongoDB, served by microraab.

``create_app(config)`` builds the app; ``app`` is what ``gunicorn app:app`` serves. Neither
importing this package nor building the app opens a MongoDB connection: each process
(each gunicorn worker, after the fork) creates its client on its first query.

With no MongoDB configured (``MONGODB_URI`` or ``MONGODB_HOST``), a private local
``mongod`` is started (see :mod:`app.local`) so the app runs on a fresh machine.

This file imports nothing heavy on purpose: gunicorn's master imports ``app.local`` (and so
this package) before it forks, and pymongo imported there would be imported before
gevent patches the workers.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from microraab import App


def create_app(
    config: Mapping[str, Any] | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> App:
    """Build the links app; see :func:`app.application.create_app`."""
    from app.application import create_app as build

    return build(config, environ)


_app: App | None = None


def __getattr__(name: str) -> Any:
    """``app.app``, created on first access: ``gunicorn app:app`` and ``from app import app``.

    Lazy so that importing ``app.links`` (in tests, in ``python -m app.seed``) does not
    build the app, which would start a local MongoDB as a side effect.
    """
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
