"""Progress of each shop's read of each stream: records emitted, expected, rate and ETA.

A first sync of a big shop runs for many minutes, and the SDK's metric lines say neither how
far along it is nor how long it will take. So, per shop and stream, a line goes to the log
(stderr, never stdout) at most every ``PROGRESS_INTERVAL_SECONDS``: records emitted so far, the
total the API announced (``total_count`` of each read's first page), percent, rate and an
estimated time left; and one line when that shop's stream is done. A read shorter than the
interval prints nothing (a scheduled incremental run stays quiet); ``progress_log: false``
turns the lines off (the counts are still kept for the run summary, ``run_summary.py``).

Counts are taken where the SDK counts the records it emits (``get_record_counter``: its
counter is incremented once per RECORD written), so they are what was emitted, whatever was
fetched ahead. Expected totals come from the reads' first pages, fetched by prefetch workers
(thread-safe here). A big shop's read split into time windows (``incremental.py``) announces
its total once for the whole window; the windows' own first pages fall inside it and are not
counted again, so the counts of a shop's parallel windows add up to the shop's total. Reads
of a child stream (one per statement) are disjoint, so their totals add up.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass, field

from singer_sdk import metrics
from typing_extensions import override

from tap_tiktok_shop.windows import WINDOW_KEY

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Hashable
    from types import TracebackType

    from singer_sdk.helpers.types import Context

#: At most one progress line per shop and stream this often; reads shorter than it are quiet.
PROGRESS_INTERVAL_SECONDS = 10.0

TallyKey = tuple[str, str | None]  # (stream, shop id)


@dataclass
class Tally:
    """One shop's read of one stream (all its windows, or all its child reads)."""

    stream: str
    shop_id: str | None
    emitted: int = 0
    expected: int | None = None
    #: When the SDK began emitting it (monotonic seconds), and when a line is next due.
    started: float | None = None
    due: float = 0.0
    lines: int = 0
    #: Whether a read of it completed, or failed for this shop (set by ``per_shop.py``).
    synced: bool = False
    failed: bool = False
    windows: list[tuple[int, int]] = field(default_factory=list)
    reads: set[Hashable] = field(default_factory=set)


def _shop_of(context: Context | None) -> str | None:
    shop_id = (context or {}).get("shop_id")
    return None if shop_id is None else str(shop_id)


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class Progress:
    """Counts per shop and stream; logs the progress lines (see the module docstring)."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        enabled: bool,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``enabled``: whether to log lines (counts are kept either way)."""
        self._logger = logger
        self._enabled = enabled
        self._interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.clock = clock
        self._lock = threading.Lock()
        self._tallies: dict[TallyKey, Tally] = {}

    def tally(self, stream: str, shop_id: str | None) -> Tally:
        """The tally of one shop's stream (made on first use; thread-safe)."""
        with self._lock:
            found = self._tallies.get((stream, shop_id))
            if found is None:
                found = self._tallies[stream, shop_id] = Tally(stream, shop_id)
            return found

    def tallies(self) -> list[Tally]:
        """Every tally, in the order they were made."""
        with self._lock:
            return list(self._tallies.values())

    def expect(self, stream: str, context: Context | None, total: int | None) -> None:
        """A read's first page announced ``total`` records (called from prefetch workers).

        A read whose window lies inside one already announced (a window of a split read, or
        the same window read again) adds nothing; any other read adds its total.
        """
        if total is None:
            return
        tally = self.tally(stream, _shop_of(context))
        window = (context or {}).get(WINDOW_KEY)
        with self._lock:
            if window is not None:
                start, end = window
                if any(low <= start and end <= high for low, high in tally.windows):
                    return
                tally.windows.append((start, end))
            else:
                read = tuple(sorted((context or {}).items()))
                if read in tally.reads:
                    return
                tally.reads.add(read)
            tally.expected = (tally.expected or 0) + total

    def counter(self, counted: metrics.Counter) -> EmittedCounter:
        """The SDK's record counter for one stream, also counting here."""
        return EmittedCounter(self, counted)

    def begin(self, tally: Tally) -> float:
        """The SDK begins emitting (a part of) this read; returns when."""
        now = self.clock()
        if tally.started is None:
            tally.started = now
            tally.due = now + self._interval
        return now

    def maybe_line(self, tally: Tally) -> None:
        """Log a progress line if one is due (the caller checked ``tally.due`` first)."""
        now = self.clock()
        tally.due = now + self._interval
        if not self._enabled or tally.started is None or tally.shop_id is None:
            return  # a stream not read per shop (``shops``) is one short call
        tally.lines += 1
        elapsed = max(now - tally.started, 1e-9)
        rate = tally.emitted / elapsed
        self._logger.info("Progress: %s%s", self._what(tally), self._figures(tally, rate))

    def done(self, tally: Tally, began: float, *, failed: bool) -> None:
        """One part of the read ended: a line when it was long or progress lines were shown."""
        now = self.clock()
        if not self._enabled or failed or tally.failed or tally.started is None:
            return
        if tally.shop_id is None:
            return
        if not tally.lines and now - began < self._interval:
            return
        elapsed = now - tally.started
        rate = tally.emitted / max(elapsed, 1e-9)
        self._logger.info(
            "Progress: %s done: %s records in %s (%s records/s)",
            self._what(tally),
            f"{tally.emitted:,}",
            duration(elapsed),
            f"{rate:,.0f}",
        )

    @staticmethod
    def _what(tally: Tally) -> str:
        shop = f"shop {tally.shop_id} " if tally.shop_id is not None else ""
        return f"{shop}{tally.stream}"

    @staticmethod
    def _figures(tally: Tally, rate: float) -> str:
        emitted = f"{tally.emitted:,}"
        if tally.expected is None or tally.expected < tally.emitted:
            return f": {emitted} records, {rate:,.0f} records/s"
        percent = 100.0 * tally.emitted / tally.expected if tally.expected else 100.0
        left = (tally.expected - tally.emitted) / rate if rate > 0 else None
        eta = f", about {duration(left)} left" if left is not None else ""
        return (
            f": {emitted} of {tally.expected:,} records ({percent:.0f}%), "
            f"{rate:,.0f} records/s{eta}"
        )


class EmittedCounter(metrics.Counter):
    """The SDK's record counter of one stream read, feeding ``Progress`` as well.

    The SDK calls ``with_context`` with each partition (a shop) before its records, then
    ``increment`` once per record it emitted, and leaves the counter when the read ends.
    """

    def __init__(self, progress: Progress, counted: metrics.Counter) -> None:
        """Count like ``counted`` (same metric, tags and log interval) and into ``progress``."""
        super().__init__(counted.metric, dict(counted.tags), log_interval=counted.log_interval)
        self._progress = progress
        self._stream = str(counted.tags.get(metrics.Tag.STREAM, ""))
        self._tally: Tally | None = None
        self._began = 0.0
        #: Called with the exception that ended the read (None: it completed).
        self.on_exit: Callable[[BaseException | None], None] | None = None

    @override
    def with_context(self, context: Context | None) -> None:
        """The SDK moves on to a partition: count into that shop's tally."""
        super().with_context(context)
        self._tally = self._progress.tally(self._stream, _shop_of(context))
        self._began = self._progress.begin(self._tally)

    @override
    def increment(self, value: int = 1) -> None:
        """One more record emitted."""
        super().increment(value)
        tally = self._tally
        if tally is None:
            tally = self._tally = self._progress.tally(self._stream, None)
            self._began = self._progress.begin(tally)
        tally.emitted += value
        if self._progress.clock() >= tally.due:
            self._progress.maybe_line(tally)

    @override
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """The read ended: its done line (none when it failed)."""
        super().__exit__(exc_type, exc_val, exc_tb)
        if self._tally is not None:
            self._progress.done(self._tally, self._began, failed=exc_type is not None)
        if self.on_exit is not None:
            self.on_exit(exc_val)
