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


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.toml"
    path.write_text('log_level = "DEBUG"\nmax_form_parts = 10\nsession_cookie_name = "file"\n')
    return path


def test_toml_file_named_in_the_environment_overrides_defaults(toml_file: Path) -> None:
    config = load_config(environ={"MICRORAAB_CONFIG_FILE": str(toml_file)})
    assert config["LOG_LEVEL"] == "DEBUG"
    assert config["MAX_FORM_PARTS"] == 10
    assert config["SESSION_COOKIE_NAME"] == "file"
    assert "CONFIG_FILE" not in config


def test_environment_overrides_the_toml_file(toml_file: Path) -> None:
    environ = {"MICRORAAB_CONFIG_FILE": str(toml_file), "MICRORAAB_MAX_FORM_PARTS": "20"}
    config = load_config(environ=environ)
    assert config["MAX_FORM_PARTS"] == 20
    assert config["LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("SECRET_KEY", "12345"),  # digits: JSON would make it an int
        ("SECRET_KEY", '"quoted"'),  # quotes are part of the key
        ("SERVER_NAME", "null"),
        ("SESSION_COOKIE_NAME", "true"),  # a string default: text
        ("REQUEST_ID_HEADER", ""),  # empty turns the header off
    ],
)
def test_text_settings_are_taken_from_the_environment_as_written(name: str, raw: str) -> None:
    assert load_config(environ={f"MICRORAAB_{name}": raw})[name] == raw


def test_code_overrides_the_environment_and_the_file(toml_file: Path) -> None:
    environ = {
        "MICRORAAB_CONFIG_FILE": str(toml_file),
        "MICRORAAB_SESSION_COOKIE_NAME": "env",
    }
    config = load_config({"SESSION_COOKIE_NAME": "code"}, environ=environ)
    assert config["SESSION_COOKIE_NAME"] == "code"


def test_only_prefixed_environment_variables_are_read() -> None:
    config = load_config(environ={"OTHER_VARIABLE": "ignored", "SECRET_KEY": "unprefixed"})
    assert "OTHER_VARIABLE" not in config
    assert config["SECRET_KEY"] is None


def test_config_file_named_in_code(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text("secret_key = 'from-file'\n")
    assert load_config({"CONFIG_FILE": str(path)}, environ={})["SECRET_KEY"] == "from-file"


def test_config_file_named_in_code_wins_over_the_environment(
    tmp_path: Path, toml_file: Path
) -> None:
    chosen = tmp_path / "chosen.toml"
    chosen.write_text("log_level = 'WARNING'\n")
    environ = {"MICRORAAB_CONFIG_FILE": str(toml_file)}
    assert load_config({"CONFIG_FILE": str(chosen)}, environ=environ)["LOG_LEVEL"] == "WARNING"


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match=f"cannot read config file {bad}"):
        load_config({"CONFIG_FILE": str(bad)}, environ={})


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing\.toml"):
        load_config(environ={"MICRORAAB_CONFIG_FILE": str(tmp_path / "missing.toml")})


def test_config_file_that_cannot_be_opened_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config({"CONFIG_FILE": str(tmp_path)}, environ={})  # a directory


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("42", 42), ('["a.example"]', ["a.example"]), ("plain", "plain")],
)
def test_environment_values_are_json_or_strings(raw: str, value: object) -> None:
    assert parse_env_value(raw) == value


def test_double_underscores_set_nested_keys_as_flask_does(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text('[exist]\nok = "value"\nflag = true\ninner = {ik = 1}\n')
    environ = {
        "MICRORAAB_CONFIG_FILE": str(path),
        "MICRORAAB_EXIST__ok": "other",
        "MICRORAAB_EXIST__inner__ik": "2",
        "MICRORAAB_NEW__K": "v",
        "MICRORAAB_NUMBER": "1",
        "MICRORAAB_NUMBER__REPLACED": "[1]",
    }
    config = load_config(environ=environ)
    assert config["EXIST"] == {"ok": "other", "flag": True, "inner": {"ik": 2}}
    assert config["NEW"] == {"K": "v"}
    assert config["NUMBER"] == {"REPLACED": [1]}  # a value that is not a dict is replaced


def test_a_nested_default_is_copied_not_changed() -> None:
    name = "MICRORAAB_SECURITY_HEADERS__X-Frame-Options"
    config = load_config(environ={name: "SAMEORIGIN"})
    assert config["SECURITY_HEADERS"]["X-Frame-Options"] == "SAMEORIGIN"
    assert config["SECURITY_HEADERS"]["X-Content-Type-Options"] == "nosniff"
    assert DEFAULTS["SECURITY_HEADERS"]["X-Frame-Options"] == "DENY"


def test_unknown_env_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="'development' or 'production', not 'staging'"):
        load_config(environ={"MICRORAAB_ENV": "staging"})


def test_unknown_env_mode_in_code_is_refused_by_app() -> None:
    with pytest.raises(ConfigError, match="MICRORAAB_ENV"):
        App("x", config={"ENV": "dev", "SECRET_KEY": "k"})


def test_production_without_secret_key_refuses_to_start_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MICRORAAB_SECRET_KEY", raising=False)
    monkeypatch.delenv("MICRORAAB_ENV", raising=False)
    monkeypatch.delenv("MICRORAAB_CONFIG_FILE", raising=False)
    with pytest.raises(ConfigError) as info:
        App("x")
    message = str(info.value)
    assert "SECRET_KEY is not set and ENV is 'production'" in message
    assert "export MICRORAAB_SECRET_KEY=" in message
    assert "secrets.token_hex" in message
    assert "MICRORAAB_ENV=development" in message


def test_empty_secret_key_counts_as_unset_in_production() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        App("x", config={"SECRET_KEY": ""})


def test_development_needs_no_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICRORAAB_SECRET_KEY", raising=False)
    monkeypatch.setenv("MICRORAAB_ENV", "development")
    assert App("x").development


def test_app_reads_its_toml_file_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, toml_file: Path
) -> None:
    monkeypatch.setenv("MICRORAAB_CONFIG_FILE", str(toml_file))
    assert App("x", config={"SECRET_KEY": "k"}).config["SESSION_COOKIE_NAME"] == "file"


def test_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICRORAAB_SECRET_KEY", "from-env")
    monkeypatch.setenv("MICRORAAB_MAX_CONTENT_LENGTH", "123")
    app = App("x")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["MAX_CONTENT_LENGTH"] == 123
