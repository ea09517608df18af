"""The raw callable plus the one header microraab adds (``X-Request-ID``): what that costs.

microraab echoes a request id on every response (issue 2); gunicorn then validates,
formats and sends one header more than the raw callable does.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.targets.raw_app import app as raw

_prefix = secrets.token_hex(4) + "-"
_counter = itertools.count(1)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers.append(("X-Request-ID", f"{_prefix}{next(_counter):x}"))
        return start_response(status, headers, exc_info)

    return raw(environ, start_with_id)
