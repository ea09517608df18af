"""Configuration: defaults < a TOML file < ``MICRORAAB_*`` environment variables < code.

The mapping is an ordinary ``dict`` with upper-case keys, as in Flask. Two modes exist,
``"development"`` and ``"production"`` (the default), chosen by ``ENV`` (``MICRORAAB_ENV``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ENV_PREFIX = "MICRORAAB_"
DEVELOPMENT = "development"
# gunicorn's default for forwarded_allow_ips when its FORWARDED_ALLOW_IPS is not set.
DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"
PRODUCTION = "production"

DEFAULTS: dict[str, Any] = {
    "ENV": PRODUCTION,
    # The Werkzeug debugger and exception propagation; only ever on by explicit request.
    "DEBUG": False,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    # Flask's: HTTP errors handled as other exceptions (see App.trap_http_exception).
    "TRAP_HTTP_EXCEPTIONS": False,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "SECRET_KEY": None,
    # Older keys still accepted for verifying cookies, newest last, so keys can be rotated.
    "SECRET_KEY_FALLBACKS": [],
    "SERVER_NAME": None,
    "PREFERRED_URL_SCHEME": "http",
    "APPLICATION_ROOT": "/",
    # Werkzeug leaves max_content_length unlimited; never accept unbounded bodies.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1000,
    "TRUSTED_HOSTS": None,
    # The proxies whose X-Forwarded-For/-Proto/-Host are believed (microraab.proxies). None
    # means gunicorn's setting: its unprefixed FORWARDED_ALLOW_IPS, else gunicorn's default.
    "FORWARDED_ALLOW_IPS": None,
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    # None means APPLICATION_ROOT, as in Flask: the cookie goes only to this app's URLs.
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # None means "secure in production, not in development" (dev servers speak plain http).
    "SESSION_COOKIE_SECURE": None,
    "SESSION_COOKIE_PARTITIONED": False,
    # The life of a permanent session's cookie, and the oldest signature any session accepts.
    "SESSION_MAX_AGE": 14 * 24 * 3600,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "CSRF_ENABLED": True,
    "CSRF_FIELD_NAME": "csrf_token",
    "CSRF_HEADER_NAME": "X-CSRF-Token",
    "REQUEST_ID_HEADER": "X-Request-ID",
    "SERVE_STATIC": True,
    "STATIC_MAX_AGE": 3600,
    "ERROR_TEMPLATE": None,
    "SECURITY_HEADERS": {
        "Content-Security-Policy": (
            "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    },
    "TEMPLATES_AUTO_RELOAD": None,
    "LOG_LEVEL": "INFO",
    # The request X-ray (microraab.xray): development mode only, ignored in production.
    "XRAY": False,
    "XRAY_KEEP": 50,
    "XRAY_MAX_BYTES": 5_000_000,
    # Where every worker's traces are kept; None: a directory per server (microraab.xray_store).
    "XRAY_DIR": None,
    "XRAY_TOOLBAR": True,
}


class ConfigError(RuntimeError):
    """The configuration cannot run: raised at start-up, with what to do about it."""


# Settings that are always text: their environment values are taken as written, so a
# MICRORAAB_SECRET_KEY of digits stays a string. (Settings whose value is already a string
# are text too.)
TEXT_SETTINGS = frozenset(
    {"SECRET_KEY", "SERVER_NAME", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH", "ERROR_TEMPLATE"}
    | {"FORWARDED_ALLOW_IPS", "XRAY_DIR"}
)


def parse_env_value(raw: str) -> Any:
    """Read ``true``, ``42`` or ``["a"]`` as JSON, anything else as the plain string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    prefix: str = ENV_PREFIX,
) -> dict[str, Any]:
    """Build the config: defaults < TOML file < environment < ``overrides``.

    The TOML file is named by ``overrides["CONFIG_FILE"]`` or ``MICRORAAB_CONFIG_FILE``;
    its top-level keys are upper-cased. ``MICRORAAB_SECRET_KEY=x`` sets ``SECRET_KEY``, and
    ``MICRORAAB_A__B=1`` sets ``config["A"]["B"]`` (see :func:`set_from_env`).
    Raises ConfigError for an unknown ``ENV`` or an unreadable file.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    config = dict(DEFAULTS)
    config_file = overrides.get("CONFIG_FILE") or environ.get(prefix + "CONFIG_FILE")
    if config_file:
        config.update(read_toml(Path(config_file)))
    # Sorted, as Flask's from_prefixed_env: MICRORAAB_A comes before MICRORAAB_A__B.
    for name in sorted(environ):
        if name.startswith(prefix) and name != prefix + "CONFIG_FILE":
            set_from_env(config, name[len(prefix) :], environ[name])
    config.update(overrides)
    if config["FORWARDED_ALLOW_IPS"] is None:
        # gunicorn's own variable, read the way gunicorn reads it: one setting tells the
        # server whose scheme to believe and the app whose address and host.
        allowed = environ.get("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS)
        config["FORWARDED_ALLOW_IPS"] = allowed
    if config["ENV"] not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(
            f"ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, not {config['ENV']!r} "
            f"(set {prefix}ENV)."
        )
    return config


def set_from_env(config: dict[str, Any], key: str, raw: str) -> None:
    """Set ``key`` to ``raw`` parsed as JSON (``A__B`` sets ``config["A"]["B"]``, as Flask).

    Text settings, and those whose current value is a string, keep ``raw`` as written. A
    nested dict is copied before it is changed: it may be one of ``DEFAULTS``.
    """
    *parents, last = key.split("__")
    node = config
    for part in parents:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    text = key in TEXT_SETTINGS or isinstance(node.get(last), str)
    node[last] = raw if text else parse_env_value(raw)


def read_toml(path: Path) -> dict[str, Any]:
    """Return the file's top-level keys upper-cased; ConfigError if it cannot be read."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from error
    return {key.upper(): value for key, value in data.items()}


# True while the command line builds an app only to look at it (routes, explain).
_introspection: ContextVar[bool] = ContextVar("microraab_introspection", default=False)


@contextmanager
def introspection() -> Iterator[None]:
    """Within this block, apps are built to be inspected, never served.

    ``python -m microraab routes`` and ``explain`` load the app inside it: ``App()`` skips
    the production check (nothing is signed, so no ``SECRET_KEY`` is needed), and an
    application can ask :func:`introspecting` to start nothing (the demo, its MongoDB).
    """
    token = _introspection.set(True)
    try:
        yield
    finally:
        _introspection.reset(token)


def introspecting() -> bool:
    """True inside :func:`introspection`: the app being built will not serve requests."""
    return _introspection.get()


def check_production_ready(config: Mapping[str, Any], prefix: str = ENV_PREFIX) -> None:
    """Refuse to run production mode without a secret key (sessions and CSRF need one).

    Skipped inside :func:`introspection`, where the app is only looked at.
    """
    if config["ENV"] == PRODUCTION and not config.get("SECRET_KEY") and not introspecting():
        raise ConfigError(
            "SECRET_KEY is not set and ENV is 'production'. Set it in the environment, e.g.\n"
            f"  export {prefix}SECRET_KEY=\"$(python -c 'import secrets; "
            "print(secrets.token_hex(32))')\"\n"
            f"or run in development mode with {prefix}ENV=development."
        )
