"""The read-ahead bound (issue 13): pages fetched ahead stay under ``read_ahead_mb``."""

from __future__ import annotations

import os
import threading
import time

from tap_tiktok_shop.client import Page
from tap_tiktok_shop.prefetch import Prefetcher
from tap_tiktok_shop.readahead import ReadAheadBudget

PAGE = 100 * 1024  # bytes of one fake page


def _big_pages(name: str, count: int, fetched: list[str] | None = None):
    """A read of ``count`` pages of PAGE bytes each; notes each fetch in ``fetched``."""

    def produce():
        for index in range(count):
            if fetched is not None:
                fetched.append(name)
            raw = f"{name}:{index}:".encode().ljust(PAGE, b"x")
            yield Page(raw, None, lambda raw=raw: [{"page": raw[:20]}])

    return produce


def _parse(raw: bytes):
    return [{"page": raw[:20]}]


def _wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_workers_wait_when_the_pages_ahead_fill_the_budget():
    budget = 10 * PAGE
    prefetcher = Prefetcher(workers=4, budget_bytes=budget)
    fetched: list[str] = []
    for order in range(4):
        prefetcher.submit(order, (order,), _big_pages(f"r{order}", 50, fetched), _parse)
    # Nobody consumes: the workers fetch until the budget is full, then wait.
    _wait_until(lambda: len(fetched) >= 10)
    time.sleep(0.3)
    assert len(fetched) <= 10 + 4  # at most one page in flight per worker beyond the bound
    assert prefetcher.budget.peak <= budget + PAGE
    # Consuming every read in order still yields every page, and memory was bounded all along.
    for order in range(4):
        pages = [record["page"] for record in prefetcher.consume(order)]
        assert pages == [f"r{order}:{i}:".encode().ljust(20, b"x")[:20] for i in range(50)]
    assert prefetcher.budget.peak <= budget + PAGE
    assert prefetcher.budget.used == 0
    prefetcher.close()


def test_the_read_being_consumed_never_waits_for_a_full_budget():
    # One worker, busy spooling a later read until the budget is full; the consumer then
    # asks for an earlier read that no worker has started: it runs on a thread of its own.
    prefetcher = Prefetcher(workers=1, budget_bytes=3 * PAGE)
    prefetcher.submit("later", (5,), _big_pages("later", 40), _parse)
    _wait_until(lambda: prefetcher.budget.used >= 3 * PAGE)
    prefetcher.submit("first", (0,), _big_pages("first", 30), _parse)
    done = threading.Event()
    counts: dict[str, int] = {}

    def consume():
        counts["first"] = len(list(prefetcher.consume("first")))
        counts["later"] = len(list(prefetcher.consume("later")))
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert done.wait(20), "the consumer stalled on a full read-ahead budget"
    assert counts == {"first": 30, "later": 40}
    assert prefetcher.budget.peak <= 3 * PAGE + PAGE
    prefetcher.close()


def test_budget_counts_a_page_before_it_is_fetched_and_corrects_it_after():
    budget = ReadAheadBudget(limit_bytes=1000)
    never = lambda: False  # noqa: E731
    first = budget.reserve(never, never)
    assert first == 1000  # nothing seen yet: a page is assumed to fill the bound
    budget.settle(first, 300, kept=True)
    assert budget.used == 300
    second = budget.reserve(never, never)
    assert second == 300  # now counted at the largest page seen
    budget.settle(second, 200, kept=False)  # went straight to the consumer
    assert budget.used == 300
    budget.release(300)
    assert budget.used == 0
    assert budget.peak == 1000


def test_a_consumed_read_is_exempt_from_the_bound():
    budget = ReadAheadBudget(limit_bytes=100)
    never = lambda: False  # noqa: E731
    budget.settle(budget.reserve(never, never), 100, kept=True)
    started = time.monotonic()
    assert budget.reserve(lambda: True, never) == 0
    assert time.monotonic() - started < 0.1


def test_spool_files_stay_under_the_bound_with_a_slow_consumer(tmp_path, monkeypatch):
    """Temporary files (what filled /tmp before the bound) never exceed the bound on disk."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    budget = 2 * 2**20
    prefetcher = Prefetcher(workers=8, budget_bytes=budget)
    for order in range(8):
        prefetcher.submit(order, (order,), _big_pages(f"r{order}", 60), _parse)
    peak_disk = 0
    for order in range(8):
        for index, _ in enumerate(prefetcher.consume(order)):
            if index % 10 == 0:
                time.sleep(0.01)  # a slow loader
                peak_disk = max(peak_disk, _spooled_bytes_on_disk())
    assert 0 < prefetcher.budget.peak <= budget + PAGE
    assert peak_disk <= budget + PAGE
    prefetcher.close()


def _spooled_bytes_on_disk() -> int:
    """Bytes of this process's open temporary files (unlinked ones included)."""
    total = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("/tmp") or "(deleted)" in target:
                total += os.fstat(int(fd)).st_size
        except OSError:
            continue
    return total
