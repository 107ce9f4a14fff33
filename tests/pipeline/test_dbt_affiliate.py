"""The creator-commission marts on PostgreSQL and DuckDB, against the emulator's figures.

``meltano run`` loads ``shops`` and the opt-in ``affiliate_order_skus`` (selected through the
plugin's ``select`` extra, as ``meltano select`` would), then dbt builds the affiliate models
and the macro test of the localized amount forms: on PostgreSQL enabled by the utility's
``affiliate_order_skus_enabled`` setting, on DuckDB by the ``build-with-affiliate`` command.
Both marts must equal the figures computed from the emulator's own numbers (not from its
display strings), after a first sync and again after commissions settled and an
incremental run re-read the lookback. Every dbt test must pass.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.pipeline.test_dbt_postgres import OPT_IN_MODELS
from tests.support.marts import dbt_test_results
from tests.support.meltano_project import REPO, MeltanoProject, emulator_settings, tap_env
from tests.support.postgres import (
    connect,
    create_schema,
    dbt_postgres_env,
    drop_schema,
    target_postgres_env,
)
from tests.support.tap_runs import assert_no_secrets, secret_values
from tiktok_shop_emulator import Emulator, EmulatorConfig
from tiktok_shop_emulator.config import AFFILIATE_SCOPE, DEFAULT_SCOPES

SELECT = ["shops.*", "affiliate_order_skus.*"]
DBT_SELECT = ["--select", "stg_tiktok_shop__affiliate_order_skus+", "money_amount_forms"]
COMMISSIONS = (
    "SELECT shop_id, order_id, sku_id, creator_username, content_type, content_id, "
    "commission_rate, estimated_commission, actual_commission, settlement_status, "
    "order_created_date FROM {schema}.tiktok_shop__affiliate_commissions"
)
DAILY = (
    "SELECT shop_id, creator_username, date_day, order_count, sku_lines, units, "
    "estimated_commission, actual_commission, settled_lines "
    "FROM {schema}.tiktok_shop__creator_commissions_daily"
)
Figures = dict[tuple[t.Any, ...], tuple[t.Any, ...]]


def _expected(emu: Emulator) -> tuple[Figures, Figures]:
    """Both marts from the emulator's numbers: lines by key, creator days by key."""
    lines: Figures = {}
    days: dict[tuple[t.Any, ...], list[t.Any]] = defaultdict(
        lambda: [set(), 0, 0, Decimal(0), Decimal(0), 0]
    )
    for shop in emu.shops():
        for line in emu.affiliate_lines(shop["id"]):
            day = dt.datetime.fromtimestamp(line["create_time"], dt.UTC).date()
            lines[shop["id"], line["order_id"], line["sku_id"]] = (
                line["creator"],
                line["content_type"],
                line["content_id"],
                Decimal(line["rate"]) / 10000,
                line["estimated_paid_commission"],
                line["actual_paid_commission"],
                line["settlement_status"],
                day,
            )
            figures = days[shop["id"], line["creator"], day]
            figures[0].add(line["order_id"])
            figures[1] += 1
            figures[2] += line["quantity"]
            figures[3] += line["estimated_paid_commission"]
            figures[4] += line["actual_paid_commission"] or 0
            figures[5] += line["settlement_status"] == "SETTLED"
    daily = {key: (len(f[0]), *f[1:]) for key, f in days.items()}
    return lines, daily


def _rows(rows: list[tuple[t.Any, ...]], key_size: int) -> Figures:
    out: Figures = {}
    for row in rows:
        key = tuple(row[:key_size])
        assert key not in out, f"two rows for {key}"
        out[key] = tuple(row[key_size:])
    return out


class Backend:
    """Load with one target, build with its dbt utility, read the marts back."""

    def __init__(self, name: str, project: MeltanoProject, emu: Emulator, work: Path) -> None:
        self.name, self.project, self.emu, self.work = name, project, emu, work
        self.marts_schema = f"tts_aff_{uuid.uuid4().hex[:8]}"
        self.raw_schema = "tiktok_shop"
        self.database = work / "warehouse.duckdb"
        self.db = connect() if name == "postgres" else None
        if self.db is not None:
            self.raw_schema = create_schema(self.db)

    def env(self) -> dict[str, str]:
        env = tap_env(emulator_settings(self.emu, token_store_enabled="false"))
        env["TAP_TIKTOK_SHOP__SELECT"] = json.dumps(SELECT)
        if self.name == "postgres":  # DuckDB: through the utility's build-with-affiliate
            env["DBT_POSTGRES_AFFILIATE_ORDER_SKUS_ENABLED"] = "true"  # the utility's setting
        env["DBT_TARGET_PATH"] = str(self.work / "dbt-target")
        env["DBT_LOG_PATH"] = str(self.work / "dbt-logs")
        if self.name == "postgres":
            env.update(
                {
                    **target_postgres_env(self.raw_schema),
                    **dbt_postgres_env(self.marts_schema, self.raw_schema),
                }
            )
        else:
            env.update(
                {
                    "TARGET_DUCKDB_FILEPATH": str(self.database),
                    "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": self.raw_schema,
                    "DBT_DUCKDB_PATH": str(self.database),
                    "DBT_DUCKDB_SCHEMA": self.marts_schema,
                    "DBT_DUCKDB_SOURCE_SCHEMA": self.raw_schema,
                }
            )
        return env

    def run(self) -> dict[str, str]:
        """Load, then build the affiliate models; dbt's test results."""
        env = self.env()
        secrets = secret_values(self.emu, emulator_settings(self.emu))
        for args in (
            ("run", "tap-tiktok-shop", f"target-{self.name}"),
            ("invoke", f"dbt-{self.name}", "build", *DBT_SELECT)
            if self.name == "postgres"
            else ("invoke", "dbt-duckdb:build-with-affiliate", *DBT_SELECT),
        ):
            done = self.project.meltano(*args, env=env)
            assert_no_secrets(done.stdout + done.stderr, secrets)
            assert done.returncode == 0, f"{args}:\n{done.stderr[-4000:]}{done.stdout[-3000:]}"
        return dbt_test_results(self.work / "dbt-target")

    def marts(self) -> tuple[Figures, Figures]:
        queries = (
            COMMISSIONS.format(schema=self.marts_schema),
            DAILY.format(schema=self.marts_schema),
        )
        if self.db is not None:
            with self.db.cursor() as cur:
                rows = [cur.execute(query).fetchall() for query in queries]
        else:
            with duckdb.connect(str(self.database), read_only=True) as db:
                rows = [db.execute(query).fetchall() for query in queries]
        return _rows(rows[0], 3), _rows(rows[1], 3)

    def columns(self) -> dict[str, set[str]]:
        """The columns of every table and view dbt built: name -> columns."""
        query = (
            "SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema = '{self.marts_schema}'"
        )
        if self.db is not None:
            with self.db.cursor() as cur:
                rows = cur.execute(query).fetchall()
        else:
            with duckdb.connect(str(self.database), read_only=True) as db:
                rows = db.execute(query).fetchall()
        built: dict[str, set[str]] = defaultdict(set)
        for table, column in rows:
            built[table].add(column)
        return built

    def close(self) -> None:
        if self.db is not None:
            drop_schema(self.db, self.marts_schema)
            drop_schema(self.db, self.raw_schema)
            self.db.close()


@pytest.fixture(params=["postgres", "duckdb"])
def backend(
    request: pytest.FixtureRequest, meltano_project: MeltanoProject, tmp_path: Path
) -> t.Iterator[Backend]:
    name = request.param
    for plugin_type, plugin in (
        ("extractor", "tap-tiktok-shop"),
        ("loader", f"target-{name}"),
        ("utility", f"dbt-{name}"),
    ):
        meltano_project.install(plugin_type, plugin)
    emu = Emulator(
        EmulatorConfig(
            shops=2,
            orders_per_shop=5,
            seed=31,
            affiliate_orders_per_shop=80,
            granted_scopes=[*DEFAULT_SCOPES, AFFILIATE_SCOPE],
        )
    )
    emu.start()
    each = Backend(name, meltano_project, emu, tmp_path)
    try:
        yield each
    finally:
        each.close()
        emu.stop()


def _assert_marts(found: tuple[Figures, Figures], expected: tuple[Figures, Figures]) -> None:
    for got, want in zip(found, expected, strict=True):
        assert set(got) == set(want)
        wrong = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
        assert not wrong, f"{len(wrong)} rows differ, e.g. {list(wrong.items())[:3]}"


def test_marts_equal_the_emulators_figures_before_and_after_settlement(backend):
    tests = backend.run()
    expected = _expected(backend.emu)
    assert len(expected[0]) > 100
    assert any(figures[5] is None for figures in expected[0].values())  # unsettled lines
    _assert_marts(backend.marts(), expected)
    assert "test.tiktok_shop.money_amount_forms" in tests
    assert len(tests) >= 15
    assert set(tests.values()) == {"pass"}, {k: v for k, v in tests.items() if v != "pass"}
    documented = {
        model["name"]: {column["name"] for column in model["columns"]}
        for path in (REPO / "transform" / "models").glob("*/schema.yml")
        for model in yaml.safe_load(path.read_text())["models"]
    }
    built = backend.columns()
    assert set(built) == OPT_IN_MODELS  # only the affiliate models were selected
    assert all(built[model] == documented[model] for model in OPT_IN_MODELS)
    first = backend.marts()
    settled = [
        order
        for shop in backend.emu.shops()
        for order in backend.emu.settle_affiliate(shop["id"], 3)
    ]
    assert len(settled) == 6
    tests = backend.run()  # incremental: the lookback brings the settled lines
    expected = _expected(backend.emu)
    _assert_marts(backend.marts(), expected)
    assert backend.marts()[0] != first[0]
    assert set(tests.values()) == {"pass"}
