"""Faults while several shops are read at once (the default): nothing lost, state safe."""

from __future__ import annotations

from tests.support.faultkit import all_orders, assert_state_never_ahead, bookmarks, emitted
from tests.support.tap_runs import run_in_process, tap_config


def test_throttling_and_server_errors_across_parallel_reads(emulator_factory, waits):
    emu = emulator_factory(shops=4, orders_per_shop=80, latency_ms=2)
    # Fewer faults than one request's 8 attempts, however the parallel reads share them.
    for kind in ("rate_limit", "http503", "http502", "reset", "rate_limit_200"):
        emu.faults.add(kind, count=1, path_prefix="/order/")
    run = run_in_process(emu, tap_config(emu, page_size=20, parallel_reads=4))
    assert run.returncode == 0, run.stderr
    assert emitted(run) == all_orders(emu)
    assert len(run.records("orders")) == 4 * 80  # a retried page is emitted once
    assert_state_never_ahead(run, emu)
    assert len(waits) == 5  # each fault cost one retry, none was skipped


def test_a_fatal_error_in_a_later_shop_keeps_the_earlier_shops_bookmarks(emulator_factory):
    emu = emulator_factory(shops=3, orders_per_shop=60)
    doomed = emu.shops()[2]["id"]
    # De-authorized by the first order search, i.e. after the shops were listed.
    emu.faults.add("deauthorize_shop", count=1, path_prefix="/order/", shop_id=doomed)
    run = run_in_process(emu, tap_config(emu, page_size=20, parallel_reads=3))
    assert run.returncode == 1
    assert doomed in run.stderr
    assert_state_never_ahead(run, emu)
    kept = bookmarks(run.last_state)
    for shop in emu.shops()[:2]:
        assert kept[shop["id"]] == max(r["update_time"] for r in emu.orders_for_shop(shop["id"]))
    assert doomed not in kept
