"""Kill and resume the whole pipeline (issue 13): nothing lost, nothing twice, latest versions.

``meltano run tap-tiktok-shop target-postgres`` (this repository's meltano.yml, the real
PostgreSQL server) is killed with SIGKILL, its whole process group, twice at different points
of the load while sellers change orders in between; then it runs to the end. PostgreSQL must
then hold every order of the emulator exactly once, each in its latest version. After such a
kill Meltano refuses a new run of the same state id (the killed run still looks alive);
docs/operations.md ("After a crashed run") tells operators and schedulers to run again with
``--force``, which this test does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import typing as t

import psycopg
import pytest
from psycopg import sql

from tests.support.meltano_project import MELTANO, REPO, MeltanoProject
from tests.support.postgres import (
    connect,
    create_schema,
    drop_schema,
    target_postgres_env,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig

SHOPS, ORDERS = 2, 1500
#: Small loader batches, so rows (and the STATE after them) reach the database as the run goes.
BATCH_ROWS = 100


def _env(emu: Emulator, schema: str) -> dict[str, str]:
    return {
        "TAP_TIKTOK_SHOP_APP_KEY": emu.config.app_key,
        "TAP_TIKTOK_SHOP_APP_SECRET": emu.config.app_secret,
        "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emu.config.refresh_token,
        "TAP_TIKTOK_SHOP_API_BASE_URL": emu.base_url,
        "TAP_TIKTOK_SHOP_AUTH_BASE_URL": emu.base_url,
        "TAP_TIKTOK_SHOP_PAGE_SIZE": "50",
        "TAP_TIKTOK_SHOP_PARALLEL_READS": "2",
        "TAP_TIKTOK_SHOP__SELECT": '["shops.*", "orders.*"]',
        **target_postgres_env(schema),
        "TARGET_POSTGRES_BATCH_SIZE_ROWS": str(BATCH_ROWS),
    }


def _stored(db: psycopg.Connection[t.Any], schema: str) -> tuple[int, int, dict[str, int]]:
    """(rows, distinct ids, id -> update_time) of the loaded orders table (0s before it exists)."""
    try:
        rows = db.execute(
            sql.SQL("SELECT id, update_time FROM {}.orders").format(sql.Identifier(schema))
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        return 0, 0, {}
    return len(rows), len({row[0] for row in rows}), {row[0]: row[1] for row in rows}


def _start(project: MeltanoProject, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    """``meltano run`` in a process group of its own (Meltano, the tap and the loader)."""
    return subprocess.Popen(
        [str(MELTANO), "run", *extra, "tap-tiktok-shop", "target-postgres"],
        cwd=REPO,
        env=project.env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_when(
    proc: subprocess.Popen[bytes], db: psycopg.Connection[t.Any], schema: str, rows: int
) -> int:
    """SIGKILL the run's whole process group once the table holds ``rows`` orders or more."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        count = _stored(db, schema)[0]
        if count >= rows:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return count
        if proc.poll() is not None:
            pytest.fail(
                f"the run ended before it was killed (exit {proc.returncode}):\n"
                f"{proc.stderr.read().decode()[-3000:] if proc.stderr else ''}"
            )
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"the table never reached {rows} orders")


def _change_orders(emu: Emulator, count: int, seed: int) -> set[str]:
    changed: set[str] = set()
    for index, shop in enumerate(emu.shops()):
        changed.update(emu.update_orders(shop["id"], count, seed=seed + index))
    return changed


def test_killed_twice_then_resumed_holds_every_order_once_in_its_latest_version(
    meltano_project: MeltanoProject,
) -> None:
    meltano_project.install("extractor", "tap-tiktok-shop")
    meltano_project.install("loader", "target-postgres")
    db = connect()
    emu = Emulator(EmulatorConfig(shops=SHOPS, orders_per_shop=ORDERS, seed=29, latency_ms=20))
    emu.start()
    schema = create_schema(db)
    env = _env(emu, schema)
    try:
        first = _kill_when(_start(meltano_project, env), db, schema, rows=300)
        assert 0 < first < SHOPS * ORDERS
        changed = _change_orders(emu, 15, seed=1)

        # The killed run still looks alive to Meltano: a plain new run is refused.
        refused = meltano_project.meltano("run", "tap-tiktok-shop", "target-postgres", env=env)
        assert refused.returncode != 0
        assert "--force" in refused.stderr + refused.stdout

        second = _kill_when(_start(meltano_project, env, "--force"), db, schema, rows=first + 900)
        assert second < SHOPS * ORDERS
        changed |= _change_orders(emu, 15, seed=7)
        time.sleep(1.1)  # the last run starts in a later second than the changes

        done = meltano_project.meltano(
            "run", "--force", "tap-tiktok-shop", "target-postgres", env=env, timeout=600
        )
        assert done.returncode == 0, done.stderr[-4000:]

        total, distinct, stored = _stored(db, schema)
        expected = {
            row["id"]: row["update_time"]
            for shop in emu.shops()
            for row in emu.orders_for_shop(shop["id"])
        }
        assert total == distinct == len(expected) == SHOPS * ORDERS  # each order once
        assert stored == expected  # ... in its latest version
        assert changed
        assert all(stored[order_id] == expected[order_id] for order_id in changed)
    finally:
        drop_schema(db, schema)
        db.close()
        emu.stop()
