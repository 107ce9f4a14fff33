"""Scripted fault injection, so clients can be tested against every failure they must survive."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: Events rather than answers: they change the emulator's state, then the request is answered
#: normally (so it meets the new state: an expired token, a shop no longer authorized).
EVENT_KINDS: frozenset[str] = frozenset({"expire_access_tokens", "deauthorize_shop"})
FAULT_KINDS: frozenset[str] = frozenset(
    {
        "http500",
        "http502",
        "http503",
        "http504",
        "rate_limit",
        "rate_limit_200",
        "internal_200",
        "reset",
        "slow",
        "truncated",
        "html_200",
        "expired_token",
        "invalid_token",
        "token_deauthorized",
        "seller_inactive",
        "invalid_page_token",
        "repeat_page_token",
        "result_cap",
        "scope_missing",
        "answer",  # any status, body and headers (opts): hostile or malformed answers, redirects
        *EVENT_KINDS,
    }
)


@dataclass
class Fault:
    """One scripted fault: applies to `remaining` business requests under a path prefix.

    The first `skip` matching requests pass untouched, so a fault can hit "page k + 1" of a read.
    """

    kind: str
    remaining: int
    path_prefix: str = "/"
    opts: dict[str, Any] = field(default_factory=dict)
    skip: int = 0


class FaultInjector:
    """A thread-safe queue of scripted faults, consumed in the order they were added."""

    def __init__(self) -> None:
        """Start with no faults scheduled."""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.fired: deque[tuple[str, str]] = deque(maxlen=10000)  # (kind, path) fired

    def add(
        self, kind: str, count: int = 1, path_prefix: str = "/", *, skip: int = 0, **opts: Any
    ) -> None:
        """Schedule `kind` for `count` business requests under `path_prefix`, after `skip`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if skip < 0:
            raise ValueError("skip must not be negative")
        if kind == "deauthorize_shop" and not opts.get("shop_id"):
            raise ValueError("deauthorize_shop needs shop_id")
        with self._lock:
            self._faults.append(Fault(kind, count, path_prefix, dict(opts), skip))

    def take(
        self,
        path: str,
        *,
        page_token: bool = True,
        shop_id: str | None = None,
        named_only: bool = False,
    ) -> Fault | None:
        """Consume and return the first due fault that applies to `path`, if any.

        Every matching fault still skipping counts this request, whether or not another fault
        fires on it. ``invalid_page_token`` applies only to requests that send a page token
        (``page_token``): an API can refuse only a token it was given. A fault with the option
        ``on_shop`` applies only to requests for that shop (``shop_id``, from the cipher), so
        one shop can fail while shops read at the same time do not. ``named_only``: only
        faults whose prefix names the path more closely than "/" apply (token calls: a fault
        meant for business calls must not hit them).
        """
        due: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not path.startswith(fault.path_prefix):
                    continue
                if named_only and fault.path_prefix in {"", "/"}:
                    continue
                if fault.opts.get("on_shop") not in (None, shop_id):
                    continue
                if fault.kind == "invalid_page_token" and not page_token:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if due is None:
                    due = fault
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    self.fired.append((fault.kind, path))
        return None if due is None else Fault(due.kind, 1, due.path_prefix, dict(due.opts))

    def pending(self) -> list[Fault]:
        """Return copies of the faults still scheduled."""
        with self._lock:
            return [
                Fault(f.kind, f.remaining, f.path_prefix, dict(f.opts), f.skip)
                for f in self._faults
            ]

    def clear(self) -> None:
        """Drop every scheduled fault."""
        with self._lock:
            self._faults.clear()
