"""The read-ahead bound: how many bytes of pages may wait, fetched, for the consumer.

Pages fetched ahead of what is being emitted wait in memory or in temporary files until the
consumer reaches their read. With a slow consumer (a loader taking a few hundred records a
second) that grows without end; reading further ahead than the loader consumes buys nothing,
so workers reading ahead wait here once the bound is reached. A page is counted from before it
is fetched (at the size of the largest page seen so far, corrected once it arrived) until the
consumer has read it back, so pages in flight count too.

The budget goes to the earliest reads first (by their order key, the order the consumer takes
them in): a read's pages are a chain of requests, one latency each, so a window must have been
fetching for a while by the time the consumer reaches it; if reads far ahead took the budget,
the next read would be fetched page by page while the consumer waits.
"""

from __future__ import annotations

import heapq
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: What a page is assumed to weigh before any page was seen (a full page of full-shape orders
#: is about 0.8 MB).
FIRST_PAGE_ESTIMATE = 1 << 20


class ReadAheadBudget:
    """A byte budget shared by every read-ahead worker; thread-safe."""

    def __init__(self, limit_bytes: int) -> None:
        """Allow ``limit_bytes`` of pages fetched ahead at once."""
        self.limit = limit_bytes
        self.used = 0
        self.peak = 0
        self._largest_page = 0
        self._changed = threading.Condition()
        self._waiting: list[tuple[t.Any, int]] = []  # heap of (order key, waiter id)
        self._waiters = 0

    @property
    def page_estimate(self) -> int:
        """The size a page about to be fetched is counted at."""
        return self._largest_page or min(FIRST_PAGE_ESTIMATE, self.limit)

    def reserve(
        self, order: t.Any, exempt: Callable[[], bool], cancelled: Callable[[], bool]
    ) -> int:
        """Wait until one more page fits, then count it; returns the bytes counted.

        The waiting read with the lowest ``order`` goes first. ``exempt`` is polled while
        waiting: a read the consumer is waiting for never waits (it is not ahead of anything),
        and returns 0. So does a cancelled run.
        """
        with self._changed:
            self._waiters += 1
            ticket = (order, self._waiters)
            heapq.heappush(self._waiting, ticket)
            try:
                while True:
                    if exempt() or cancelled():
                        return 0
                    size = self.page_estimate
                    fits = self.used == 0 or self.used + size <= self.limit
                    if fits and self._waiting[0] == ticket:
                        self._add(size)
                        return size
                    self._changed.wait(timeout=0.5)
            finally:
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._changed.notify_all()  # the next in line may go now

    def settle(self, reserved: int, size: int, *, kept: bool) -> None:
        """A page counted at ``reserved`` arrived weighing ``size`` bytes; ``kept``: it waits."""
        with self._changed:
            self._largest_page = max(self._largest_page, size)
            actual = size if kept else 0
            self._add(actual - reserved)
            if actual < reserved:
                self._changed.notify_all()

    def release(self, size: int) -> None:
        """The consumer read ``size`` bytes back: they no longer wait."""
        if size:
            with self._changed:
                self._add(-size)
                self._changed.notify_all()

    def wake(self) -> None:
        """Let waiting workers look at their condition again (a read became consumed)."""
        with self._changed:
            self._changed.notify_all()

    def _add(self, size: int) -> None:
        self.used += size
        self.peak = max(self.peak, self.used)
