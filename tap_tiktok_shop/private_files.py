"""Files that hold secrets: written 0600 from their creation, never through a symlink.

The helper's config and ``.env`` and the tap's token store all hold tokens; one way to write
them, so none can be read by another user even for a moment, and a link planted where one of
them goes is refused rather than followed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import TYPE_CHECKING

from tap_tiktok_shop.errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

PRIVATE_MODE = 0o600


def refuse_link(path: Path) -> bool:
    """Refuse a path that is a symlink (dangling too) or no regular file; True if it exists.

    ``Path.exists`` follows links and is False for a dangling one, so ``lstat`` is asked.

    Raises:
        ConfigurationError: if the path is a symlink or not a regular file.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _unwritable(path, exc) from None
    if not stat.S_ISREG(mode):
        msg = f"{path}: a symlink or not a regular file; not writing secrets to it"
        raise ConfigurationError(msg)
    return True


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, in a file that is 0600 from its creation.

    ``mkstemp`` creates the temporary file 0600 beside the target (same file system); it is
    flushed to disk and renamed over the target, so a reader sees the old file or the new
    one, and the secrets are never readable by others, not even for a moment.

    Raises:
        ConfigurationError: if the file cannot be written (the target is then unchanged).
    """
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


def _unwritable(path: Path, exc: OSError) -> ConfigurationError:
    return ConfigurationError(f"{path}: cannot write ({exc.strerror or type(exc).__name__})")
