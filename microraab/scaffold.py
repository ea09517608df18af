"""What App and Module share: registering routes, request hooks and error handlers.

Hooks and handlers take the request explicitly:
``before_request(request) -> response | None``, ``after_request(request, response) ->
response``, ``teardown_request(request, exception | None)``, ``handler(request, exception)``,
``context_processor(request | None) -> dict`` (None when rendering outside a request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from werkzeug.exceptions import HTTPException, default_exceptions

from microraab.routing import View

F = TypeVar("F", bound=Callable[..., Any])
ErrorKey = int | type[BaseException]
ErrorHandler = Callable[[Any, Any], Any]


def registering(add: Callable[[Any, str | None], None], name: str | None) -> Callable[[F], F]:
    """A decorator calling ``add(func, name)`` and returning ``func`` (``template_filter``...)."""

    def decorator(func: F) -> F:
        add(func, name)
        return func

    return decorator


class Scaffold:
    """Registration API shared by :class:`~microraab.App` and :class:`~microraab.Module`."""

    def __init__(self) -> None:
        self.before_request_funcs: list[Callable[..., Any]] = []
        self.after_request_funcs: list[Callable[..., Any]] = []
        self.teardown_request_funcs: list[Callable[..., Any]] = []
        self.error_handlers: dict[int | None, dict[type[BaseException], ErrorHandler]] = {}
        self.template_context_processors: list[Callable[[Any], dict[str, Any]]] = []

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
        """Register ``view`` (or ``view_func``) for ``rule``; options as for :meth:`route`."""
        raise NotImplementedError

    def route(
        self,
        rule: str,
        *,
        methods: Iterable[str] | None = None,
        endpoint: str | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        """Decorate a view ``view(request, **values)`` to serve ``rule``.

        ``options``: Werkzeug Rule options (``defaults``, ``strict_slashes``, ``subdomain``,
        ``host``, ``redirect_to``...), plus ``api=True`` (JSON errors) and ``csrf=False``.
        The endpoint defaults to the function's name.
        """

        def decorator(view: F) -> F:
            self.add_url_rule(rule, endpoint, view, methods=methods, **options)
            return view

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["GET"], **options)``."""
        return self._method_route("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["POST"], **options)``."""
        return self._method_route("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["PUT"], **options)``."""
        return self._method_route("PUT", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["PATCH"], **options)``."""
        return self._method_route("PATCH", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["DELETE"], **options)``."""
        return self._method_route("DELETE", rule, options)

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    def before_request(self, func: F) -> F:
        """Run ``func(request)`` before the view; a non-None result is the response."""
        self.before_request_funcs.append(func)
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(request, response)`` after the view; it returns the response to send."""
        self.after_request_funcs.append(func)
        return func

    def teardown_request(self, func: F) -> F:
        """Run ``func(request, exception_or_None)`` at the end of every request, always."""
        self.teardown_request_funcs.append(func)
        return func

    def context_processor(self, func: F) -> F:
        """Add ``func(request)``'s dict to the context of every template rendered for this
        scaffold's requests (a Module's: its own routes'); values passed to render win."""
        self.template_context_processors.append(func)
        return func

    def errorhandler(self, code_or_exception: ErrorKey) -> Callable[[F], F]:
        """Decorate ``handler(request, exception)`` for an HTTP status code or exception class."""

        def decorator(func: F) -> F:
            self.register_error_handler(code_or_exception, func)
            return func

        return decorator

    def register_error_handler(self, code_or_exception: ErrorKey, func: ErrorHandler) -> None:
        """Like :meth:`errorhandler`, raising what Flask raises for what it refuses.

        ValueError for a code Werkzeug has no exception for or a class that is not an
        Exception; TypeError for an instance.
        """
        if isinstance(code_or_exception, int):
            if code_or_exception not in default_exceptions:
                raise ValueError(
                    f"'{code_or_exception}' is not a recognized HTTP error code. Use a "
                    "subclass of HTTPException with that code instead."
                )
            exc_class: type[BaseException] = default_exceptions[code_or_exception]
        elif isinstance(code_or_exception, BaseException):
            raise TypeError(
                f"{code_or_exception!r} is an instance, not a class. Handlers can only be "
                "registered for Exception classes or HTTP error codes."
            )
        elif not issubclass(code_or_exception, Exception):
            raise ValueError(
                f"'{code_or_exception.__name__}' is not a subclass of Exception. Handlers "
                "can only be registered for Exception classes or HTTP error codes."
            )
        else:
            exc_class = code_or_exception
        # Keyed by status code first, as in Flask, so 403 and a Forbidden subclass share
        # a table and the nearer class in the MRO wins; None holds the other classes.
        code = exc_class.code if issubclass(exc_class, HTTPException) else None
        self.error_handlers.setdefault(code, {})[exc_class] = func

    def find_error_handler(self, error: BaseException, code: int | None) -> ErrorHandler | None:
        """The handler registered under ``code`` for the class nearest ``error``'s in its MRO."""
        handlers = self.error_handlers.get(code)
        if handlers:
            for cls in type(error).__mro__:
                if cls in handlers:
                    return handlers[cls]
        return None
