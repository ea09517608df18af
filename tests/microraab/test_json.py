"""JSON encoding and decoding."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

import pytest

from microraab import json


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
         '"2026-01-02T03:04:05+00:00"'),
        (datetime.date(2026, 1, 2), '"2026-01-02"'),
        (datetime.time(3, 4, 5), '"03:04:05"'),
        (uuid.UUID(int=1), '"00000000-0000-0000-0000-000000000001"'),
        (decimal.Decimal("1.50"), '"1.50"'),
        ({"a"}, '["a"]'),
        (frozenset({1}), "[1]"),
        (Point(1, 2), '{"x":1,"y":2}'),
        ("ü", '"ü"'),
        ({"nested": [Point(0, 0)]}, '{"nested":[{"x":0,"y":0}]}'),
    ],
    ids=["datetime", "date", "time", "uuid", "decimal", "set", "frozenset", "dataclass",
         "non-ascii", "nested"],
)  # fmt: skip
def test_extra_types_encode_compactly(value: object, encoded: str) -> None:
    assert json.dumps(value) == encoded


def test_unknown_type_is_a_type_error_naming_it() -> None:
    class Widget:
        pass

    with pytest.raises(TypeError, match="Object of type Widget is not JSON serializable"):
        json.dumps({"w": Widget()})


def test_a_dataclass_class_itself_is_not_encoded() -> None:
    with pytest.raises(TypeError, match="Object of type type is not"):
        json.dumps(Point)


def test_malformed_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        json.loads("{bad")


def test_deep_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        json.loads("[" * 100_000)
