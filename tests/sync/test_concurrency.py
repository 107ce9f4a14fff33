"""Read-ahead across shops and request pacing (issue 6): same output as a sequential run."""

from __future__ import annotations

import ast
import time

import pytest

from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.prefetch import Prefetcher
from tap_tiktok_shop.ratelimit import RECOVERY_AFTER, RateLimiter
from tests.support.tap_runs import run_tap, tap_config


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_limiter_spaces_requests_per_key_without_bursts():
    fake = FakeClock()
    limiter = RateLimiter(10, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        limiter.acquire(("shop-a", "/orders"))
    limiter.acquire(("shop-b", "/orders"))  # another shop has its own budget
    assert fake.slept == [0.1, 0.1]


def test_limiter_slows_down_on_429_and_recovers():
    limiter = RateLimiter(10)
    key = ("shop", "/p")
    limiter.throttled(key)
    slowed = limiter.rate_of(key)
    assert slowed < 10
    for _ in range(RECOVERY_AFTER):
        limiter.succeeded(key)
    assert slowed < limiter.rate_of(key) <= 10


def test_disabled_limiter_never_waits():
    fake = FakeClock()
    limiter = RateLimiter(0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(100):
        limiter.acquire("k")
    assert fake.slept == []


def _pages(name: str, count: int, fail_after: int | None = None):
    def produce():
        for index in range(count):
            if fail_after is not None and index == fail_after:
                raise RuntimeError(f"{name} broke")
            records = [{"read": name, "n": index * 10 + i} for i in range(10)]
            yield Page(repr(records).encode(), None, lambda records=records: records)

    return produce


def _parse(raw: bytes):
    return ast.literal_eval(raw.decode())


def test_prefetcher_yields_each_read_in_order_from_spool_and_live_queue():
    prefetcher = Prefetcher(workers=3, live_pages=1)
    for order, name in enumerate(("a", "b", "c")):
        prefetcher.submit(name, (order,), _pages(name, 20), _parse)
    for name in ("a", "b", "c"):  # b and c were spooled while a was consumed
        records = list(prefetcher.consume(name))
        assert [r["n"] for r in records] == list(range(200))
        assert {r["read"] for r in records} == {name}
    prefetcher.close()


def test_prefetcher_reports_a_failure_after_the_pages_before_it():
    prefetcher = Prefetcher(workers=2)
    prefetcher.submit("ok", (0,), _pages("ok", 3), _parse)
    prefetcher.submit("bad", (1,), _pages("bad", 5, fail_after=2), _parse)
    assert len(list(prefetcher.consume("ok"))) == 30
    seen = []
    records = prefetcher.consume("bad")
    with pytest.raises(RuntimeError, match="bad broke"):
        seen.extend(records)
    assert len(seen) == 20
    prefetcher.close()


def test_prefetcher_starts_lower_order_keys_first_and_passes_other_items_through():
    started = []
    marker = object()

    def produce(name):
        def run():
            started.append(name)
            yield marker
            yield from _pages(name, 1)()

        return run

    prefetcher = Prefetcher(workers=1)
    prefetcher.submit("late", (1,), produce("late"), _parse)
    prefetcher.submit("window", (0, 1), produce("window"), _parse)
    prefetcher.submit("first", (0,), produce("first"), _parse)
    deadline = time.monotonic() + 10
    while len(started) < 3 and time.monotonic() < deadline:  # the worker spools all three
        time.sleep(0.01)
    items = list(prefetcher.consume("late"))
    assert items[0] is marker
    assert len(items) == 11
    for name in ("first", "window"):
        assert len(list(prefetcher.consume(name))) == 11
    # "late" was taken first by the idle worker; then the queue is served by order key.
    assert started == ["late", "first", "window"]
    prefetcher.close()


def test_parallel_and_sequential_runs_emit_the_same_orders_and_state(emulator_factory, tmp_path):
    emu = emulator_factory(shops=4, orders_per_shop=250, latency_ms=5)
    sequential = run_tap(tmp_path / "seq", emu, tap_config(emu, parallel_reads=1, page_size=20))
    parallel = run_tap(tmp_path / "par", emu, tap_config(emu, parallel_reads=8, page_size=20))
    assert sequential.returncode == parallel.returncode == 0, parallel.stderr

    def shop_order(run):
        return [(o["shop_id"], o["id"]) for o in run.records("orders")]

    assert shop_order(parallel) == shop_order(sequential)  # same records, same order
    assert parallel.last_state == sequential.last_state
    assert len(parallel.records("orders")) == 1000
