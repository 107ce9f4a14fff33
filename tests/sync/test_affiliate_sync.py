"""End-to-end syncs of ``affiliate_order_skus`` against the emulator (issue 18).

A full sync emits every SKU line once with the emulator's current commission figures, in
requests that always carry both creation-time bounds and never span more than three months. A
later run re-reads only ``affiliate_lookback_days`` before the bookmark, and brings the lines
settled since. An order's lines split across two pages still all arrive. The stream is opt-in:
a plain run never calls the affiliate API, and selected without the package it is skipped
with the one scope warning.
"""

from __future__ import annotations

import itertools
import json
import typing as t
from pathlib import Path

import orjson
import yaml

from tap_tiktok_shop.streams.affiliate import MAX_WINDOW_DAYS
from tests.support.tap_runs import TapRun, catalog_selecting, run_tap, tap_config
from tests.sync.test_authorize_check import check
from tiktok_shop_emulator.affiliate import PATH, add_months
from tiktok_shop_emulator.config import AFFILIATE_SCOPE, DEFAULT_SCOPES

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator

STREAM = "affiliate_order_skus"
AFFILIATE = catalog_selecting(["shops", STREAM])
WITH_PACKAGE = [*DEFAULT_SCOPES, AFFILIATE_SCOPE]
DAY = 86400
REPO = Path(__file__).resolve().parents[2]


def _bounds(emu: Emulator) -> list[tuple[str, int, int]]:
    """(shop cipher, create_time_ge, create_time_lt) of every affiliate request, in order."""
    out = []
    for record in emu.stats.records(PATH):
        body = orjson.loads(record.body)
        assert set(body) == {"create_time_ge", "create_time_lt"}, body  # both, always
        out.append((record.query["shop_cipher"], body["create_time_ge"], body["create_time_lt"]))
    return out


def _by_key(run: TapRun) -> dict[tuple[str, str, str], dict[str, t.Any]]:
    records = run.records(STREAM)
    keyed = {(r["shop_id"], r["order_id"], r["sku_id"]): r for r in records}
    assert len(keyed) == len(records), "a SKU line was emitted twice"
    return keyed


def _expected(emu: Emulator, since: int = 0) -> dict[tuple[str, str, str], dict[str, t.Any]]:
    return {
        (shop["id"], line["order_id"], line["sku_id"]): line
        for shop in emu.shops()
        for line in emu.affiliate_lines(shop["id"])
        if line["create_time"] >= since
    }


def _assert_figures(
    emitted: dict[t.Any, dict[str, t.Any]], expected: dict[t.Any, dict[str, t.Any]]
) -> None:
    assert set(emitted) == set(expected)
    for key, line in expected.items():
        record = emitted[key]
        assert record["order_create_time"] == line["create_time"]
        assert record["order_delivery_time"] == line["delivery_time"]
        assert record["settlement_status"] == line["settlement_status"], key
        assert record["commission_rate"] == str(line["rate"])
        assert record["creator_username"] == line["creator"]
        assert record["content_id"] == line["content_id"]
        settled = line["actual_paid_commission"] is not None
        assert bool(record["actual_paid_commission"]["amount"]) == settled, key
        assert record["estimated_commission_base"]["amount"] == (
            f"{line['estimated_commission_base']:.2f}"
        )


def test_full_sync_emits_every_line_once_in_windows_of_at_most_three_months(
    emulator_factory, tmp_path
):
    emu = emulator_factory(shops=2, orders_per_shop=5, granted_scopes=WITH_PACKAGE)
    run = run_tap(tmp_path, emu, tap_config(emu), catalog=AFFILIATE)
    assert run.returncode == 0, run.stderr
    expected = _expected(emu)
    assert len(expected) > 100
    statuses = {line["settlement_status"] for line in expected.values()}
    assert {"SETTLED", "To-SETTLE", "AWAITING PAYMENT", "INELIGIBLE"} <= statuses
    _assert_figures(_by_key(run), expected)
    bounds = _bounds(emu)
    sync_end = max(high for _, _, high in bounds)
    for cipher in {cipher for cipher, _, _ in bounds}:
        windows = sorted((low, high) for each, low, high in bounds if each == cipher)
        assert windows[0][0] == sync_end - 365 * DAY  # affiliate_history_days' default
        assert windows[-1][1] == sync_end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
        assert len(windows) == 5  # 365 days in windows of at most 89
        for low, high in windows:
            assert high - low <= MAX_WINDOW_DAYS * DAY
            assert high <= add_months(low, 3)


def test_incremental_run_rereads_the_lookback_and_brings_settled_commissions(
    emulator_factory, tmp_path
):
    emu = emulator_factory(shops=1, orders_per_shop=5, granted_scopes=WITH_PACKAGE)
    shop = emu.shops()[0]["id"]
    first = run_tap(tmp_path / "first", emu, tap_config(emu), catalog=AFFILIATE)
    assert first.returncode == 0, first.stderr
    bookmark = first.last_state["bookmarks"][STREAM]["partitions"][0]["replication_key_value"]
    assert bookmark == max(line["create_time"] for line in emu.affiliate_lines(shop))
    pending = {
        line["order_id"]
        for line in emu.affiliate_lines(shop)
        if line["settlement_status"] == "To-SETTLE"
    }
    settled = emu.settle_affiliate(shop, 3)
    assert set(settled) <= pending
    assert len(settled) == 3
    emu.stats.reset()
    second = run_tap(
        tmp_path / "second", emu, tap_config(emu), state=first.last_state, catalog=AFFILIATE
    )
    assert second.returncode == 0, second.stderr
    ((_, low, high),) = _bounds(emu)  # 60 days: one request, one page
    assert low == bookmark - 60 * DAY
    emitted = _by_key(second)
    _assert_figures(emitted, _expected(emu, since=low))
    assert len(emitted) < len(first.records(STREAM))  # the history is not read again
    for record in emitted.values():
        if record["order_id"] in settled:
            assert record["settlement_status"] in ("SETTLED", "INELIGIBLE")
            assert record["actual_paid_commission"]["amount"]
    assert high > bookmark


def test_an_orders_lines_split_across_pages_all_arrive(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, granted_scopes=WITH_PACKAGE)
    shop = emu.shops()[0]["id"]
    run = run_tap(
        tmp_path, emu, tap_config(emu, page_size=4, affiliate_history_days=80), catalog=AFFILIATE
    )
    assert run.returncode == 0, run.stderr
    ((_, low, high),) = _bounds(emu)[:1]
    served = [line for line in emu.affiliate_lines(shop) if low <= line["create_time"] < high]
    split = [
        served[i]["order_id"]
        for i in range(4, len(served), 4)
        if served[i]["order_id"] == served[i - 1]["order_id"]
    ]
    assert split, "no order spans two pages: the test would prove nothing"
    emitted = _by_key(run)
    for order_id in split:
        lines = {line["sku_id"] for line in served if line["order_id"] == order_id}
        assert {key[2] for key in emitted if key[1] == order_id} == lines
    _assert_figures(emitted, _expected(emu, since=low))


def test_not_selected_by_default_nor_in_meltano_yml(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, granted_scopes=WITH_PACKAGE)
    run = run_tap(tmp_path, emu, tap_config(emu))  # no catalog: the default selection
    assert run.returncode == 0, run.stderr
    assert len(run.records("orders")) == 5
    assert not run.records(STREAM)
    assert emu.stats.count(PATH) == 0
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    select = project["plugins"]["extractors"][0]["select"]
    assert not [rule for rule in select if rule.startswith(STREAM)]
    assert "orders.*" in select


def test_selected_without_the_package_gives_the_one_scope_warning(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=5)  # tokens lack the restricted package
    run = run_tap(
        tmp_path, emu, tap_config(emu), catalog=catalog_selecting(["shops", "orders", STREAM])
    )
    assert run.returncode == 0, run.stderr
    skipped = [line for line in run.stderr.splitlines() if "Skipping stream" in line]
    assert len(skipped) == 1
    assert STREAM in skipped[0]
    assert AFFILIATE_SCOPE in skipped[0]
    assert "Read Seller Affiliate Collaboration" in skipped[0]
    assert "restricted" in skipped[0]
    assert emu.stats.count(PATH) == 0
    assert len(run.records("orders")) == 10


def test_authorize_check_sizes_the_first_sync_in_three_month_requests(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, granted_scopes=WITH_PACKAGE)
    code, out, problems = check(emu, tmp_path, catalog=AFFILIATE, args=["--format", "json"])
    assert (code, problems) == (0, [])
    shop = emu.shops()[0]["id"]
    sizes = json.loads(out)["authorizations"][0]["first_sync"]["records"][shop]
    assert sizes[STREAM] == len(emu.affiliate_lines(shop))
    windows = _bounds(emu)
    assert len(windows) == 5
    assert all(high - low <= MAX_WINDOW_DAYS * DAY for _, low, high in windows)
