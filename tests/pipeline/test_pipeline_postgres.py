"""End to end: ``meltano run tap-tiktok-shop target-postgres`` into the PostgreSQL server.

Runs this repository's meltano.yml (plugins installed by Meltano in their own virtualenvs)
against the emulator and the server on 127.0.0.1:5432, in a schema this module creates and
drops. PostgreSQL missing is a failure, never a skip: `.ci/run` starts it.
Connection: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, else 127.0.0.1:5432, user
postgres, database test (trust auth).
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from dataclasses import dataclass

import psycopg
import pytest
import yaml
from psycopg import rows as pg_rows
from psycopg import sql

from tests.support.meltano_project import REPO, MeltanoProject, emulator_settings, tap_env
from tests.support.postgres import (
    connect,
    create_schema,
    drop_schema,
    target_postgres_env,
)
from tests.support.tap_runs import assert_no_secrets, secret_values
from tiktok_shop_emulator import Emulator, EmulatorConfig

STATE_ID = "dev:tap-tiktok-shop-to-target-postgres"
LOOKBACK_SECONDS = 10 * 60  # the tap's default lookback_minutes
CHANGES = {0: 6, 1: 3}  # shop index -> orders changed before the second run


@dataclass
class Pipeline:
    """The emulator, the schema and the Meltano project of this module's runs."""

    emulator: Emulator
    schema: str
    project: MeltanoProject
    db: psycopg.Connection[t.Any]

    def config(self) -> dict[str, str]:
        """The tap's settings, as a user would put them in .env."""
        return emulator_settings(self.emulator)

    def run(
        self, *extra: str, schema: str | None = None, settings: dict[str, str] | None = None
    ) -> None:
        """``meltano run tap-tiktok-shop target-postgres``, configured through the environment."""
        env = tap_env(self.config())
        env.update(
            {
                **target_postgres_env(schema or self.schema),
            }
        )
        env.update(settings or {})
        done = self.project.meltano("run", "tap-tiktok-shop", "target-postgres", *extra, env=env)
        assert_no_secrets(done.stdout + done.stderr, secret_values(self.emulator, self.config()))
        assert done.returncode == 0, f"meltano run failed:\n{done.stderr[-4000:]}"

    def rows(self, schema: str | None = None) -> dict[str, dict[str, t.Any]]:
        """Every stored order: id -> the columns the tests look at."""
        query = sql.SQL(
            "SELECT id, shop_id, update_time, status, _sdc_batched_at FROM {}.orders"
        ).format(sql.Identifier(schema or self.schema))
        with self.db.cursor(row_factory=pg_rows.dict_row) as cur:
            return {row["id"]: row for row in cur.execute(query)}


@pytest.fixture(scope="module")
def pipeline(meltano_project: MeltanoProject) -> t.Iterator[Pipeline]:
    db = connect()
    meltano_project.install("extractor", "tap-tiktok-shop")
    meltano_project.install("loader", "target-postgres")
    emulator = Emulator(EmulatorConfig(shops=2, orders_per_shop=150, seed=11))
    emulator.start()
    schema = create_schema(db)
    try:
        yield Pipeline(emulator, schema, meltano_project, db)
    finally:
        drop_schema(db, schema)
        db.close()
        emulator.stop()


def _bookmarks(singer_state: dict[str, t.Any]) -> dict[str, int]:
    """shop id -> the orders bookmark of a Singer state."""
    partitions = singer_state["bookmarks"]["orders"]["partitions"]
    return {p["context"]["shop_id"]: p["replication_key_value"] for p in partitions}


@dataclass
class Load:
    """The table and Meltano's saved states after a run."""

    rows: dict[str, dict[str, t.Any]]
    states: dict[str, dict[str, t.Any]]

    @property
    def bookmarks(self) -> dict[str, int]:
        return _bookmarks(self.states[STATE_ID])


@pytest.fixture(scope="module")
def first_load(pipeline: Pipeline) -> Load:
    pipeline.run()
    return Load(pipeline.rows(), pipeline.project.states())


@pytest.fixture(scope="module")
def second_load(pipeline: Pipeline, first_load: Load) -> tuple[list[str], Load]:
    """Change some orders in the emulator, run again: the changed ids and the new load."""
    emu = pipeline.emulator
    changed: list[str] = []
    for index, count in CHANGES.items():
        changed += emu.update_orders(emu.shops()[index]["id"], count, seed=index)
    pipeline.run()
    return changed, Load(pipeline.rows(), pipeline.project.states())


def _newest_per_shop(rows: dict[str, dict[str, t.Any]]) -> dict[str, int]:
    newest: dict[str, int] = {}
    for row in rows.values():
        newest[row["shop_id"]] = max(newest.get(row["shop_id"], 0), row["update_time"])
    return newest


def _emulator_orders(emu: Emulator) -> dict[str, dict[str, t.Any]]:
    return {
        row["id"]: {**row, "shop_id": shop["id"]}
        for shop in emu.shops()
        for row in emu.orders_for_shop(shop["id"])
    }


def test_first_run_stores_one_row_per_order_with_right_per_shop_counts(pipeline, first_load):
    expected = _emulator_orders(pipeline.emulator)
    assert set(first_load.rows) == set(expected)  # keyed by id: one row per order
    with pipeline.db.cursor() as cur:
        total, distinct = cur.execute(
            sql.SQL("SELECT count(*), count(DISTINCT id) FROM {}.orders").format(
                sql.Identifier(pipeline.schema)
            )
        ).fetchone()
        per_shop = dict(
            cur.execute(
                sql.SQL("SELECT shop_id, count(*) FROM {}.orders GROUP BY shop_id").format(
                    sql.Identifier(pipeline.schema)
                )
            ).fetchall()
        )
        shops = {
            row[0]
            for row in cur.execute(
                sql.SQL("SELECT id FROM {}.shops").format(sql.Identifier(pipeline.schema))
            )
        }
    assert total == distinct == len(expected) == 300
    assert per_shop == {shop["id"]: 150 for shop in pipeline.emulator.shops()}
    assert shops == set(per_shop)
    for order_id, row in first_load.rows.items():
        assert (row["shop_id"], row["update_time"]) == (
            expected[order_id]["shop_id"],
            expected[order_id]["update_time"],
        )


def test_nested_objects_and_arrays_of_objects_are_stored_as_jsonb(pipeline, first_load):
    schema = sql.Identifier(pipeline.schema)
    with pipeline.db.cursor() as cur:
        types = dict(
            cur.execute(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = 'orders'",
                [pipeline.schema],
            ).fetchall()
        )
        units = cur.execute(
            sql.SQL(
                "SELECT o.id, count(*), sum((li->>'sale_price')::numeric) "
                "FROM {}.orders o, jsonb_array_elements(o.line_items) AS li GROUP BY o.id"
            ).format(schema)
        ).fetchall()
        stored = {
            row[0]: row[1:]
            for row in cur.execute(
                sql.SQL(
                    "SELECT id, line_items, payment, payment->>'total_amount' FROM {}.orders"
                ).format(schema)
            )
        }
    # One jsonb document each (meltano.yml's `schema:` extra), not a jsonb[] array: COPY
    # quotes jsonb[] elements character by character.
    assert types["line_items"] == "jsonb"
    assert types["packages"] == "jsonb"
    assert types["payment"] == "jsonb"
    assert types["update_time"] == "int8"
    emu = pipeline.emulator
    shop_of = {order_id: row["shop_id"] for order_id, row in first_load.rows.items()}
    unit_counts = {order_id: count for order_id, count, _ in units}
    for order_id in sorted(stored)[:40]:
        order = emu.order(shop_of[order_id], order_id)
        line_items, payment, total = stored[order_id]
        assert line_items == order["line_items"]
        assert payment == order["payment"]
        assert total == order["payment"]["total_amount"]
        assert unit_counts[order_id] == len(order["line_items"]) >= 1


def test_state_holds_one_bookmark_per_shop(pipeline, first_load):
    assert set(first_load.states) == {STATE_ID}
    assert first_load.bookmarks == _newest_per_shop(first_load.rows)


def test_second_run_upserts_changed_orders_and_leaves_the_rest(pipeline, first_load, second_load):
    changed_ids, load = second_load
    before, after = first_load.rows, load.rows
    changed = set(changed_ids)
    assert len(changed) == sum(CHANGES.values())
    assert set(after) == set(before)  # no duplicate, no loss: still one row per order
    emu = pipeline.emulator
    for order_id in changed:
        order = emu.order(after[order_id]["shop_id"], order_id)
        assert (
            after[order_id]["update_time"] == order["update_time"] > before[order_id]["update_time"]
        )
        assert after[order_id]["status"] == order["status"]
        assert after[order_id]["_sdc_batched_at"] > before[order_id]["_sdc_batched_at"]
    # Besides the changes, only the lookback window before each shop's bookmark is re-read.
    window_start = {shop: mark - LOOKBACK_SECONDS for shop, mark in first_load.bookmarks.items()}
    rewritten = {
        order_id
        for order_id, row in after.items()
        if row["_sdc_batched_at"] != before[order_id]["_sdc_batched_at"]
    }
    in_window = {
        order_id
        for order_id, row in before.items()
        if row["update_time"] >= window_start[row["shop_id"]]
    }
    assert changed <= rewritten <= changed | in_window
    assert len(rewritten) < len(after) / 4
    for order_id in set(after) - rewritten:
        assert after[order_id] == before[order_id]


def test_second_run_moves_each_shops_bookmark_to_its_newest_change(first_load, second_load):
    changed, load = second_load
    assert load.bookmarks == _newest_per_shop(load.rows)
    assert all(load.bookmarks[shop] > mark for shop, mark in first_load.bookmarks.items())
    newest_change = _newest_per_shop({order_id: load.rows[order_id] for order_id in changed})
    assert load.bookmarks == newest_change


def test_a_shard_of_shops_runs_with_its_own_state_id(pipeline, first_load):
    shard_shop = pipeline.emulator.shops()[1]["id"]
    schema = create_schema(pipeline.db)
    try:
        pipeline.run(
            "--state-id-suffix=shard-b",
            schema=schema,
            settings={"TAP_TIKTOK_SHOP_SHOP_IDS": json.dumps([shard_shop])},
        )
        stored = pipeline.rows(schema)
    finally:
        drop_schema(pipeline.db, schema)
    assert {row["shop_id"] for row in stored.values()} == {shard_shop}
    assert len(stored) == len(pipeline.emulator.orders_for_shop(shard_shop))
    states = pipeline.project.states()
    shard_state = f"{STATE_ID}:shard-b"
    assert set(_bookmarks(states[shard_state])) == {shard_shop}
    # The unsharded job's state is not the shard's: it still covers every shop.
    assert set(_bookmarks(states[STATE_ID])) == {shop["id"] for shop in pipeline.emulator.shops()}


def test_declared_loader_settings_are_settings_of_the_installed_target(pipeline):
    target = pipeline.project.sys_dir / "loaders" / "target-postgres" / "venv" / "bin"
    done = subprocess.run(
        [target / "target-postgres", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    )
    known = set(json.loads(done.stdout)["settings"]["properties"])
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    loader = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres")
    declared = {setting["name"] for setting in loader["settings"]}
    assert declared <= known, f"not settings of target-postgres: {sorted(declared - known)}"
