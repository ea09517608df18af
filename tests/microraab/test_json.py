"""JSON encoding and decoding."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json as stdlib_json
import uuid

import pytest

from microraab import json


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Html:
    def __html__(self) -> str:
        return "<b>x</b>"


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
        (Html(), '"<b>x</b>"'),
    ],
    ids=["datetime", "date", "time", "uuid", "decimal", "set", "frozenset", "dataclass",
         "non-ascii", "nested", "__html__"],
)  # fmt: skip
def test_extra_types_encode_compactly(value: object, encoded: str) -> None:
    assert json.dumps(value) == encoded


@pytest.mark.parametrize(
    "value",
    [
        {"id": 1, "randomNumber": 2},
        [1.5, -0.0, 1e300, float("nan"), float("inf"), 2**70, True, False, None],
        {"nested": {"list": [{"a": [1, {"b": "c"}]}], "empty": {}, "none": []}},
        'quotes " backslash \\ newline \n tab \t nul \x00 é 中 😀',
        {1: "int key", 2.5: "float key", False: "bool key", None: "null key"},
        "just a string",
        42,
        [datetime.date(2026, 1, 2), {"s": {3}}],
    ],
    ids=["world", "numbers", "nested", "escapes", "non-str-keys", "str", "int", "defaults"],
)
def test_dumps_is_exactly_what_jsonencoder_makes_with_the_same_settings(value: object) -> None:
    # microraab calls the C encoder directly (PERF); the text must not change.
    reference = stdlib_json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=False, default=json._default
    )
    assert json.dumps(value) == reference.encode(value)


def test_a_cycle_is_an_error_not_a_hang() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(RecursionError):
        json.dumps({"cycle": cycle})


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
