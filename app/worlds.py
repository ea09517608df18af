"""TechEmpower's data: the ``world`` and ``fortune`` collections, and the queries on them.

The one place MongoDB is read and written for the benchmark tests, shared by microraab's
``/bench`` app and by every peer app in ``benchmarks/``, so that only the framework layer
differs between them. Every function takes the pymongo ``Database`` explicitly.

The rules followed are TechEmpower's (``FrameworkBenchmarks``, "Project Information /
Framework Tests Overview"): ids drawn uniformly from 1..10000, one query per world read,
the fortunes sorted after the extra one is added at request time.
"""

from __future__ import annotations

import random
from typing import Any

from pymongo import UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError

WORLD_COUNT = 10_000
MAX_QUERIES = 500
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")

# TechEmpower's twelve fortunes, as its MongoDB create script stores them.
FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)

# PERF: only the fields the response needs travel from mongod and get decoded.
_WORLD_FIELDS = {"_id": 0, "id": 1, "randomNumber": 1}
_FORTUNE_FIELDS = {"_id": 0, "id": 1, "message": 1}
_DUPLICATE_KEY = 11000


def random_id() -> int:
    """A world id, uniformly from 1..10000."""
    return random.randint(1, WORLD_COUNT)  # noqa: S311 - benchmark data, not secrets


def random_number() -> int:
    """A world's ``randomNumber``, uniformly from 1..10000."""
    return random.randint(1, WORLD_COUNT)  # noqa: S311


def random_world(db: Database[Any]) -> dict[str, Any]:
    """One random world, ``{"id": int, "randomNumber": int}``, found by primary key.

    Raises LookupError if the world collection is not seeded.
    """
    world: dict[str, Any] | None = db.world.find_one({"_id": random_id()}, _WORLD_FIELDS)
    if world is None:
        raise LookupError("the world collection is empty: run `python -m app.seed`")
    return world


def random_worlds(db: Database[Any], count: int) -> list[dict[str, Any]]:
    """``count`` random worlds, one query each (TechEmpower's rule: no ``$in`` batching)."""
    return [random_world(db) for _ in range(count)]


def update_worlds(db: Database[Any], count: int) -> list[dict[str, Any]]:
    """Read ``count`` random worlds, give each a new ``randomNumber``, and persist each one.

    One update per world read, an id drawn twice included: TechEmpower's verifier counts
    the server's update operations (``serverStatus`` opcounters) and modified documents,
    and allows none fewer. The updates go in one ordered ``bulk_write`` (TechEmpower allows
    batched updates), so a world drawn twice ends with the later entry's number. Each new
    number differs from the one the world holds when its update runs, so every update
    modifies a document.
    """
    worlds = random_worlds(db, count)
    current = {world["id"]: world["randomNumber"] for world in worlds}
    updates = []
    for world in worlds:
        id_ = world["id"]
        number = random_number()
        while number == current[id_]:  # 1 in 10,000: a $set to the same value modifies nothing
            number = random_number()
        current[id_] = world["randomNumber"] = number
        updates.append(UpdateOne({"_id": id_}, {"$set": {"randomNumber": number}}))
    # PERF: one round trip for all the updates; ordered, so the last of an id's wins.
    db.world.bulk_write(updates)
    return worlds


def fortunes(db: Database[Any]) -> list[tuple[int, str]]:
    """Every fortune plus the one added at request time, as ``(id, message)``, by message."""
    rows = [(doc["id"], doc["message"]) for doc in db.fortune.find({}, _FORTUNE_FIELDS)]
    rows.append(ADDITIONAL_FORTUNE)
    rows.sort(key=_message)
    return rows


def _message(row: tuple[int, str]) -> str:
    return row[1]


def parse_queries(value: str | None) -> int:
    """The ``queries`` parameter as TechEmpower reads it: not an integer -> 1, then 1..500."""
    if value is None:
        return 1
    try:
        queries = int(value)
    except ValueError:
        # int() refuses more than 4,300 digits; such a number is still more than 500.
        digits = value.strip()
        return MAX_QUERIES if digits.isascii() and digits.isdigit() else 1
    return max(1, min(queries, MAX_QUERIES))


def seed(db: Database[Any], force: bool = False) -> dict[str, int]:
    """Create the ``world`` (10,000) and ``fortune`` (12) documents TechEmpower specifies.

    A collection that already holds documents is left alone unless ``force``, which
    replaces its contents. Safe to run from several processes at once (each gunicorn
    worker seeds on its first request): documents another process inserted first are
    skipped. Returns how many documents this call wrote per collection.
    """
    worlds = [
        {"_id": i, "id": i, "randomNumber": random_number()} for i in range(1, WORLD_COUNT + 1)
    ]
    fortune_docs = [{"_id": id_, "id": id_, "message": message} for id_, message in FORTUNES]
    return {
        "world": _fill(db.world, worlds, force),
        "fortune": _fill(db.fortune, fortune_docs, force),
    }


def _fill(collection: Collection[Any], documents: list[dict[str, Any]], force: bool) -> int:
    """Insert ``documents`` into an empty (or, with ``force``, emptied) collection."""
    if force:
        collection.delete_many({})
    elif collection.estimated_document_count() > 0:
        return 0
    try:
        return len(collection.insert_many(documents, ordered=False).inserted_ids)
    except BulkWriteError as error:
        # Another process seeding concurrently won the race for some ids: fine; any
        # other write error is not.
        if any(e.get("code") != _DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        return int(error.details["nInserted"])
