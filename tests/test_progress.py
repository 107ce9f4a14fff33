"""Progress lines (issue 16): on stderr, per shop and stream, long reads only, counts add up."""

from __future__ import annotations

import logging
import re
import typing as t

import pytest
from singer_sdk import metrics

from tap_tiktok_shop import progress
from tap_tiktok_shop.progress import Progress
from tap_tiktok_shop.windows import WINDOW_KEY
from tests.conftest import catalog_selecting, run_in_process, tap_config

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator

LINE = re.compile(r"Progress: shop (\d+) (\w+): ([\d,]+)(?: of ([\d,]+))? records")
DONE = re.compile(r"Progress: shop (\d+) (\w+) done: ([\d,]+) records")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _progress(
    caplog: pytest.LogCaptureFixture, *, enabled: bool = True
) -> tuple[Progress, FakeClock]:
    caplog.set_level(logging.INFO, logger="test-progress")
    clock = FakeClock()
    return Progress(
        logging.getLogger("test-progress"), enabled=enabled, interval=10.0, clock=clock
    ), clock


def _ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The progress lines (the SDK's own metric lines may be captured too)."""
    return [r.getMessage() for r in caplog.records if r.name == "test-progress"]


def _emit(tracker: Progress, clock: FakeClock, shop: str, records: int, seconds: float) -> None:
    """The SDK's counter for one shop's read: ``records`` emitted over ``seconds``."""
    counter = tracker.counter(metrics.record_counter("orders"))
    with counter:
        counter.with_context({"shop_id": shop})
        for _ in range(records):
            clock.now += seconds / records
            counter.increment()


def test_a_long_read_logs_progress_with_percent_rate_and_eta_then_done(caplog):
    tracker, clock = _progress(caplog)
    tracker.expect("orders", {"shop_id": "1", WINDOW_KEY: (0, 100)}, 320)
    _emit(tracker, clock, "1", 240, 30.0)  # 8 records a second, one every 0.125 s
    lines = _ours(caplog)
    assert lines == [
        "Progress: shop 1 orders: 80 of 320 records (25%), 8 records/s, about 30 s left",
        "Progress: shop 1 orders: 160 of 320 records (50%), 8 records/s, about 20 s left",
        "Progress: shop 1 orders: 240 of 320 records (75%), 8 records/s, about 10 s left",
        "Progress: shop 1 orders done: 240 records in 30 s (8 records/s)",
    ]


def test_a_short_read_is_quiet(caplog):
    tracker, clock = _progress(caplog)
    tracker.expect("orders", {"shop_id": "1", WINDOW_KEY: (0, 100)}, 500)
    _emit(tracker, clock, "1", 500, 9.0)
    assert _ours(caplog) == []
    assert tracker.tally("orders", "1").emitted == 500


def test_the_setting_turns_the_lines_off_but_counts_stay(caplog):
    tracker, clock = _progress(caplog, enabled=False)
    _emit(tracker, clock, "1", 3000, 60.0)
    assert _ours(caplog) == []
    assert tracker.tally("orders", "1").emitted == 3000


def test_windows_of_a_split_read_count_once_and_child_reads_add_up(caplog):
    tracker, _ = _progress(caplog)
    shop = {"shop_id": "1"}
    tracker.expect("orders", {**shop, WINDOW_KEY: (0, 100)}, 1000)  # the whole window
    for start, total in ((0, 400), (50, 600)):  # its parallel windows
        tracker.expect("orders", {**shop, WINDOW_KEY: (start, start + 50)}, total)
    tracker.expect("orders", {**shop, WINDOW_KEY: (0, 100)}, 1000)  # read again (page token)
    assert tracker.tally("orders", "1").expected == 1000
    for statement in ("a", "b", "a"):  # one read per statement; "a" restarted
        tracker.expect("statement_transactions", {**shop, "statement_id": statement}, 7)
    assert tracker.tally("statement_transactions", "1").expected == 14


def _lines(stderr: str) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
    lines = [m for m in map(LINE.search, stderr.splitlines()) if m]
    done = [m for m in map(DONE.search, stderr.splitlines()) if m]
    return lines, done


def test_a_big_shop_read_in_parallel_windows_reports_counts_that_add_up(
    emulator_factory: t.Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch
):
    emu = emulator_factory(shops=2, orders_per_shop=400, latency_ms=40)
    monkeypatch.setattr(progress, "PROGRESS_INTERVAL_SECONDS", 0.2)
    config = tap_config(emu, page_size=20, pages_per_window=2, requests_per_second=0)
    run = run_in_process(emu, config, catalog=catalog_selecting(["shops", "orders"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Splitting orders window" in run.stderr  # the read went through parallel windows
    lines, done = _lines(run.stderr)
    assert lines, run.stderr[-2000:]
    for shop in {record["shop_id"] for record in run.records("orders")}:
        ours = [m for m in lines if m.group(1) == shop]
        if not ours:  # fetched ahead meanwhile: emitted within the interval, so quiet
            assert not [m for m in done if m.group(1) == shop]
            continue
        assert all(_number(m.group(4)) == 400 for m in ours)  # the shop's total, once
        counts = [_number(m.group(3)) for m in ours]
        assert counts == sorted(counts)
        assert counts[-1] <= 400
        emitted = sum(1 for record in run.records("orders") if record["shop_id"] == shop)
        assert [_number(m.group(3)) for m in done if m.group(1) == shop] == [emitted]
    assert all(" | Progress:" in line for line in run.stderr.splitlines() if "Progress:" in line)
    assert "Progress: " not in run.stdout


def test_a_quick_run_prints_no_progress_line(emulator):
    run = run_in_process(emulator, tap_config(emulator))
    assert run.returncode == 0
    assert "Progress:" not in run.stderr
