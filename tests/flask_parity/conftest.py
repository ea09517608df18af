"""Fixtures as Flask's ``tests/conftest.py`` makes them, for the explicit-request API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from microraab import App, Request
from microraab.testing import EnvironBuilder, TestClient

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _no_microraab_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Flask's conftest clears ``FLASK_*``; here ``MICRORAAB_*`` must not reach the app."""
    import os

    for name in list(os.environ):
        if name.startswith("MICRORAAB_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def app() -> App:
    """Flask's ``Flask("flask_test", root_path=tests)`` with ``TESTING`` and ``SECRET_KEY``."""
    return App(
        "flask_test",
        template_folder=HERE / "templates",
        static_folder=HERE / "static",
        config={"TESTING": True, "SECRET_KEY": "test key", "CSRF_ENABLED": False},
    )


@pytest.fixture
def client(app: App) -> TestClient:
    """``app.test_client()``."""
    return app.test_client()


@pytest.fixture
def make_request(app: App) -> Callable[..., Request]:
    """What ``app.test_request_context(*args, **kwargs)`` gives Flask: a request to use,
    built by microraab's EnvironBuilder (the app's base URL), as Flask's is by its own."""

    def make(*args: Any, **kwargs: Any) -> Request:
        return app.request_class(EnvironBuilder(app, *args, **kwargs).get_environ(), app)

    return make
