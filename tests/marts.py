"""The dbt marts' figures: computed from the emulator's data, and read back from a database.

Both the PostgreSQL and the DuckDB tests compare the same shapes: each mart as a dict from its
key to a tuple of figures, built here once from the emulator (the truth) and once from the
database (what dbt built). Days are UTC days of the unix timestamps, but in the marts on shop
days (the Analytics API's days): there a day is the calendar day of the shop's time zone, the
zone the emulator gives the shop's region (the same as the dbt var tiktok_shop_time_zones).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing as t
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tiktok_shop_emulator import Emulator
from tiktok_shop_emulator.analytics_data import TIME_ZONES

COMPLETE_REFUND = "RETURN_OR_REFUND_REQUEST_COMPLETE"
Figures = dict[t.Any, tuple[t.Any, ...]]

#: One query per mart; each row is (key..., figures...) in the order the tuples hold them.
MART_QUERIES = {
    "orders": (
        "SELECT order_id, shop_id, status, created_at, currency, subtotal, total_amount, "
        "units, return_count, refund_amount, cancellation_status "
        "FROM {schema}.tiktok_shop__orders",
        1,
    ),
    "order_lines": (
        "SELECT order_id, sku_id, shop_id, quantity, gross_amount, product_name, "
        "sku_name FROM {schema}.tiktok_shop__order_lines",
        2,
    ),
    "daily_shop": (
        "SELECT shop_id, date_day, currency, order_count, cancelled_order_count, "
        "units, gross_sales, refund_amount, net_sales "
        "FROM {schema}.tiktok_shop__daily_shop",
        2,
    ),
    "statement_lines": (
        "SELECT statement_id, transaction_id, shop_id, order_id, "
        "settlement_amount, payment_status, order_status "
        "FROM {schema}.tiktok_shop__statement_lines",
        2,
    ),
    "daily_shop_local": (
        "SELECT shop_id, shop_date, order_count, units, gross_sales, "
        "refund_amount, net_sales, visitors, page_views, conversion_rate, "
        "analytics_gmv, live_gmv, video_gmv, product_card_gmv "
        "FROM {schema}.tiktok_shop__daily_shop_local",
        2,
    ),
    "product_daily": (
        "SELECT shop_id, product_id, shop_date, product_name, product_status, gmv, "
        "visitors, conversion_rate, order_units, order_revenue "
        "FROM {schema}.tiktok_shop__product_daily",
        3,
    ),
    "video_daily": (
        "SELECT shop_id, video_id, shop_date, views, gmv, items_sold, "
        "click_through_rate FROM {schema}.tiktok_shop__video_daily",
        3,
    ),
    "live_sessions": (
        "SELECT shop_id, live_id, shop_date, started_at, viewers, gmv, "
        "click_to_order_rate FROM {schema}.tiktok_shop__live_sessions",
        2,
    ),
}


def utc(seconds: int) -> dt.datetime:
    """Unix seconds as the naive UTC timestamp the staging models produce."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def shop_day(seconds: int, region: str) -> dt.date:
    """The calendar day of the shop's time zone at unix time ``seconds``."""
    zone = zoneinfo.ZoneInfo(TIME_ZONES.get(region, "UTC"))
    return dt.datetime.fromtimestamp(seconds, zone).date()


def rate(text: str) -> Decimal:
    """A rate as the API sends it ("0.1398", or "15.96%") as a fraction."""
    return Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)


@dataclass
class Marts:
    """Each mart: key -> figures (the shapes of MART_QUERIES)."""

    orders: Figures
    order_lines: Figures
    daily_shop: Figures
    statement_lines: Figures
    daily_shop_local: Figures = dataclasses.field(default_factory=dict)
    product_daily: Figures = dataclasses.field(default_factory=dict)
    video_daily: Figures = dataclasses.field(default_factory=dict)
    live_sessions: Figures = dataclasses.field(default_factory=dict)

    def by_name(self) -> dict[str, Figures]:
        return {name: getattr(self, name) for name in MART_QUERIES}


def _order_figures(
    emu: Emulator,
    shop_id: str,
    refunds: dict[str, list[Decimal]],
    returns: dict[str, int],
    cancellations: dict[str, str | None],
    marts: Marts,
    local: _ShopDays,
) -> None:
    """Add one shop's orders, order lines and order days to the expected marts."""
    region, local_days, product_lines = local.region, local.sales, local.product_lines
    for row in emu.orders_for_shop(shop_id):
        order = emu.order(shop_id, row["id"])
        payment, items = order["payment"], order["line_items"]
        created = utc(order["create_time"])
        marts.orders[order["id"]] = (
            shop_id,
            order["status"],
            created,
            payment["currency"],
            Decimal(payment["sub_total"]),
            Decimal(payment["total_amount"]),
            len(items),
            returns.get(order["id"], 0),
            sum(refunds.get(order["id"], []), Decimal(0)),
            cancellations.get(order["id"]),
        )
        lines: dict[str, list[dict[str, t.Any]]] = defaultdict(list)
        for item in items:
            lines[item["sku_id"]].append(item)
        for sku_id, units in lines.items():
            marts.order_lines[order["id"], sku_id] = (
                shop_id,
                len(units),
                sum((Decimal(u["sale_price"]) for u in units), Decimal(0)),
                units[0]["product_name"],
                units[0]["sku_name"],
            )
        cancelled = order["status"] == "CANCELLED"
        gross = Decimal(0) if cancelled else Decimal(payment["sub_total"])
        _add_day(
            marts.daily_shop,
            (shop_id, created.date()),
            payment["currency"],
            orders=1,
            cancelled=int(cancelled),
            units=len(items),
            gross=gross,
        )
        local = shop_day(order["create_time"], region)
        _add_day(
            local_days,
            (shop_id, local),
            payment["currency"],
            orders=1,
            cancelled=int(cancelled),
            units=len(items),
            gross=gross,
        )
        for item in items:
            key = (shop_id, item["product_id"], local)
            units_so_far, revenue, names = product_lines.get(key, (0, Decimal(0), ()))
            price = Decimal(0) if cancelled else Decimal(item["sale_price"])
            product_lines[key] = (units_so_far + 1, revenue + price, (*names, item["product_name"]))


@dataclass
class _ShopDays:
    """One shop's figures on shop days: sales per day, order lines per product and day."""

    region: str
    sales: Figures = dataclasses.field(default_factory=dict)
    product_lines: dict[tuple[str, str, dt.date], tuple[int, Decimal, tuple[str, ...]]] = (
        dataclasses.field(default_factory=dict)
    )


def _add_day(
    days: Figures,
    key: tuple[str, dt.date],
    currency: str,
    *,
    orders: int = 0,
    cancelled: int = 0,
    units: int = 0,
    gross: Decimal = Decimal(0),
    refund: Decimal = Decimal(0),
) -> None:
    """Add figures to one shop day (currency, orders, cancelled, units, gross, refund, net)."""
    _, o, c, u, g, r, _ = days.get(key, (currency, 0, 0, 0, Decimal(0), Decimal(0), None))
    days[key] = (
        currency,
        o + orders,
        c + cancelled,
        u + units,
        g + gross,
        r + refund,
        g + gross - (r + refund),
    )


def expected_marts(emu: Emulator) -> Marts:
    """The marts as they must be for the emulator's current data (every shop, all history)."""
    marts = Marts({}, {}, {}, {})
    statuses: dict[str, str] = {}
    for shop in emu.shops():
        shop_id = shop["id"]
        local = _ShopDays(shop["region"])
        refunds: dict[str, list[Decimal]] = defaultdict(list)
        returns: dict[str, int] = defaultdict(int)
        for row in emu.records("returns", shop_id):
            returns[row["order_id"]] += 1
            if row["status"] != COMPLETE_REFUND:
                continue
            refund = emu.record("returns", shop_id, row["id"])["refund_amount"]
            refunds[row["order_id"]].append(Decimal(refund["refund_total"]))
            _add_day(
                marts.daily_shop,
                (shop_id, utc(row["create_time"]).date()),
                refund["currency"],
                refund=Decimal(refund["refund_total"]),
            )
            _add_day(
                local.sales,
                (shop_id, shop_day(row["create_time"], shop["region"])),
                refund["currency"],
                refund=Decimal(refund["refund_total"]),
            )
        newest: dict[str, str | None] = {}  # order id -> its latest cancellation status
        for row in sorted(
            emu.records("cancellations", shop_id), key=lambda row: (row["create_time"], row["id"])
        ):
            newest[row["order_id"]] = row["status"]
        _order_figures(emu, shop_id, refunds, returns, newest, marts, local)
        _analytics_figures(emu, shop_id, local, marts)
        statuses.update({row["id"]: row["status"] for row in emu.orders_for_shop(shop_id)})
    for shop in emu.shops():
        for statement in emu.records("statements", shop["id"]):
            for line in emu.statement_transactions(shop["id"], statement["id"]):
                order_id = line.get("order_id") or None
                marts.statement_lines[statement["id"], line["id"]] = (
                    shop["id"],
                    order_id,
                    Decimal(line["settlement_amount"]),
                    statement["status"],
                    statuses.get(order_id) if order_id else None,
                )
    return marts


def _money(value: dict[str, str]) -> Decimal:
    return Decimal(value["amount"])


def _analytics_figures(emu: Emulator, shop_id: str, local: _ShopDays, marts: Marts) -> None:
    """Add one shop's marts on shop days: its sales, and the emulator's analytics."""
    traffic: dict[dt.date, tuple[t.Any, ...]] = {}
    for row in emu.analytics.expected("shop", shop_id):
        channels = {b["type"]: _money(b["gmv"]) for b in row["sales"]["gmv"]["breakdowns"]}
        traffic[dt.date.fromisoformat(row["start_date"])] = (
            row["traffic"]["avg_visitors"],
            row["traffic"]["avg_page_views"],
            rate(row["traffic"]["avg_conversation_rate"]),
            _money(row["sales"]["gmv"]["overall"]),
            channels.get("LIVE"),
            channels.get("VIDEO"),
            channels.get("PRODUCT_CARD"),
        )
    no_sales = (0, 0, Decimal(0), Decimal(0), Decimal(0))
    no_traffic = (None,) * 7
    for day in {day for _, day in local.sales} | set(traffic):
        figures = local.sales.get((shop_id, day))
        sales = no_sales if figures is None else (figures[1], figures[3], *figures[4:])
        marts.daily_shop_local[shop_id, day] = (*sales, *traffic.get(day, no_traffic))
    performance = {
        (shop_id, row["id"], dt.date.fromisoformat(row["date"])): (
            _money(row["total_performance"]["gmv"]),
            row["total_performance"]["unique_clicks"],
            rate(row["total_performance"]["unique_click_order_rate"]),
        )
        for row in emu.analytics.expected("products", shop_id)
    }
    products = {
        row["id"]: emu.record("products", shop_id, row["id"])
        for row in emu.records("products", shop_id)
    }
    for key in set(performance) | set(local.product_lines):
        units, revenue, names = local.product_lines.get(key, (0, Decimal(0), ()))
        product = products.get(key[1])
        name = product["title"] if product else max(names)
        marts.product_daily[key] = (
            name,
            product["status"] if product else None,
            *performance.get(key, (None, None, None)),
            units,
            revenue,
        )
    for row in emu.analytics.expected("videos", shop_id):
        marts.video_daily[shop_id, row["id"], dt.date.fromisoformat(row["date"])] = (
            row["views"],
            _money(row["gmv"]),
            row["items_sold"],
            rate(row["click_through_rate"]),
        )
    for row in emu.analytics.expected("lives", shop_id):
        marts.live_sessions.setdefault(
            (shop_id, row["id"]),
            (  # the first day listing it
                dt.date.fromisoformat(row["date"]),
                utc(int(row["start_time"])),
                row["interaction_performance"]["viewers"],
                _money(row["sales_performance"]["gmv"]),
                rate(row["sales_performance"]["click_to_order_rate"]),
            ),
        )


def read_marts(rows_of: t.Callable[[str], list[tuple[t.Any, ...]]], schema: str) -> Marts:
    """The marts as dbt built them; ``rows_of(sql)`` runs a query on the database."""
    found: dict[str, Figures] = {}
    for name, (query, key_size) in MART_QUERIES.items():
        figures: Figures = {}
        for row in rows_of(query.format(schema=schema)):
            key = row[0] if key_size == 1 else tuple(row[:key_size])
            assert key not in figures, f"{name}: two rows for {key}"
            figures[key] = tuple(row[key_size:])
        found[name] = figures
    return Marts(**found)


def assert_marts_equal(found: Marts, expected: Marts) -> None:
    """Each mart holds exactly the expected keys with the expected figures."""
    for name, want in expected.by_name().items():
        got = found.by_name()[name]
        assert set(got) == set(want), (
            f"{name}: missing {sorted(set(want) - set(got))[:5]}, "
            f"unexpected {sorted(set(got) - set(want))[:5]}"
        )
        wrong = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
        assert not wrong, f"{name}: {len(wrong)} rows differ, e.g. {list(wrong.items())[:3]}"


def dbt_test_results(target_path: Path) -> dict[str, str]:
    """Every dbt test of the last `dbt build`: unique id -> status (pass, warn, fail, error)."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {
        result["unique_id"]: result["status"]
        for result in results
        if result["unique_id"].startswith("test.")
    }
