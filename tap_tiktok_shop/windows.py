"""The time range each shop's incremental read covers, computed in one place.

Per shop the read is ``[max(start_date, bookmark - lookback), end)`` where ``end`` is
``end_date`` or the moment the sync started, frozen for the whole run. The lower bound is
inclusive, so orders sharing the bookmark's second are read again rather than skipped.
"""

from __future__ import annotations

import datetime
import itertools
import typing as t
from dataclasses import dataclass

from tap_tiktok_shop.errors import ConfigurationError

#: Context key holding the read window of one request (never part of state).
WINDOW_KEY = "_window"


@dataclass(frozen=True)
class Window:
    """A half-open range of unix seconds: ``start <= t < end``."""

    start: int
    end: int

    @property
    def empty(self) -> bool:
        """True when nothing can fall inside."""
        return self.start >= self.end

    def split(self, parts: int) -> list[Window]:
        """The window cut into ``parts`` consecutive windows of (nearly) equal width."""
        parts = max(1, min(parts, self.end - self.start))
        width = self.end - self.start
        bounds = [self.start + width * index // parts for index in range(parts)] + [self.end]
        return [Window(lo, hi) for lo, hi in itertools.pairwise(bounds) if lo < hi]

    def chunks(self, widest: int | None) -> list[Window]:
        """The window cut so that none is wider than ``widest`` seconds (None: no limit)."""
        width = self.end - self.start
        if widest is None or width <= widest:
            return [self]
        return self.split(-(-width // widest))

    def halves(self) -> tuple[Window, Window] | None:
        """The window cut in two at its middle second, or None if it is one second wide."""
        if self.end - self.start < 2:
            return None
        middle = (self.start + self.end) // 2
        return Window(self.start, middle), Window(middle, self.end)


def parse_instant(setting: str, value: str) -> int:
    """Parse an ISO-8601 date or datetime setting to unix seconds (naive means UTC).

    Raises:
        ConfigurationError: naming the setting when the value does not parse.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        msg = f"{setting}: {value!r} is not an ISO-8601 date or datetime"
        raise ConfigurationError(msg) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp())


def bookmark_value(shop_id: str, value: t.Any) -> int | None:
    """Read a bookmark from state, accepting only unix seconds.

    Raises:
        ConfigurationError: when the state holds something else for the shop.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        msg = f"state: the bookmark of shop {shop_id} is {value!r}, not unix seconds"
        raise ConfigurationError(msg)
    return int(value)


def read_window(
    *,
    bookmark: int | None,
    start_date: int | None,
    lookback_seconds: int,
    end: int,
) -> Window:
    """Return the range to read for one shop."""
    start = 0 if start_date is None else start_date
    if bookmark is not None:
        start = max(start, bookmark - lookback_seconds)
    return Window(start=start, end=end)
