"""End-to-end syncs of the analytics streams against the emulator (issue 15).

A full sync emits every analytics record exactly as the emulator holds it; a second run, after
days inside the lookback were revised and a new day became available, re-reads only the
lookback window and the new day, and never asks for a day after ``latest_available_date``.
"""

from __future__ import annotations

import datetime
import typing as t

import jsonschema
import orjson
import pytest

from tests.conftest import TapRun, catalog_selecting, run_tap, tap_config

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator

#: stream -> (emulator kind, path)
STREAMS = {
    "shop_performance_daily": ("shop", "/analytics/202509/shop/performance"),
    "shop_product_performance_daily": ("products", "/analytics/202605/shop_products/performance"),
    "shop_sku_performance_daily": ("skus", "/analytics/202509/shop_skus/performance"),
    "shop_video_performance_daily": ("videos", "/analytics/202605/shop_videos/performance"),
    "shop_live_sessions": ("lives", "/analytics/202509/shop_lives/performance"),
}
ANALYTICS = catalog_selecting(["shops", *STREAMS])
SCOPE = "data.shop_analytics.public.read"
DAY = datetime.timedelta(days=1)


def _expected(
    emu: Emulator, stream: str, shop_id: str, days: set[str] | None = None
) -> dict[tuple[t.Any, ...], dict[str, t.Any]]:
    """The emulator's records of one stream and shop, by key, as the tap should emit them."""
    kind, _ = STREAMS[stream]
    out: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}
    for row in emu.analytics.expected(kind, shop_id):
        record = orjson.loads(orjson.dumps(row))
        record["shop_id"] = shop_id
        if kind == "skus":
            record["id"], record["product_id"] = str(record["id"]), str(record["product_id"])
        day = record.get("date", record.get("start_date"))
        if days is not None and day not in days:
            continue
        key = (shop_id, record["start_date"]) if kind == "shop" else (shop_id, record["id"])
        if kind not in ("shop", "lives"):
            key = (*key, record["date"])
        out.setdefault(key, record)  # a LIVE session: the first day that lists it
    return out


def _emitted(run: TapRun, stream: str) -> dict[tuple[t.Any, ...], dict[str, t.Any]]:
    records = run.records(stream)
    kind, _ = STREAMS[stream]
    if kind == "shop":
        keys = [(r["shop_id"], r["start_date"]) for r in records]
    elif kind == "lives":
        keys = [(r["shop_id"], r["id"]) for r in records]
    else:
        keys = [(r["shop_id"], r["id"], r["date"]) for r in records]
    assert len(keys) == len(set(keys)), f"{stream}: a record emitted twice"
    return dict(zip(keys, records, strict=True))


def _bookmarks(state: dict[str, t.Any], stream: str) -> dict[str, str]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {p["context"]["shop_id"]: p["replication_key_value"] for p in partitions}


def _requests(emu: Emulator, path: str) -> list[dict[str, str]]:
    return [r.query for r in emu.stats.records(path) if r.code == 0]


def _shop_of(emu: Emulator, cipher: str) -> str:
    return next(s["id"] for s in emu.shops() if s["cipher"] == cipher)


def _assert_never_past_latest(emu: Emulator, latest: dict[str, str]) -> None:
    for _, path in STREAMS.values():
        for query in _requests(emu, path):
            end = datetime.date.fromisoformat(query["end_date_lt"])
            last_asked = (end - DAY).isoformat()
            assert last_asked <= latest[_shop_of(emu, query["shop_cipher"])], (path, query)


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    # 130 products: a day of product performance is two pages of 100.
    return emulator_factory(
        shops=2, orders_per_shop=20, products_per_shop=130, seed=21, analytics_days=12
    )


def test_full_then_incremental_sync_reads_the_lookback_and_the_new_day(emu, tmp_path):
    config = tap_config(emu, analytics_history_days=30)
    shops = [shop["id"] for shop in emu.shops()]
    latest = {shop: emu.analytics.latest_date(shop) for shop in shops}
    first = run_tap(tmp_path / "first", emu, config, catalog=ANALYTICS)
    assert first.returncode == 0, first.stderr
    for stream in STREAMS:
        expected = {key: rec for shop in shops for key, rec in _expected(emu, stream, shop).items()}
        emitted = _emitted(first, stream)
        assert emitted == expected, stream
        schema = next(
            m["schema"] for m in first.messages if m["type"] == "SCHEMA" and m["stream"] == stream
        )
        validator = jsonschema.Draft7Validator(schema)
        for record in emitted.values():
            validator.validate(record)
        assert _bookmarks(first.last_state, stream) == latest, stream
    _assert_never_past_latest(emu, latest)
    for stream, (kind, path) in STREAMS.items():
        for query in _requests(emu, path):
            assert query["currency"] == "LOCAL"
            if kind == "shop":
                assert query["granularity"] == "1D"
                continue
            assert query["page_size"] == "100"
            days = (
                datetime.date.fromisoformat(query["end_date_lt"])
                - datetime.date.fromisoformat(query["start_date_ge"])
            ).days
            assert days == 1, f"{stream}: a list row covers the whole range asked"
    product_pages = [
        q
        for q in _requests(emu, STREAMS["shop_product_performance_daily"][1])
        if q.get("page_token")
    ]
    assert product_pages, "130 products a day take two pages"

    revised = emu.analytics.revise_recent(shops[0], 3)
    new_latest = {shop: emu.analytics.advance_day(shop) for shop in shops}
    emu.stats.reset()
    second = run_tap(tmp_path / "second", emu, config, catalog=ANALYTICS, state=first.last_state)
    assert second.returncode == 0, second.stderr
    for stream in STREAMS:
        emitted = _emitted(second, stream)
        for shop in shops:
            window_start = datetime.date.fromisoformat(latest[shop]) - 6 * DAY
            window = {(window_start + n * DAY).isoformat() for n in range(8)}
            assert new_latest[shop] in window
            expected = _expected(emu, stream, shop, window)
            mine = {key: rec for key, rec in emitted.items() if key[0] == shop}
            if STREAMS[stream][0] == "lives":  # a session once per run, from its first day
                assert mine == {k: v for k, v in expected.items()}, stream
            else:
                assert mine == expected, stream
        assert _bookmarks(second.last_state, stream) == new_latest, stream
    old = _emitted(first, "shop_performance_daily")
    new = _emitted(second, "shop_performance_daily")
    for day in revised:
        assert new[(shops[0], day)] != old[(shops[0], day)], "a revised day brings new figures"
    _assert_never_past_latest(emu, new_latest)
    for _, path in STREAMS.values():
        for query in _requests(emu, path):
            first_asked = query["start_date_ge"]
            shop = _shop_of(emu, query["shop_cipher"])
            floor = (datetime.date.fromisoformat(latest[shop]) - 6 * DAY).isoformat()
            assert first_asked >= floor, f"{path} re-read history: {query}"


def test_first_sync_reads_a_bounded_history_and_respects_start_date(emu, tmp_path):
    shop = emu.shops()[0]["id"]
    latest = datetime.date.fromisoformat(emu.analytics.latest_date(shop))
    config = tap_config(emu, analytics_history_days=4, shop_ids=[shop])
    run = run_tap(tmp_path / "bounded", emu, config, catalog=ANALYTICS)
    assert run.returncode == 0, run.stderr
    days = {r["date"] for r in run.records("shop_product_performance_daily")}
    assert days == {(latest - n * DAY).isoformat() for n in range(4)}
    start = latest - 2 * DAY
    config = tap_config(emu, start_date=start.isoformat(), shop_ids=[shop])
    run = run_tap(tmp_path / "start", emu, config, catalog=ANALYTICS)
    assert run.returncode == 0, run.stderr
    assert {r["start_date"] for r in run.records("shop_performance_daily")} == {
        (start + n * DAY).isoformat() for n in range(3)
    }


def test_history_before_the_shop_had_data_is_no_error(emu, tmp_path):
    """Days before the data answer empty lists, or 28001022 on the oldest windows."""
    shop = emu.shops()[0]["id"]
    refusal = orjson.dumps(
        {
            "code": 28001022,
            "request_id": "x",
            "data": None,
            "message": "invalid request params; detail: start time or end time is invalid.",
        }
    ).decode()
    for _, path in STREAMS.values():
        emu.faults.add("answer", 3, path, body=refusal)
    config = tap_config(emu, analytics_history_days=40, shop_ids=[shop])
    run = run_tap(tmp_path / "young", emu, config, catalog=ANALYTICS)
    assert run.returncode == 0, run.stderr
    assert not [
        line
        for line in run.stderr.splitlines()
        if "WARNING" in line
        and "shop" in line.lower()
        and "Skipping" not in line
        and "unsorted" not in line
    ]
    for stream in STREAMS:
        assert _emitted(run, stream) == _expected(emu, stream, shop), stream


def test_app_without_the_analytics_package_skips_the_five_streams(emulator_factory, tmp_path):
    scopes = ["seller.authorization.info", "seller.order.info"]
    emu = emulator_factory(shops=1, orders_per_shop=10, granted_scopes=scopes)
    run = run_tap(
        tmp_path, emu, tap_config(emu), catalog=catalog_selecting(["shops", "orders", *STREAMS])
    )
    assert run.returncode == 0, run.stderr
    skipped = [line for line in run.stderr.splitlines() if "Skipping stream" in line]
    assert len(skipped) == len(STREAMS)
    assert all("TikTok Shop Analytics" in line and SCOPE in line for line in skipped)
    assert len(run.records("orders")) == 10
    assert all(emu.stats.count(path) == 0 for _, path in STREAMS.values())


def test_http_403_before_approval_counts_as_the_missing_package(emu, tmp_path):
    for _, path in STREAMS.values():
        emu.faults.add(
            "answer",
            1,
            path,
            status=403,
            body='{"code":403,"message":"Forbidden","request_id":"r"}',
        )
    token = emu.issue_access_token()  # its granted scopes are unknown to the tap
    config = tap_config(emu, access_token=token, shop_ids=[emu.shops()[0]["id"]])
    run = run_tap(tmp_path, emu, config, catalog=ANALYTICS)
    assert run.returncode == 1  # no selected stream besides shops could sync
    warnings = [
        line for line in run.stderr.splitlines() if "WARNING" in line and "Skipping" in line
    ]
    assert len(warnings) == len(STREAMS)
    assert "HTTP 403" in warnings[0]  # one refused call: the other streams are not asked
    assert all(SCOPE in line for line in warnings)
    assert sum(emu.stats.count(path) for _, path in STREAMS.values()) == 1


def test_sku_ids_beyond_64_bits_keep_every_digit(emu, tmp_path):
    shop = emu.shops()[0]["id"]
    latest = emu.analytics.latest_date(shop)
    huge = 98765432109876543210  # beyond 2**64: a double, or a 64-bit parser, loses digits
    body = (
        '{"code":0,"message":"Success","request_id":"r","data":{"latest_available_date":"'
        + latest
        + '","next_page_token":"","total_count":1,"skus":[{"id":'
        + str(huge)
        + ',"product_id":1729000000000000001,"gmv":{"amount":"1.00","currency":"USD"},'
        '"sku_orders":1,"units_sold":2}]}}'
    )
    emu.faults.add("answer", 1, STREAMS["shop_sku_performance_daily"][1], body=body)
    # start_date pins the first day, so the first request (the injected answer) asks for it
    config = tap_config(emu, start_date=f"{latest}T00:00:00Z", shop_ids=[shop])
    run = run_tap(
        tmp_path, emu, config, catalog=catalog_selecting(["shops", "shop_sku_performance_daily"])
    )
    assert run.returncode == 0, run.stderr
    ids = {r["id"] for r in run.records("shop_sku_performance_daily")}
    assert str(huge) in ids
    assert "1729000000000000001" in {
        r["product_id"] for r in run.records("shop_sku_performance_daily")
    }


def test_an_empty_first_page_that_counts_records_is_read_again(emu, tmp_path):
    shop = emu.shops()[0]["id"]
    latest = emu.analytics.latest_date(shop)
    body = (
        '{"code":0,"message":"Success","request_id":"r","data":{"latest_available_date":"'
        + latest
        + '","next_page_token":"","total_count":50,"skus":[]}}'
    )
    emu.faults.add("answer", 1, STREAMS["shop_sku_performance_daily"][1], body=body)
    # start_date pins the first day, so the first request (the injected answer) asks for it
    config = tap_config(emu, start_date=f"{latest}T00:00:00Z", shop_ids=[shop])
    run = run_tap(
        tmp_path, emu, config, catalog=catalog_selecting(["shops", "shop_sku_performance_daily"])
    )
    assert run.returncode == 0, run.stderr
    assert "no record on the first page" in run.stderr
    assert _emitted(run, "shop_sku_performance_daily") == _expected(
        emu, "shop_sku_performance_daily", shop, {latest}
    )


def test_usd_currency_is_asked_for_and_emitted(emu, tmp_path):
    shop = emu.shops()[1]["id"]  # a GB shop: GBP locally
    config = tap_config(emu, analytics_currency="USD", analytics_history_days=2, shop_ids=[shop])
    run = run_tap(
        tmp_path, emu, config, catalog=catalog_selecting(["shops", "shop_performance_daily"])
    )
    assert run.returncode == 0, run.stderr
    intervals = run.records("shop_performance_daily")
    assert intervals
    assert all(r["sales"]["gmv"]["overall"]["currency"] == "USD" for r in intervals)
    path = STREAMS["shop_performance_daily"][1]
    assert {q["currency"] for q in _requests(emu, path)} == {"USD"}


def test_a_first_sync_reads_the_history_ending_at_the_latest_day_whatever_the_clock(emu, tmp_path):
    """The default history is the days ending at latest_available_date, for every stream.

    Before the first answer the tap places its first request by the clock; the answer then
    settles the first day, so the days read never depend on the time of day or on which
    stream of the shop answered first.
    """
    shop = emu.shops()[0]["id"]
    latest = datetime.date.fromisoformat(emu.analytics.latest_date(shop))
    wanted = {(latest - DAY).isoformat(), latest.isoformat()}
    config = tap_config(emu, analytics_history_days=2, shop_ids=[shop])
    run = run_tap(
        tmp_path,
        emu,
        config,
        catalog=catalog_selecting(
            ["shops", "shop_performance_daily", "shop_sku_performance_daily"]
        ),
    )
    assert run.returncode == 0, run.stderr
    for stream in ("shop_performance_daily", "shop_sku_performance_daily"):
        assert _emitted(run, stream) == _expected(emu, stream, shop, wanted), stream
        assert _bookmarks(run.last_state, stream) == {shop: latest.isoformat()}
