"""The files the helper writes: a tap config JSON and a Meltano ``.env``, both private.

Both are merges: the helper sets its own keys and leaves every other key, line and comment as
it was. Both are written the same way (``write_private``): to a temporary file created 0600
beside the target, flushed and renamed over it, so the secrets never sit in a file anyone else
can read, also when the old file had wider permissions. A ``.env`` that is a symlink (even a
dangling one) is refused rather than followed, and only values that cannot break out of their
line are written.
"""

from __future__ import annotations

import io
import json
import typing as t
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from tap_tiktok_shop.authorize import sellers
from tap_tiktok_shop.authorize.sources import env_name, read_json_object
from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.private_files import refuse_link, write_private
from tap_tiktok_shop.untrusted import is_token_like

if t.TYPE_CHECKING:
    from collections.abc import Mapping


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
            ConfigurationError: if a directory is missing, the config is not a JSON object or
                the ``.env`` is a symlink.
        """
        for path in self.paths():
            if not path.parent.is_dir():
                msg = f"{path}: its directory does not exist"
                raise ConfigurationError(msg)
        if self.env is not None:
            refuse_link(self.env)
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

    def add_authorization(
        self, credentials: Mapping[str, str], entry: dict[str, t.Any]
    ) -> list[str]:
        """Add (or replace) one seller in each file's ``authorizations``; one line per file."""
        lines = []
        for path, listed_in, write in (
            (self.config, sellers.in_config, write_config),
            (self.env, sellers.in_env, write_env),
        ):
            if path is None:
                continue
            listed, name = sellers.merged(listed_in(path), entry)
            write(path, {**credentials, sellers.SETTING: listed})
            lines.append(
                f"Saved authorization '{name}' ({len(listed)} in the list) to {path} (mode 0600)"
            )
        return lines


def write_config(path: Path, settings: Mapping[str, t.Any]) -> None:
    """Merge ``settings`` into the tap config JSON at ``path`` (created if missing), mode 0600.

    Raises:
        ConfigurationError: if the file is not a JSON object (it is then left alone) or
            cannot be written.
    """
    merged = read_json_object(path) if path.exists() else {}
    merged.update(settings)
    write_private(path, json.dumps(merged, indent=2) + "\n")


def write_env(path: Path, settings: Mapping[str, t.Any]) -> None:
    """Set the ``TAP_TIKTOK_SHOP_*`` lines of ``settings`` in a ``.env`` file, mode 0600.

    Every other line (comments, other keys, even lines python-dotenv cannot parse) is kept
    as it was; a key of ours that appears twice keeps only its first place. Lists
    (``shop_ids``) are written as JSON, which Meltano and the tap's ``--config ENV`` read.

    Raises:
        ConfigurationError: if ``path`` is a symlink or not a regular file, a value could
            not be written safely (never quoting it), or the file cannot be written.
    """
    lines = {
        env_name(key): f"{env_name(key)}='{_env_value(key, value)}'\n"
        for key, value in settings.items()
    }
    existing = _existing_env(path)
    kept: list[str] = []
    for binding in parse_stream(io.StringIO(existing)):
        text = binding.original.string
        if binding.key not in lines:
            kept.append(text)
            continue
        line = lines.pop(binding.key, "")
        lead = text[: len(text) - len(text.lstrip())]
        kept.append(lead + line if line else lead)
    if kept and not kept[-1].endswith("\n"):
        kept.append("\n")
    write_private(path, "".join(kept) + "".join(lines.values()))


def _existing_env(path: Path) -> str:
    if not refuse_link(path):
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        msg = f"{path}: cannot read ({reason or type(exc).__name__})"
        raise ConfigurationError(msg) from None


def _env_value(key: str, value: t.Any) -> str:
    """The text of one ``.env`` value, written single-quoted.

    Only plain tokens (untrusted.py) and JSON lists of them are written: a newline, quote,
    backslash or control character in a value would end the line early or inject another one
    for the shell, systemd or Docker reading the file.

    Raises:
        ConfigurationError: naming the key, never the value.
    """
    if key == sellers.SETTING:
        return sellers.env_text(value)
    items = value if isinstance(value, list) else [value]
    if not items or not all(is_token_like(item) for item in items):
        msg = (
            f"{env_name(key)}: not written to .env: the value holds a newline, quote, "
            "control or other character outside letters, digits and . _ ~ + / = - "
            "(the value is not shown)"
        )
        raise ConfigurationError(msg)
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list) else str(value)
