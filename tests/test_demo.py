"""``make demo``'s script, run twice as a newcomer would, its DuckDB file read back and checked.

The demo's emulator data are rebuilt here from the saved description (same seed, same
``data_until``), so every stored order, and every figure of the dbt marts the demo builds in
the same file, can be compared with what the API served. The runs happen in a time zone far
from UTC, so a mart taking a local day instead of the UTC day would show.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.marts import Marts, assert_marts_equal, dbt_test_results, expected_marts, read_marts
from tests.pipeline import MELTANO, REPO, MeltanoProject
from tiktok_shop_emulator import Emulator, EmulatorConfig

SHOPS, ORDERS_PER_SHOP, CHANGES_PER_SHOP = 2, 150, 4
LOOKBACK_SECONDS = 10 * 60  # the tap's default lookback_minutes
FAR_FROM_UTC = "Pacific/Kiritimati"  # UTC+14
MARTS_SCHEMA = "analytics"
COLUMNS = (
    "id",
    "shop_id",
    "status",
    "update_time",
    "_sdc_batched_at",
    "line_items",
    "payment",
    "recipient_address",
)


@dataclass
class DemoRun:
    """One run of the demo: its exit code and output, and the orders table afterwards."""

    returncode: int
    stdout: str
    stderr: str
    orders: dict[str, dict[str, t.Any]]
    marts: Marts | None
    dbt_tests: dict[str, str]

    def table(self) -> dict[tuple[str, str], tuple[int, Decimal, str]]:
        """The printed summary: (shop, status) -> (orders, revenue, currency)."""
        lines = self.stdout.split("Orders and revenue per shop and status", 1)[1].splitlines()
        rows = {}
        for line in lines[2:]:
            if not line.strip():
                break
            shop, _region, status, orders, revenue, currency = re.split(r"\s{2,}", line.strip())
            rows[shop, status] = (int(orders), Decimal(revenue.replace(",", "")), currency)
        return rows

    def daily(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """The printed daily report: (shop, day) -> (orders, cancelled, units, gross, refunds,
        net, currency)."""
        lines = self.stdout.split("Daily sales per shop", 1)[1].splitlines()
        rows = {}
        for line in lines[2:]:
            if not line.strip():
                break
            shop, day, *figures = re.split(r"\s{2,}", line.strip())
            rows[shop, day] = tuple(figures)
        return rows

    def top_products(self) -> list[tuple[str, ...]]:
        """The printed products report: (shop, rank, product, gmv, visitors, conversion,
        units, revenue, currency) per row, in order."""
        lines = self.stdout.split("Top 5 products per shop", 1)[1].splitlines()
        rows = []
        for line in lines[2:]:
            if not line.strip():
                break
            rows.append(tuple(re.split(r"\s{2,}", line.strip())))
        return rows


def run_demo(directory: Path, project: MeltanoProject, *extra: str) -> DemoRun:
    command = [
        sys.executable,
        str(REPO / "scripts" / "demo.py"),
        "--dir",
        str(directory),
        "--shops",
        str(SHOPS),
        "--orders-per-shop",
        str(ORDERS_PER_SHOP),
        "--changes-per-shop",
        str(CHANGES_PER_SHOP),
        "--meltano",
        str(MELTANO),
        *extra,
    ]
    done = subprocess.run(
        command,
        cwd=REPO,
        env=project.env({"TZ": FAR_FROM_UTC}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    orders: dict[str, dict[str, t.Any]] = {}
    marts, dbt_tests = None, {}
    database = directory / "warehouse.duckdb"
    if done.returncode == 0:
        with duckdb.connect(str(database), read_only=True) as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM tiktok_shop.orders").fetchall()
            marts = read_marts(lambda query: db.execute(query).fetchall(), MARTS_SCHEMA)
        orders = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows}
        dbt_tests = dbt_test_results(directory / "dbt-target")
    return DemoRun(done.returncode, done.stdout, done.stderr, orders, marts, dbt_tests)


def served_data(directory: Path) -> Emulator:
    """The demo's emulator data, rebuilt from the description the first run saved."""
    saved = json.loads((directory / "emulator.json").read_text())
    return Emulator(
        EmulatorConfig(
            shops=saved["shops"],
            orders_per_shop=saved["orders_per_shop"],
            data_until=saved["data_until"],
        )
    )


@pytest.fixture(scope="module")
def demo(
    meltano_project: MeltanoProject, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DemoRun, DemoRun]:
    meltano_project.install("extractor", "tap-tiktok-shop")
    meltano_project.install("loader", "target-duckdb")
    meltano_project.install("utility", "dbt-duckdb")
    directory = tmp_path_factory.mktemp("demo")
    first = run_demo(directory, meltano_project)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_demo(directory, meltano_project)
    assert second.returncode == 0, second.stdout + second.stderr
    return directory, first, second


def test_first_run_prints_orders_and_revenue_per_shop_and_status(demo):
    directory, first, _ = demo
    emulator = served_data(directory)
    expected: dict[tuple[str, str], tuple[int, Decimal, str]] = {}
    for shop in emulator.shops():
        for row in emulator.orders_for_shop(shop["id"]):
            payment = emulator.order(shop["id"], row["id"])["payment"]
            count, revenue, _ = expected.get((shop["name"], row["status"]), (0, Decimal(0), ""))
            expected[shop["name"], row["status"]] = (
                count + 1,
                revenue + Decimal(payment["total_amount"]),
                payment["currency"],
            )
    assert first.table() == expected
    assert f"This run loaded {SHOPS * ORDERS_PER_SHOP} order records" in first.stdout


def test_first_run_stores_every_order_with_its_nested_data(demo):
    directory, first, _ = demo
    emulator = served_data(directory)
    served = {
        row["id"]: shop["id"]
        for shop in emulator.shops()
        for row in emulator.orders_for_shop(shop["id"])
    }
    assert set(first.orders) == set(served)
    for order_id, stored in first.orders.items():
        order = emulator.order(served[order_id], order_id)
        assert stored["shop_id"] == served[order_id]
        assert stored["update_time"] == order["update_time"]
        assert stored["status"] == order["status"]
        for nested in ("line_items", "payment", "recipient_address"):
            assert json.loads(stored[nested]) == order[nested], (order_id, nested)


def test_second_run_loads_only_the_changes_and_keeps_one_row_per_order(demo):
    directory, first, second = demo
    data_until = json.loads((directory / "emulator.json").read_text())["data_until"]
    changed = {
        order_id for order_id, row in second.orders.items() if row["update_time"] > data_until
    }
    assert len(changed) == SHOPS * CHANGES_PER_SHOP
    assert (
        f"{len(changed)} orders changed since the last run; all of them are in the database"
        in second.stdout
    )
    assert set(second.orders) == set(first.orders)
    bookmark: dict[str, int] = {}
    for row in first.orders.values():
        bookmark[row["shop_id"]] = max(bookmark.get(row["shop_id"], 0), row["update_time"])
    in_lookback = {
        order_id
        for order_id, row in first.orders.items()
        if row["update_time"] >= bookmark[row["shop_id"]] - LOOKBACK_SECONDS
    }
    rewritten = {
        order_id
        for order_id, row in second.orders.items()
        if row["_sdc_batched_at"] != first.orders[order_id]["_sdc_batched_at"]
    }
    assert changed <= rewritten <= changed | in_lookback
    assert f"This run loaded {len(rewritten)} order records" in second.stdout
    for order_id in set(first.orders) - rewritten:
        assert second.orders[order_id] == first.orders[order_id]


def test_first_run_builds_the_marts_in_duckdb_equal_to_the_emulators_figures(demo):
    directory, first, _ = demo
    assert first.marts is not None
    assert_marts_equal(first.marts, expected_marts(served_data(directory)))
    assert len(first.dbt_tests) >= 60
    assert set(first.dbt_tests.values()) == {"pass"}


def test_demo_prints_the_last_days_of_the_daily_shop_mart_and_totals(demo):
    directory, first, _ = demo
    emulator = served_data(directory)
    names = {shop["id"]: shop["name"] for shop in emulator.shops()}
    days = expected_marts(emulator).daily_shop
    totals: dict[tuple[str, str], list[t.Any]] = {}
    for (shop, _), (currency, *figures) in days.items():
        total = totals.setdefault(
            (names[shop], "all days"), [0, 0, 0, Decimal(0), Decimal(0), Decimal(0), currency]
        )
        for index, value in enumerate(figures):
            total[index] += value
    last_days = {shop: sorted(day for s, day in days if s == shop)[-7:] for shop in names}

    def printed(figures: t.Sequence[t.Any]) -> tuple[str, ...]:
        orders, cancelled, units, gross, refund, net, currency = figures
        return (
            str(orders),
            str(cancelled),
            str(units),
            f"{gross:,.2f}",
            f"{refund:,.2f}",
            f"{net:,.2f}",
            currency,
        )

    expected = {
        (names[shop], str(day)): printed((*figures[1:], figures[0]))
        for (shop, day), figures in days.items()
        if day in last_days[shop]
    }
    expected.update({key: printed(total) for key, total in totals.items()})
    assert len(expected) == SHOPS * 8
    assert first.daily() == expected
    assert (
        sum(
            Decimal(row[4].replace(",", ""))
            for key, row in first.daily().items()
            if key[1] == "all days"
        )
        > 0
    )  # refunds are in the report


def test_demo_prints_each_shops_top_products_of_its_last_shop_days(demo):
    directory, first, _ = demo
    emulator = served_data(directory)
    names = {shop["id"]: shop["name"] for shop in emulator.shops()}
    products = expected_marts(emulator).product_daily
    currency = {
        row["id"]: row["total_performance"]["gmv"]["currency"]
        for shop in names
        for row in emulator.analytics.expected("products", shop)
    }
    expected = []
    for shop, shop_name in sorted(names.items(), key=lambda item: item[1]):
        last = dt.date.fromisoformat(emulator.analytics.latest_date(shop))
        days = {last - dt.timedelta(days=n) for n in range(7)}
        totals: dict[str, list[t.Any]] = {}
        for (owner, product, day), (
            name,
            _,
            gmv,
            visitors,
            rate,
            units,
            revenue,
        ) in products.items():
            if owner != shop or day not in days:
                continue
            total = totals.setdefault(product, [name, Decimal(0), 0, Decimal(0), 0, Decimal(0)])
            if gmv is not None:
                total[1] += gmv
                total[2] += visitors
                total[3] += rate * visitors
            total[4] += units
            total[5] += revenue
        ranked = sorted(totals.items(), key=lambda item: (-item[1][1], item[0]))[:5]
        for rank, (product, (name, gmv, visitors, weighted, units, revenue)) in enumerate(
            ranked, 1
        ):
            expected.append(
                (
                    shop_name,
                    str(rank),
                    name,
                    f"{gmv:,.2f}",
                    str(visitors),
                    f"{weighted / visitors:.2%}",
                    str(units),
                    f"{revenue:,.2f}",
                    currency[product],
                )
            )
    assert len(expected) == SHOPS * 5
    assert first.top_products() == expected


def test_second_run_rebuilds_the_marts_from_the_changed_orders(demo):
    _, _, second = demo
    assert second.marts is not None
    assert set(second.marts.orders) == set(second.orders)  # one row per order, no duplicates
    for order_id, row in second.orders.items():
        assert second.marts.orders[order_id][:2] == (row["shop_id"], row["status"])
    units = sum(figures[6] for figures in second.marts.orders.values())
    assert units == sum(len(json.loads(row["line_items"])) for row in second.orders.values())
    assert set(second.dbt_tests.values()) == {"pass"}


def test_a_restarted_emulator_with_fixed_data_until_serves_the_same_orders():
    def orders(**knobs: t.Any) -> list[dict[str, t.Any]]:
        emulator = Emulator(EmulatorConfig(shops=1, orders_per_shop=40, **knobs))
        shop = emulator.shops()[0]["id"]
        return [emulator.order(shop, row["id"]) for row in emulator.orders_for_shop(shop)]

    an_hour_later = {"clock_offset_seconds": 3600.0}
    assert orders(data_until=1_790_000_000) == orders(data_until=1_790_000_000, **an_hour_later)
    assert orders() != orders(**an_hour_later)  # without it, history moves with the start time


def test_demo_without_meltano_fails_with_one_line(tmp_path, meltano_project):
    run = run_demo(tmp_path, meltano_project, "--meltano", str(tmp_path / "no-meltano"))
    assert run.returncode == 1
    assert run.stderr.startswith("demo failed: cannot run ")
    assert len(run.stderr.strip().splitlines()) == 1
