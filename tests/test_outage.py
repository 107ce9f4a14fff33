"""The circuit breaker (issue 14): an API outage stops the run once, not shop after shop.

Retries exhausted on a shop's requests end that shop's read only; but when shop after shop
fails that way (``outage.SHOPS_IN_A_ROW`` in a row, no read succeeding in between), the API is
down, and the run stops with one line instead of spending every remaining shop's retries. Each
test runs the tap in-process against the emulator; retry waits are recorded, not slept.
"""

from __future__ import annotations

import typing as t

import pytest

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.outage import SHOPS_IN_A_ROW
from tests.conftest import catalog_selecting, run_in_process, tap_config
from tests.faultkit import (
    all_orders,
    assert_one_error_line,
    assert_shop_failed,
    assert_state_never_ahead,
    bookmarks,
    emitted,
    shop_warnings,
)
from tiktok_shop_emulator import Emulator

SEARCH = "/order/202309/orders/search"
TRIES = TikTokShopStream.retry_max_tries
FOREVER = 100_000
OLD = 1  # a previous bookmark: the failed shops must keep it


def shop_ids(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops()]


def order_searches_of(emu: Emulator, shop_id: str) -> int:
    """How many order searches the emulator answered for one shop."""
    cipher = next(shop["cipher"] for shop in emu.shops() if shop["id"] == shop_id)
    return sum(1 for r in emu.stats.records(SEARCH) if r.query.get("shop_cipher") == cipher)


def earlier_state(shops: t.Iterable[str]) -> dict[str, t.Any]:
    partitions = [
        {
            "context": {"shop_id": shop},
            "replication_key": "update_time",
            "replication_key_value": OLD,
        }
        for shop in shops
    ]
    return {"bookmarks": {"orders": {"partitions": partitions}}}


@pytest.mark.parametrize("parallel_reads", [1, 4])
def test_an_outage_of_every_shop_stops_after_the_threshold_in_one_line(
    emulator_factory, waits, parallel_reads
):
    emu = emulator_factory(shops=10, orders_per_shop=20)
    shops = shop_ids(emu)
    emu.faults.add("http503", count=FOREVER, path_prefix="/order/")
    config = tap_config(emu, page_size=20, parallel_reads=parallel_reads, lookback_minutes=0)
    run = run_in_process(emu, config, state=earlier_state(shops))

    line = assert_one_error_line(
        run,
        "The API looks down",
        f"{SHOPS_IN_A_ROW} shops in a row",
        "'orders'",
        "HTTP 503",
        "gave up after 8 attempts",
        "request_id",
        "Run again later",
    )
    assert run.returncode == 1
    assert all(shop in line for shop in shops[:SHOPS_IN_A_ROW])
    assert "could not be synced completely" not in run.stderr  # the outage line replaces it
    # The shops before the one that tripped it each have their WARNING line; no shop after.
    for shop in shops[: SHOPS_IN_A_ROW - 1]:
        assert len(shop_warnings(run, shop)) == 1
    for shop in shops[SHOPS_IN_A_ROW - 1 :]:
        assert shop_warnings(run, shop) == []
    # Only the reads already under way spent their retries: not the 10 shops' 80 attempts.
    assert emu.stats.count(SEARCH) == max(parallel_reads, SHOPS_IN_A_ROW) * TRIES
    for shop in shops[max(parallel_reads, SHOPS_IN_A_ROW) :]:
        assert order_searches_of(emu, shop) == 0
    # Bookmarks never move for a shop that was not synced.
    assert run.records("orders") == []
    assert bookmarks(run.last_state) == dict.fromkeys(shops, OLD)


def test_a_success_between_failures_starts_the_count_again(emulator_factory, waits):
    emu = emulator_factory(shops=7, orders_per_shop=20)
    shops = shop_ids(emu)
    # Failing, failing, fine, then failing three times in a row: the run stops at the sixth.
    failing = [shops[i] for i in (0, 1, 3, 4, 5)]
    for shop in failing:
        emu.faults.add("http503", count=FOREVER, path_prefix="/order/", on_shop=shop)
    config = tap_config(emu, page_size=20, parallel_reads=1, lookback_minutes=0)
    run = run_in_process(emu, config, state=earlier_state(shops))

    line = assert_one_error_line(run, "The API looks down", f"{SHOPS_IN_A_ROW} shops in a row")
    assert all(shop in line for shop in shops[3:6])
    assert shops[0] not in line  # counted before the success
    assert shops[1] not in line
    for shop in (shops[0], shops[1], shops[3], shops[4]):
        assert len(shop_warnings(run, shop)) == 1
    assert emitted(run) == all_orders(emu, [shops[2]])
    kept = bookmarks(run.last_state)
    assert kept[shops[2]] > OLD
    assert {shop: kept[shop] for shop in failing} == dict.fromkeys(failing, OLD)
    assert order_searches_of(emu, shops[6]) == 0  # stopped before the last shop
    assert_state_never_ahead(run, emu)


def test_one_flaky_shop_among_healthy_ones_is_isolated_and_the_others_sync(emulator_factory, waits):
    emu = emulator_factory(shops=6, orders_per_shop=60)
    shops = shop_ids(emu)
    flaky = shops[2]
    # Every request of one shop fails: its three streams are three failed reads in a row,
    # but of one shop. The shops beside it fail for reasons of their own, which do not count.
    emu.faults.add("http503", count=FOREVER, path_prefix="/", on_shop=flaky)
    for neighbour in (shops[1], shops[3]):
        emu.faults.add("seller_inactive", count=FOREVER, path_prefix="/order/", on_shop=neighbour)
    catalog = catalog_selecting(("shops", "orders", "returns", "cancellations"))
    config = tap_config(emu, page_size=20, parallel_reads=4)
    run = run_in_process(emu, config, catalog=catalog)

    assert "looks down" not in run.stderr
    for stream in ("orders", "returns", "cancellations"):
        assert_shop_failed(run, flaky, "36009003", "gave up after 8 attempts", stream=stream)
    assert_shop_failed(run, shops[1], "12052700")
    assert_shop_failed(run, shops[3], "12052700")
    assert_one_error_line(run, "3 shop(s) could not be synced completely", flaky)
    healthy = [shops[i] for i in (0, 4, 5)]
    assert emitted(run) == all_orders(emu, healthy)
    assert set(bookmarks(run.last_state)) == set(healthy)
    others = set(shops) - {flaky}
    synced = {
        stream: {r["shop_id"] for r in run.records(stream)}
        for stream in ("returns", "cancellations")
    }
    assert synced == {"returns": others, "cancellations": others}
    assert order_searches_of(emu, flaky) == TRIES
    assert_state_never_ahead(run, emu)
