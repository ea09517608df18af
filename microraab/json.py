"""JSON encoding and decoding used by requests, responses and ``dict`` views.

Dates become ISO 8601 strings, UUIDs and Decimals strings, sets lists. Applications add
their own types (a MongoDB ``ObjectId``, say) by converting before they return.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json as _json
import uuid
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
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# PERF: one shared encoder with compact separators; json.dumps(**kwargs) builds a new
# JSONEncoder on every call that passes options (~1 µs).
_encoder = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)


def dumps(value: Any) -> str:
    """Serialise ``value`` compactly; TypeError names a type that cannot be encoded."""
    return _encoder.encode(value)


def loads(data: str | bytes) -> Any:
    """Parse JSON; every kind of malformed input raises ValueError.

    ``json.loads`` answers a deeply nested document with RecursionError, which is not a
    ValueError and would otherwise surface as a 500.
    """
    try:
        return _json.loads(data)
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None
