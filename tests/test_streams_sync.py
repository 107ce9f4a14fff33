"""End-to-end syncs of every stream against the emulator (issue 8).

Returns, cancellations, products and finance: complete full syncs, incremental runs that pick
up changes and not history, each endpoint's own parameters, the products cap, the finance
lookback, scope skipping and catalog selection.
"""

from __future__ import annotations

import datetime
import time
import typing as t

import jsonschema
import pytest

from tap_tiktok_shop.tap import TapTikTokShop
from tap_tiktok_shop.windows import Window
from tests.conftest import TapRun, run_tap, tap_config

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator

#: stream -> (key field, incremental field) for the streams the emulator keeps as records
RECORD_STREAMS = {
    "returns": ("return_id", "update_time"),
    "cancellations": ("cancel_id", "update_time"),
    "products": ("id", "update_time"),
    "statements": ("id", "statement_time"),
    "payments": ("id", "create_time"),
    "withdrawals": ("id", "create_time"),
}
FINANCE = ("statements", "statement_transactions", "payments", "withdrawals")
PRODUCTS = "/product/202502/products/search"
ALL_SCOPES = [
    "seller.authorization.info",
    "seller.order.info",
    "seller.product.basic",
    "seller.return_refund.basic",
    "seller.finance.info",
    "data.shop_analytics.public.read",
]
NO_FINANCE = [scope for scope in ALL_SCOPES if scope != "seller.finance.info"]


def _bookmarks(state: dict[str, t.Any], stream: str) -> dict[str, int]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {
        p["context"]["shop_id"]: p["replication_key_value"]
        for p in partitions
        if "replication_key_value" in p
    }


def _validator(run: TapRun, stream: str) -> jsonschema.Draft7Validator:
    schemas = [m["schema"] for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    assert len(schemas) == 1, f"{len(schemas)} SCHEMA messages for {stream}"
    return jsonschema.Draft7Validator(schemas[0])


def _catalog(emu: Emulator, selected: set[str]) -> dict[str, t.Any]:
    """The tap's discovered catalog with only `selected` streams selected (as meltano select)."""
    tap = TapTikTokShop(config=tap_config(emu), parse_env_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in selected
    return catalog


def _after_this_second(moment: float) -> None:
    """Let the clock pass the second of a change, so a run's frozen end lies after it."""
    while time.time() < int(moment) + 1:
        time.sleep(0.05)


def _warnings(run: TapRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if "WARNING" in line and "Skipping" in line]


def test_full_sync_then_only_changes(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=150, history_days=45, seed=11)
    config = tap_config(emu)
    first = run_tap(tmp_path / "first", emu, config)
    assert first.returncode == 0, first.stderr
    shops = [shop["id"] for shop in first.records("shops")]
    assert len(shops) == 2

    for stream, (key, field) in RECORD_STREAMS.items():
        records = first.records(stream)
        expected = {(shop, row["id"]) for shop in shops for row in emu.records(stream, shop)}
        assert {(r["shop_id"], r[key]) for r in records} == expected, stream
        assert len(records) == len(expected), f"{stream}: duplicates on a quiet API"
        validator = _validator(first, stream)
        for record in records:
            validator.validate(record)
        latest = {shop: max(row[field] for row in emu.records(stream, shop)) for shop in shops}
        assert _bookmarks(first.last_state, stream) == latest, stream

    transactions = first.records("statement_transactions")
    expected_tx = {
        (shop, statement["id"], item["id"])
        for shop in shops
        for statement in emu.records("statements", shop)
        for item in emu.statement_transactions(shop, statement["id"])
    }
    assert {(r["shop_id"], r["statement_id"], r["id"]) for r in transactions} == expected_tx
    validator = _validator(first, "statement_transactions")
    for record in transactions:
        validator.validate(record)
    assert len(first.records("orders")) == 300
    assert set(_bookmarks(first.last_state, "orders")) == set(shops)

    returns = emu.update_returns(shops[0], 4)
    products = emu.update_products(shops[1], 5)
    paid = emu.update_payments(shops[0], 2)
    assert len(paid) == 2
    _after_this_second(emu.now())
    second = run_tap(tmp_path / "second", emu, config, state=first.last_state)
    assert second.returncode == 0, second.stderr

    again = {stream: second.records(stream) for stream in RECORD_STREAMS}
    assert set(returns) <= {r["return_id"] for r in again["returns"]}
    current = {r["id"]: r for r in emu.records("returns", shops[0])}
    for record in again["returns"]:
        if record["return_id"] in returns:
            assert record["return_status"] == current[record["return_id"]]["status"]
    assert set(products) <= {p["id"] for p in again["products"]}
    lookback = 10 * 60
    for stream in ("returns", "cancellations", "products"):
        key, field = RECORD_STREAMS[stream]
        old = _bookmarks(first.last_state, stream)
        for record in again[stream]:
            if record[key] not in {*returns, *products}:
                assert record[field] >= old[record["shop_id"]] - lookback, stream
    payments = {p["id"]: p for p in again["payments"]}
    assert set(paid) <= set(payments)
    assert all(payments[payment_id]["status"] == "PAID" for payment_id in paid)
    statements = {s["payment_id"]: s for s in again["statements"]}
    assert all(statements[payment_id]["payment_status"] == "PAID" for payment_id in paid)
    week = 7 * 86400
    for stream in ("statements", "payments", "withdrawals"):
        _, field = RECORD_STREAMS[stream]
        old = _bookmarks(first.last_state, stream)
        assert len(again[stream]) < len(first.records(stream)), f"{stream} re-read history"
        assert all(r[field] >= old[r["shop_id"]] - week for r in again[stream]), stream
    emitted = {(s["shop_id"], s["id"]) for s in again["statements"]}
    read = {(r["shop_id"], r["statement_id"]) for r in second.records("statement_transactions")}
    assert read == emitted
    order_marks = _bookmarks(first.last_state, "orders")
    assert {(o["shop_id"], o["id"]) for o in second.records("orders")} == {
        (shop, row["id"])
        for shop in shops
        for row in emu.orders_for_shop(shop)
        if row["update_time"] >= order_marks[shop] - lookback
    }
    assert (
        _bookmarks(second.last_state, "returns")[shops[0]]
        > _bookmarks(first.last_state, "returns")[shops[0]]
    )
    assert (
        _bookmarks(second.last_state, "products")[shops[1]]
        > _bookmarks(first.last_state, "products")[shops[1]]
    )


def test_bad_finance_lookback_is_one_line_naming_the_setting(emulator, tmp_path):
    run = run_tap(tmp_path, emulator, tap_config(emulator, finance_lookback_days=-1))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr
    assert "finance_lookback_days" in errors[0]
    assert run.stdout == ""


def test_finance_without_lookback_misses_a_status_change(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=20, statement_days=10)
    config = tap_config(emu, finance_lookback_days=0)
    catalog = _catalog(emu, {"payments"})
    first = run_tap(tmp_path / "a", emu, config, catalog=catalog)
    assert first.returncode == 0, first.stderr
    shop = first.records("payments")[0]["shop_id"]
    paid = emu.update_payments(shop, 1)
    second = run_tap(tmp_path / "b", emu, config, state=first.last_state, catalog=catalog)
    assert second.returncode == 0, second.stderr
    assert not set(paid) & {p["id"] for p in second.records("payments")}


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [
        (5, {"returns": "10", "cancellations": "5", "other": "5"}),
        (100, {"returns": "50", "cancellations": "50", "other": "100"}),
    ],
)
def test_each_endpoint_gets_its_own_parameters(emulator_factory, tmp_path, page_size, expected):
    emu = emulator_factory(
        shops=1,
        orders_per_shop=30,
        history_days=20,
        returns_per_shop=12,
        cancellations_per_shop=6,
        products_per_shop=8,
        statement_days=3,
        withdrawals_per_shop=6,
    )
    run = run_tap(tmp_path, emu, tap_config(emu, page_size=page_size))
    assert run.returncode == 0, run.stderr

    def queries(path: str) -> list[dict[str, str]]:
        found = [record.query for record in emu.stats.records(path)]
        assert found, f"{path} was not called"
        return found

    sorts = {
        "/order/202309/orders/search": ("update_time", expected["other"]),
        "/return_refund/202309/returns/search": ("update_time", expected["returns"]),
        "/return_refund/202309/cancellations/search": ("update_time", expected["cancellations"]),
        "/finance/202309/statements": ("statement_time", expected["other"]),
        "/finance/202309/payments": ("create_time", expected["other"]),
    }
    for path, (field, size) in sorts.items():
        for query in queries(path):
            assert (query["sort_field"], query["sort_order"], query["page_size"]) == (
                field,
                "ASC",
                size,
            ), path
    for query in queries("/finance/202309/statements"):
        assert int(query["statement_time_lt"]) > int(query["statement_time_ge"])
    for query in queries("/finance/202309/withdrawals"):
        assert query["types"] == "WITHDRAW,SETTLE,TRANSFER,REVERSE"
        assert "sort_field" not in query
        assert "create_time_ge" in query
    for query in queries(PRODUCTS):
        assert "sort_field" not in query
        assert query["page_size"] == expected["other"]
    transaction_paths = [
        path for path in emu.stats.requests_per_path() if path.endswith("/statement_transactions")
    ]
    assert transaction_paths
    assert all(path.startswith("/finance/202501/statements/") for path in transaction_paths)
    for path in transaction_paths:
        for query in queries(path):
            assert (query["sort_field"], query["sort_order"]) == ("order_create_time", "ASC")
    assert len(run.records("returns")) == 12


def test_products_upper_bound_is_inclusive(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=10, products_per_shop=30)
    shop = emu.shop_objects()[0]
    table = emu.domains.table("products", shop)
    rows = emu.records("products", shop.id)
    edge = rows[len(rows) // 2]["update_time"]
    inside, outside = rows[0]["id"], rows[1]["id"]
    table.set_time(table.rows[inside], "update_time", edge - 1)
    table.set_time(table.rows[outside], "update_time", edge)
    end = datetime.datetime.fromtimestamp(edge, datetime.timezone.utc).isoformat()
    run = run_tap(tmp_path, emu, tap_config(emu, end_date=end), catalog=_catalog(emu, {"products"}))
    assert run.returncode == 0, run.stderr
    got = {p["id"] for p in run.records("products")}
    assert got == {r["id"] for r in emu.records("products", shop.id) if r["update_time"] < edge}
    assert inside in got
    assert outside not in got


def test_a_shop_with_25000_products_syncs_completely(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, products_per_shop=25_000, statement_days=1)
    run = run_tap(
        tmp_path, emu, tap_config(emu, page_size=100), catalog=_catalog(emu, {"products"})
    )
    assert run.returncode == 0, run.stderr
    products = run.records("products")
    shop = emu.shops()[0]["id"]
    rows = emu.records("products", shop)
    assert len(products) == 25_000
    assert {p["id"] for p in products} == {r["id"] for r in rows}
    assert _bookmarks(run.last_state, "products") == {shop: max(r["update_time"] for r in rows)}
    assert "Splitting products window" in run.stderr
    assert all(record.code == 0 for record in emu.stats.records(PRODUCTS))


def test_a_cap_error_splits_the_window(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, products_per_shop=70)
    emu.faults.add("result_cap", 1, PRODUCTS)
    run = run_tap(tmp_path, emu, tap_config(emu, page_size=30), catalog=_catalog(emu, {"products"}))
    assert run.returncode == 0, run.stderr
    shop = emu.shops()[0]["id"]
    assert {p["id"] for p in run.records("products")} == {
        r["id"] for r in emu.records("products", shop)
    }
    assert emu.stats.records(PRODUCTS)[0].code == 12052180


def test_products_bookmark_moves_only_when_the_window_completes(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, products_per_shop=250)
    emu.faults.add("slow", 1, PRODUCTS, seconds=0)  # the first page is served normally...
    # ...the second one is refused, and again after the restart: the shop's read ends
    emu.faults.add("invalid_page_token", 2, PRODUCTS)
    run = run_tap(
        tmp_path, emu, tap_config(emu, page_size=100), catalog=_catalog(emu, {"products"})
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.records("products")) == 100  # the newest products: served first
    assert _bookmarks(run.last_state, "products") == {}


def test_app_without_finance_scope_skips_finance_and_exits_0(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=40, granted_scopes=NO_FINANCE)
    run = run_tap(tmp_path, emu, tap_config(emu))
    assert run.returncode == 0, run.stderr
    for stream in ("orders", "returns", "cancellations", "products"):
        assert run.records(stream), stream
    assert not any(run.records(stream) for stream in FINANCE)
    warnings = _warnings(run)
    assert len(warnings) == len(FINANCE), warnings
    for stream in FINANCE:
        named = [line for line in warnings if f"'{stream}'" in line]
        assert len(named) == 1, stream
        assert "Finance Information" in named[0]
    assert not [path for path in emu.stats.requests_per_path() if path.startswith("/finance/")]
    assert not run.error_lines()


def test_a_105005_answer_skips_the_stream_for_every_shop(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=40)
    token = emu.issue_access_token(scopes=NO_FINANCE)  # its scopes are unknown to the tap
    run = run_tap(tmp_path, emu, tap_config(emu, access_token=token))
    assert run.returncode == 0, run.stderr
    assert run.records("products")
    finance_calls = {
        path: count
        for path, count in emu.stats.requests_per_path().items()
        if path.startswith("/finance/")
    }
    assert finance_calls == {"/finance/202309/statements": 1}
    warnings = _warnings(run)
    assert len(warnings) == len(FINANCE), warnings
    assert all("105005" in line or "granted" in line for line in warnings)


def test_no_selected_stream_could_sync_fails_with_the_same_line(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=10, granted_scopes=NO_FINANCE)
    run = run_tap(tmp_path, emu, tap_config(emu), catalog=_catalog(emu, {"payments"}))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    warnings = _warnings(run)
    assert len(warnings) == 1
    line = warnings[0].split("| ", 3)[-1]
    assert any(line in error for error in run.error_lines()), run.stderr


def test_catalog_selection_calls_only_what_it_needs(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=30, statement_days=4)
    only_orders = run_tap(
        tmp_path / "orders", emu, tap_config(emu), catalog=_catalog(emu, {"orders"})
    )
    assert only_orders.returncode == 0, only_orders.stderr
    streams = {m["stream"] for m in only_orders.messages if m["type"] in {"RECORD", "SCHEMA"}}
    assert streams == {"orders"}
    assert set(emu.stats.requests_per_path()) == {
        "/api/v2/token/refresh",
        "/authorization/202309/shops",
        "/order/202309/orders/search",
    }

    emu.stats.reset()
    children = run_tap(
        tmp_path / "children",
        emu,
        tap_config(emu),
        catalog=_catalog(emu, {"returns", "statement_transactions"}),
    )
    assert children.returncode == 0, children.stderr
    streams = {m["stream"] for m in children.messages if m["type"] in {"RECORD", "SCHEMA"}}
    assert streams == {"returns", "statement_transactions"}
    called = {
        path
        for path in emu.stats.requests_per_path()
        if not path.endswith("/statement_transactions")
    }
    # No token refresh: the first run's access token, still valid, came from the token store.
    assert called == {
        "/authorization/202309/shops",
        "/return_refund/202309/returns/search",
        "/finance/202309/statements",
    }
    assert len(children.records("statement_transactions")) == sum(
        len(emu.statement_transactions(shop["id"], statement["id"]))
        for shop in emu.shops()
        for statement in emu.records("statements", shop["id"])
    )


def test_windows_split_in_two_without_gap_or_overlap():
    first, second = Window(10, 21).halves() or (None, None)
    assert (first, second) == (Window(10, 15), Window(15, 21))
    assert Window(7, 8).halves() is None
