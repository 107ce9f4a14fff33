"""The read-ahead bound (issue 13): pages fetched ahead stay under ``read_ahead_mb``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.prefetch import Prefetcher
from tap_tiktok_shop.readahead import ReadAheadBudget
from tests.conftest import REPO, catalog_selecting, tap_config

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
    first = budget.reserve((0,), never, never)
    assert first == 1000  # nothing seen yet: a page is assumed to fill the bound
    budget.settle(first, 300, kept=True)
    assert budget.used == 300
    second = budget.reserve((0,), never, never)
    assert second == 300  # now counted at the largest page seen
    budget.settle(second, 200, kept=False)  # went straight to the consumer
    assert budget.used == 300
    budget.release(300)
    assert budget.used == 0
    assert budget.peak == 1000


def test_a_consumed_read_is_exempt_from_the_bound():
    budget = ReadAheadBudget(limit_bytes=100)
    never = lambda: False  # noqa: E731
    budget.settle(budget.reserve((0,), never, never), 100, kept=True)
    started = time.monotonic()
    assert budget.reserve((0,), lambda: True, never) == 0
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
                peak_disk = max(peak_disk, _spooled_bytes_on_disk(str(tmp_path)))
    assert 0 < prefetcher.budget.peak <= budget + PAGE
    assert 0 < peak_disk <= budget + PAGE  # pages did go to disk, and no more than the bound
    prefetcher.close()


def _spooled_bytes_on_disk(directory: str | None = None) -> int:
    """Bytes of this process's open files in ``directory`` (default: temporary files)."""
    return sum(_open_temporary_files(directory).values())


def _open_temporary_files(directory: str | None = None) -> dict[tuple[int, int], int]:
    """This process's open files in ``directory`` (default: temporary files): size by inode."""
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if (
                target.startswith(directory)
                if directory is not None
                else target.startswith("/tmp") or "(deleted)" in target
            ):
                status = os.fstat(int(fd))
                found[status.st_dev, status.st_ino] = status.st_size
        except OSError:
            continue
    return found


def test_the_earliest_waiting_read_gets_the_budget_first():
    budget = ReadAheadBudget(limit_bytes=100)
    never = lambda: False  # noqa: E731
    budget.settle(budget.reserve((0,), never, never), 100, kept=True)  # full
    granted: list[str] = []

    def wait(name: str, order: tuple[int, ...]) -> None:
        budget.reserve(order, never, never)
        granted.append(name)

    late = threading.Thread(target=wait, args=("late", (9,)), daemon=True)
    late.start()
    time.sleep(0.1)
    early = threading.Thread(target=wait, args=("early", (1, 2)), daemon=True)
    early.start()
    time.sleep(0.1)
    budget.release(100)  # room for one page: it goes to the read the consumer needs sooner
    _wait_until(lambda: granted)
    time.sleep(0.2)
    assert granted == ["early"]
    budget.release(100)
    late.join(5)
    assert granted == ["early", "late"]


def test_the_tap_piped_into_a_slow_loader_keeps_its_temporary_files_under_the_bound(
    emulator_factory, tmp_path
):
    """End to end: a tap process whose stdout is read slowly, its /proc fds sampled."""
    emu = emulator_factory(shops=1, orders_per_shop=6000, order_cache_size=6100)
    bound_mb = 4
    config = tap_config(emu, read_ahead_mb=bound_mb, parallel_reads=8, pages_per_window=2)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting(["shops", "orders"])))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_SHOP_")}
    env["TMPDIR"] = str(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_tiktok_shop",
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env=env,
    )
    assert process.stdout is not None
    peak, records = 0, 0
    for line in process.stdout:  # a loader taking a few hundred records a second
        if b'"type":"RECORD","stream":"orders"' in line:
            records += 1
            if records % 50 == 0:
                time.sleep(0.1)
                peak = max(peak, _spooled_bytes_of(process.pid, str(tmp_path)))
    assert process.wait(60) == 0
    assert records == 6000
    assert 0 < peak <= bound_mb * 2**20 + 2**20  # pages went to disk, never beyond the bound


def _spooled_bytes_of(pid: int, directory: str) -> int:
    """Bytes of a process's open files in ``directory`` (unlinked temporary files included)."""
    total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(directory):
                total += os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
    return total
