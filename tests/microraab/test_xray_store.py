"""The X-ray's store: one small JSON file a trace, written whole, bounded by count and size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from microraab import xray_store
from microraab.xray_store import TraceStore, default_directory, remove_orphans


def test_traces_come_back_newest_first(tmp_path: Path) -> None:
    store = TraceStore(tmp_path, keep=10)
    for number in range(3):
        store.save(f"id-{number}", {"n": number})
    assert [document["n"] for document in store.newest()] == [2, 1, 0]
    assert store.get("id-1") == {"n": 1}
    assert store.get("missing") is None


def test_past_the_count_the_oldest_are_dropped(tmp_path: Path) -> None:
    store = TraceStore(tmp_path, keep=2)
    for number in range(5):
        store.save(str(number), {"n": number})
    assert [document["n"] for document in store.newest()] == [4, 3]
    assert len(list(tmp_path.iterdir())) == 2


def test_past_the_size_the_oldest_are_dropped(tmp_path: Path) -> None:
    store = TraceStore(tmp_path, keep=100, max_bytes=2500)
    for number in range(5):
        store.save(str(number), {"n": number, "padding": "x" * 1000})
    assert [document["n"] for document in store.newest()] == [4, 3]


def test_an_id_sent_twice_finds_the_newest_and_a_longer_id_is_not_confused(
    tmp_path: Path,
) -> None:
    store = TraceStore(tmp_path)
    store.save("same", {"n": 1})
    store.save("same", {"n": 2})
    store.save("not-same", {"n": 3})
    assert store.get("same") == {"n": 2}
    assert store.get("not-same") == {"n": 3}


def test_nothing_half_written_is_left_or_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TraceStore(tmp_path)
    store.save("kept", {"n": 1})

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xray_store.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.save("lost", {"n": 2})
    assert [path.name.endswith("-kept.json") for path in tmp_path.iterdir()] == [True]
    monkeypatch.undo()
    (tmp_path / "notes.txt").write_text("not a trace")  # nor is anything else listed
    (tmp_path / "1-2-short-stamp.json").write_text("{}")
    store.save("next", {"n": 3})
    assert store.newest() == [{"n": 3}, {"n": 1}]


def test_a_trace_deleted_by_another_worker_while_listed_is_skipped(tmp_path: Path) -> None:
    store = TraceStore(tmp_path)
    # Listed, then gone when read: what a file pruned by another worker looks like.
    (tmp_path / "00000000000000000001-10-gone.json").symlink_to(tmp_path / "nowhere")
    store.save("kept", {"n": 1})
    assert store.newest() == [{"n": 1}]
    assert store.get("gone") is None


def test_the_default_directory_is_per_user_app_and_parent_process() -> None:
    directory = default_directory("app")
    assert directory.name == f"app-{os.getppid()}"
    assert directory.parent.name == f"microraab-xray-{os.getuid()}"


def test_directories_of_servers_that_have_stopped_are_removed(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    for name in (f"app-{ended.stdout.strip()}", f"app-{os.getpid()}", "notes"):
        (tmp_path / name).mkdir()
    remove_orphans(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"app-{os.getpid()}", "notes"]
