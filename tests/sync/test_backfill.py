"""One big shop read as time windows in parallel (issue 10): exact, resumable, bounded re-reads."""

from __future__ import annotations

import json
import signal
import time

from tests.support.faultkit import all_orders, assert_state_never_ahead, bookmarks, emitted
from tests.support.tap_runs import (
    ORDER_STREAMS,
    catalog_selecting,
    finish_tap,
    run_in_process,
    spawn_tap,
    tap_config,
)

ORDERS = "/order/202309/orders/search"
PAGE_SIZE, PAGES_PER_WINDOW = 50, 4
WINDOW = PAGE_SIZE * PAGES_PER_WINDOW


def _config(emu, **overrides):
    return tap_config(emu, page_size=PAGE_SIZE, pages_per_window=PAGES_PER_WINDOW, **overrides)


def _shop_bookmarks(run, shop):
    return [bookmarks(state).get(shop) for state in run.states if bookmarks(state).get(shop)]


def test_a_big_shop_is_read_in_windows_with_state_after_each(emulator_factory):
    emu = emulator_factory(shops=1, orders_per_shop=2000, latency_ms=5)
    shop = emu.shops()[0]["id"]
    run = run_in_process(emu, _config(emu))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "into 10 windows" in run.stderr  # sized from total_count: 2000 / (50 x 4)
    assert emitted(run) == all_orders(emu)
    assert len(run.records("orders")) == 2000  # windows do not overlap
    marks = _shop_bookmarks(run, shop)
    assert len(set(marks)) >= 9, "STATE should follow each window, not only the shop's end"
    assert marks == sorted(marks)
    assert marks[-1] == max(row["update_time"] for row in emu.orders_for_shop(shop))
    assert_state_never_ahead(run, emu)


def _bookmarked(stdout, shop, above):
    """Whether a STATE in this output moved the shop's bookmark past ``above``."""
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "STATE" and (bookmarks(message["value"]).get(shop) or 0) > above:
            return True
    return False


def _killed_run(emu, tmp_path, config, state, hold_after):
    """Run until the page after ``hold_after`` searches hangs, let the rest drain, SIGKILL."""
    emu.faults.clear()
    emu.faults.add("slow", path_prefix=ORDERS, skip=hold_after, seconds=120)
    process = spawn_tap(tmp_path, config, state=state, catalog=catalog_selecting(ORDER_STREAMS))
    deadline = time.monotonic() + 60
    while not emu.faults.fired:
        assert process.poll() is None, "the tap ended before the held page"
        assert time.monotonic() < deadline, "the tap never reached the held page"
        time.sleep(0.05)
    # Every window before the held one is emitted meanwhile: wait for its STATE (a loaded
    # machine may take a while), then a little longer for more of them.
    shop = emu.shops()[0]["id"]
    previous = bookmarks(state).get(shop, 0) if state else 0
    while not _bookmarked(process.stdout_so_far(), shop, previous):
        assert process.poll() is None, "the tap ended before the held page"
        assert time.monotonic() < deadline, "no window was bookmarked before the held page"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    return finish_tap(process, emu, config)


def test_killed_backfill_resumes_twice_without_loss_and_rereads_at_most_a_window(
    emulator_factory, tmp_path
):
    emu = emulator_factory(shops=1, orders_per_shop=3000, latency_ms=20)
    shop = emu.shops()[0]["id"]
    config = _config(emu, parallel_reads=4)
    before: set = set()
    state = None
    for attempt, hold_after in enumerate((12, 14)):
        killed = _killed_run(emu, tmp_path / f"run{attempt}", config, state, hold_after)
        assert killed.returncode == -signal.SIGKILL
        got = emitted(killed)
        assert got, "nothing was emitted before the kill"
        reread = got & before
        assert len(reread) <= WINDOW * 1.25, f"resume {attempt} re-read {len(reread)} orders"
        assert_state_never_ahead(killed, emu, emitted_before=before)
        assert _shop_bookmarks(killed, shop), "no window finished before the kill"
        before |= got
        state = killed.last_state
    emu.faults.clear()
    final = run_in_process(emu, config, state=state)
    assert final.returncode == 0, final.stderr[-2000:]
    assert len(emitted(final) & before) <= WINDOW * 1.25
    assert before | emitted(final) == all_orders(emu)
    assert_state_never_ahead(final, emu, emitted_before=before)
    assert bookmarks(final.last_state)[shop] == max(
        row["update_time"] for row in emu.orders_for_shop(shop)
    )
