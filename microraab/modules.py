"""Modules: a group of routes, hooks and error handlers registered on an app together.

Flask calls them blueprints. A Module's endpoints are named ``"module.endpoint"``, its hooks
run only for its own routes, and its error handlers are tried before the app's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from microraab.routing import View
from microraab.scaffold import Scaffold


@dataclass
class DeferredRoute:
    """A route recorded by a Module, added to the app by ``App.register``."""

    rule: str
    endpoint: str
    view: View | None
    methods: Iterable[str] | None
    options: dict[str, Any] = field(default_factory=dict)


class Module(Scaffold):
    """A named set of routes under ``url_prefix``.

    ``api=True`` makes every route answer errors as JSON (and 404s under the prefix too);
    ``csrf=False`` exempts its routes from the CSRF check (for JSON APIs).
    """

    def __init__(
        self,
        name: str,
        url_prefix: str | None = None,
        *,
        api: bool = False,
        csrf: bool = True,
    ) -> None:
        super().__init__()
        if "." in name:
            raise ValueError(f"Module name {name!r} may not contain a dot")
        self.name = name
        self.url_prefix = url_prefix.rstrip("/") if url_prefix else ""
        self.api = api
        self.csrf = csrf
        self.deferred: list[DeferredRoute] = []

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view: View | None = None,
        *,
        methods: Iterable[str] | None = None,
        view_func: View | None = None,
        **options: Any,
    ) -> None:
        """Record a route; it takes effect when the module is registered on an app."""
        view = view if view is not None else view_func
        if endpoint is None:
            if view is None:
                raise ValueError("add_url_rule needs an endpoint or a view")
            endpoint = view.__name__
        if "." in endpoint:
            raise ValueError(f"Endpoint {endpoint!r} may not contain a dot inside a Module")
        self.deferred.append(DeferredRoute(rule, endpoint, view, methods, options))
