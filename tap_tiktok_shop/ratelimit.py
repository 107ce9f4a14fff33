"""Client-side pacing so the tap stays under the API's limit instead of provoking 429s.

The API allows a number of requests per second per app, shop and API; how it counts is
undocumented, so the limiter assumes the strictest reading (a sliding one-second window with no
burst allowance) and spaces requests of one key at least ``1 / rate`` seconds apart. A 429 makes
the key slow down; sustained success lets it recover to the configured rate.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Callable, Hashable

#: Rate multiplier after a 429, and the floor it can shrink to (fraction of the setting).
SLOWDOWN_FACTOR = 0.7
MIN_RATE_FRACTION = 0.1
#: Successful requests after which a slowed key recovers a step.
RECOVERY_AFTER = 50


@dataclass
class _Lane:
    rate: float
    next_slot: float = 0.0
    successes: int = 0


class RateLimiter:
    """Per-key request pacing, shared by every stream and thread of a run."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``rate`` is requests per second per key; 0 disables pacing."""
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[Hashable, _Lane] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Hashable) -> None:
        """Block until a request for ``key`` may be sent."""
        if self._rate <= 0:
            return
        with self._lock:
            lane = self._lanes.setdefault(key, _Lane(self._rate))
            now = self._clock()
            slot = max(now, lane.next_slot)
            lane.next_slot = slot + 1.0 / lane.rate
        if slot > now:
            self._sleep(slot - now)

    def throttled(self, key: Hashable) -> None:
        """The API answered 429 for ``key``: slow that key down."""
        if self._rate <= 0:
            return
        with self._lock:
            lane = self._lanes.setdefault(key, _Lane(self._rate))
            lane.rate = max(self._rate * MIN_RATE_FRACTION, lane.rate * SLOWDOWN_FACTOR)
            lane.successes = 0

    def succeeded(self, key: Hashable) -> None:
        """A request for ``key`` went through: recover towards the configured rate."""
        if self._rate <= 0:
            return
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None or lane.rate >= self._rate:
                return
            lane.successes += 1
            if lane.successes >= RECOVERY_AFTER:
                lane.rate = min(self._rate, lane.rate / SLOWDOWN_FACTOR)
                lane.successes = 0

    def rate_of(self, key: Hashable) -> float:
        """The current rate of a key (for tests and logs)."""
        with self._lock:
            lane = self._lanes.get(key)
            return lane.rate if lane else self._rate
