"""Modules: a group of routes, hooks and error handlers registered on an app together.

Flask calls them blueprints. A Module's endpoints are named ``"module.endpoint"``, its hooks
run only for its own routes, and its error handlers are tried before the app's. The
``app_*`` methods (``before_app_request``, ``app_errorhandler``, ``app_template_filter``...)
register on the app instead, for every request, when the module is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from microraab.routing import View
from microraab.scaffold import ErrorHandler, ErrorKey, F, Scaffold, registering

if TYPE_CHECKING:  # pragma: no cover
    from microraab.app import App


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
    ``csrf=False`` exempts its routes from the CSRF check (for JSON APIs); ``subdomain``
    puts its routes on that subdomain of ``SERVER_NAME``.
    """

    def __init__(
        self,
        name: str,
        url_prefix: str | None = None,
        *,
        api: bool = False,
        csrf: bool = True,
        subdomain: str | None = None,
    ) -> None:
        super().__init__()
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError(f"Module name {name!r} may not contain a dot")
        self.name = name
        self.url_prefix = url_prefix
        self.api = api
        self.csrf = csrf
        self.subdomain = subdomain
        self.deferred: list[DeferredRoute] = []
        # What the app_* methods do to the app, done once when the module is registered.
        self.deferred_functions: list[Callable[[App], Any]] = []

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

    def record(self, func: Callable[[App], Any]) -> None:
        """Call ``func(app)`` when the module is first registered on ``app``."""
        self.deferred_functions.append(func)

    def before_app_request(self, func: F) -> F:
        """Like the app's ``before_request``: for every request, not only this module's."""
        self.record(lambda app: app.before_request(func))
        return func

    def after_app_request(self, func: F) -> F:
        """Like the app's ``after_request``: for every request."""
        self.record(lambda app: app.after_request(func))
        return func

    def teardown_app_request(self, func: F) -> F:
        """Like the app's ``teardown_request``: for every request."""
        self.record(lambda app: app.teardown_request(func))
        return func

    def app_errorhandler(self, code_or_exception: ErrorKey) -> Callable[[F], F]:
        """Like the app's ``errorhandler``: for errors of every request."""

        def add(func: ErrorHandler, _: str | None) -> None:
            self.record(lambda app: app.register_error_handler(code_or_exception, func))

        return registering(add, None)

    def app_context_processor(self, func: F) -> F:
        """Like the app's ``context_processor``: for every template."""
        self.record(lambda app: app.context_processor(func))
        return func

    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Like the app's ``template_filter``."""
        return registering(self.add_app_template_filter, name)

    def add_app_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Like the app's ``add_template_filter``."""
        self.record(lambda app: app.add_template_filter(func, name))

    def app_template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Like the app's ``template_test``."""
        return registering(self.add_app_template_test, name)

    def add_app_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """Like the app's ``add_template_test``."""
        self.record(lambda app: app.add_template_test(func, name))

    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Like the app's ``template_global``."""
        return registering(self.add_app_template_global, name)

    def add_app_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Like the app's ``add_template_global``."""
        self.record(lambda app: app.add_template_global(func, name))
