"""Configuration: defaults < TOML file < environment < code, and the production checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from microraab import App, ConfigError
from microraab.config import DEFAULTS, load_config, parse_env_value


def test_defaults_are_production_with_limits_set() -> None:
    config = load_config(environ={})
    assert config["ENV"] == "production"
    assert config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_CONTENT_LENGTH"] is not None
    assert config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert config["MAX_FORM_PARTS"] == 1000


def test_toml_file_then_environment_then_code(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text('log_level = "DEBUG"\nmax_form_parts = 10\nsession_cookie_name = "file"\n')
    environ = {
        "MICRORAAB_CONFIG_FILE": str(path),
        "MICRORAAB_MAX_FORM_PARTS": "20",
        "MICRORAAB_SESSION_COOKIE_NAME": "env",
        "OTHER_VARIABLE": "ignored",
    }
    config = load_config({"SESSION_COOKIE_NAME": "code"}, environ=environ)
    assert config["LOG_LEVEL"] == "DEBUG"
    assert config["MAX_FORM_PARTS"] == 20
    assert config["SESSION_COOKIE_NAME"] == "code"
    assert "OTHER_VARIABLE" not in config


def test_config_file_named_in_code(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text("secret_key = 'from-file'\n")
    assert load_config({"CONFIG_FILE": str(path)}, environ={})["SECRET_KEY"] == "from-file"


def test_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config({"CONFIG_FILE": str(bad)}, environ={})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config({"CONFIG_FILE": str(tmp_path / "missing.toml")}, environ={})


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("42", 42), ('["a.example"]', ["a.example"]), ("plain", "plain")],
)
def test_environment_values_are_json_or_strings(raw: str, value: object) -> None:
    assert parse_env_value(raw) == value


def test_unknown_env_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="'development' or 'production'"):
        load_config(environ={"MICRORAAB_ENV": "staging"})


def test_production_without_secret_key_refuses_to_start_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MICRORAAB_SECRET_KEY", raising=False)
    monkeypatch.delenv("MICRORAAB_ENV", raising=False)
    with pytest.raises(ConfigError) as info:
        App("x")
    assert "MICRORAAB_SECRET_KEY" in str(info.value)
    assert "secrets.token_hex" in str(info.value)


def test_development_needs_no_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICRORAAB_SECRET_KEY", raising=False)
    monkeypatch.setenv("MICRORAAB_ENV", "development")
    assert App("x").development


def test_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICRORAAB_SECRET_KEY", "from-env")
    monkeypatch.setenv("MICRORAAB_MAX_CONTENT_LENGTH", "123")
    app = App("x")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["MAX_CONTENT_LENGTH"] == 123
