"""Fixtures for the framework's tests: a small App per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from microraab import App

HERE = Path(__file__).resolve().parent


@pytest.fixture
def make_app() -> Callable[..., App]:
    """Build an App rooted in this folder (templates/, static/) with ``config`` on top."""

    def make(**config: Any) -> App:
        return App(
            __name__,
            template_folder=HERE / "templates",
            static_folder=HERE / "static",
            config={"SECRET_KEY": "test-secret", **config},
        )

    return make


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    """An App in production mode with a secret key."""
    return make_app()
