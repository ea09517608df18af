"""Every MongoDB command a request sends, in its X-ray (development mode only).

A pymongo ``CommandListener`` given to the MongoClient when the app's X-ray is on: it
records each command's name, collection and duration, and its filter with the values
elided (``{"code": "?"}``), into the trace of the request that sent it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pymongo import monitoring

from microraab.xray import record_event


def elide(value: Any, depth: int = 0) -> Any:
    """``value`` with its keys kept and every scalar replaced by ``"?"``."""
    if depth > 4:
        return "…"
    if isinstance(value, dict):
        return {str(key): elide(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [elide(item, depth + 1) for item in value[:3]]
    return "?"


def describe(command: Mapping[str, Any], name: str) -> str:
    """``collection filter`` for a command document, values elided."""
    collection = command.get(name)
    shape: Any = None
    for key in ("filter", "query", "q"):
        if key in command:
            shape = command[key]
    for key in ("updates", "deletes"):
        if command.get(key):
            shape = command[key][0].get("q")
    if name == "insert":
        shape = {"documents": len(command.get("documents", []))}
    text = f"{collection}" if isinstance(collection, str) else "-"
    if shape is not None:
        text += " " + json.dumps(elide(shape) if name != "insert" else shape, default=str)
    return text


class XRayCommandListener(monitoring.CommandListener):
    """Reports commands to the X-ray of the request that sent them."""

    def __init__(self) -> None:
        self._details: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._details[event.request_id] = describe(event.command, event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        detail = self._details.pop(event.request_id, "")
        record_event("mongodb", event.command_name, detail, event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        detail = self._details.pop(event.request_id, "")
        record_event("mongodb", event.command_name, f"{detail} FAILED", event.duration_micros / 1e6)
