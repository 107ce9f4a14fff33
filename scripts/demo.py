"""One-command demo (``make demo``): the Meltano pipeline on a local emulator into DuckDB.

Each run starts the emulator on a free loopback port, serving the same seeded shops and orders
every time (their history ends at a moment saved on the first run), runs
``meltano --environment=demo run tap-tiktok-shop target-duckdb dbt-duckdb:build`` (the raw
tables, then the dbt marts of transform/ in the same file), stops the emulator (also on failure
or Ctrl-C) and prints orders and revenue per shop and status, read back from the raw tables, and
the last days of the daily shop report, read from the ``tiktok_shop__daily_shop`` mart, then each
shop's top products of its last days, read from the ``tiktok_shop__product_daily`` mart. From
the second run on it first changes a few orders in the emulator, as sellers would between two
scheduled runs; Meltano's saved state makes that run load only those (plus
the re-reads of the tap's lookback window), and the target merges them on the order id.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tiktok_shop_emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parent.parent
SCHEMA = "tiktok_shop"  # the demo environment's default_target_schema of target-duckdb
MARTS_SCHEMA = "analytics"  # the schema setting of the dbt-duckdb utility
PIPELINE = ["run", "tap-tiktok-shop", "target-duckdb", "dbt-duckdb:build"]
#: Variables that would point the demo at other credentials or another database file.
FOREIGN_SETTINGS = ("TAP_TIKTOK_SHOP_", "TARGET_DUCKDB_", "DBT_")
DAILY_DAYS = 7  # days of the daily report the demo prints
TOP_PRODUCTS, TOP_DAYS = 5, 7  # the products report: each shop's top 5 of its last 7 shop days


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


@dataclass(frozen=True)
class DemoData:
    """What the emulator serves, fixed on the first run so later runs see the same orders."""

    shops: int
    orders_per_shop: int
    data_until: int

    @classmethod
    def load_or_create(cls, path: Path, shops: int, orders_per_shop: int, fresh: bool) -> DemoData:
        """Reuse the saved data description unless this is a fresh database."""
        if path.exists() and not fresh:
            return cls(**json.loads(path.read_text()))
        data = cls(shops, orders_per_shop, int(time.time()))
        path.write_text(json.dumps(data.__dict__))
        return data


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (the defaults are what ``make demo`` runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir",
        type=Path,
        default=REPO / "output" / "demo",
        help="where the DuckDB file, the saved data description and logs go",
    )
    parser.add_argument("--shops", type=int, default=3, help="shops of a new demo")
    parser.add_argument("--orders-per-shop", type=int, default=1000, help="orders of a new demo")
    parser.add_argument(
        "--changes-per-shop",
        type=int,
        default=5,
        help="orders changed in each shop before every run after the first",
    )
    parser.add_argument(
        "--meltano",
        default=str(Path(sys.executable).with_name("meltano")),
        help="the meltano executable",
    )
    return parser.parse_args(argv)


def meltano_env(emulator_url: str, database: Path) -> dict[str, str]:
    """The caller's environment, minus settings that would leave the demo's bounds."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_SETTINGS)}
    env["TIKTOK_SHOP_EMULATOR_URL"] = emulator_url
    env["TARGET_DUCKDB_FILEPATH"] = str(database)
    env["DBT_DUCKDB_PATH"] = str(database)
    # dbt's run results and logs go beside the database, out of the source tree.
    env["DBT_TARGET_PATH"] = str(database.parent / "dbt-target")
    env["DBT_LOG_PATH"] = str(database.parent / "dbt-logs")
    return env


def run_meltano(meltano: str, args: list[str], env: dict[str, str], log: Path) -> None:
    """Run Meltano in the project, its output going to ``log``.

    Raises:
        DemoError: if it fails, with the end of its log.
    """
    command = [meltano, "--environment=demo", *args]
    print(f"Running: meltano --environment=demo {' '.join(args)}  (log: {log})", flush=True)
    with log.open("w") as out:
        try:
            done = subprocess.run(  # noqa: S603 (the venv's meltano, fixed arguments)
                command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            )
        except OSError as exc:
            raise DemoError(f"cannot run {meltano}: {exc.strerror} (run `make setup`)") from exc
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise DemoError(f"meltano failed with exit code {done.returncode}:\n{tail}")


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    """Open the demo database read-only, with the target's schema as the default one."""
    db = duckdb.connect(str(database), read_only=True)
    db.execute(f"SET schema = '{SCHEMA}'")
    return db


def last_batch(database: Path) -> t.Any:
    """When the target last wrote an order (None for a new database)."""
    if not database.exists():
        return None
    with connect(database) as db:
        row = db.execute("SELECT max(_sdc_batched_at) FROM orders").fetchone()
    return row[0] if row else None


def change_orders(emulator: Emulator, per_shop: int) -> dict[str, int]:
    """Change a few orders of every shop, as happens between two runs: id -> new update_time."""
    changed: dict[str, int] = {}
    for shop in emulator.shops():
        ids = emulator.update_orders(shop["id"], per_shop, seed=time.time_ns())
        for order_id in ids:
            changed[order_id] = emulator.order(shop["id"], order_id)["update_time"]
    return changed


def check_run(database: Path, before: t.Any, changed: dict[str, int]) -> list[str]:
    """Check what this run wrote and describe it.

    Raises:
        DemoError: if an order is duplicated or a changed order was not loaded.
    """
    with connect(database) as db:
        rows, ids = db.execute("SELECT count(*), count(DISTINCT id) FROM orders").fetchone()
        loaded = db.execute(
            "SELECT count(*) FROM orders WHERE ? IS NULL OR _sdc_batched_at > ?", [before, before]
        ).fetchone()[0]
        stored = dict(
            db.execute(
                "SELECT id, update_time FROM orders WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [list(changed)],
            ).fetchall()
        )
    if rows != ids:
        raise DemoError(f"{SCHEMA}.orders holds {rows} rows for {ids} orders")
    stale = sorted(
        order_id for order_id, update_time in changed.items() if stored.get(order_id) != update_time
    )
    if stale:
        raise DemoError(f"changed orders not loaded: {', '.join(stale)}")
    lines = [
        f"This run loaded {loaded} order records; {SCHEMA}.orders holds {rows} orders, "
        "one row each."
    ]
    if changed:
        lines.append(
            f"{len(changed)} orders changed since the last run; all of them are in the "
            f"database with their new update_time ({loaded - len(changed)} more records "
            "were re-read from the lookback window and merged on the order id)."
        )
    return lines


def format_table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> str:
    """Rows as aligned text columns (the columns in ``right`` right-aligned)."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    )


def summary(database: Path) -> str:
    """Orders and revenue (sum of payment.total_amount) per shop and status, as a table."""
    with connect(database) as db:
        rows = db.execute("""
            SELECT s.name, s.region, o.status, count(*) AS orders,
                   sum(CAST(o.payment->>'total_amount' AS DECIMAL(18, 2))) AS revenue,
                   any_value(o.payment->>'currency') AS currency
            FROM orders o JOIN shops s ON s.id = o.shop_id
            GROUP BY ALL ORDER BY s.name, orders DESC""").fetchall()
    header = ("shop", "region", "status", "orders", "revenue", "currency")
    return format_table(
        header,
        [(str(n), str(r), str(s), str(c), f"{v:,.2f}", str(cur)) for n, r, s, c, v, cur in rows],
        right={3, 4},
    )


def daily_summary(database: Path) -> str:
    """The tiktok_shop__daily_shop mart per shop: its last days and its totals, as a table.

    The totals cover all days: refunds come days after the orders they refund, so the last
    days alone rarely show any.
    """
    with connect(database) as db:
        rows = db.execute(f"""
            WITH recent AS (
                SELECT *, row_number() OVER (PARTITION BY shop_id ORDER BY date_day DESC) AS n
                FROM {MARTS_SCHEMA}.tiktok_shop__daily_shop
            )
            SELECT s.shop_name, CAST(d.date_day AS VARCHAR) AS day, 0 AS total, d.order_count,
                   d.cancelled_order_count, d.units, d.gross_sales, d.refund_amount,
                   d.net_sales, d.currency
            FROM recent d JOIN {MARTS_SCHEMA}.stg_tiktok_shop__shops s USING (shop_id)
            WHERE d.n <= {DAILY_DAYS}
            UNION ALL
            SELECT s.shop_name, 'all days', 1, sum(order_count), sum(cancelled_order_count),
                   sum(units), sum(gross_sales), sum(refund_amount), sum(net_sales),
                   any_value(currency)
            FROM {MARTS_SCHEMA}.tiktok_shop__daily_shop d
            JOIN {MARTS_SCHEMA}.stg_tiktok_shop__shops s USING (shop_id)
            GROUP BY s.shop_name
            ORDER BY 1, 3, 2""").fetchall()  # noqa: S608 (constants only)
    header = (
        "shop",
        "day",
        "orders",
        "cancelled",
        "units",
        "gross sales",
        "refunds",
        "net sales",
        "currency",
    )
    return format_table(
        header,
        [
            (
                str(shop),
                day,
                str(orders),
                str(cancelled),
                str(units),
                f"{gross:,.2f}",
                f"{refunds:,.2f}",
                f"{net:,.2f}",
                str(currency),
            )
            for shop, day, _, orders, cancelled, units, gross, refunds, net, currency in rows
        ],
        right={2, 3, 4, 5, 6, 7},
    )


def top_products(database: Path) -> str:
    """Each shop's top products by GMV over its last shop days with analytics, as a table.

    The days are the shop's calendar days (the Analytics API's), ending at the last one the API
    had data for. Visitors add up over the days; the conversion rate is the days' rates
    weighted by their visitors (a rate of a sum of days would need buyers, which the API does
    not give); units and revenue come from the orders created on those same shop days.
    """
    with connect(database) as db:
        rows = db.execute(f"""
            WITH last_day AS (
                SELECT shop_id, max(shop_date) AS shop_date
                FROM {MARTS_SCHEMA}.tiktok_shop__product_daily
                WHERE gmv IS NOT NULL
                GROUP BY shop_id
            ),
            products AS (
                SELECT p.shop_id, p.product_id, any_value(p.product_name) AS product_name,
                       sum(p.gmv) AS gmv, sum(p.visitors) AS visitors,
                       sum(p.conversion_rate * p.visitors) / nullif(sum(p.visitors), 0)
                           AS conversion_rate,
                       sum(p.order_units) AS units, sum(p.order_revenue) AS revenue,
                       any_value(p.currency) AS currency
                FROM {MARTS_SCHEMA}.tiktok_shop__product_daily p
                JOIN last_day l ON l.shop_id = p.shop_id
                    AND p.shop_date > l.shop_date - INTERVAL {TOP_DAYS} DAY
                    AND p.shop_date <= l.shop_date
                GROUP BY p.shop_id, p.product_id
            ),
            ranked AS (
                SELECT *, row_number() OVER (
                    PARTITION BY shop_id ORDER BY gmv DESC NULLS LAST, product_id) AS rank
                FROM products
            )
            SELECT s.shop_name, r.rank, r.product_name, r.gmv, r.visitors, r.conversion_rate,
                   r.units, r.revenue, r.currency
            FROM ranked r JOIN {MARTS_SCHEMA}.stg_tiktok_shop__shops s USING (shop_id)
            WHERE r.rank <= {TOP_PRODUCTS}
            ORDER BY 1, 2""").fetchall()  # noqa: S608 (constants only)
    header = (
        "shop",
        "rank",
        "product",
        "gmv",
        "visitors",
        "conversion",
        "units ordered",
        "order revenue",
        "currency",
    )
    return format_table(
        header,
        [
            (
                str(shop),
                str(rank),
                str(name),
                f"{gmv:,.2f}",
                str(visitors),
                "" if rate is None else f"{rate:.2%}",
                str(units),
                f"{revenue:,.2f}",
                str(currency),
            )
            for shop, rank, name, gmv, visitors, rate, units, revenue, currency in rows
        ],
        right={1, 3, 4, 5, 6, 7},
    )


def main(argv: list[str] | None = None) -> int:
    """Run the demo once; exit code 1 with a one-line reason if it cannot finish."""
    args = parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    database = args.dir / "warehouse.duckdb"
    fresh = not database.exists()
    data = DemoData.load_or_create(
        args.dir / "emulator.json", args.shops, args.orders_per_shop, fresh
    )
    before = last_batch(database)
    config = EmulatorConfig(
        shops=data.shops, orders_per_shop=data.orders_per_shop, data_until=data.data_until
    )
    try:
        with Emulator(config) as emulator:
            print(
                f"Emulator: {data.shops} shops x {data.orders_per_shop} orders at "
                f"{emulator.base_url}",
                flush=True,
            )
            changed = {} if fresh else change_orders(emulator, args.changes_per_shop)
            pipeline = [*PIPELINE, "--full-refresh"] if fresh else PIPELINE
            run_meltano(
                args.meltano,
                pipeline,
                meltano_env(emulator.base_url, database),
                args.dir / "meltano.log",
            )
        print("Emulator stopped.\n")
        print(f"Orders and revenue per shop and status ({database}):")
        print(summary(database))
        print()
        print(
            f"Daily sales per shop: last {DAILY_DAYS} UTC days with orders or refunds, and "
            f"all days ({MARTS_SCHEMA}.tiktok_shop__daily_shop, built by dbt):"
        )
        print(daily_summary(database))
        print()
        print(
            f"Top {TOP_PRODUCTS} products per shop by GMV over its last {TOP_DAYS} shop days "
            f"with analytics ({MARTS_SCHEMA}.tiktok_shop__product_daily; shop days are the "
            "shop's calendar days):"
        )
        print(top_products(database))
        print()
        print("\n".join(check_run(database, before, changed)))
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # the emulator is stopped by then; the next run continues
        print("demo interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
