"""Scripted fault injection, so clients can be tested against every failure they must survive."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS: frozenset[str] = frozenset({
    "http500", "http502", "http503", "http504",
    "rate_limit", "rate_limit_200", "internal_200",
    "reset", "slow", "truncated", "html_200",
    "expired_token", "invalid_token", "invalid_page_token", "repeat_page_token",
    "result_cap", "scope_missing",
})


@dataclass
class Fault:
    """One scripted fault: applies to the next `remaining` business requests under a path prefix."""

    kind: str
    remaining: int
    path_prefix: str = "/"
    opts: dict[str, Any] = field(default_factory=dict)


class FaultInjector:
    """A thread-safe queue of scripted faults, consumed in the order they were added."""

    def __init__(self) -> None:
        """Start with no faults scheduled."""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.fired: deque[tuple[str, str]] = deque(maxlen=10000)  # (kind, path) fired

    def add(self, kind: str, count: int = 1, path_prefix: str = "/", **opts: Any) -> None:
        """Schedule `kind` for the next `count` business requests under `path_prefix`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, count, path_prefix, dict(opts)))

    def take(self, path: str) -> Fault | None:
        """Consume and return the first pending fault that applies to `path`, if any."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    self.fired.append((fault.kind, path))
                    return Fault(fault.kind, 1, fault.path_prefix, dict(fault.opts))
        return None

    def pending(self) -> list[Fault]:
        """Return copies of the faults still scheduled."""
        with self._lock:
            return [Fault(f.kind, f.remaining, f.path_prefix, dict(f.opts)) for f in self._faults]

    def clear(self) -> None:
        """Drop every scheduled fault."""
        with self._lock:
            self._faults.clear()
