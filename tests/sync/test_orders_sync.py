"""End-to-end syncs against the emulator: full, incremental, filters and boundaries (issue 2)."""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter

import jsonschema
import pytest

from tests.support.tap_runs import run_tap, tap_config


def _bookmarks(state: dict) -> dict[str, int]:
    partitions = state["bookmarks"]["orders"]["partitions"]
    return {p["context"]["shop_id"]: p["replication_key_value"] for p in partitions}


def _schema(run, stream: str) -> dict:
    schemas = [m["schema"] for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    assert schemas, f"no SCHEMA message for {stream}"
    return schemas[0]


def test_full_then_incremental_sync_3_shops_x_1000(emulator_factory, tmp_path):
    emu = emulator_factory(shops=3, orders_per_shop=1000)
    config = tap_config(emu)
    first = run_tap(tmp_path / "first", emu, config)
    assert first.returncode == 0, first.stderr

    orders = first.records("orders")
    shop_ids = [shop["id"] for shop in first.records("shops")]
    assert len(shop_ids) == 3
    expected = {(shop, row["id"]) for shop in shop_ids for row in emu.orders_for_shop(shop)}
    emitted = {(order["shop_id"], order["id"]) for order in orders}
    assert emitted == expected
    assert len(orders) == 3000  # each exactly once on a quiet API

    validator = jsonschema.Draft7Validator(_schema(first, "orders"))
    for order in orders:
        validator.validate(order)
    jsonschema.Draft7Validator(_schema(first, "shops")).validate(first.records("shops")[0])

    bookmarks = _bookmarks(first.last_state)
    assert set(bookmarks) == set(shop_ids)
    for shop in shop_ids:
        assert bookmarks[shop] == max(row["update_time"] for row in emu.orders_for_shop(shop))

    changed = emu.update_orders(shop_ids[1], 10)
    # Changes made in the very second a sync starts fall after its frozen end (update_time <
    # start) and belong to the next run; start this one a second later, as a schedule would.
    time.sleep(1.1)
    second = run_tap(tmp_path / "second", emu, config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    again = second.records("orders")
    assert set(changed) <= {order["id"] for order in again}
    lookback = 10 * 60
    for order in again:
        if order["id"] in changed:
            continue
        # anything else is a boundary duplicate from the lookback window
        assert order["update_time"] >= bookmarks[order["shop_id"]] - lookback
    assert len(again) < 100, "the second run re-read history"
    new_bookmarks = _bookmarks(second.last_state)
    assert new_bookmarks[shop_ids[1]] > bookmarks[shop_ids[1]]
    assert new_bookmarks[shop_ids[0]] == bookmarks[shop_ids[0]]


def test_same_second_boundary_is_inclusive(emulator, tmp_path):
    config = tap_config(emulator, lookback_minutes=0)
    first = run_tap(tmp_path / "a", emulator, config)
    bookmarks = _bookmarks(first.last_state)
    second = run_tap(tmp_path / "b", emulator, config, state=first.last_state)
    assert second.returncode == 0, second.stderr
    by_shop = Counter(order["shop_id"] for order in second.records("orders"))
    for shop, bookmark in bookmarks.items():
        at_bookmark = [r for r in emulator.orders_for_shop(shop) if r["update_time"] == bookmark]
        assert by_shop[shop] == len(at_bookmark) >= 1


def test_shop_ids_filter_and_state_only_for_selected_shop(emulator, tmp_path):
    shop = emulator.shops()[1]["id"]
    run = run_tap(tmp_path, emulator, tap_config(emulator, shop_ids=[shop]))
    assert run.returncode == 0, run.stderr
    assert {order["shop_id"] for order in run.records("orders")} == {shop}
    assert [s["id"] for s in run.records("shops")] == [shop]
    assert set(_bookmarks(run.last_state)) == {shop}


def test_unknown_shop_id_fails_with_one_line(emulator, tmp_path):
    run = run_tap(tmp_path, emulator, tap_config(emulator, shop_ids=["123"]))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("shop_ids" in line and "123" in line for line in run.error_lines())


def test_start_and_end_date_bound_the_read(emulator, tmp_path):
    rows = [r for shop in emulator.shops() for r in emulator.orders_for_shop(shop["id"])]
    times = sorted(r["update_time"] for r in rows)
    start, end = times[len(times) // 4], times[len(times) // 2]
    iso = lambda ts: datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat()  # noqa: E731
    config = tap_config(emulator, start_date=iso(start), end_date=iso(end))
    run = run_tap(tmp_path, emulator, config)
    assert run.returncode == 0, run.stderr
    got = {o["id"] for o in run.records("orders")}
    assert got == {r["id"] for r in rows if start <= r["update_time"] < end}
    assert max(_bookmarks(run.last_state).values()) < end


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"page_size": 500}, "page_size"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, "start_date"),
        ({"refresh_token": None}, "refresh_token"),
        ({"lookback_minutes": "ten"}, "lookback_minutes"),
    ],
)
def test_bad_config_is_one_line_naming_the_setting(emulator, tmp_path, overrides, setting):
    run = run_tap(tmp_path, emulator, tap_config(emulator, **overrides))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr
    assert setting in errors[0]
    assert run.stdout == ""


def test_wrong_app_secret_stops_with_code_and_request_id(emulator, tmp_path):
    config = tap_config(emulator, access_token=None)
    config["app_secret"] = "not-the-real-secret"
    # the token call fails first: the message names it and never echoes the secret
    run = run_tap(tmp_path, emulator, config)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("API code" in line for line in run.error_lines()), run.stderr


def test_expired_access_token_is_refreshed_and_the_request_retried(emulator, tmp_path):
    first = run_tap(tmp_path / "a", emulator, tap_config(emulator))
    assert first.returncode == 0
    emulator.expire_access_tokens()
    token = emulator.issue_access_token()
    emulator.expire_access_tokens()
    run = run_tap(tmp_path / "b", emulator, tap_config(emulator, access_token=token))
    assert run.returncode == 0, run.stderr
    assert len(run.records("orders")) == len(first.records("orders"))


def test_stdout_holds_only_singer_messages(emulator, tmp_path):
    run = run_tap(tmp_path, emulator, tap_config(emulator))
    for line in run.stdout.splitlines():
        assert json.loads(line)["type"] in {"SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"}
