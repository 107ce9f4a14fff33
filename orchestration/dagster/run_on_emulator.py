"""One command (``make dagster-run``): the Dagster job end to end on the emulator's shops.

Starts the emulator (9 shops) on a free loopback port, then runs
``dagster job execute -f orchestration/dagster/definitions.py -j tiktok_shop_shards`` with the
Meltano environment ``demo`` (the emulator's fake credentials), 3 shards, into fresh schemas of
the local PostgreSQL (PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE, else 127.0.0.1:5432, user
postgres, database postgres), and prints each shard's shops and orders read back from the raw
tables and the marts. Meltano's state of these runs lives in a temporary system database, so
every run starts from nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from tiktok_shop_emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parents[2]
DAGSTER = REPO / ".venv-dagster" / "bin" / "dagster"
DEFINITIONS = REPO / "orchestration" / "dagster" / "definitions.py"
#: Settings of the caller's shell that would send this run elsewhere.
FOREIGN_PREFIXES = ("TAP_TIKTOK_SHOP_", "TARGET_POSTGRES_", "DBT_POSTGRES_", "MELTANO_")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (the defaults are what ``make dagster-run`` runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=9)
    parser.add_argument("--orders-per-shop", type=int, default=300)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--schema", default="tiktok_shop_dagster", help="raw tables (recreated)")
    parser.add_argument("--marts-schema", default="analytics_dagster", help="marts (recreated)")
    return parser.parse_args(argv)


def postgres() -> dict[str, str]:
    """The connection settings of the local server."""
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": os.environ.get("PGPORT", "5432"),
        "user": os.environ.get("PGUSER", "postgres"),
        # target-postgres refuses an empty password, even on trust auth
        "password": os.environ.get("PGPASSWORD", "unused-with-trust-auth"),
        "dbname": os.environ.get("PGDATABASE", "postgres"),
    }


def pipeline_env(
    pg: dict[str, str], args: argparse.Namespace, emulator_url: str, workdir: Path
) -> dict[str, str]:
    """The environment of ``dagster job execute`` and, through it, of every Meltano run."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_PREFIXES)}
    env.update(
        {
            "TIKTOK_SHOP_EMULATOR_URL": emulator_url,
            "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
            "DAGSTER_HOME": str(workdir / "dagster"),
            "TARGET_POSTGRES_HOST": pg["host"],
            "TARGET_POSTGRES_PORT": pg["port"],
            "TARGET_POSTGRES_USER": pg["user"],
            "TARGET_POSTGRES_PASSWORD": pg["password"],
            "TARGET_POSTGRES_DATABASE": pg["dbname"],
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": args.schema,
            "DBT_POSTGRES_HOST": pg["host"],
            "DBT_POSTGRES_PORT": pg["port"],
            "DBT_POSTGRES_USER": pg["user"],
            "DBT_POSTGRES_PASSWORD": pg["password"],
            "DBT_POSTGRES_DBNAME": pg["dbname"],
            "DBT_POSTGRES_SCHEMA": args.marts_schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": args.schema,
        }
    )
    return env


def run_config(shards: int) -> dict[str, object]:
    """The job's run config: the shard count, the concurrency, the Meltano environment."""
    return {
        "ops": {
            "plan_shards": {"config": {"shard_count": shards}},
            "sync_shard": {"config": {"retry_delay_seconds": 5}},
        },
        "resources": {"meltano": {"config": {"environment": "demo"}}},
        "execution": {"config": {"max_concurrent": shards}},
    }


def summary(pg: dict[str, str], args: argparse.Namespace) -> list[str]:
    """Orders per shop from the raw tables, and the marts' totals."""
    with psycopg.connect(**pg, connect_timeout=5) as db:  # type: ignore[arg-type]
        per_shop = db.execute(
            sql.SQL(
                "SELECT shop_id, count(*), count(DISTINCT id) FROM {}.orders GROUP BY shop_id "
                "ORDER BY shop_id"
            ).format(sql.Identifier(args.schema))
        ).fetchall()
        marts = db.execute(
            sql.SQL("SELECT count(*), sum(net_sales) FROM {}.tiktok_shop__daily_shop").format(
                sql.Identifier(args.marts_schema)
            )
        ).fetchone()
    lines = [
        f"shop {shop}: {rows} orders ({distinct} distinct)" for shop, rows, distinct in per_shop
    ]
    if marts is not None:
        lines.append(f"daily_shop mart: {marts[0]} shop-days, net sales {marts[1]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the job once; print what it loaded."""
    args = parse_args(argv)
    if not DAGSTER.exists():
        print(f"{DAGSTER} is missing: run `make dagster-setup`", file=sys.stderr)
        return 1
    pg = postgres()
    with psycopg.connect(**pg, autocommit=True, connect_timeout=5) as db:  # type: ignore[arg-type]
        for schema in (args.schema, args.marts_schema):
            db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    emulator = Emulator(EmulatorConfig(shops=args.shops, orders_per_shop=args.orders_per_shop))
    with tempfile.TemporaryDirectory(prefix="tts-dagster-") as tmp, emulator:
        workdir = Path(tmp)
        (workdir / "dagster").mkdir()
        (workdir / "dagster" / "dagster.yaml").touch()
        config = workdir / "run_config.json"
        config.write_text(json.dumps(run_config(args.shards)))
        done = subprocess.run(  # noqa: S603 (fixed command)
            [
                str(DAGSTER),
                "job",
                "execute",
                "-f",
                str(DEFINITIONS),
                "-j",
                "tiktok_shop_shards",
                "-c",
                str(config),
            ],
            cwd=REPO,
            env=pipeline_env(pg, args, emulator.base_url, workdir),
            check=False,
        )
    if done.returncode != 0:
        print(f"dagster job execute failed (exit {done.returncode})", file=sys.stderr)
        return done.returncode
    print("\n".join(summary(pg, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
