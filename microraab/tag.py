"""Tagged JSON: lossless JSON for the types a session holds that JSON has not (Flask's json/tag.py).

A tuple, ``bytes``, ``Markup``, ``UUID`` or ``datetime`` is written as a one-key object whose
key names its type (``{" t": [1, 2]}``), and read back as that type; a one-key dict whose
key is itself a tag is escaped (``{" t__": ...}``) so it reads back as the same dict. Plain
JSON reads as itself: a session cookie written before tagging existed stays readable,
unless one of its dicts has exactly one key that looks like a tag (a space and a letter).
Add a type with :meth:`TaggedJSONSerializer.register`.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from markupsafe import Markup

from microraab import json


class JSONTag:
    """One tagged type: ``check`` recognises it, ``to_json``/``to_python`` convert it.

    An empty ``key`` means the value is only walked through (dicts, lists), never tagged.
    """

    __slots__ = ("serializer",)
    key: ClassVar[str] = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Whether ``value`` is this tag's type."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """``value`` as JSON-able data (without the tag)."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """The value back from what ``to_json`` made."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """``value`` converted and wrapped in its tag."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A one-key dict whose key is a tag: the key gets ``__`` appended, removed on reading."""

    __slots__ = ()
    key = " di"

    def check(self, value: Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: Any) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, dict)

    def tag(self, value: Any) -> Any:
        # JSON keys are strings anyway: only the values need tagging.
        return {k: self.serializer.tag(v) for k, v in value.items()}


class TagTuple(JSONTag):
    __slots__ = ()
    key = " t"

    def check(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        return tuple(value)


class PassList(JSONTag):
    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, list)

    def tag(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]


class TagBytes(JSONTag):
    __slots__ = ()
    key = " b"

    def check(self, value: Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Anything with ``__html__`` (Markup's protocol); read back as ``Markup``."""

    __slots__ = ()
    key = " m"

    def check(self, value: Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        return Markup(value)  # noqa: S704 - from a signed cookie: it was Markup when written


class TagUUID(JSONTag):
    __slots__ = ()
    key = " u"

    def check(self, value: Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        return value.hex

    def to_python(self, value: Any) -> Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """ISO 8601, where Flask writes an HTTP date: microseconds and a naive value survive."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return value.isoformat()

    def to_python(self, value: Any) -> Any:
        return datetime.fromisoformat(value)


class TaggedJSONSerializer:
    """``dumps``/``loads`` for itsdangerous: compact JSON with the tags above, tried in order."""

    __slots__ = ("order", "tags")
    default_tags: ClassVar[list[type[JSONTag]]] = [
        TagDict, PassDict, TagTuple, PassList, TagBytes, TagMarkup, TagUUID, TagDateTime,
    ]  # fmt: skip

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for cls in self.default_tags:
            self.register(cls)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag, tried at ``index`` (last if None); KeyError if its key is taken (unless
        ``force``)."""
        tag = tag_class(self)
        if tag.key:
            if not force and tag.key in self.tags:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: Any) -> Any:
        """``value`` with every tagged type inside it wrapped in its tag."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """A one-key dict whose key is a tag, converted back; any other dict as it is."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        return value if tag is None else tag.to_python(value[key])

    def _untag_scan(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.untag({k: self._untag_scan(v) for k, v in value.items()})
        if isinstance(value, list):
            return [self._untag_scan(item) for item in value]
        return value

    def dumps(self, value: Any) -> str:
        """Tag ``value`` and write it as compact JSON."""
        return json.dumps(self.tag(value))

    def loads(self, value: str | bytes) -> Any:
        """Read JSON and convert every tagged value back; ValueError if it is not JSON."""
        return self._untag_scan(json.loads(value))
