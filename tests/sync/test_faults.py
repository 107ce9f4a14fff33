"""The fault matrix, rows 1-5 (issue 5): every fault the API can throw at a scheduled sync.

Each row runs the tap in-process against the emulator with a scripted fault. The run must
either finish with exactly the expected orders, or stop with one ERROR line and a non-zero
exit; either way no STATE may point past an order that was not emitted. Retry waits are
recorded instead of slept (the ``waits`` fixture), so the production retry policy itself is
what is tested, without the wall-clock cost.

Layout of the default emulator: 2 shops x 60 orders, read 20 per page, so each shop is 3 pages
of ``/order/...`` requests and ``skip=k`` puts a fault on the (k+1)-th page of the run.
"""

from __future__ import annotations

import re
import time
import typing as t

import pytest
import requests

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.errors import TikTokShopAPIError
from tap_tiktok_shop.pagination import ENVELOPE_ATTR, CursorPaginator
from tests.support.faultkit import (
    all_orders,
    assert_one_error_line,
    assert_shop_failed,
    assert_state_never_ahead,
    bookmarks,
    config_for,
    emitted,
)
from tests.support.tap_runs import run_in_process, run_tap
from tiktok_shop_emulator import Emulator

ORDERS = "/order/"
PAGES_PER_SHOP = 3
REFRESH = "/api/v2/token/refresh"


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=2, orders_per_shop=60)


def assert_complete(run, emu: Emulator) -> None:
    """Finished cleanly with every order exactly once, and a safe STATE."""
    assert run.returncode == 0, run.stderr[-3000:]
    assert emitted(run) == all_orders(emu)
    assert len(run.records("orders")) == len(all_orders(emu)), "an order was emitted twice"
    assert assert_state_never_ahead(run, emu) >= 2
    assert set(bookmarks(run.last_state)) == {shop["id"] for shop in emu.shops()}


def shop_ids(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops()]


# --- row 1: rate limiting ----------------------------------------------------------------------


def test_429_storm_with_retry_after_waits_what_the_server_asks(emu, waits):
    emu.faults.add("rate_limit", count=4, path_prefix=ORDERS, skip=2, retry_after=7)
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert waits == [7.0] * 4


def test_429_storm_without_retry_after_backs_off_exponentially_with_jitter(emu, waits):
    emu.faults.add("rate_limit", count=5, path_prefix=ORDERS, skip=1)
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert len(waits) == 5
    base = TikTokShopStream.retry_base_seconds
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(TikTokShopStream.retry_cap_seconds, base * 2**attempt)
        assert ceiling / 2 <= wait <= ceiling, (attempt, wait)


def test_rate_limit_code_inside_http_200_is_retried(emu, waits):
    emu.faults.add("rate_limit_200", count=3, path_prefix=ORDERS, skip=4)
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert len(waits) == 3


def test_endless_429_storm_gives_up_on_that_shop_keeping_finished_shops(emu, waits):
    first, second = shop_ids(emu)
    emu.faults.add("rate_limit", count=1000, path_prefix=ORDERS, skip=PAGES_PER_SHOP + 1)
    run = run_in_process(emu, config_for(emu))
    line = assert_shop_failed(run, second, "36009002", "gave up after 8 attempts", "run again")
    assert "request_id" in line
    assert len(waits) == TikTokShopStream.retry_max_tries - 1
    assert_state_never_ahead(run, emu)
    assert set(bookmarks(run.last_state)) == {first}  # the finished shop keeps its progress
    assert {key for key in emitted(run) if key[0] == first} == all_orders(emu, [first])


# --- row 2: a flaky API ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    ["http500", "http502", "http503", "http504", "internal_200", "reset", "truncated", "html_200"],
)
def test_intermittent_failures_are_retried_and_nothing_is_lost(emu, waits, kind):
    emu.faults.add(kind, count=2, path_prefix=ORDERS, skip=2)
    emu.faults.add(kind, count=1, path_prefix="/authorization/")
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert len(waits) == 3
    assert [fired for fired, _ in emu.faults.fired] == [kind] * 3


def test_read_timeout_is_retried(emu, waits):
    emu.faults.add("slow", count=1, path_prefix=ORDERS, skip=1, seconds=5)
    run = run_in_process(emu, config_for(emu, request_timeout=1))
    assert_complete(run, emu)
    assert len(waits) == 1
    assert "ReadTimeout" in run.stderr


def test_randomly_failing_api_still_yields_every_order(emulator_factory, waits):
    emu = emulator_factory(shops=2, orders_per_shop=200, fail_rate=0.3, seed=5)
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert len(waits) >= 3  # the seeded failures did happen (21 requests)


def test_connection_errors_that_never_stop_end_each_shop_in_one_line(emu, waits):
    emu.faults.add("reset", count=1000, path_prefix=ORDERS)
    run = run_in_process(emu, config_for(emu))
    for shop in shop_ids(emu):
        assert_shop_failed(run, shop, f"shop {shop}", "ConnectionError", "gave up after 8")
    assert bookmarks(run.last_state) == {}


# --- row 3: tokens and clocks ------------------------------------------------------------------


def test_access_token_expiring_between_pages_is_refreshed_and_the_page_retried(emu, waits):
    emu.faults.add("expire_access_tokens", path_prefix=ORDERS, skip=PAGES_PER_SHOP + 1)
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)
    assert emu.stats.count(REFRESH) == 2  # the first token, then one refresh
    assert waits == [0.0]  # a refresh needs no backoff


def test_revoked_refresh_token_stops_with_one_clear_line(emu, waits):
    first, second = shop_ids(emu)
    config = config_for(emu, access_token=emu.issue_access_token())
    emu.revoke_refresh_token()
    emu.faults.add("expire_access_tokens", path_prefix=ORDERS, skip=PAGES_PER_SHOP + 1)
    run = run_in_process(emu, config)
    assert_one_error_line(run, "36004001", "authorize the app again")
    assert_state_never_ahead(run, emu)
    assert set(bookmarks(run.last_state)) == {first}
    assert not {key for key in emitted(run) if key[0] == second} - all_orders(emu, [second])


@pytest.mark.parametrize(("offset", "side"), [(-3600, "ahead of"), (3600, "behind")])
def test_clock_skew_says_to_fix_the_clock(emu, waits, offset, side):
    emu.config.clock_offset_seconds = offset
    run = run_in_process(emu, config_for(emu))
    line = assert_one_error_line(run, "36009004", "timestamp", "clock", side, "NTP")
    measured = re.search(r"clock is about (\d+) s", line)
    assert measured, line
    assert abs(int(measured.group(1)) - abs(offset)) <= 5  # the Date header has 1 s steps
    assert run.records("orders") == []
    assert waits == []  # a wrong clock is not retried: it would fail the same way


# --- row 4: shops and paging -------------------------------------------------------------------


def test_shop_deauthorized_after_listing_ends_that_shop_only(emu, waits):
    first, second = shop_ids(emu)
    emu.faults.add("deauthorize_shop", path_prefix=ORDERS, shop_id=second)
    run = run_in_process(emu, config_for(emu))
    assert_shop_failed(run, second, f"shop {second}", "101000", "authorize it again")
    assert [shop["id"] for shop in run.records("shops")] == [first, second]
    assert emitted(run) == all_orders(emu, [first])
    assert_state_never_ahead(run, emu)
    assert set(bookmarks(run.last_state)) == {first}


def test_on_the_command_line_too_a_failure_is_one_line_and_exit_1(emu, tmp_path):
    first, second = shop_ids(emu)
    emu.faults.add("deauthorize_shop", path_prefix=ORDERS, shop_id=second)
    run = run_tap(tmp_path, emu, config_for(emu))
    assert run.returncode == 1
    assert_shop_failed(run, second, "101000")
    assert_state_never_ahead(run, emu)
    assert set(bookmarks(run.last_state)) == {first}


def test_refused_page_token_restarts_the_window_once_emitting_each_order_once(emu, waits):
    emu.faults.add("invalid_page_token", path_prefix=ORDERS)  # the first shop's second page
    run = run_in_process(emu, config_for(emu))
    assert_complete(run, emu)  # each order exactly once, though page 1 was served twice
    assert emu.stats.count("/order/202309/orders/search") == 2 + PAGES_PER_SHOP * 2
    assert "reading the window again from its first page" in run.stderr
    assert waits == []


def test_page_token_refused_again_after_the_restart_ends_that_shop_only(emu, waits):
    first, second = shop_ids(emu)
    emu.faults.add("invalid_page_token", path_prefix=ORDERS)  # page 2 of the first shop...
    emu.faults.add("invalid_page_token", path_prefix=ORDERS, skip=1)  # ...and again after
    run = run_in_process(emu, config_for(emu))
    assert_shop_failed(run, first, "36009001", "Invalid page_token", "read again from its first")
    assert len([o for o in run.records("orders") if o["shop_id"] == first]) == 20  # page 1, once
    assert_state_never_ahead(run, emu)
    assert set(bookmarks(run.last_state)) == {second}


def test_shop_with_zero_orders_is_synced_and_left_without_bookmark(emulator_factory, waits):
    emu = emulator_factory(shops=3, orders_per_shop=60, empty_shops=1)
    empty = shop_ids(emu)[2]
    run = run_in_process(emu, config_for(emu))
    assert run.returncode == 0, run.stderr[-3000:]
    assert emitted(run) == all_orders(emu)
    assert set(bookmarks(run.last_state)) == set(shop_ids(emu)[:2])
    again = run_in_process(emu, config_for(emu), state=run.last_state)
    assert again.returncode == 0
    assert not [order for order in again.records("orders") if order["shop_id"] == empty]


def test_repeating_next_page_token_stops_instead_of_looping(emu, waits):
    first = shop_ids(emu)[0]
    emu.faults.add("repeat_page_token", count=1000, path_prefix=ORDERS, skip=1)
    run = run_in_process(emu, config_for(emu))
    assert_one_error_line(run, f"shop {first}", "next_page_token", "instead of looping")
    assert emu.stats.count("/order/202309/orders/search") == 2
    assert_state_never_ahead(run, emu)
    assert bookmarks(run.last_state) == {}


def test_page_tokens_cycling_through_several_pages_are_caught_too():
    paginator = CursorPaginator(describe=lambda response: "/orders (shop 1)")
    pages = []
    for token in ("A", "B", "C", "A"):
        response = requests.Response()
        setattr(response, ENVELOPE_ATTR, {"code": 0, "data": {"next_page_token": token}})
        pages.append(response)
    for response in pages[:3]:
        paginator.advance(response)
    with pytest.raises(TikTokShopAPIError, match=r"/orders \(shop 1\).*after 4 pages"):
        paginator.advance(pages[3])


# --- row 5: orders changing while the sync runs ------------------------------------------------


def _versions(*runs) -> set[tuple[str, int]]:
    return {(order["id"], order["update_time"]) for run in runs for order in run.records("orders")}


def _current_versions(emu: Emulator) -> set[tuple[str, int]]:
    return {
        (row["id"], row["update_time"])
        for shop in emu.shops()
        for row in emu.orders_for_shop(shop["id"])
    }


def _wait_until_after(moment: int) -> None:
    """Let the clock pass ``moment``, so the next run's frozen end lies beyond it."""
    while time.time() < moment + 1:
        time.sleep(0.05)


def _two_runs_with_changes(emu: Emulator, knobs: dict[str, t.Any]):
    """Run once while the knobs change orders, calm the API, run again from the last STATE."""
    before = all_orders(emu)
    first = run_in_process(emu, config_for(emu))
    assert first.returncode == 0, first.stderr[-3000:]
    assert_state_never_ahead(first, emu)
    for knob in knobs:
        setattr(emu.config, knob, 0)
    _wait_until_after(max(update_time for _, update_time in _current_versions(emu)))
    second = run_in_process(emu, config_for(emu), state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert_state_never_ahead(second, emu, emitted_before=emitted(first))
    assert emitted(first) | emitted(second) == before
    assert _current_versions(emu) <= _versions(first, second)  # the latest version of each
    assert len(second.records("orders")) < len(before) / 2, "the second run re-read history"
    return first, second


def test_orders_updated_during_the_sync_are_caught_by_the_next_run(emulator_factory):
    knobs = {"mutate_every_n_pages": 2, "mutate_count": 5}  # updated orders move to the end
    emu = emulator_factory(shops=2, orders_per_shop=60, **knobs)
    first, second = _two_runs_with_changes(emu, knobs)
    only_in_second = _versions(second) - _versions(first)
    assert len(only_in_second) >= 5, "no order changed during the first run"


def test_orders_served_beyond_the_window_are_read_again_by_the_next_run(emulator_factory):
    knobs = {"stale_update_time_probability": 0.2}  # "refreshed while the search ran"
    emu = emulator_factory(shops=2, orders_per_shop=60, **knobs)
    stored = _current_versions(emu)
    first, second = _two_runs_with_changes(emu, knobs)
    beyond = _versions(first) - stored  # served with an update_time refreshed past the run's end
    assert beyond, "no order came back beyond the window: the row tests nothing"
    assert beyond <= _versions(second)  # the bookmark stayed below them, so they came again
