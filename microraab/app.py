"""The application object: registration, and the request pipeline in one place.

Read :meth:`App.wsgi_app` top to bottom to follow a request::

    wsgi_app
      -> full_dispatch_request
           -> match_request        (Werkzeug routing: route and values, or 404/405/308)
           -> preprocess_request   (trusted host, CSRF, before_request hooks)
           -> dispatch_request     (the view: view(request, **values))
           -> make_response        (str / bytes / dict / tuple / iterator -> Response)
           -> process_response     (after_request hooks, session cookie, headers)
      -> handle_exception          (an unhandled error: logged, answered with a 500 page)
      -> do_teardown_request       (teardown_request hooks, always)
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, Template
from werkzeug.datastructures import Headers
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
)
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.routing import BaseConverter, RoutingException
from werkzeug.wrappers import Response as WerkzeugResponse

from microraab import csrf
from microraab.config import DEVELOPMENT, check_production_ready, load_config
from microraab.errors import error_response
from microraab.logging import RequestIds, configure_logging
from microraab.modules import Module
from microraab.proxies import TrustedProxies
from microraab.routing import EndpointConflict, Route, Router, View, build_url, relative_url
from microraab.scaffold import ErrorHandler, F, Scaffold, registering
from microraab.sessions import SessionInterface
from microraab.templating import create_environment
from microraab.wrappers import JSONResponse, Request, Response, check_header_value
from microraab.xray import XRay

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from microraab.testing import TestClient


class App(Scaffold):
    """A WSGI application.

    ``import_name`` locates the app's folders (``template_folder``, ``static_folder``,
    relative to the importing module's directory). ``config`` overrides the defaults, the
    TOML file and the ``MICRORAAB_*`` environment (see :mod:`microraab.config`).
    The static route (and its files) exists only if ``static_folder`` is a directory.
    Raises ConfigError in production mode without a ``SECRET_KEY`` (except while the
    command line introspects it: :func:`microraab.config.introspection`).
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response

    def __init__(
        self,
        import_name: str,
        *,
        template_folder: str | os.PathLike[str] | None = "templates",
        static_folder: str | os.PathLike[str] | None = "static",
        static_url_path: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.import_name = import_name
        self.root_path = _root_path(import_name)
        self.config = load_config(config)
        check_production_ready(self.config)
        self.template_folder = self._folder(template_folder)
        self.static_folder = self._folder(static_folder)
        self.router = Router()
        self.url_map = self.router.url_map
        self.view_functions: dict[str, View] = {}
        self.modules: dict[str, Module] = {}
        self.api_prefixes: list[str] = []
        # What the application attaches for its views (a database client...), by name.
        self.extensions: dict[str, Any] = {}
        self.session_interface = SessionInterface(self)
        self.logger = logging.getLogger(import_name)
        if not logging.getLogger().handlers:
            configure_logging(self.config["LOG_LEVEL"])
        self.request_ids = RequestIds(self.config["REQUEST_ID_HEADER"])
        self.trusted_proxies = TrustedProxies(self.config["FORWARDED_ALLOW_IPS"])
        self.xray: XRay | None = None
        if self.config["XRAY"]:
            if self.development:
                self.xray = XRay(self)
            else:
                self.logger.warning("XRAY is ignored in production mode: the X-ray stays off")
        # No folder, no static route: `routes` lists none, url_for("static") is a BuildError.
        static = self.static_folder
        if static is not None and os.path.isdir(static) and self.config["SERVE_STATIC"]:
            if static_url_path is None:
                # Flask's default: "/" and the folder's name ("static/" -> "/static", "" -> "").
                folder_name = os.path.basename(os.fspath(static_folder or "").rstrip("\\/"))
                static_url_path = "/" + folder_name
            static_url_path = static_url_path.rstrip("/")
            self.add_url_rule(f"{static_url_path}/<path:filename>", "static", build_only=True)
            self.wsgi_app = SharedDataMiddleware(  # type: ignore[method-assign]
                self.wsgi_app,
                {static_url_path: static},
                cache_timeout=self.config["STATIC_MAX_AGE"],
            )

    def _folder(self, folder: str | os.PathLike[str] | None) -> str | None:
        return os.path.join(self.root_path, folder) if folder is not None else None

    @property
    def development(self) -> bool:
        """True in development mode (``ENV = "development"``)."""
        return bool(self.config["ENV"] == DEVELOPMENT)

    # -- registration -------------------------------------------------------------------

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view: View | None = None,
        *,
        methods: Iterable[str] | None = None,
        module: str | None = None,
        view_func: View | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Route ``rule`` to ``view`` (or ``view_func``, Flask's name for it).

        ``methods`` and ``provide_automatic_options`` default to the view's attributes of
        those names (a class-based view's). EndpointConflict (a ValueError) if
        ``endpoint`` already has another view.
        """
        if view_func is not None:
            if view is not None:
                raise TypeError("add_url_rule takes view or view_func, not both")
            view = view_func
        if endpoint is None:
            if view is None:
                raise ValueError("add_url_rule needs an endpoint or a view")
            endpoint = view.__name__
        if isinstance(methods, str):
            raise TypeError("methods must be a list of strings, like methods=['POST']")
        if view is not None:
            existing = self.view_functions.get(endpoint)
            # ==, not is: a bound method is a new object each time it is read.
            if existing is not None and existing != view:
                raise EndpointConflict(f"Endpoint {endpoint!r} is already routed to {existing!r}")
            self.view_functions[endpoint] = view
            if methods is None:
                methods = getattr(view, "methods", None)
            if provide_automatic_options is None:
                provide_automatic_options = getattr(view, "provide_automatic_options", None)
        route = Route(
            rule,
            endpoint=endpoint,
            view=view,
            methods=methods,
            module=module,
            provide_automatic_options=provide_automatic_options,
            **options,
        )
        self.router.add(route)

    def add_converter(self, name: str, converter: type[BaseConverter]) -> None:
        """Make ``<name:value>`` usable in rules added from now on."""
        self.url_map.converters[name] = converter

    def register(
        self,
        module: Module,
        *,
        name: str | None = None,
        url_prefix: str | None = None,
        url_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        """Add ``module``'s routes under its prefix (or ``url_prefix``), with endpoints
        ``"name.endpoint"`` (``name`` defaults to the module's: register it twice by naming
        it) and ``url_defaults`` under each route's ``defaults``; its ``app_*`` hooks are
        added once. ValueError if the name is taken."""
        name = name or module.name
        if name in self.modules:
            raise ValueError(f"A module named {name!r} is already registered")
        first_registration = module not in self.modules.values()
        self.modules[name] = module
        prefix = url_prefix if url_prefix is not None else module.url_prefix
        if module.api:
            self.api_prefixes.append((prefix or "").rstrip("/") + "/")
        for deferred in module.deferred:
            options = {"api": module.api, "csrf": module.csrf, **deferred.options}
            if module.subdomain is not None:
                options.setdefault("subdomain", module.subdomain)
            if url_defaults:
                options["defaults"] = {**url_defaults, **options.get("defaults", {})}
            self.add_url_rule(
                _join_rule(prefix, deferred.rule),
                f"{name}.{deferred.endpoint}",
                deferred.view,
                methods=deferred.methods,
                module=name,
                **options,
            )
        if first_registration:
            for func in module.deferred_functions:
                func(self)

    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to use as a Jinja2 filter (named ``name`` or its own name)."""
        return registering(self.add_template_filter, name)

    def add_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Make ``func`` the Jinja2 filter ``name`` (its own name by default)."""
        self.jinja_env.filters[name or func.__name__] = func

    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to use as a Jinja2 test (``{% if value is name %}``)."""
        return registering(self.add_template_test, name)

    def add_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """Make ``func`` the Jinja2 test ``name`` (its own name by default)."""
        self.jinja_env.tests[name or func.__name__] = func

    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to make it callable from every template."""
        return registering(self.add_template_global, name)

    def add_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Make ``func`` the template global ``name`` (its own name by default)."""
        self.jinja_env.globals[name or func.__name__] = func

    # -- URLs and templates -------------------------------------------------------------

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _request: Request | None = None,
        _external: bool | None = None,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        **values: Any,
    ) -> str:
        """The URL of ``endpoint`` with ``values``; werkzeug BuildError if it cannot be built.

        With a request, URLs are relative to its script root and ``_external`` uses its
        host; without one, ``SERVER_NAME`` and ``APPLICATION_ROOT`` are used. ``_scheme``
        makes the URL external (as in Flask); with ``_external=False`` it is a ValueError.
        """
        if _request is not None and not _external and _anchor is _method is _scheme is None:
            # PERF: what templates ask for, a relative URL, straight from the fast path
            # (relative_url, None when it does not apply): ~0.3 µs a call less.
            url = relative_url(_request.url_adapter, endpoint, values)
            if url is not None:
                return url
        if _scheme is not None:
            if _external is False:
                # Flask's rule: a scheme on a relative URL would be silently lost.
                raise ValueError("When specifying '_scheme', '_external' must be True.")
            _external = True
        if _request is not None:
            adapter = _request.url_adapter
        else:
            config = self.config
            adapter = self.router.bind_default(
                config["SERVER_NAME"], config["APPLICATION_ROOT"], config["PREFERRED_URL_SCHEME"]
            )
        return build_url(
            adapter,
            endpoint,
            values,
            method=_method,
            external=bool(_external),
            anchor=_anchor,
            scheme=_scheme,
        )

    @cached_property
    def jinja_env(self) -> Environment:
        """The app's Jinja2 environment, created on first use."""
        return create_environment(self)

    def render(
        self, request: Request | None, template_name: str | list[str], /, **context: Any
    ) -> Response:
        """Render ``template_name`` (or the first of a list that exists) with ``context``,
        ``request`` and the context processors' values into an HTML Response."""
        # Jinja2 types the list as list[str | Template]: a list[str] is one (invariance).
        template = self.jinja_env.get_or_select_template(template_name)  # type: ignore[arg-type]
        return self._render(request, template, context)

    def render_string(self, request: Request | None, source: str, /, **context: Any) -> Response:
        """Render the template text ``source`` as :meth:`render` renders a file."""
        return self._render(request, self.jinja_env.from_string(source), context)

    def _render(
        self, request: Request | None, template: Template, context: dict[str, Any]
    ) -> Response:
        if self.template_context_processors or self.modules:  # PERF: most apps have none
            processed: dict[str, Any] = {}
            for scaffold in self._scaffolds(request) if request is not None else (self,):
                for processor in scaffold.template_context_processors:
                    processed.update(processor(request))
            context = {**processed, **context}
        return self.response_class(template.render(request=request, **context))

    # -- the request pipeline -------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point; wrap ``app.wsgi_app`` to add middleware.

        A trusted proxy's forwarded headers are applied here, before any middleware or
        stage reads the environ (static files and gunicorn's access log included).
        """
        # PERF: a request no proxy forwarded (every direct one) pays three dict lookups.
        if (
            "HTTP_X_FORWARDED_FOR" in environ
            or "HTTP_X_FORWARDED_PROTO" in environ
            or "HTTP_X_FORWARDED_HOST" in environ
        ):
            self.trusted_proxies.apply(environ)
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: every stage, in order."""
        request = self.request_class(environ, self, self.request_ids(environ))
        error: BaseException | None = None
        try:
            try:
                response = self.full_dispatch_request(request)
            except Exception as e:
                error = e
                response = self.handle_exception(request, e)
            return self.send_response(request, response, start_response)
        finally:
            # PERF: no teardown work at all for apps without teardown hooks.
            if self.teardown_request_funcs or self.modules:
                self.do_teardown_request(request, error)
            # An exception kept past the request would hold it in a cycle through its
            # traceback's frames (request -> routing_exception -> traceback -> frame ->
            # request; this frame -> error -> traceback -> this frame), left for the
            # cyclic GC: 48 objects a 404, 33 a 500. Dropped, the request is freed now.
            if request.routing_exception is not None:
                request.routing_exception = None
            error = None

    def full_dispatch_request(self, request: Request) -> WerkzeugResponse:
        """Route, run the before hooks and the view, and turn the result into a response.

        An exception from any of these goes to an error handler (or the default error
        page for HTTP errors); one with no handler propagates to ``handle_exception``.
        """
        try:
            self.match_request(request)
            rv = self.preprocess_request(request)
            if rv is None:
                rv = self.dispatch_request(request)
        except Exception as e:
            rv = self.handle_user_exception(request, e)
        response = self.make_response(request, rv)
        return self.process_response(request, response)

    def match_request(self, request: Request) -> None:
        """Set ``request.route`` and ``request.view_args``, or ``routing_exception``."""
        try:
            request.route, request.view_args = self.router.match(request)
        except HTTPException as e:
            request.routing_exception = e

    def preprocess_request(self, request: Request) -> Any:
        """Check the host and CSRF token, then run before hooks; a non-None result ends it."""
        config = self.config
        if config["TRUSTED_HOSTS"]:
            request.trusted_hosts = config["TRUSTED_HOSTS"]
            request.host  # noqa: B018 - raises SecurityError (400) for an untrusted host
        route = request.route
        if (
            route is not None
            and route.csrf
            and request.method in csrf.UNSAFE_METHODS
            and config["CSRF_ENABLED"]
        ):
            csrf.check_csrf(request)
        if self.before_request_funcs or self.modules:  # PERF: most requests have no hooks
            for scaffold in self._scaffolds(request):
                for func in scaffold.before_request_funcs:
                    rv = func(request)
                    if rv is not None:
                        return rv
        return None

    def dispatch_request(self, request: Request) -> Any:
        """Call the matched view with the request and the URL's values."""
        if request.routing_exception is not None:
            raise request.routing_exception
        route = request.route
        assert route is not None
        if route.provide_automatic_options and request.method == "OPTIONS":
            allowed = self.router.allowed_methods(request.path)
            return self.response_class(headers={"Allow": ", ".join(allowed)})
        if route.view is None:
            raise LookupError(f"Endpoint {route.endpoint!r} has no view function")
        return route.view(request, **request.view_args)

    def make_response(self, request: Request, rv: Any) -> WerkzeugResponse:
        """Turn what a view returned into a Response; TypeError names the view if it can't.

        ``str`` is HTML, ``bytes`` raw, ``dict``/``list`` JSON, an iterator is streamed, and
        ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)`` add to those.
        """
        if isinstance(rv, WerkzeugResponse):
            return rv  # PERF: what most views return, before four other type checks
        status: int | str | None = None
        headers: Any = None
        if isinstance(rv, tuple):
            if len(rv) == 3:
                rv, status, headers = rv
            elif len(rv) == 2:
                if isinstance(rv[1], (Headers, dict, list)):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    f"The view for {request.endpoint!r} returned a tuple of {len(rv)} items; the "
                    "tuple must have the form (body, status), (body, headers) or (body, status, "
                    "headers)."
                )
        if isinstance(rv, (str, bytes)):
            # PERF: the common case first, constructed once with its status and headers.
            return self.response_class(rv, status, headers)
        if isinstance(rv, (dict, list)):
            response: WerkzeugResponse = JSONResponse(rv)
        elif isinstance(rv, WerkzeugResponse):
            response = rv
        elif isinstance(rv, HTTPException):
            # Returned is answered as raised: by its handler, else microraab's error page. A
            # handler that returns the very error it was given gets the page (no loop).
            handled = self.handle_http_exception(request, rv)
            if handled is rv:
                handled = error_response(request, rv)
            response = self.make_response(request, handled)
        elif isinstance(rv, Iterator):
            response = self.response_class(rv)
        else:
            # Flask's words ("returned None", "it was a bool"), which its users search for.
            kind = f"it was a {type(rv).__name__}"
            if rv is None:
                kind = "it returned None (no return statement?)"
            raise TypeError(
                f"The view for {request.endpoint!r} did not return a valid response: {kind}. "
                "Return a str, bytes, dict, list, Response, iterator, or a (body, status[, "
                "headers]) tuple."
            )
        if status is not None:
            if isinstance(status, int):
                response.status_code = status
            else:
                response.status = status
        if headers:
            response.headers.update(headers)
        return response

    def process_response(self, request: Request, response: WerkzeugResponse) -> WerkzeugResponse:
        """Run after hooks (module's, then app's, newest first); save the session; add headers."""
        if self.after_request_funcs or self.modules:
            for scaffold in reversed(self._scaffolds(request)):
                for func in reversed(scaffold.after_request_funcs):
                    response = func(request, response)
                    if not isinstance(response, WerkzeugResponse):
                        raise TypeError(
                            f"after_request hook {func.__qualname__} returned "
                            f"{type(response).__name__!r}; it must return the response."
                        )
        if "session" in request.__dict__:  # request.session_loaded, one call less
            self.session_interface.save_session(request, response)
        config = self.config
        headers = response.headers
        items = headers._list
        id_header = config["REQUEST_ID_HEADER"]
        if id_header:
            # PERF: appended, not set() (which first scans for an old value to remove) nor
            # add() (which checks for newlines): the framework owns this header, and an id
            # is one it made or a client's that matched _VALID_REQUEST_ID (~0.5 µs).
            items.append((id_header, request.id))
        # PERF: microraab's Response puts Content-Type first; Headers.get is the fallback.
        if items and items[0][0] == "Content-Type":
            content_type = items[0][1]
        else:
            content_type = headers.get("Content-Type", "")
        if content_type.startswith("text/html"):
            # PERF: one pass over the headers, then appends (2.0 -> 0.9 µs for four):
            # Headers.setdefault probes each name by raising KeyError (~1 µs a header).
            present = {name.lower() for name, _ in items}
            for name, value in config["SECURITY_HEADERS"].items():
                if name.lower() not in present:
                    check_header_value(value)
                    items.append((name, value))
        return response

    def send_response(
        self, request: Request, response: WerkzeugResponse, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Start the WSGI response and return the body iterable."""
        body = response.response
        headers = response.headers
        # PERF: private attributes where Werkzeug has properties: two calls less a request.
        if (
            response._status_code == 200
            and type(headers) is Headers
            and type(body) is list
            # set_data's single bytes chunk; a list of str (Response(["a", "b"])) still
            # needs Werkzeug's encoding, as WSGI servers accept only bytes.
            and len(body) == 1
            and type(body[0]) is bytes
            and request.method != "HEAD"
            and type(response).__call__ is WerkzeugResponse.__call__
            and not response.direct_passthrough
            and not response._on_close
        ):
            # PERF: a buffered 200 needs none of what Werkzeug's Response.__call__ does
            # (copy the headers, recount the length, wrap the body in a ClosingIterator):
            # starting it directly saves ~10 µs a request. set_data keeps Content-Length.
            start_response(response._status, headers._list.copy())  # to_wsgi_list, 0.15 µs less
            return body
        return response(request.environ, start_response)

    def do_teardown_request(self, request: Request, error: BaseException | None) -> None:
        """Run every teardown hook (module's, then app's, newest first), whatever happens."""
        for scaffold in reversed(self._scaffolds(request)):
            for func in reversed(scaffold.teardown_request_funcs):
                try:
                    func(request, error)
                except Exception:
                    # One failing teardown must not stop the others from releasing resources.
                    self.logger.exception(
                        "teardown_request hook %s failed",
                        func.__qualname__,
                        extra={"request_id": request.id},
                    )

    # -- errors -------------------------------------------------------------------------

    def handle_user_exception(self, request: Request, error: Exception) -> Any:
        """Answer ``error`` with its registered handler; HTTP errors get a default page.

        Re-raises an exception no handler is registered for.
        """
        if isinstance(error, BadRequestKeyError) and (
            self.config["DEBUG"] or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            error.show_exception = True  # the missing key named in the page, as in Flask
        if isinstance(error, HTTPException) and not self.trap_http_exception(error):
            return self.handle_http_exception(request, error)
        handler = self._find_error_handler(request, error)
        if handler is None:
            try:
                raise error
            finally:
                del error  # the traceback keeps this frame: no cycle back to the error
        return handler(request, error)

    def trap_http_exception(self, error: HTTPException) -> bool:
        """Whether ``error`` is handled as any exception (its handler, else propagated or
        500) instead of answered with its page: Flask's ``TRAP_HTTP_EXCEPTIONS`` and
        ``TRAP_BAD_REQUEST_ERRORS`` (unset: a missing form key in ``DEBUG``)."""
        config = self.config
        if config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None:
            return bool(config["DEBUG"]) and isinstance(error, BadRequestKeyError)
        return bool(trap_bad_request) and isinstance(error, BadRequest)

    def handle_http_exception(self, request: Request, error: HTTPException) -> Any:
        """A registered handler's answer, or the default HTML/JSON error response."""
        if error.code is None or isinstance(error, RoutingException):
            # Werkzeug's redirects (308 to the slash-ended URL) are responses, not errors.
            return error.get_response(request.environ)
        handler = self._find_error_handler(request, error)
        if handler is not None:
            return handler(request, error)
        return error_response(request, error)

    def handle_exception(self, request: Request, error: Exception) -> WerkzeugResponse:
        """Log an unhandled exception with its traceback and answer 500, never the traceback.

        Re-raised instead when ``PROPAGATE_EXCEPTIONS`` (default: ``DEBUG`` or ``TESTING``)
        is on, so the debugger or the test sees it.
        """
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.config["DEBUG"] or self.config["TESTING"]
        if propagate:
            raise error
        self.logger.error(
            "Exception on %s %s",
            request.method,
            request.path,
            exc_info=sys.exc_info() if sys.exc_info()[1] is error else error,
            extra={"request_id": request.id},
        )
        server_error = InternalServerError(original_exception=error)
        try:
            handler = self._find_error_handler(request, server_error)
            rv = handler(request, server_error) if handler is not None else None
            if rv is None:
                rv = error_response(request, server_error)
            response = self.make_response(request, rv)
        except Exception:
            # The error handling itself failed: log that too, and send the plainest page.
            self.logger.exception("Error handler failed", extra={"request_id": request.id})
            # Not the ERROR_TEMPLATE: it may be what failed.
            response = error_response(request, server_error, use_template=False)
        else:
            try:
                return self.process_response(request, response)
            except Exception:
                # An after_request hook failing (again, if that was the error): the 500
                # handler's page is still sent, unprocessed, as Flask sends it.
                self.logger.exception(
                    "Processing the error response failed", extra={"request_id": request.id}
                )
        if self.config["REQUEST_ID_HEADER"]:
            response.headers.add(self.config["REQUEST_ID_HEADER"], request.id)
        return response

    def _find_error_handler(self, request: Request, error: BaseException) -> ErrorHandler | None:
        # Flask's order: handlers for the status code (module's, then app's), then those
        # for other classes; in each, the class nearest the error's in its MRO.
        code = error.code if isinstance(error, HTTPException) else None
        scaffolds = self._scaffolds(request)
        for key in (code, None) if code is not None else (None,):
            for scaffold in reversed(scaffolds):
                handler = scaffold.find_error_handler(error, key)
                if handler is not None:
                    return handler
        return None

    def _scaffolds(self, request: Request) -> tuple[Scaffold, ...]:
        """The app, then the request's module if it has one: whose hooks apply."""
        module_name = request.module
        if module_name is None:
            return (self,)
        return (self, self.modules[module_name])

    # -- testing --------------------------------------------------------------------------

    def test_client(self, use_cookies: bool = True) -> TestClient:
        """A Werkzeug test client for this app; see :class:`microraab.testing.TestClient`."""
        from microraab.testing import TestClient

        return TestClient(self, use_cookies=use_cookies)


def _join_rule(prefix: str | None, rule: str) -> str:
    """A module's rule under ``prefix``, joined as Flask joins them (one slash between)."""
    if not prefix:
        return rule
    if not rule:
        return prefix
    return prefix.rstrip("/") + "/" + rule.lstrip("/")


def _root_path(import_name: str) -> str:
    """The directory of the module ``import_name`` (the working directory if unknown)."""
    module = sys.modules.get(import_name)
    path: str | None = getattr(module, "__file__", None)
    if path is None:
        return os.getcwd()
    return os.path.dirname(os.path.abspath(path))
