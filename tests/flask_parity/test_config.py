"""Ported from flask tests/test_config.py: what microraab's config has of Flask's.

microraab's config is a ``dict`` built once, in order (defaults < TOML file < ``MICRORAAB_*``
environment < ``config=``), by ``load_config``: ``from_prefixed_env`` is the environment
layer, ``from_file(..., tomllib.load)`` the ``CONFIG_FILE`` layer. Not ported, as microraab
has no such API: ``test_config_from_pyfile``, ``test_config_from_object``,
``test_config_from_file_json``, ``test_config_from_mapping``, ``test_config_from_class``,
``test_config_from_envvar``, ``test_config_from_envvar_missing``, ``test_config_missing``,
``test_config_missing_file``, ``test_custom_config_class``, ``test_get_namespace``,
``test_from_pyfile_weird_encoding`` (3 cases); and ``test_session_lifetime``
(``PERMANENT_SESSION_LIFETIME`` as a ``timedelta`` is ``SESSION_MAX_AGE`` in seconds).
"""

from __future__ import annotations

import os

from microraab import App
from microraab.config import load_config


def common_object_test(app):
    assert app.config["SECRET_KEY"] == "config"
    assert app.config["TEST_KEY"] == "foo"
    assert "TestConfig" not in app.config


def test_config_from_file_toml():
    """flask tests/test_config.py::test_config_from_file_toml (the file as ``CONFIG_FILE``)"""
    current_dir = os.path.dirname(os.path.abspath(__file__))
    app = App(__name__, config={"CONFIG_FILE": os.path.join(current_dir, "static", "config.toml")})
    common_object_test(app)


def test_from_prefixed_env(monkeypatch):
    """flask tests/test_config.py::test_from_prefixed_env"""
    monkeypatch.setenv("MICRORAAB_STRING", "value")
    monkeypatch.setenv("MICRORAAB_BOOL", "true")
    monkeypatch.setenv("MICRORAAB_INT", "1")
    monkeypatch.setenv("MICRORAAB_FLOAT", "1.2")
    monkeypatch.setenv("MICRORAAB_LIST", "[1, 2]")
    monkeypatch.setenv("MICRORAAB_DICT", '{"k": "v"}')
    monkeypatch.setenv("NOT_MICRORAAB_OTHER", "other")

    app = App(__name__, config={"ENV": "development"})

    assert app.config["STRING"] == "value"
    assert app.config["BOOL"] is True
    assert app.config["INT"] == 1
    assert app.config["FLOAT"] == 1.2
    assert app.config["LIST"] == [1, 2]
    assert app.config["DICT"] == {"k": "v"}
    assert "OTHER" not in app.config


def test_from_prefixed_env_custom_prefix(monkeypatch):
    """flask tests/test_config.py::test_from_prefixed_env_custom_prefix"""
    monkeypatch.setenv("MICRORAAB_A", "a")
    monkeypatch.setenv("NOT_MICRORAAB_A", "b")

    config = load_config(prefix="NOT_MICRORAAB_")

    assert config["A"] == "b"


def test_from_prefixed_env_nested(monkeypatch, tmp_path):
    """flask tests/test_config.py::test_from_prefixed_env_nested (``EXIST`` set by the
    TOML file, the layer the environment overrides: ``config=`` would override it)"""
    monkeypatch.setenv("MICRORAAB_EXIST__ok", "other")
    monkeypatch.setenv("MICRORAAB_EXIST__inner__ik", "2")
    monkeypatch.setenv("MICRORAAB_EXIST__new__more", '{"k": false}')
    monkeypatch.setenv("MICRORAAB_NEW__K", "v")

    toml = tmp_path / "config.toml"
    toml.write_text('[EXIST]\nok = "value"\nflag = true\ninner = {ik = 1}\n')
    monkeypatch.setenv("MICRORAAB_CONFIG_FILE", str(toml))
    app = App(__name__, config={"ENV": "development"})

    if os.name != "nt":
        assert app.config["EXIST"] == {
            "ok": "other",
            "flag": True,
            "inner": {"ik": 2},
            "new": {"more": {"k": False}},
        }
    else:  # pragma: no cover - Windows env var keys are always uppercase.
        assert app.config["EXIST"] == {
            "ok": "value",
            "OK": "other",
            "flag": True,
            "inner": {"ik": 1},
            "INNER": {"IK": 2},
            "NEW": {"MORE": {"k": False}},
        }

    assert app.config["NEW"] == {"K": "v"}
