"""Where the helper finds credentials and hosts: options, then named files, then the environment.

The names are the tap's own settings, so a tap config JSON (``--config``), a Meltano ``.env``
(``--env-file``) or exported ``TAP_TIKTOK_SHOP_*`` variables all work. A command-line option
wins over a file the user named, which wins over ambient environment variables.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from dotenv import dotenv_values

from tap_tiktok_shop.authorizations import AuthorizationSettings, configured_authorizations
from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.settings import DEFAULT_API_BASE_URL, DEFAULT_AUTH_BASE_URL
from tap_tiktok_shop.untrusted import SECRET_SETTINGS, check_base_url, check_secret

if t.TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

ENV_PREFIX = "TAP_TIKTOK_SHOP_"
#: The tap settings the helper reads.
KNOWN_SETTINGS = (
    "app_key",
    "app_secret",
    "refresh_token",
    "access_token",
    "api_base_url",
    "auth_base_url",
)
#: The list of several sellers' authorizations (read apart: its value is no string).
LIST_SETTING = "authorizations"
DEFAULTS = {"api_base_url": DEFAULT_API_BASE_URL, "auth_base_url": DEFAULT_AUTH_BASE_URL}
_URL_SETTINGS = ("api_base_url", "auth_base_url")


def env_name(setting: str) -> str:
    """Return the environment variable (and ``.env`` key) of a tap setting."""
    return ENV_PREFIX + setting.upper()


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one helper command."""

    values: dict[str, str]
    #: The ``authorizations`` list (several sellers), as the tap reads it.
    authorizations: tuple[AuthorizationSettings, ...] = ()

    def get(self, key: str) -> str | None:
        """Return a setting, or None if no source has it."""
        return self.values.get(key)

    def require(self, key: str) -> str:
        """Return a setting that the command cannot do without.

        Raises:
            ConfigurationError: naming the setting and where it can come from.
        """
        value = self.values.get(key)
        if not value:
            option = f"--{key.replace('_', '-')}, " if key in {"app_key", "app_secret"} else ""
            msg = (
                f"{key}: not set (give {option}{env_name(key)}, or a --config or --env-file "
                "that has it)"
            )
            raise ConfigurationError(msg)
        return value


def gather(
    options: Mapping[str, str | None],
    *,
    config_path: Path | None,
    env_file: Path | None,
    environ: Mapping[str, str],
) -> Settings:
    """Merge the sources in order of precedence; check the host URLs and the secrets.

    The checks are the tap's own (untrusted.py): https:// unless on loopback, secrets that
    are plain tokens.

    Raises:
        ConfigurationError: if a named file cannot be read, a URL is not allowed or a secret
            is malformed (never quoting it).
    """
    layers: list[Mapping[str, t.Any]] = [
        DEFAULTS,
        {key: environ[env_name(key)] for key in KNOWN_SETTINGS if env_name(key) in environ},
    ]
    if env_file is not None:
        layers.append(_read_env_file(env_file))
    if config_path is not None:
        layers.append(read_json_object(config_path))
    layers.append(options)
    values: dict[str, str] = {}
    for layer in layers:
        for key in KNOWN_SETTINGS:
            value = layer.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                values[key] = str(value).strip()
    for key in _URL_SETTINGS:
        check_base_url(key, values[key])
    for key in SECRET_SETTINGS:
        if key in values:
            check_secret(key, values[key])
    listed = next(
        (layer[LIST_SETTING] for layer in reversed(layers) if layer.get(LIST_SETTING) is not None),
        None,
    )
    if listed is None and env_name(LIST_SETTING) in environ:
        listed = environ[env_name(LIST_SETTING)]
    return Settings(values, _authorizations(listed))


def _authorizations(listed: object) -> tuple[AuthorizationSettings, ...]:
    """The ``authorizations`` list of a source (a JSON text in ``.env`` and the environment).

    Raises:
        ConfigurationError: as the tap words it (never quoting a token).
    """
    if isinstance(listed, str):
        try:
            listed = json.loads(listed)
        except ValueError:
            msg = f"{env_name(LIST_SETTING)}: not a JSON list (the value is not shown)"
            raise ConfigurationError(msg) from None
    if not listed:
        return ()
    only = configured_authorizations({LIST_SETTING: listed})
    return tuple(only)


def read_json_object(path: Path) -> dict[str, t.Any]:
    """Read a JSON object from a file (a tap config).

    Raises:
        ConfigurationError: naming the file, if it cannot be read or holds no JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror or type(exc).__name__})"
        raise ConfigurationError(msg) from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        msg = f"{path}: not a JSON object"
        raise ConfigurationError(msg)
    return data


def _read_env_file(path: Path) -> dict[str, str]:
    """Read the tap's settings from a ``.env`` file (Meltano's convention)."""
    if not path.is_file():
        msg = f"{path}: no such file"
        raise ConfigurationError(msg)
    values = dotenv_values(path)
    return {
        key: str(values[env_name(key)])
        for key in (*KNOWN_SETTINGS, LIST_SETTING)
        if values.get(env_name(key)) is not None
    }
