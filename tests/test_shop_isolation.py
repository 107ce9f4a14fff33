"""Issue 14: token errors as TikTok words them, and one bad shop does not stop the others.

Each test runs the tap in-process against the emulator, whose error answers carry the
documented codes and wordings (``tiktok_shop_emulator/messages.py``). A failure that concerns
one shop ends that shop's read of the stream with one WARNING line; its bookmark stays; every
other shop syncs; one summary line lists the failed shops at the end, and the run exits 1
(0 with ``fail_on_shop_errors: false``). Failures that concern every shop still stop at once.
"""

from __future__ import annotations

import typing as t

import pytest

from tests.conftest import catalog_selecting, run_in_process, tap_config
from tests.faultkit import (
    all_orders,
    assert_one_error_line,
    assert_shop_failed,
    assert_state_never_ahead,
    bookmarks,
    config_for,
    emitted,
    shop_warnings,
)
from tiktok_shop_emulator import Emulator

ORDERS = "/order/"
PRODUCTS = "/product/"
PAGES_PER_SHOP = 3
REFRESH = "/api/v2/token/refresh"
DEAUTHORIZED = "access token is invalid; detail:your token has been deauthorized"


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=2, orders_per_shop=60)


def shop_ids(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops()]


def assert_all_orders_once(run, emu: Emulator) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert emitted(run) == all_orders(emu)
    assert len(run.records("orders")) == len(all_orders(emu)), "an order was emitted twice"
    assert_state_never_ahead(run, emu)


# --- point 1: token errors by code, with the documented wordings -------------------------------


def test_stale_access_token_in_the_documented_wording_is_refreshed_once(emu, waits):
    # The API answers: 36009004 "Invalid credentials. The `x-tts-access-token` header is
    # invalid." (hyphenated: no "access token" in it).
    run = run_in_process(emu, config_for(emu, access_token="stale-configured-token"))
    assert_all_orders_once(run, emu)
    assert emu.stats.count(REFRESH) == 1
    assert waits == [0.0]


def test_deauthorized_token_105001_is_refreshed_once_then_the_sync_goes_on(emu, waits):
    emu.faults.add("token_deauthorized", path_prefix=ORDERS, skip=PAGES_PER_SHOP)
    run = run_in_process(emu, config_for(emu))
    assert_all_orders_once(run, emu)
    assert emu.stats.count(REFRESH) == 2  # the first token, then one refresh


def test_105001_again_after_the_refresh_ends_that_shop_saying_authorize_again(emu, waits):
    first, second = shop_ids(emu)
    emu.faults.add("token_deauthorized", count=2, path_prefix=ORDERS, skip=PAGES_PER_SHOP)
    run = run_in_process(emu, config_for(emu))
    line = assert_shop_failed(run, second, "105001", DEAUTHORIZED, "must authorize it again")
    assert "tap-tiktok-shop-auth login" in line
    assert emitted(run) == all_orders(emu, [first])
    assert set(bookmarks(run.last_state)) == {first}
    assert emu.stats.count(REFRESH) == 2  # refreshed once, not in a loop


def test_105001_on_the_shop_listing_stops_the_run_in_one_line(emu, waits):
    emu.faults.add("token_deauthorized", count=2, path_prefix="/authorization/")
    run = run_in_process(emu, config_for(emu))
    assert_one_error_line(run, "105001", "must authorize it again", "request_id")
    assert run.records("orders") == []


# --- point 2: per-shop isolation ---------------------------------------------------------------


def test_inactive_seller_ends_that_shop_only_and_the_others_sync(emulator_factory, waits):
    emu = emulator_factory(shops=3, orders_per_shop=5, products_per_shop=30)
    first, second, third = shop_ids(emu)
    emu.faults.add("seller_inactive", path_prefix=PRODUCTS, skip=1)  # the second shop
    catalog = catalog_selecting(("shops", "products"))
    config = tap_config(emu, page_size=100, parallel_reads=1)
    run = run_in_process(emu, config, catalog=catalog)
    line = assert_shop_failed(
        run, second, "12052700", "The seller is inactive.", "reactivate", stream="products"
    )
    assert f"shop {second}" in line
    synced = {product["shop_id"] for product in run.records("products")}
    assert synced == {first, third}
    partitions = run.last_state["bookmarks"]["products"]["partitions"]
    assert {p["context"]["shop_id"] for p in partitions if "replication_key_value" in p} == {
        first,
        third,
    }


def test_the_summary_lists_every_failed_shop_once(emulator_factory, waits):
    emu = emulator_factory(shops=3, orders_per_shop=60)
    first, second, third = shop_ids(emu)
    emu.faults.add("deauthorize_shop", path_prefix=ORDERS, shop_id=first)
    emu.faults.add("deauthorize_shop", path_prefix=ORDERS, shop_id=third)
    run = run_in_process(emu, config_for(emu))
    assert_shop_failed(run, first, "101000")
    assert_shop_failed(run, third, "101000")
    summary = assert_one_error_line(run, "2 shop(s)", first, third, "fail_on_shop_errors")
    assert second not in summary
    assert emitted(run) == all_orders(emu, [second])
    assert set(bookmarks(run.last_state)) == {second}


def test_fail_on_shop_errors_false_exits_0_with_the_summary_as_a_warning(emu, waits):
    first, second = shop_ids(emu)
    emu.faults.add("deauthorize_shop", path_prefix=ORDERS, shop_id=second)
    run = run_in_process(emu, config_for(emu, fail_on_shop_errors=False))
    assert_shop_failed(run, second, "101000", exit_code=0)
    assert emitted(run) == all_orders(emu, [first])
    assert set(bookmarks(run.last_state)) == {first}


def test_a_shop_failing_midway_keeps_its_previous_bookmark(emu, waits):
    first, second = shop_ids(emu)
    earlier = {"replication_key": "update_time", "replication_key_value": 1}
    state = {
        "bookmarks": {
            "orders": {
                "partitions": [
                    {"context": {"shop_id": shop}, **earlier} for shop in (first, second)
                ]
            }
        }
    }
    # The first shop's second page is throttled for all of its 8 attempts.
    emu.faults.add("rate_limit", count=8, path_prefix=ORDERS, skip=1)
    run = run_in_process(emu, config_for(emu, lookback_minutes=0), state=state)
    assert_shop_failed(run, first, "36009002", "gave up after 8 attempts")
    assert len([o for o in run.records("orders") if o["shop_id"] == first]) == 20  # page 1...
    assert bookmarks(run.last_state)[first] == 1  # ...but its bookmark did not move
    assert bookmarks(run.last_state)[second] > 1
    assert_state_never_ahead(run, emu)


def test_scope_missing_for_one_shop_only_ends_that_shop(emu, waits):
    first, second = shop_ids(emu)
    # The token's granted scopes include Order Information, so a 105005 concerns the shop.
    emu.faults.add("scope_missing", path_prefix=ORDERS, skip=PAGES_PER_SHOP)
    run = run_in_process(emu, config_for(emu))
    assert_shop_failed(run, second, "105005")
    assert "Skipping stream" not in run.stderr
    assert emitted(run) == all_orders(emu, [first])


@pytest.mark.parametrize("kind", ["rate_limit", "deauthorize_shop"])
def test_errors_of_the_shop_listing_still_stop_the_run(emu, waits, kind):
    opts = {"shop_id": shop_ids(emu)[0]} if kind == "deauthorize_shop" else {}
    count = 1000 if kind == "rate_limit" else 1
    emu.faults.add(kind, count=count, path_prefix="/authorization/", **opts)
    run = run_in_process(emu, config_for(emu))
    if kind == "rate_limit":
        assert_one_error_line(run, "36009002", "gave up after 8 attempts")
        assert not shop_warnings(run, shop_ids(emu)[0])
    else:  # a shop de-authorized before the listing is simply not listed
        assert run.returncode == 0, run.stderr[-3000:]


# --- point 3: page tokens, with windows read in parallel ---------------------------------------


def test_refused_page_token_in_a_parallel_window_restarts_it_without_duplicates(
    emulator_factory, waits
):
    emu = emulator_factory(shops=2, orders_per_shop=400)
    emu.faults.add("invalid_page_token", count=2, path_prefix=ORDERS)
    config = tap_config(emu, page_size=20, parallel_reads=4, pages_per_window=3)
    run = run_in_process(emu, config)
    assert_all_orders_once(run, emu)
    assert "Splitting orders window" in run.stderr  # the reads were windows fetched ahead
    assert run.stderr.count("reading the window again from its first page") == 2
