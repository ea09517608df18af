"""Routing: Werkzeug's ``Map`` and ``Rule``, with the view and its options carried on the rule.

``Router.match`` answers "which route, with which values?" for a request, or raises the
``HTTPException`` Werkzeug chose (404, 405 with ``Allow``, 308 to the slash-ended URL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, MapAdapter, RequestRedirect, Rule

if TYPE_CHECKING:  # pragma: no cover
    from microraab.wrappers import Request

View = Callable[..., Any]
_MAX_CACHED_MATCHES = 512


class EndpointConflict(ValueError, AssertionError):
    """An endpoint routed to a second view; an AssertionError too, as Flask raises."""


class Route(Rule):
    """A Werkzeug ``Rule`` that also knows its view and how microraab should treat it.

    ``api`` routes answer errors as JSON; ``csrf=False`` exempts the route from the CSRF
    check; ``module`` names the Module that registered it. ``OPTIONS`` is answered
    automatically unless the view lists it itself (or ``provide_automatic_options`` says).
    """

    def __init__(
        self,
        string: str,
        *,
        endpoint: str,
        view: View | None,
        methods: Iterable[str] | None = None,
        module: str | None = None,
        api: bool = False,
        csrf: bool = True,
        provide_automatic_options: bool | None = None,
        **rule_options: Any,
    ) -> None:
        allowed = {method.upper() for method in (methods or ("GET",))}
        if provide_automatic_options is None:
            provide_automatic_options = "OPTIONS" not in allowed
        self.provide_automatic_options = provide_automatic_options
        if provide_automatic_options:
            allowed.add("OPTIONS")
        super().__init__(string, endpoint=endpoint, methods=allowed, **rule_options)
        self.view = view
        self.module = module
        self.api = api
        self.csrf = csrf

    def get_empty_kwargs(self) -> Mapping[str, Any]:
        """Keep microraab's attributes when Werkzeug copies the rule (``Rule.empty``)."""
        kwargs = dict(super().get_empty_kwargs())
        kwargs.update(
            view=self.view,
            module=self.module,
            api=self.api,
            csrf=self.csrf,
            provide_automatic_options=self.provide_automatic_options,
        )
        return kwargs


class Router:
    """The app's ``Map`` plus a pre-bound adapter for matching."""

    def __init__(self) -> None:
        self.url_map = Map()
        self._match_adapter: MapAdapter | None = None
        self._needs_host = False
        self._static_matches: dict[tuple[str, str], tuple[Route, dict[str, Any]]] = {}

    def add(self, route: Rule) -> None:
        """Add a rule; the next match sees it."""
        self.url_map.add(route)
        self._match_adapter = None
        self._static_matches.clear()
        if route.subdomain or route.host:
            self._needs_host = True

    def match(self, request: Request) -> tuple[Route, dict[str, Any]]:
        """Return the route and converted values for ``request``, or raise its HTTPException."""
        if self._needs_host or self.url_map.host_matching:
            return self._match_bound(request)
        key = (request.path, request.method)
        cached = self._static_matches.get(key)
        if cached is not None:
            return cached[0], dict(cached[1])
        adapter = self._prebound()
        try:
            # PERF: matching on a pre-bound adapter skips bind_to_environ (~6 µs a request);
            # the host only matters when Werkzeug answers with a redirect, handled below.
            route, values = adapter.match(request.path, request.method, return_rule=True)
        except RequestRedirect:
            return self._match_bound(request)
        if not route.arguments and len(self._static_matches) < _MAX_CACHED_MATCHES:
            # PERF: a rule without variables always matches its path the same way, so
            # remember it (~2.5 µs saved); bounded, as paths come from clients.
            self._static_matches[key] = (route, dict(values))  # type: ignore[assignment]
        return route, values  # type: ignore[return-value]

    def _prebound(self) -> MapAdapter:
        # Bound once to a placeholder host, rebound after rules change: matching a path
        # needs no host unless rules use hosts or subdomains (then _match_bound is used).
        if self._match_adapter is None:
            self._match_adapter = self.url_map.bind("localhost")
        return self._match_adapter

    def _match_bound(self, request: Request) -> tuple[Route, dict[str, Any]]:
        # Bound to the real host, scheme, script root and query string, so a redirect
        # (308 for a missing trailing slash) names the URL the client should use.
        rule, values = request.url_adapter.match(return_rule=True)
        return rule, values  # type: ignore[return-value]

    def route_for(self, path: str, method: str) -> Route | None:
        """The route that ``method`` on ``path`` would reach, if any (for error pages)."""
        try:
            rule, _ = self._prebound().match(path, method, return_rule=True)
        except HTTPException:
            return None
        return rule  # type: ignore[return-value]

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route accepts for ``path`` (for OPTIONS and ``Allow``)."""
        return sorted(self._prebound().allowed_methods(path))

    def bind_to_request(self, request: Request, server_name: str | None) -> MapAdapter:
        """An adapter bound to the request's environ: for building URLs and redirects."""
        return self.url_map.bind_to_environ(request.environ, server_name=server_name)

    def bind_default(self, server_name: str | None, script_name: str, scheme: str) -> MapAdapter:
        """An adapter for building URLs outside a request (e.g. in a CLI command)."""
        return self.url_map.bind(server_name or "localhost", script_name, url_scheme=scheme)


def build_url(
    adapter: MapAdapter,
    endpoint: str,
    values: dict[str, Any],
    *,
    method: str | None = None,
    external: bool = False,
    anchor: str | None = None,
    scheme: str | None = None,
) -> str:
    """Build the URL for ``endpoint``; raises werkzeug's BuildError naming what is wrong."""
    url = None if method is not None or external else relative_url(adapter, endpoint, values)
    if url is None:
        url = adapter.build(
            endpoint, values, method=method, url_scheme=scheme, force_external=external
        )
    if anchor is not None:
        url += "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
    return url


def relative_url(adapter: MapAdapter, endpoint: str, values: Mapping[str, Any]) -> str | None:
    """``adapter.build(endpoint, values)`` in the usual case; None for any other.

    The usual case: the endpoint has one rule, without defaults, subdomain or host; every
    value is given (none is None); no method and a relative URL are asked for. Then
    ``MapAdapter.build`` takes that rule and joins the script root and the rule's path,
    as this does; everything else, errors included, is left to it.
    """
    # PERF: MapAdapter.build spends half its time on what the usual case never needs: it
    # copies the values, tries the rules twice (the default method, then any), checks
    # each rule's defaults and computes the host. Werkzeug's compiled builder
    # (Rule.build) is the other half: url_for went 3.7 -> ~2 µs, under build's 2.0
    # (`python -m benchmarks.pages --url-for`). tests/microraab/test_routing.py checks
    # it URL for URL against MapAdapter.build.
    url_map = adapter.map
    url_map.update()  # sorts rules added since the last build or match, as build does
    rules = url_map._rules_by_endpoint.get(endpoint)
    if rules is None or len(rules) != 1 or url_map.host_matching:
        return None
    rule = rules[0]
    if rule.defaults or rule.websocket or not rule.arguments <= values.keys():
        return None
    for value in values.values():
        if value is None:  # build drops None values: a missing argument, or no query item
            return None
    built = rule.build(values, True)
    if built is None or built[0] != adapter.subdomain:
        return None
    return f"{adapter.script_name.rstrip('/')}/{built[1].lstrip('/')}"
