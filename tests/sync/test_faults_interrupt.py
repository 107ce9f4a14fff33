"""The fault matrix, row 6 (issue 5): the tap killed halfway, then run again from its STATE.

The tap runs as a real process. A ``slow`` fault holds page k+1 open (or a 429 asking for a
60 s wait puts it into a backoff sleep), so the signal lands at a known point: after k pages
were emitted. The interrupted run must exit non-zero and leave a STATE that is safe to resume
from; the rerun from that STATE must bring every order the first run did not.
"""

from __future__ import annotations

import json
import signal
import time
import typing as t

import pytest

from tests.support.faultkit import (
    all_orders,
    assert_one_error_line,
    assert_state_never_ahead,
    bookmarks,
    emitted,
)
from tests.support.tap_runs import (
    ORDER_STREAMS,
    catalog_selecting,
    finish_tap,
    run_in_process,
    spawn_tap,
    tap_config,
)
from tiktok_shop_emulator import Emulator

ORDERS = "/order/"
PAGE_SIZE = 20
PAGES_PER_SHOP = 3


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=2, orders_per_shop=PAGE_SIZE * PAGES_PER_SHOP)


def _hold_page(emu: Emulator, after_pages: int, how: str) -> None:
    """Keep the tap busy on page ``after_pages + 1``: a hanging answer or a long backoff."""
    if how == "network wait":
        emu.faults.add("slow", path_prefix=ORDERS, skip=after_pages, seconds=120)
    else:
        emu.faults.add("rate_limit", path_prefix=ORDERS, skip=after_pages, retry_after=60)


def _interrupt_after(emu: Emulator, process, after_pages: int, signum: int) -> None:
    deadline = time.monotonic() + 30
    while not emu.faults.fired:
        assert process.poll() is None, "the tap ended before reaching the held page"
        assert time.monotonic() < deadline, "the tap never reached the held page"
        time.sleep(0.02)
    time.sleep(0.2)  # let the answer of a 429 reach the tap's backoff sleep
    process.send_signal(signum)


def _rerun_brings_the_rest(emu: Emulator, config: dict[str, t.Any], killed) -> None:
    emu.faults.clear()
    rerun = run_in_process(emu, config, state=killed.last_state or None)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_state_never_ahead(rerun, emu, emitted_before=emitted(killed))
    assert emitted(killed) | emitted(rerun) == all_orders(emu)


@pytest.mark.parametrize(
    ("signum", "how"),
    [
        (signal.SIGTERM, "network wait"),
        (signal.SIGTERM, "backoff sleep"),
        (signal.SIGINT, "network wait"),
    ],
)
def test_stopped_by_signal_exits_non_zero_with_resumable_state(emu, tmp_path, signum, how):
    first = emu.shops()[0]["id"]
    config = tap_config(emu, page_size=PAGE_SIZE, parallel_reads=1)
    after_pages = PAGES_PER_SHOP + 1  # the first shop done, the second one halfway
    _hold_page(emu, after_pages, how)
    process = spawn_tap(tmp_path, config, catalog=catalog_selecting(ORDER_STREAMS))
    _interrupt_after(emu, process, after_pages, signum)
    killed = finish_tap(process, emu, config, timeout=30)

    assert killed.returncode == 128 + signum  # a scheduler must not take it for a success
    assert_one_error_line(killed, f"Interrupted by {signal.Signals(signum).name}")
    assert len(killed.records("orders")) == after_pages * PAGE_SIZE
    assert_state_never_ahead(killed, emu)
    assert set(bookmarks(killed.last_state)) == {first}
    assert "progress_markers" not in json.dumps(killed.last_state)
    _rerun_brings_the_rest(emu, config, killed)


@pytest.mark.parametrize("after_pages", [1, PAGES_PER_SHOP + 1])
def test_sigkill_leaves_the_last_state_safe_to_resume_from(emu, tmp_path, after_pages):
    config = tap_config(emu, page_size=PAGE_SIZE, parallel_reads=1)
    _hold_page(emu, after_pages, "network wait")
    process = spawn_tap(tmp_path, config, catalog=catalog_selecting(ORDER_STREAMS))
    _interrupt_after(emu, process, after_pages, signal.SIGKILL)
    killed = finish_tap(process, emu, config, timeout=30)

    assert killed.returncode == -signal.SIGKILL
    assert len(killed.records("orders")) == after_pages * PAGE_SIZE
    assert_state_never_ahead(killed, emu)
    expected_bookmarks = {emu.shops()[0]["id"]} if after_pages > PAGES_PER_SHOP else set()
    assert set(bookmarks(killed.last_state)) == expected_bookmarks
    _rerun_brings_the_rest(emu, config, killed)
