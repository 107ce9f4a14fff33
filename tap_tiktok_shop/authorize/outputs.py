"""The files the helper writes: a tap config JSON and a Meltano ``.env``, both private.

Both are merges: the helper sets its own keys and leaves every other key, line and comment as
it was. Both end with mode 0600, also when the file existed with wider permissions, and the
secrets never sit in a file anyone else can read: a new config is written to a 0600 temporary
file and renamed over the old one; an existing ``.env`` is narrowed to 0600 before any secret
goes in (python-dotenv then keeps that mode when it rewrites it).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

from dotenv import set_key

from tap_tiktok_shop.authorize.sources import env_name, read_json_object
from tap_tiktok_shop.errors import ConfigurationError

if t.TYPE_CHECKING:
    from collections.abc import Mapping

PRIVATE_MODE = 0o600


def tap_settings(
    *, app_key: str, app_secret: str, refresh_token: str, shop_ids: list[str] | None
) -> dict[str, t.Any]:
    """The settings a tap config needs after an authorization (``shop_ids`` only if narrowed)."""
    settings: dict[str, t.Any] = {
        "app_key": app_key,
        "app_secret": app_secret,
        "refresh_token": refresh_token,
    }
    if shop_ids:
        settings["shop_ids"] = list(shop_ids)
    return settings


@dataclass(frozen=True)
class Destinations:
    """The files one command writes the settings to (either may be None)."""

    config: Path | None
    env: Path | None

    def paths(self) -> list[Path]:
        """The files this command writes."""
        return [path for path in (self.config, self.env) if path is not None]

    def check(self) -> None:
        """Refuse now, not after the seller's consent, files that could not be written.

        Raises:
            ConfigurationError: if a directory is missing or the config is not a JSON object.
        """
        for path in self.paths():
            if not path.parent.is_dir():
                msg = f"{path}: its directory does not exist"
                raise ConfigurationError(msg)
        if self.config is not None and self.config.exists():
            read_json_object(self.config)

    def save(self, settings: Mapping[str, t.Any]) -> list[str]:
        """Write ``settings`` to each file; return one line per file written."""
        lines = []
        if self.config is not None:
            write_config(self.config, settings)
            lines.append(f"Saved {', '.join(settings)} to {self.config} (mode 0600)")
        if self.env is not None:
            write_env(self.env, settings)
            names = ", ".join(env_name(key) for key in settings)
            lines.append(f"Saved {names} to {self.env} (mode 0600)")
        return lines


def write_config(path: Path, settings: Mapping[str, t.Any]) -> None:
    """Merge ``settings`` into the tap config JSON at ``path`` (created if missing), mode 0600.

    Raises:
        ConfigurationError: if the file is not a JSON object (it is then left alone) or
            cannot be written.
    """
    merged = read_json_object(path) if path.exists() else {}
    merged.update(settings)
    text = json.dumps(merged, indent=2) + "\n"
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, PRIVATE_MODE)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise _unwritable(path, exc) from None


def write_env(path: Path, settings: Mapping[str, t.Any]) -> None:
    """Set the ``TAP_TIKTOK_SHOP_*`` lines of ``settings`` in a ``.env`` file, mode 0600.

    Lists (``shop_ids``) are written as JSON, which Meltano and the tap's ``--config ENV`` read.

    Raises:
        ConfigurationError: if the file cannot be written.
    """
    try:
        if path.exists():
            if not stat.S_ISREG(path.lstat().st_mode):
                msg = f"{path}: not a regular file; not writing secrets to it"
                raise ConfigurationError(msg)
            os.chmod(path, PRIVATE_MODE)
        for key, value in settings.items():
            text = json.dumps(value) if isinstance(value, list) else str(value)
            set_key(path, env_name(key), text, quote_mode="always")
        os.chmod(path, PRIVATE_MODE)
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError) -> ConfigurationError:
    return ConfigurationError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})")
