"""JSON encoding and decoding."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

import pytest

from microraab import json


def test_dates_uuids_decimals_sets_and_dataclasses_encode() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    value = {
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 1, 2),
        "id": uuid.UUID(int=1),
        "price": decimal.Decimal("1.50"),
        "tags": {"a"},
        "point": Point(1),
        "text": "ü",
    }
    assert json.loads(json.dumps(value)) == {
        "when": "2026-01-02T03:04:05+00:00",
        "day": "2026-01-02",
        "id": "00000000-0000-0000-0000-000000000001",
        "price": "1.50",
        "tags": ["a"],
        "point": {"x": 1},
        "text": "ü",
    }


def test_unknown_type_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="object"):
        json.dumps(object())


def test_deep_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        json.loads("[" * 100_000)
