"""Ported from flask tests/test_json_tag.py: microraab.tag is Flask's flask.json.tag."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

import pytest
from markupsafe import Markup

from microraab.tag import JSONTag, TaggedJSONSerializer


@pytest.mark.parametrize(
    "data",
    (
        {" t": (1, 2, 3)},
        {" t__": b"a"},
        {" di": " di"},
        {"x": (1, 2, 3), "y": 4},
        (1, 2, 3),
        [(1, 2, 3)],
        b"\xff",
        Markup("<html>"),
        uuid4(),
        datetime.now(tz=timezone.utc).replace(microsecond=0),
    ),
)
def test_dump_load_unchanged(data: Any) -> None:
    """flask tests/test_json_tag.py::test_dump_load_unchanged"""
    s = TaggedJSONSerializer()
    assert s.loads(s.dumps(data)) == data


def test_duplicate_tag() -> None:
    """flask tests/test_json_tag.py::test_duplicate_tag"""

    class TagDict(JSONTag):
        key = " d"

    s = TaggedJSONSerializer()
    with pytest.raises(KeyError):
        s.register(TagDict)
    s.register(TagDict, force=True, index=0)
    assert isinstance(s.tags[" d"], TagDict)
    assert isinstance(s.order[0], TagDict)


def test_custom_tag() -> None:
    """flask tests/test_json_tag.py::test_custom_tag"""

    class Foo:
        def __init__(self, data: Any) -> None:
            self.data = data

    class TagFoo(JSONTag):
        __slots__ = ()
        key = " f"

        def check(self, value: Any) -> bool:
            return isinstance(value, Foo)

        def to_json(self, value: Any) -> Any:
            return self.serializer.tag(value.data)

        def to_python(self, value: Any) -> Any:
            return Foo(value)

    s = TaggedJSONSerializer()
    s.register(TagFoo)
    assert s.loads(s.dumps(Foo("bar"))).data == "bar"


def test_tag_interface() -> None:
    """flask tests/test_json_tag.py::test_tag_interface"""
    t = JSONTag(None)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        t.check(None)
    with pytest.raises(NotImplementedError):
        t.to_json(None)
    with pytest.raises(NotImplementedError):
        t.to_python(None)


def test_tag_order() -> None:
    """flask tests/test_json_tag.py::test_tag_order"""

    class Tag1(JSONTag):
        key = " 1"

    class Tag2(JSONTag):
        key = " 2"

    s = TaggedJSONSerializer()

    s.register(Tag1, index=-1)
    assert isinstance(s.order[-2], Tag1)

    s.register(Tag2, index=None)
    assert isinstance(s.order[-1], Tag2)
