"""Tagged JSON: the session's values that JSON has not, written with a tag and read back."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from markupsafe import Markup

from microraab.tag import JSONTag, TaggedJSONSerializer


@pytest.fixture
def serializer() -> TaggedJSONSerializer:
    return TaggedJSONSerializer()


def test_each_tagged_type_is_written_with_its_tag(serializer: TaggedJSONSerializer) -> None:
    assert serializer.dumps((1, 2)) == '{" t":[1,2]}'
    assert serializer.dumps(b"\xff") == '{" b":"/w=="}'
    assert serializer.dumps(Markup("<b>")) == '{" m":"<b>"}'
    assert serializer.dumps(uuid.UUID(int=1)) == '{" u":"00000000000000000000000000000001"}'
    assert serializer.dumps(datetime(2026, 12, 1, 7, 15)) == '{" d":"2026-12-01T07:15:00"}'
    assert serializer.dumps({" t": 1}) == '{" di":{" t__":1}}'


def test_plain_json_is_written_and_read_as_it_is(serializer: TaggedJSONSerializer) -> None:
    value = {"a": [1, "b", None, True, {"c": 1.5}], "many": {" t": 1, "x": 2}}
    assert serializer.dumps(value) == '{"a":[1,"b",null,true,{"c":1.5}],"many":{" t":1,"x":2}}'
    assert serializer.loads(serializer.dumps(value)) == value


def test_an_unknown_tag_like_key_is_left_alone(serializer: TaggedJSONSerializer) -> None:
    assert serializer.loads('{" z":1}') == {" z": 1}


def test_datetimes_keep_their_microseconds_and_zone(serializer: TaggedJSONSerializer) -> None:
    zone = timezone(timedelta(hours=-8))
    for value in (datetime(2026, 1, 2, 3, 4, 5, 678901), datetime(2026, 1, 2, tzinfo=zone)):
        back = serializer.loads(serializer.dumps(value))
        assert back == value and back.tzinfo == value.tzinfo


def test_anything_with_html_is_read_back_as_markup(serializer: TaggedJSONSerializer) -> None:
    class Widget:
        def __html__(self) -> str:
            return "<i>w</i>"

    back = serializer.loads(serializer.dumps([Widget()]))
    assert back == [Markup("<i>w</i>")] and type(back[0]) is Markup


def test_not_json_is_a_value_error(serializer: TaggedJSONSerializer) -> None:
    with pytest.raises(ValueError):
        serializer.loads("{not json")


def test_a_registered_tag_is_used_in_its_place(serializer: TaggedJSONSerializer) -> None:
    class TagComplex(JSONTag):
        __slots__ = ()
        key = " c"

        def check(self, value: Any) -> bool:
            return isinstance(value, complex)

        def to_json(self, value: Any) -> Any:
            return [value.real, value.imag]

        def to_python(self, value: Any) -> Any:
            return complex(*value)

    serializer.register(TagComplex, index=0)
    assert serializer.loads(serializer.dumps({"z": 1 + 2j})) == {"z": 1 + 2j}
    with pytest.raises(KeyError, match="' c' is already registered"):
        serializer.register(TagComplex)
