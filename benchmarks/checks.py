"""TechEmpower's correctness rules, checked over real HTTP before a target is measured.

``check_target(base_url, database)`` sends each test's requests and returns, per test,
the list of problems found (empty when the target answers correctly). A target that gets
any test wrong is reported and not benchmarked on it: a fast wrong answer proves nothing.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any

from pymongo.database import Database

from app import worlds

TIMEOUT = 10.0
FORTUNE_ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", re.DOTALL)
FORTUNES_HEAD = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
)
FORTUNES_TAIL = "</table></body></html>"
# queries=... -> how many worlds TechEmpower expects back.
QUERY_CASES = (
    ("queries=20", 20),
    ("queries=0", 1),
    ("queries=foo", 1),
    ("", 1),
    ("queries=501", 500),
)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def fetch(url: str) -> Answer:
    """GET ``url``; an HTTP error status is an Answer too, a connection failure raises."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return Answer(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def _media_type(answer: Answer) -> str:
    return answer.headers.get("content-type", "").split(";")[0].strip().lower()


def _common(answer: Answer, media_type: str) -> list[str]:
    """Status 200, the content type, and a body length the client can trust."""
    problems = []
    if answer.status != 200:
        problems.append(f"status {answer.status}, expected 200")
    if _media_type(answer) != media_type:
        problems.append(
            f"Content-Type {answer.headers.get('content-type')!r}, expected {media_type}"
        )
    length = answer.headers.get("content-length")
    chunked = "chunked" in answer.headers.get("transfer-encoding", "").lower()
    if length is None and not chunked:
        problems.append("neither Content-Length nor chunked Transfer-Encoding")
    elif length is not None and int(length) != len(answer.body):
        problems.append(f"Content-Length {length} but {len(answer.body)} bytes")
    return problems


def _json(answer: Answer, problems: list[str]) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError as error:
        problems.append(f"body is not JSON: {error}")
        return None


def _world_problems(value: Any) -> list[str]:
    if not isinstance(value, dict) or set(value) != {"id", "randomNumber"}:
        return [f"not a world object: {value!r}"]
    if not all(type(value[key]) is int and 1 <= value[key] <= 10_000 for key in value):
        return [f"world fields out of 1..10000 or not integers: {value!r}"]
    return []


def check_json(base_url: str, db: Database[Any]) -> list[str]:
    answer = fetch(base_url + "/json")
    problems = _common(answer, "application/json")
    if _json(answer, problems) != {"message": "Hello, World!"}:
        problems.append(f"body {answer.body[:100]!r}")
    return problems


def check_plaintext(base_url: str, db: Database[Any]) -> list[str]:
    answer = fetch(base_url + "/plaintext")
    problems = _common(answer, "text/plain")
    if answer.body != b"Hello, World!":
        problems.append(f"body {answer.body[:100]!r}")
    return problems


def check_db(base_url: str, db: Database[Any]) -> list[str]:
    answer = fetch(base_url + "/db")
    problems = _common(answer, "application/json")
    world = _json(answer, problems)
    problems += _world_problems(world)
    return problems


def _check_worlds(url: str, expected: int) -> tuple[list[str], list[Any]]:
    answer = fetch(url)
    problems = [f"{url}: {p}" for p in _common(answer, "application/json")]
    body = _json(answer, problems)
    if not isinstance(body, list):
        return [*problems, f"{url}: not a JSON array"], []
    if len(body) != expected:
        problems.append(f"{url}: {len(body)} worlds, expected {expected}")
    for world in body:
        problems += [f"{url}: {p}" for p in _world_problems(world)]
    return problems, body


def check_queries(base_url: str, db: Database[Any]) -> list[str]:
    problems: list[str] = []
    for query, expected in QUERY_CASES:
        problems += _check_worlds(f"{base_url}/queries?{query}", expected)[0]
    return problems


def check_updates(base_url: str, db: Database[Any]) -> list[str]:
    problems: list[str] = []
    for query, expected in QUERY_CASES:
        found, body = _check_worlds(f"{base_url}/updates?{query}", expected)
        problems += found
        if query == "queries=20" and not found:
            # What was returned is what is stored: the updates were persisted. An id drawn
            # twice is updated twice (TechEmpower counts both), so its later entry is stored.
            last = {world["id"]: world for world in body}
            for world in last.values():
                stored = db.world.find_one({"_id": world["id"]}, {"_id": 0})
                if stored != world:
                    problems.append(f"update not persisted: returned {world}, stored {stored}")
    return problems


def check_fortunes(base_url: str, db: Database[Any]) -> list[str]:
    answer = fetch(base_url + "/fortunes")
    problems = _common(answer, "text/html")
    content_type = answer.headers.get("content-type", "").replace(" ", "").lower()
    if content_type != "text/html;charset=utf-8":
        problems.append(f"Content-Type {content_type!r}, expected text/html; charset=utf-8")
    html = answer.body.decode("utf-8", errors="replace")
    if not html.startswith(FORTUNES_HEAD) or not html.endswith(FORTUNES_TAIL):
        problems.append("markup differs from TechEmpower's (head or tail)")
    if "<script>" in html:
        problems.append("the <script> fortune is not escaped")
    if "フレームワークのベンチマーク" not in html:
        problems.append("the Japanese fortune is missing or mangled")
    rows = [(int(i), unescape(m)) for i, m in FORTUNE_ROW.findall(html)]
    expected = sorted([*worlds.FORTUNES, worlds.ADDITIONAL_FORTUNE], key=lambda row: row[1])
    if rows != expected:
        problems.append(f"rows differ from the 13 fortunes sorted by message: {rows[:3]}...")
    return problems


CHECKS: dict[str, Callable[[str, Database[Any]], list[str]]] = {
    "json": check_json,
    "plaintext": check_plaintext,
    "db": check_db,
    "queries": check_queries,
    "fortunes": check_fortunes,
    "updates": check_updates,
}


def check_target(base_url: str, db: Database[Any], tests: list[str]) -> dict[str, list[str]]:
    """Problems per test for the target at ``base_url`` (a failing request is a problem)."""
    results: dict[str, list[str]] = {}
    for test in tests:
        try:
            results[test] = CHECKS[test](base_url, db)
        except Exception as error:
            results[test] = [f"{type(error).__name__}: {error}"]
    return results
