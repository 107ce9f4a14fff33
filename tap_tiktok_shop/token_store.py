"""The token store: the latest token set of each authorization, kept between runs.

TikTok's docs do not say whether a refresh rotates the refresh token, nor whether the old one
keeps working once it has. The safe rule is to keep the refresh token of the latest answer,
always: a scheduled pipeline that went on using a superseded token would stop one night. So
every token set the tap obtains is written here, and the next run starts from it: from its
access token while that is still valid (no refresh at all), else from its refresh token.

One JSON file holds every authorization's entry, keyed by the app key and a SHA-256 of the
refresh token the user configured (never a token itself as a name): a new authorization, with
its new configured token, starts a new entry. The file holds secrets, so it is written
0600 from its creation (``write_private``: temporary file beside it, fsync, rename) in a 0700
directory. Shards running at once on one machine share the file; a lock file beside it
(``filelock``) makes "read the entry, refresh if needed, write it back" one step, so two runs
never both trade the same rotating refresh token (the second would be refused) and never lose
each other's update.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import typing as t
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import filelock
import platformdirs

from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.private_files import PRIVATE_MODE, refuse_link, write_private
from tap_tiktok_shop.untrusted import is_token_like

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_tiktok_shop.tokens import TokenSet

#: The store's file name under the user's cache directory (the default location).
STORE_FILE = "tokens.json"
#: How long a run waits for another run's refresh before giving up (a refresh takes < 1 min).
LOCK_TIMEOUT_SECONDS = 120.0
_FORMAT = 1


def default_store_path() -> Path:
    """``<user cache dir>/tap-tiktok-shop/tokens.json`` (``~/.cache/...`` on Linux)."""
    return Path(platformdirs.user_cache_dir("tap-tiktok-shop")) / STORE_FILE


def entry_key(app_key: str, configured_refresh_token: str) -> str:
    """The entry name of an authorization: the app key and a hash of its configured token."""
    digest = hashlib.sha256(configured_refresh_token.encode()).hexdigest()
    return f"{app_key}:{digest}"


@dataclass(frozen=True)
class StoredTokens:
    """One authorization's latest token set, as written to the store."""

    access_token: str
    access_token_expire_in: int | None
    refresh_token: str
    refresh_token_expire_in: int | None
    granted_scopes: list[str] | None
    seller_name: str
    open_id: str

    @classmethod
    def of(cls, tokens: TokenSet, refresh_token: str) -> StoredTokens:
        """The entry for a token answer (``refresh_token``: the one to use next)."""
        return cls(
            access_token=tokens.access_token,
            access_token_expire_in=tokens.access_token_expire_in,
            refresh_token=refresh_token,
            refresh_token_expire_in=tokens.refresh_token_expire_in,
            granted_scopes=tokens.granted_scopes,
            seller_name=tokens.seller_name,
            open_id=tokens.open_id,
        )

    @classmethod
    def parse(cls, value: object) -> StoredTokens | None:
        """An entry read back from the file, or None if it is not one (ignored, rewritten)."""
        names = {field.name for field in fields(cls)}
        if not isinstance(value, dict) or not names <= set(value):
            return None
        if not (is_token_like(value["access_token"]) and is_token_like(value["refresh_token"])):
            return None
        expiries = (value["access_token_expire_in"], value["refresh_token_expire_in"])
        if any(not (expiry is None or type(expiry) is int) for expiry in expiries):
            return None
        scopes = value["granted_scopes"]
        if scopes is not None and not (
            isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes)
        ):
            return None
        return cls(**{name: value[name] for name in names})


class TokenStore:
    """The store file at ``path``: locked reads and atomic writes of token entries."""

    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        """Remember where the store lives; nothing is touched until the first ``locked``."""
        self.path = path
        self._lock_timeout = lock_timeout
        self._lock: filelock.BaseFileLock | None = None

    @contextlib.contextmanager
    def locked(self, key: str) -> Iterator[Entry]:
        """Hold the store's lock while the caller reads and maybe replaces one entry.

        Other runs wait (up to ``lock_timeout`` seconds) for the lock, so what they read
        afterwards includes this run's update.

        Raises:
            ConfigurationError: if the store cannot be created, locked, read or written.
        """
        lock = self._file_lock()
        try:
            lock.acquire(timeout=self._lock_timeout)
        except filelock.Timeout:
            msg = (
                f"token_store_path: {self.path} stayed locked for {self._lock_timeout:.0f} s "
                "by another run"
            )
            raise ConfigurationError(msg) from None
        except OSError as exc:
            raise self._unusable(exc) from None
        try:
            entries = self._read()
            entry = Entry(StoredTokens.parse(entries.get(key)))
            yield entry
            if entry.replaced is not None:
                entries[key] = asdict(entry.replaced)
                document = {"format": _FORMAT, "entries": entries}
                write_private(self.path, json.dumps(document, indent=1, sort_keys=True) + "\n")
        finally:
            lock.release()

    def _file_lock(self) -> filelock.BaseFileLock:
        if self._lock is None:
            directory = self.path.parent
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise self._unusable(exc) from None
            lock_path = directory / f".{self.path.name}.lock"
            refuse_link(lock_path)
            # thread_local=False: the tap's threads share one manager lock per
            # authorization already; the file lock is what orders separate processes.
            self._lock = filelock.FileLock(lock_path, mode=PRIVATE_MODE, thread_local=False)
        return self._lock

    def _read(self) -> dict[str, t.Any]:
        """Every entry of the file ({} if it does not exist, or is not a store: rewritten)."""
        if not refuse_link(self.path):
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return {}
        entries = document.get("entries") if isinstance(document, dict) else None
        return dict(entries) if isinstance(entries, dict) else {}

    def _unusable(self, exc: OSError) -> ConfigurationError:
        reason = exc.strerror or type(exc).__name__
        return ConfigurationError(f"token_store_path: cannot use {self.path} ({reason})")


class Entry:
    """One authorization's entry while the store is locked: read it, maybe replace it."""

    def __init__(self, stored: StoredTokens | None) -> None:
        """Hold what the file had for this authorization (None: nothing usable)."""
        self.stored = stored
        self.replaced: StoredTokens | None = None

    def replace(self, tokens: StoredTokens) -> None:
        """Write ``tokens`` as the entry when the lock is released."""
        self.replaced = tokens


def store_from_config(config: t.Mapping[str, t.Any]) -> TokenStore | None:
    """The run's token store from ``token_store_enabled`` and ``token_store_path``."""
    if not config.get("token_store_enabled", True):
        return None
    configured = config.get("token_store_path")
    path = Path(os.path.expanduser(configured)) if configured else default_store_path()
    return TokenStore(path)
