"""Thread-safe request counters and history, so tests can inspect exactly what a client sent."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any, NamedTuple


class RequestRecord(NamedTuple):
    """One answered request: method, path, query (without sign), HTTP status and API code."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    code: int | None
    #: When the answer was sent (unix seconds), for benchmarks timing the API phase.
    at: float = 0.0
    #: When the request was received (unix seconds): with ``at``, which requests overlapped.
    started: float = 0.0
    #: The request body as text (POST searches: the filters sent).
    body: str = ""


class Stats:
    """Counts requests per path and 429s, and keeps the last `history` requests."""

    def __init__(self, history: int = 10000) -> None:
        """Start with empty counters."""
        self._lock = threading.Lock()
        self._per_path: Counter[str] = Counter()
        self._records: deque[RequestRecord] = deque(maxlen=max(1, history))
        self._rate_limited = 0

    def record(self, record: RequestRecord) -> None:
        """Add one answered request (status 0 means the connection was dropped)."""
        with self._lock:
            self._per_path[record.path] += 1
            self._records.append(record)
            if record.status == 429:
                self._rate_limited += 1

    @property
    def rate_limited(self) -> int:
        """How many HTTP 429 answers were sent."""
        with self._lock:
            return self._rate_limited

    def requests_per_path(self) -> dict[str, int]:
        """Return a copy of the per-path request counts."""
        with self._lock:
            return dict(self._per_path)

    def count(self, path: str) -> int:
        """Return how many requests were made to one path."""
        with self._lock:
            return self._per_path.get(path, 0)

    def records(self, path: str | None = None) -> list[RequestRecord]:
        """Return the recorded requests, oldest first, optionally only those of one path."""
        with self._lock:
            items = list(self._records)
        return [r for r in items if path is None or r.path == path]

    def reset(self) -> None:
        """Forget all counters and history."""
        with self._lock:
            self._per_path.clear()
            self._records.clear()
            self._rate_limited = 0

    def to_json(self) -> dict[str, Any]:
        """Return everything as a JSON-ready dict (for GET /__admin__/stats)."""
        with self._lock:
            return {
                "requests_per_path": dict(self._per_path),
                "rate_limited": self._rate_limited,
                "records": [r._asdict() for r in self._records],
            }
