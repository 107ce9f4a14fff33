"""How a run ends: one line per known failure, a non-zero exit code, a clean stop on signals.

A scheduler reads the exit code and a person reads the last error line. So every failure the
tap understands (``errors.REPORTED_ERRORS``: bad settings or input files, refused credentials,
API errors, retries exhausted) ends as one ERROR line naming what is wrong, and exit code 1,
without a traceback; anything else is a bug and keeps its traceback. The SDK's config
validation messages quote the offending value: for secret settings that value is left out.

SIGTERM and SIGINT: the SDK's own handler writes state and exits 0, so a killed run would look
successful. Here the signal unwinds the sync at once (even out of a network wait or a backoff
sleep), then the tap writes its state, logs one line and exits 128 + the signal number (143 for
SIGTERM, 130 for SIGINT). That state holds only bookmarks of shops whose read completed; a shop
read halfway keeps its previous bookmark, so a rerun with it loses nothing.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import signal
import sys
import threading
import typing as t
from pathlib import Path

from singer_sdk.exceptions import ConfigValidationError

from tap_tiktok_shop.errors import REPORTED_ERRORS, ConfigurationError
from tap_tiktok_shop.untrusted import redacted_validation_errors

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator
    from types import FrameType

    from singer_sdk import Tap
    from singer_sdk.helpers.types import TapState

#: The signals that stop a run cleanly.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: The SDK's per-run key for a partition read in progress (ignored when a run resumes).
PROGRESS_MARKERS = "progress_markers"


class SyncInterrupted(BaseException):
    """SIGTERM or SIGINT arrived: unwind the sync at once, then write state and exit non-zero.

    A ``BaseException`` so that no ``except Exception`` on the way (the SDK's, the HTTP
    library's) swallows it or logs it as a failure of its own.
    """

    def __init__(self, signum: int, finish: Callable[[], None] | None = None) -> None:
        """Remember the signal (the exit code is 128 + its number) and what to do before exit.

        Args:
            signum: The signal number.
            finish: Called once the sync has unwound, outside the signal handler (writing
                state from inside the handler could interleave with a half-written message).
        """
        super().__init__(signum)
        self.signum = signum
        self.finish = finish


@contextlib.contextmanager
def one_line_failures(logger: logging.Logger) -> Iterator[None]:
    """Turn known failures and interruptions into one log line and an exit code."""
    try:
        yield
    except SyncInterrupted as exc:
        if exc.finish is not None:
            exc.finish()
        logger.error(  # noqa: TRY400 - one line, no traceback, on purpose
            "Interrupted by %s: stopped; the last STATE covers only shops read to the end. "
            "Run again with it to continue.",
            signal.Signals(exc.signum).name,
        )
        sys.exit(128 + exc.signum)
    except ConfigValidationError as exc:
        errors = redacted_validation_errors(exc.errors)
        logger.error("Invalid config: %s", "; ".join(errors))  # noqa: TRY400
        sys.exit(1)
    except REPORTED_ERRORS as exc:
        logger.error("%s", exc)  # noqa: TRY400
        sys.exit(1)


def reporting(callback: Callable[..., t.Any], logger: logging.Logger) -> Callable[..., t.Any]:
    """Wrap a CLI callback (``--config``, ``--discover``...) so its failures end in one line."""

    def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with one_line_failures(logger):
            return callback(*args, **kwargs)

    return run


def stop_on_signals(tap: Tap) -> None:
    """Make SIGTERM/SIGINT unwind the sync, then write the resumable state (main thread only).

    Further signals are ignored once the first arrived, so the final STATE is written whole.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def finish() -> None:
        state = resumable_state(tap.state)
        if state.get("bookmarks"):  # nothing to save (or not syncing: --discover, --about)
            tap.state_writer.write_state(state)
        drain = getattr(tap.message_writer, "drain", None)
        if drain is not None:  # everything emitted leaves before the exit
            drain()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, signal.SIG_IGN)
        raise SyncInterrupted(signum, finish)

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, interrupt)


def resumable_state(state: TapState) -> TapState:
    """A copy of the tap state without progress markers: only completed bookmarks remain."""
    cleaned = copy.deepcopy(state)
    for stream_state in (cleaned.get("bookmarks") or {}).values():
        stream_state.pop(PROGRESS_MARKERS, None)
        for partition in stream_state.get("partitions") or []:
            partition.pop(PROGRESS_MARKERS, None)
    return cleaned


def json_object_file(option: str, path: str | None) -> t.IO[str] | None:
    """Open an input file (``--state``, ``--catalog``) and check that it holds a JSON object.

    Raises:
        ConfigurationError: naming the option and what is wrong (never the file's content).
    """
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        msg = f"--{option}: cannot read {path!r}: {reason}"
        raise ConfigurationError(msg) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"--{option}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise ConfigurationError(msg) from None
    if not isinstance(value, dict):
        msg = f"--{option}: must hold a JSON object"
        raise ConfigurationError(msg)
    return io.StringIO(text)
