"""Class-based views: Flask's ``View`` and ``MethodView``, taking the request explicitly.

class Counter(MethodView):
    def get(self, request, name):
        return f"Hello, {name}!"

app.add_url_rule("/hello/<name>", view_func=Counter.as_view("hello"))

``as_view(name, *args, **kwargs)`` makes the view function: it creates the class with
``args`` and ``kwargs`` (once, or for every request: ``init_every_request``) and calls
``dispatch_request(request, **values)``. The function carries the class's ``methods``
and ``provide_automatic_options``, which ``add_url_rule`` reads, and its ``view_class``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from microraab.wrappers import Request

HTTP_METHOD_FUNCS = frozenset(("get", "post", "head", "options", "delete", "put", "trace", "patch"))


class View:
    """Subclass and override :meth:`dispatch_request`; register ``Cls.as_view("name")``.

    ``methods`` the route accepts (default ``GET``), ``provide_automatic_options`` (default
    as for any route), ``decorators`` applied in order to the view function made by
    ``as_view`` (not to the class), ``init_every_request=False`` to share one instance.
    """

    methods: ClassVar[Collection[str] | None] = None
    provide_automatic_options: ClassVar[bool | None] = None
    decorators: ClassVar[list[Callable[..., Any]]] = []
    init_every_request: ClassVar[bool] = True

    def dispatch_request(self, request: Request, **values: Any) -> Any:
        """The view: what ``view(request, **values)`` returns (a response or what makes one)."""
        raise NotImplementedError

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """The view function named ``name``; the other arguments go to ``__init__``."""
        if cls.init_every_request:

            def view(request: Request, **values: Any) -> Any:
                # view.view_class, not cls: a test may swap the class the function makes.
                instance = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return instance.dispatch_request(request, **values)

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(request: Request, **values: Any) -> Any:
                return instance.dispatch_request(request, **values)

        if cls.decorators:
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.__dict__.update(
            view_class=cls,
            methods=cls.methods,
            provide_automatic_options=cls.provide_automatic_options,
        )
        return view


class MethodView(View):
    """A View calling the method named like the request's (``get``, ``post``...).

    ``methods`` defaults to those it (or a base) defines, upper-cased; HEAD falls back to
    ``get``. Each handler is ``handler(self, request, **values)``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods: set[str] = set()
            for base in cls.__bases__:
                methods.update(getattr(base, "methods", None) or ())
            methods.update(key.upper() for key in HTTP_METHOD_FUNCS if hasattr(cls, key))
            if methods:
                cls.methods = methods

    def dispatch_request(self, request: Request, **values: Any) -> Any:
        """Call the handler for ``request.method``; AssertionError if there is none."""
        handler = getattr(self, request.method.lower(), None)
        if handler is None and request.method == "HEAD":
            handler = getattr(self, "get", None)
        assert handler is not None, f"Unimplemented method {request.method!r}"
        return handler(request, **values)
