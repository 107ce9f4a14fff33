"""The Dagster job (orchestration/dagster/) end to end: 9 shops, 3 shards, the local PostgreSQL.

``dagster job execute -f orchestration/dagster/definitions.py -j tiktok_shop_shards`` runs from
Dagster's own venv (``make dagster-setup``) against the emulator, with this repository's Meltano
project (plugins in .meltano-test/, a system database per module). First a plain single
``meltano run ... dbt-postgres:build`` loads the same shops into other schemas: the sharded
marts must equal its marts. Then three job runs: the first loads everything; before the second,
orders change, a tenth shop is authorized and one shard is made to fail once; before the third,
``scripts/reshard_state.py`` carries the bookmarks from 3 shards over to 2. What Meltano ran is
read from its system database (``runs``: one row per ``meltano run``, by state id).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tap_tiktok_shop.sharding import Shard, shard_of
from tests.support.marts import Marts, assert_marts_equal, dbt_test_results, read_marts
from tests.support.meltano_project import MELTANO, REPO, MeltanoProject, emulator_settings, tap_env
from tests.support.postgres import (
    connect,
    create_schema,
    dbt_postgres_env,
    drop_schema,
    target_postgres_env,
)
from tests.support.tap_runs import assert_no_secrets, secret_values
from tiktok_shop_emulator import Emulator, EmulatorConfig

DAGSTER = REPO / ".venv-dagster" / "bin" / "dagster"
DEFINITIONS = REPO / "orchestration" / "dagster" / "definitions.py"
JOB = "tiktok_shop_shards"
BASE_STATE_ID = "dev:tap-tiktok-shop-to-target-postgres"
SHOPS, ORDERS_PER_SHOP, SHARDS = 10, 40, 3  # the tenth shop is authorized before run 2
LOOKBACK_SECONDS = 10 * 60


def state_id(shard: Shard) -> str:
    return f"{BASE_STATE_ID}:{shard.state_id_suffix}"


@dataclass
class Deployment:
    """The emulator, the schemas, Dagster's home and the Meltano project of the job's runs."""

    emulator: Emulator
    project: MeltanoProject
    db: psycopg.Connection[t.Any]
    tmp: Path
    schemas: dict[str, str]  # raw, marts, single_raw, single_marts

    def tap_config(self) -> dict[str, str]:
        return emulator_settings(self.emulator)

    def env(self, raw: str, marts: str, dbt_target: Path) -> dict[str, str]:
        """Settings for every Meltano run, as a deployment would export them (no secret in
        any command line or run config)."""
        env = tap_env(self.tap_config())
        env.update(
            {
                **target_postgres_env(raw),
                **dbt_postgres_env(marts, raw),
                "DBT_TARGET_PATH": str(dbt_target),
                "DBT_LOG_PATH": str(dbt_target / "logs"),
                "DAGSTER_HOME": str(self.tmp / "dagster"),
            }
        )
        return env

    def check_output(self, done: subprocess.CompletedProcess[str], what: str) -> str:
        output = done.stdout + done.stderr
        assert_no_secrets(output, secret_values(self.emulator, self.tap_config()))
        errors = [line for line in output.splitlines() if "error" in line.lower()][:30]
        assert done.returncode == 0, (
            f"{what} failed:\n" + "\n".join(errors) + f"\n...\n{output[-3000:]}"
        )
        return output

    def execute(self, shard_count: int) -> JobRun:
        """``dagster job execute`` of the job, with the shard count and concurrency as config."""
        config = {
            "ops": {
                "plan_shards": {"config": {"shard_count": shard_count}},
                "sync_shard": {"config": {"max_retries": 2, "retry_delay_seconds": 0}},
            },
            "resources": {
                "meltano": {"config": {"environment": "dev", "meltano_bin": str(MELTANO)}}
            },
            "execution": {"config": {"max_concurrent": shard_count}},
        }
        path = self.tmp / f"run-config-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(config))
        if not DAGSTER.exists():
            raise AssertionError(f"{DAGSTER} is missing: run `make dagster-setup`")
        before = len(self.meltano_runs())
        dbt_target = self.tmp / "dbt-sharded"
        done = subprocess.run(
            [str(DAGSTER), "job", "execute", "-f", str(DEFINITIONS), "-j", JOB, "-c", str(path)],
            cwd=REPO,
            # Unbuffered: a step process's last event lines (STEP_SUCCESS, STEP_UP_FOR_RETRY)
            # went missing from the captured output now and then with buffered pipes.
            env={
                **self.project.env(
                    self.env(self.schemas["raw"], self.schemas["marts"], dbt_target)
                ),
                "PYTHONUNBUFFERED": "1",
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        log = self.check_output(done, "dagster job execute")
        return JobRun(
            log,
            self.meltano_runs()[before:],
            self.orders(self.schemas["raw"]),
            self.project.states(),
            self.marts(self.schemas["marts"]),
            dbt_test_results(dbt_target),
        )

    def single_run(self) -> Marts:
        """The unsharded pipeline once, into its own schemas: what the marts must equal."""
        dbt_target = self.tmp / "dbt-single"
        done = self.project.meltano(
            "run",
            "--state-id-suffix=single",
            "tap-tiktok-shop",
            "target-postgres",
            "dbt-postgres:build",
            env=self.env(self.schemas["single_raw"], self.schemas["single_marts"], dbt_target),
        )
        self.check_output(done, "meltano run")
        assert set(dbt_test_results(dbt_target).values()) == {"pass"}
        return self.marts(self.schemas["single_marts"])

    def meltano_runs(self) -> list[tuple[str, str, str, str]]:
        """Every ``meltano run`` so far: (state id, outcome, started, ended), oldest first."""
        with sqlite3.connect(self.project.database) as db:
            return list(
                db.execute(
                    "SELECT job_name, state, started_at, ended_at FROM runs "
                    "WHERE state != 'STATE_EDIT' ORDER BY id"
                )
            )

    def orders(self, schema: str) -> dict[str, dict[str, t.Any]]:
        with self.db.cursor() as cur:
            ids = [
                row[0]
                for row in cur.execute(
                    sql.SQL("SELECT id FROM {}.orders").format(sql.Identifier(schema))
                )
            ]
            assert len(ids) == len(set(ids)), "an order was loaded twice"
            return {
                row[0]: {"shop_id": row[1], "update_time": row[2], "batched": row[3]}
                for row in cur.execute(
                    sql.SQL(
                        "SELECT id, shop_id, update_time, _sdc_batched_at FROM {}.orders"
                    ).format(sql.Identifier(schema))
                )
            }

    def marts(self, schema: str) -> Marts:
        with self.db.cursor() as cur:
            return read_marts(lambda query: cur.execute(query).fetchall(), schema)


@dataclass
class JobRun:
    """What one job run did: its log, Meltano's runs, the orders table, states and marts."""

    log: str
    runs: list[tuple[str, str, str, str]]
    orders: dict[str, dict[str, t.Any]]
    states: dict[str, dict[str, t.Any]]
    marts: Marts
    dbt_tests: dict[str, str]

    def bookmarks(self, state: str) -> dict[str, int]:
        partitions = self.states[state]["bookmarks"]["orders"]["partitions"]
        return {p["context"]["shop_id"]: p["replication_key_value"] for p in partitions}

    def outcomes(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for job_name, outcome, _, _ in self.runs:
            found.setdefault(job_name, []).append(outcome)
        return found

    def step_events(self, event: str) -> list[str]:
        """The steps of the Dagster log lines of one event type, e.g. STEP_START."""
        return [
            line.split(f" - {event} - ")[0].rsplit(" - ", 1)[-1]
            for line in self.log.splitlines()
            if f" - {event} - " in line
        ]


@pytest.fixture(scope="module")
def deployment(
    meltano_project: MeltanoProject, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Deployment]:
    db = connect()
    for plugin_type, name in (
        ("extractor", "tap-tiktok-shop"),
        ("loader", "target-postgres"),
        ("utility", "dbt-postgres"),
    ):
        meltano_project.install(plugin_type, name)
    emulator = Emulator(EmulatorConfig(shops=SHOPS, orders_per_shop=ORDERS_PER_SHOP, seed=31))
    emulator.deauthorize_shop(emulator.shops()[-1]["id"])  # authorized before the second run
    emulator.start()
    tmp = tmp_path_factory.mktemp("dagster")
    (tmp / "dagster").mkdir()
    (tmp / "dagster" / "dagster.yaml").touch()
    schemas = {
        "raw": create_schema(db),
        "single_raw": create_schema(db),
        "marts": f"tts_marts_{uuid.uuid4().hex[:10]}",
        "single_marts": f"tts_marts_{uuid.uuid4().hex[:10]}",
    }
    try:
        yield Deployment(emulator, meltano_project, db, tmp, schemas)
    finally:
        for schema in schemas.values():
            drop_schema(db, schema)
        db.close()
        emulator.stop()


def authorized(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops() if shop["authorized"]]


@pytest.fixture(scope="module")
def single_marts(deployment: Deployment) -> Marts:
    return deployment.single_run()


@pytest.fixture(scope="module")
def first(deployment: Deployment, single_marts: Marts) -> JobRun:
    shops = authorized(deployment.emulator)
    assert len(shops) == 9
    assert {shard_of(shop, SHARDS) for shop in shops} == set(range(SHARDS))  # none empty
    return deployment.execute(SHARDS)


@dataclass
class Changes:
    changed_orders: list[str]
    new_shop: str
    failing_shard: Shard


@pytest.fixture(scope="module")
def second(deployment: Deployment, first: JobRun) -> tuple[Changes, JobRun]:
    """Orders change in two shards' shops, a tenth shop is authorized, and one shop of shard 1
    answers its first orders request with an error: shard 1's first attempt fails."""
    emu = deployment.emulator
    shops = authorized(emu)
    by_shard = {index: [s for s in shops if shard_of(s, SHARDS) == index] for index in (0, 2)}
    changed = emu.update_orders(by_shard[0][0], 5, seed=1) + emu.update_orders(
        by_shard[2][0], 3, seed=2
    )
    new_shop = emu.shops()[-1]["id"]
    emu.authorize_shop(new_shop)
    failing = Shard(1, SHARDS)
    doomed = next(s for s in shops if failing.holds(s))
    emu.faults.add("seller_inactive", count=1, path_prefix="/order/", on_shop=doomed)
    return Changes(changed, new_shop, failing), deployment.execute(SHARDS)


@pytest.fixture(scope="module")
def resharded(deployment: Deployment, second: tuple[Changes, JobRun]) -> tuple[str, JobRun]:
    """The bookmarks of 3 shards carried over to 2, then the job with 2 shards."""
    env = deployment.project.env(deployment.env("unused", "unused", deployment.tmp))
    done = subprocess.run(
        [
            sys.executable,
            "scripts/reshard_state.py",
            "--environment",
            "dev",
            "--from",
            "3",
            "--to",
            "2",
            "--meltano",
            str(MELTANO),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = deployment.check_output(done, "reshard_state.py")
    return output, deployment.execute(2)


def emulator_orders(emu: Emulator) -> dict[str, dict[str, t.Any]]:
    return {
        row["id"]: {**row, "shop_id": shop}
        for shop in authorized(emu)
        for row in emu.orders_for_shop(shop)
    }


def test_the_job_loads_every_order_of_every_shop_exactly_once(deployment, first):
    expected = emulator_orders(deployment.emulator)
    assert len(expected) == 9 * ORDERS_PER_SHOP
    assert set(first.orders) == set(expected)
    for order_id, row in first.orders.items():
        assert (row["shop_id"], row["update_time"]) == (
            expected[order_id]["shop_id"],
            expected[order_id]["update_time"],
        )


def test_each_shard_runs_once_with_its_own_state_holding_exactly_its_shops(deployment, first):
    shards = [Shard(index, SHARDS) for index in range(SHARDS)]
    outcomes = first.outcomes()
    assert set(outcomes) == {state_id(shard) for shard in shards}
    # Each shard succeeds. On this first load into an empty schema a shard can fail once and be
    # retried (seen on a loaded machine: the loader's pipe broke while all three create the
    # same tables at once); never more than the retries allow.
    failures = [line for line in first.log.splitlines() if "STEP_UP_FOR_RETRY" in line]
    for outcome in outcomes.values():
        assert outcome[-1] == "SUCCESS", failures
        assert set(outcome[:-1]) <= {"FAIL"}
        assert len(outcome) <= 3
    assert set(first.states) == {f"{BASE_STATE_ID}:single"} | {state_id(s) for s in shards}
    for shard in shards:
        expected = {s for s in authorized(deployment.emulator) if shard.holds(s)}
        assert set(first.bookmarks(state_id(shard))) == expected
        assert {
            row["shop_id"] for row in first.orders.values() if shard.holds(row["shop_id"])
        } == expected


def test_shards_run_in_parallel_and_the_marts_are_built_once_after_all(first):
    first_attempts = {}
    for job_name, _, started, ended in first.runs:
        first_attempts.setdefault(job_name, (started, ended))
    starts = [started for started, _ in first_attempts.values()]
    ends = [ended for _, ended in first_attempts.values()]
    assert max(starts) < min(ends)  # every shard had started before the first one ended
    assert first.step_events("STEP_START").count("build_marts") == 1
    marts_start = next(
        line for line in first.log.splitlines() if "build_marts - STEP_START" in line
    )
    shard_ends = [
        line
        for line in first.log.splitlines()
        if "sync_shard[" in line and " - STEP_SUCCESS - " in line
    ]
    assert len(shard_ends) == SHARDS  # once each, whatever the attempts
    assert first.log.index(marts_start) > max(first.log.index(line) for line in shard_ends)


def test_the_sharded_marts_equal_the_single_run_marts(first, single_marts):
    assert len(single_marts.orders) == 9 * ORDERS_PER_SHOP
    assert_marts_equal(first.marts, single_marts)
    assert first.dbt_tests
    assert set(first.dbt_tests.values()) == {"pass"}


def test_the_second_run_is_incremental_per_shard(deployment, first, second):
    changes, run = second
    before, after = first.orders, run.orders
    rewritten = {
        order_id for order_id in before if after[order_id]["batched"] != before[order_id]["batched"]
    }
    changed = set(changes.changed_orders)
    window = {
        shop: mark - LOOKBACK_SECONDS
        for state in first.runs
        for shop, mark in first.bookmarks(state[0]).items()
    }
    in_window = {
        order_id for order_id, row in before.items() if row["update_time"] >= window[row["shop_id"]]
    }
    assert changed <= rewritten <= changed | in_window
    for order_id in changed:
        assert after[order_id]["update_time"] > before[order_id]["update_time"]
    for shard in (Shard(index, SHARDS) for index in range(SHARDS)):
        old, new = first.bookmarks(state_id(shard)), run.bookmarks(state_id(shard))
        for shop, mark in old.items():
            newest = max(row["update_time"] for row in after.values() if row["shop_id"] == shop)
            assert new[shop] == newest
            assert (new[shop] > mark) == any(after[o]["shop_id"] == shop for o in changed)


def test_a_failed_shard_is_retried_alone(deployment, second):
    changes, run = second
    failing = state_id(changes.failing_shard)
    others = {state_id(Shard(i, SHARDS)) for i in range(SHARDS)} - {failing}
    assert run.outcomes() == {failing: ["FAIL", "SUCCESS"], **{s: ["SUCCESS"] for s in others}}
    retried = f"sync_shard[shard_{changes.failing_shard.index}_of_{SHARDS}]"
    assert run.step_events("STEP_UP_FOR_RETRY") == [retried]
    starts = run.step_events("STEP_START") + run.step_events("STEP_RESTARTED")
    assert starts.count(retried) == 2
    assert all(
        starts.count(f"sync_shard[shard_{i}_of_{SHARDS}]") == 1
        for i in range(SHARDS)
        if i != changes.failing_shard.index
    )
    assert "seller" in run.log  # the shop's one-line failure reached the step's log
    assert set(run.orders) == set(emulator_orders(deployment.emulator))
    assert set(run.dbt_tests.values()) == {"pass"}


def test_a_newly_authorized_shop_lands_in_exactly_one_shard(deployment, second):
    changes, run = second
    holders = [
        index
        for index in range(SHARDS)
        if changes.new_shop in run.bookmarks(state_id(Shard(index, SHARDS)))
    ]
    assert holders == [shard_of(changes.new_shop, SHARDS)]
    loaded = [o for o, row in run.orders.items() if row["shop_id"] == changes.new_shop]
    assert len(loaded) == ORDERS_PER_SHOP
    assert len(run.orders) == SHOPS * ORDERS_PER_SHOP


def test_resharding_carries_every_bookmark_over_to_the_new_count(deployment, second, resharded):
    _, before = second
    output, run = resharded
    assert "bookmarks of" in output
    old = {}
    for index in range(SHARDS):
        old.update(before.bookmarks(state_id(Shard(index, SHARDS))))
    new_shards = [Shard(index, 2) for index in range(2)]
    assert run.outcomes() == {state_id(shard): ["SUCCESS"] for shard in new_shards}
    for shard in new_shards:
        # Nothing changed since: each shop continues from (and keeps) its carried bookmark.
        assert run.bookmarks(state_id(shard)) == {s: m for s, m in old.items() if shard.holds(s)}
    rewritten = [
        o for o, row in run.orders.items() if row["batched"] != before.orders[o]["batched"]
    ]
    assert len(rewritten) < len(run.orders) / 10  # the lookback window, not a reload
    assert set(run.orders) == set(before.orders)


def test_dagster_definitions_validate_and_the_hourly_schedule(tmp_path):
    if not DAGSTER.exists():
        raise AssertionError(f"{DAGSTER} is missing: run `make dagster-setup`")
    (tmp_path / "dagster.yaml").touch()
    done = subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-f", str(DEFINITIONS)],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stderr + done.stdout
    listed = subprocess.run(
        [str(DAGSTER), "schedule", "list", "-f", str(DEFINITIONS)],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "Schedule: tiktok_shop_shards_hourly" in listed.stdout
    assert "Cron Schedule: 0 * * * *" in listed.stdout  # hourly


def test_each_shard_gets_its_own_run_directory_and_the_shared_plugins_and_database(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "shard_dirs", DEFINITIONS.with_name("shard_dirs.py")
    )
    assert spec is not None
    assert spec.loader is not None
    shard_dirs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shard_dirs)
    (tmp_path / ".meltano" / "extractors" / "tap-x").mkdir(parents=True)
    (tmp_path / ".meltano" / "loaders").mkdir()
    envs = [shard_dirs.shard_environment(tmp_path, name, {}) for name in ("a", "b", "a")]
    assert envs[0] == envs[2]  # the same shard again: the same directory, links kept
    assert envs[0]["MELTANO_SYS_DIR_ROOT"] != envs[1]["MELTANO_SYS_DIR_ROOT"]
    assert {env["MELTANO_DATABASE_URI"] for env in envs} == {
        f"sqlite:///{(tmp_path / '.meltano' / 'meltano.db').resolve()}"
    }
    shard = Path(envs[0]["MELTANO_SYS_DIR_ROOT"])
    assert (shard / "extractors" / "tap-x").is_dir()
    assert sorted(p.name for p in shard.iterdir()) == ["extractors", "loaders"]
    given = shard_dirs.shard_environment(
        tmp_path,
        "c",
        {
            "MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys"),
            "MELTANO_DATABASE_URI": "postgresql://db/m",
        },
    )
    assert given == {
        "MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys" / "shards" / "c"),
        "MELTANO_DATABASE_URI": "postgresql://db/m",
    }
