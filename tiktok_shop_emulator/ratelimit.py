"""A strict sliding-window rate limiter, keyed like the real API's per (app, shop, API) quota."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 1.0


class RateLimiter:
    """Allows at most `limit` accepted requests per key in any 1-second window, with no burst."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with empty windows."""
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, str], deque[float]] = {}

    def allow(self, key: tuple[str, str, str], limit: int) -> bool:
        """Record and accept a request, or refuse it (refusals do not count) when over `limit`."""
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def reset(self) -> None:
        """Forget all windows."""
        with self._lock:
            self._windows.clear()
