"""Calendar days of a shop: the range a day-grained read covers, and the last day with data.

The analytics APIs (and the affiliate-order search after them) speak in calendar days of the
shop's own time zone, which no endpoint tells. So the tap never derives "yesterday" from this
machine's clock: every answer carries ``latest_available_date``, the last day the API has data
for, and a read stops there. ``ShopCalendar`` keeps that date per shop, learned from the first
answer and shared by every day-grained stream of the run.

The range of one shop's read is ``[first, latest]`` (inclusive days):

- after a bookmark (the last day read): the ``lookback`` days ending at it are read again,
  because their figures keep changing, then every new day;
- on a first sync: from ``start_date``'s day, or else the last ``history_days`` days.

The clock is used only where the API has told nothing yet: to place the first request of a
first sync (whose answer then settles the first day: see day_reads.py), and as a hard stop
(``clock_stop``) while no answer of the shop has carried a date.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass

from tap_tiktok_shop.errors import ConfigurationError

Day = datetime.date
ONE_DAY = datetime.timedelta(days=1)


def parse_day(value: object, where: str) -> Day:
    """A ``YYYY-MM-DD`` string as a date.

    Raises:
        ConfigurationError: naming ``where`` when the value is anything else.
    """
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    msg = f"{where}: {value!r} is not a date (YYYY-MM-DD)"
    raise ConfigurationError(msg)


def utc_day(moment: float) -> Day:
    """The UTC calendar day of a unix time."""
    return datetime.datetime.fromtimestamp(moment, tz=datetime.timezone.utc).date()


def clock_stop(now: float) -> Day:
    """The last day that has ended everywhere on Earth (UTC-12) at ``now``: a hard stop only."""
    return utc_day(now) - 2 * ONE_DAY


@dataclass(frozen=True)
class DayRange:
    """Consecutive calendar days ``first <= day <= last`` (empty when first > last)."""

    first: Day
    last: Day

    @property
    def empty(self) -> bool:
        """True when the range holds no day."""
        return self.first > self.last

    def __len__(self) -> int:
        """How many days the range holds."""
        return max(0, (self.last - self.first).days + 1)

    def days(self) -> list[Day]:
        """Every day of the range, oldest first."""
        return [self.first + ONE_DAY * index for index in range(len(self))]

    def chunks(self, size: int) -> list[DayRange]:
        """The range cut into consecutive ranges of at most ``size`` days."""
        step = max(1, size)
        return [
            DayRange(day, min(day + ONE_DAY * (step - 1), self.last)) for day in self.days()[::step]
        ]

    def until(self, last: Day) -> DayRange:
        """The range cut off after ``last``."""
        return DayRange(self.first, min(self.last, last))


def first_day(
    *,
    bookmark: Day | None,
    start_date: Day | None,
    lookback_days: int,
    history_days: int,
    reference: Day,
) -> Day:
    """The first day one shop's read covers (see the module docstring).

    ``reference`` is the shop's ``latest_available_date`` when known (else the clock's stop):
    the default history is the ``history_days`` days ending there.
    """
    if bookmark is not None:
        first = bookmark + ONE_DAY - ONE_DAY * lookback_days
        return max(first, start_date) if start_date is not None else first
    if start_date is not None:
        return start_date
    return reference - ONE_DAY * (max(1, history_days) - 1)


@dataclass(frozen=True)
class ReadThrough:
    """Ends a shop's read: its first day and the last day it read (None: no request)."""

    first: Day
    last: Day | None


class ShopCalendar:
    """The ``latest_available_date`` of each shop, as the API last reported it in this run."""

    def __init__(self) -> None:
        """No shop's date is known yet."""
        self._latest: dict[str, Day] = {}
        self._lock = threading.Lock()

    def latest(self, shop_id: str) -> Day | None:
        """The shop's last day with data, or None until an answer told it."""
        with self._lock:
            return self._latest.get(shop_id)

    def learn(self, shop_id: str, value: object, where: str) -> Day | None:
        """Record the date an answer carried (None or "" leave it unknown); return it.

        A later answer can only move it forward: a day once available stays available.

        Raises:
            ConfigurationError: when the answer carries something that is not a date.
        """
        if value in (None, ""):
            return self.latest(shop_id)
        day = parse_day(value, f"{where}: data.latest_available_date")
        with self._lock:
            known = self._latest.get(shop_id)
            if known is None or day > known:
                self._latest[shop_id] = day
            return self._latest[shop_id]
