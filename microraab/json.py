"""JSON encoding and decoding used by requests, responses and ``dict`` views.

Dates become ISO 8601 strings, UUIDs and Decimals strings, sets lists, objects with
``__html__`` their HTML. Applications add their own types (a MongoDB ``ObjectId``, say) by
converting before they return.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json as _json
import uuid
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):  # Markup's protocol: its HTML, as Flask writes it
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# PERF: one shared encoder with compact separators; json.dumps(**kwargs) builds a new
# JSONEncoder on every call that passes options (~1 µs).
_encoder = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)

# PERF: the C encoder underneath, made once: 1.3 -> 0.6 µs for a small document.
# JSONEncoder.encode makes a new one on every call for its circular-reference check (a
# fresh ``markers`` dict). Without that check a cycle ends in RecursionError instead of
# ValueError: a bug in the view either way, answered 500. The same settings as _encoder.
_make_c_encoder: Callable[..., Any] | None = getattr(_json_encoder, "c_make_encoder", None)
_c_encoder = (
    _make_c_encoder(
        None, _default, _json_encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _make_c_encoder is not None
    else None
)


def dumps(value: Any) -> str:
    """Serialise ``value`` compactly; TypeError names a type that cannot be encoded."""
    if _c_encoder is None:  # pragma: no cover - a Python without the json C accelerator
        return _encoder.encode(value)
    return "".join(_c_encoder(value, 0))


def loads(data: str | bytes) -> Any:
    """Parse JSON; every kind of malformed input raises ValueError.

    ``json.loads`` answers a deeply nested document with RecursionError, which is not a
    ValueError and would otherwise surface as a 500.
    """
    try:
        return _json.loads(data)
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None
