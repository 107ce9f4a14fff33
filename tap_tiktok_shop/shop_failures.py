"""Failures that concern one shop: one WARNING line each, one summary line, the exit code.

An agency syncs hundreds of shops; one seller's deactivated or de-authorized shop must not stop
the others. A ``ShopError`` ends that shop's read of one stream (its bookmark stays where it
was, see ``per_shop.py``) and is recorded here with one WARNING line naming the shop, the
stream, the API code and what to do. When the sync is over, and everything else was emitted
and its STATE written, one line lists the shops that failed: an ERROR that makes the run exit
1 by default, so that a scheduler notices, or a WARNING and exit 0 with
``fail_on_shop_errors: false`` (for users who alert on the log instead).
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass

from tap_tiktok_shop.errors import (
    PageTokenError,
    RetriesExhaustedError,
    ShopError,
    ShopsFailedError,
)

if t.TYPE_CHECKING:
    import logging


#: Extra advice for failures whose message does not already say what to do.
_ADVICE: tuple[tuple[type[Exception], str], ...] = (
    (RetriesExhaustedError, "the API kept failing for this shop: run again later"),
    (
        PageTokenError,
        "the window was read again from its first page and failed again: run again later",
    ),
)


@dataclass(frozen=True)
class ShopFailure:
    """One shop's failed read of one stream."""

    shop_id: str
    stream: str
    code: str
    #: The error's one line (no secret: the same text as the WARNING line's).
    reason: str = ""


def code_of(error: BaseException) -> str:
    """The API code of a failure ("API code 101000"), or what stands for it."""
    verdict = getattr(error, "verdict", None)
    if verdict is not None and verdict.code is not None:
        return f"API code {verdict.code}"
    if verdict is not None:
        return f"HTTP {verdict.status}"
    cause = error.__cause__
    return type(cause).__name__ if cause is not None else "no API code"


def _streams_by_code(codes: dict[str, list[str]]) -> list[str]:
    return [f"{code}: {', '.join(streams)}" for code, streams in codes.items()]


class ShopFailures:
    """The per-shop failures of one run (thread-safe; the SDK records them in order)."""

    def __init__(self, logger: logging.Logger, *, fail_run: bool) -> None:
        """``fail_run``: whether a run with shop failures exits non-zero."""
        self._logger = logger
        self._fail_run = fail_run
        self._lock = threading.Lock()
        self.failures: list[ShopFailure] = []

    def record(self, shop_id: str, stream: str, error: ShopError | Exception) -> None:
        """Log the one WARNING line of a shop's failed read and keep it for the summary."""
        advice = next((text for kind, text in _ADVICE if isinstance(error, kind)), "")
        line = (
            f"Shop {shop_id}: stopped reading stream '{stream}' ({code_of(error)}): {error}"
            f"{'; ' + advice if advice else ''}. Its '{stream}' bookmark stays where it was; "
            "the other shops go on."
        )
        with self._lock:
            self.failures.append(ShopFailure(shop_id, stream, code_of(error), str(error)))
        self._logger.warning("%s", line)

    def record_authorization(self, name: str, error: Exception) -> None:
        """Log the WARNING line of an authorization whose shops could not even be listed.

        Its shops are unknown, so the failure is kept under the authorization's name.
        """
        line = (
            f"Authorization '{name}': could not list its shops: {error}. Its shops are skipped "
            "this run and keep their bookmarks; the other authorizations' shops go on."
        )
        with self._lock:
            self.failures.append(
                ShopFailure(f"authorization '{name}'", "shops", code_of(error), str(error))
            )
        self._logger.warning("%s", line)

    @property
    def fails_run(self) -> bool:
        """Whether shop failures make the run exit 1 (``fail_on_shop_errors``)."""
        return self._fail_run

    def summary(self) -> str | None:
        """One line listing the shops that failed (shop: stream and code), or None."""
        with self._lock:
            failures = list(self.failures)
        if not failures:
            return None
        per_shop: dict[str, dict[str, list[str]]] = {}
        for failure in failures:
            codes = per_shop.setdefault(failure.shop_id, {})
            codes.setdefault(failure.code, []).append(failure.stream)
        listed = "; ".join(
            f"{shop} ({'; '.join(_streams_by_code(codes))})" for shop, codes in per_shop.items()
        )
        return (
            f"{len(per_shop)} shop(s) could not be synced completely: {listed}. Every other "
            "shop and stream synced; the failed reads keep their bookmarks (see the WARNING "
            "lines above for what to do)."
        )

    def finish(self) -> None:
        """At the end of the sync (``run_summary.py``): log the line; fail the run if so configured.

        Raises:
            ShopsFailedError: with the summary, when shops failed and ``fail_on_shop_errors``.
        """
        line = self.summary()
        if line is None:
            return
        if self._fail_run:
            msg = f"{line} Exit code 1 (set fail_on_shop_errors to false to exit 0)."
            raise ShopsFailedError(msg)
        self._logger.warning("%s", line)
