"""``--add``: one more seller in the ``authorizations`` list of a config JSON or ``.env``.

An agency authorizes its app once per seller. ``login --add`` (and ``exchange --add``) append
the new authorization to the list already in the file, keeping the others; authorizing the
same seller again (same ``open_id``) replaces its entry instead, so a re-authorization after a
revocation needs no hand editing. The entry's ``name`` (for the tap's log lines) is the
seller's name unless ``--name`` gives one, made unique within the list.
"""

from __future__ import annotations

import json
import re
import typing as t

from dotenv import dotenv_values

from tap_tiktok_shop.authorizations import NAME_CHARACTERS, NAME_LENGTH, SINGLE_NAME
from tap_tiktok_shop.authorize.sources import env_name, read_json_object
from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.private_files import refuse_link
from tap_tiktok_shop.untrusted import is_token_like

if t.TYPE_CHECKING:
    from pathlib import Path

    from tap_tiktok_shop.tokens import TokenSet

SETTING = "authorizations"
#: Characters outside what the tap accepts in a name (authorizations.py).
_UNSAFE_NAME_CHARACTERS = re.compile(f"[^{NAME_CHARACTERS}]+")


def new_entry(
    tokens: TokenSet, refresh_token: str, *, name: str | None, shop_ids: list[str] | None
) -> dict[str, t.Any]:
    """The list entry of a new authorization (its name not yet made unique)."""
    entry: dict[str, t.Any] = {
        "name": _safe_name(name or tokens.seller_name or f"seller {tokens.open_id[:8]}"),
        "refresh_token": refresh_token,
    }
    if tokens.open_id and is_token_like(tokens.open_id):
        entry["open_id"] = tokens.open_id
    if shop_ids:
        entry["shop_ids"] = list(shop_ids)
    return entry


def _safe_name(text: str) -> str:
    """A name the tap accepts: letters, digits, spaces and ``. _ @ + -``, at most 80."""
    cleaned = " ".join(_UNSAFE_NAME_CHARACTERS.sub(" ", text).split())[:NAME_LENGTH].strip()
    return cleaned or "seller"


def merged(
    existing: list[dict[str, t.Any]], entry: dict[str, t.Any]
) -> tuple[list[dict[str, t.Any]], str]:
    """``existing`` with ``entry`` replacing the same seller's entry, or appended; its name.

    The name is made unique within the list (the tap refuses two alike).
    """
    result = [dict(item) for item in existing]
    same_seller = next(
        (
            index
            for index, item in enumerate(result)
            if entry.get("open_id") and item.get("open_id") == entry.get("open_id")
        ),
        None,
    )
    taken = {str(item.get("name")) for i, item in enumerate(result) if i != same_seller}
    taken.add(SINGLE_NAME)  # the name of the single refresh_token setting's authorization
    name, suffix = entry["name"], 2
    while name in taken:
        name = f"{entry['name'][: NAME_LENGTH - 4]} {suffix}"
        suffix += 1
    added = {**entry, "name": name}
    if same_seller is None:
        result.append(added)
    else:
        result[same_seller] = added
    return result, name


def in_config(path: Path) -> list[dict[str, t.Any]]:
    """The ``authorizations`` list of a tap config JSON (empty if the file does not exist).

    Raises:
        ConfigurationError: if the file is no JSON object or its list is malformed.
    """
    if not path.exists():
        return []
    return _checked(read_json_object(path).get(SETTING), str(path))


def in_env(path: Path) -> list[dict[str, t.Any]]:
    """The ``TAP_TIKTOK_SHOP_AUTHORIZATIONS`` list of a ``.env`` file (empty if none).

    Raises:
        ConfigurationError: if the value is not a JSON list of objects.
    """
    if not refuse_link(path):
        return []
    text = dotenv_values(path).get(env_name(SETTING))
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return _checked(value, f"{path}: {env_name(SETTING)}")


def _checked(value: object, where: str) -> list[dict[str, t.Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        msg = f"{where}: {SETTING} is not a list of objects; not changing it"
        raise ConfigurationError(msg)
    return value


def env_text(authorizations: list[dict[str, t.Any]]) -> str:
    """The list as one ``.env`` value: compact JSON that cannot break out of its line.

    Raises:
        ConfigurationError: if an entry holds a value that is no plain token or safe name
            (never quoting it).
    """
    for item in authorizations:
        values = [item.get("refresh_token"), item.get("open_id"), *item.get("shop_ids", [])]
        name = item.get("name")
        safe_name = name is None or (isinstance(name, str) and _safe_name(name) == name)
        if not safe_name or not all(v is None or is_token_like(v) for v in values):
            msg = (
                f"{env_name(SETTING)}: not written to .env: an entry holds a character "
                "that could break the line (the value is not shown)"
            )
            raise ConfigurationError(msg)
    return json.dumps(authorizations, separators=(",", ":"))
