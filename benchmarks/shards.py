"""Shards in parallel against one run: the speed-up of the ``shard`` setting, as a ratio.

The same shops (9 shops x 2,000 orders plus the other default streams' records; the emulator
answers after 100 ms and enforces the per-shop limit, 50 requests per second per shop and API)
are loaded into PostgreSQL once by one ``meltano run tap-tiktok-shop target-postgres``, and once
by 3 such runs started together, each with ``TAP_TIKTOK_SHOP_SHARD=INDEX/3`` and its own state
id suffix and run directory: what each Dagster step of orchestration/dagster/ runs, without
Dagster's own start-up
of a step (a few seconds each). Each run starts from a fresh Meltano system database (a full
sync) and a fresh schema; every round checks every order is loaded exactly once. Printed: the
median wall time of each way and the ratio.

Usage: python -m benchmarks.shards [--runs 3] [--shards 3] [--orders-per-shop 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import REPO, emulator_config, expect, machine_info, median, run_measured
from benchmarks.pipeline import MELTANO, PG, _clean_env, count_orders, tap_env
from benchmarks.pipeline import Variant as LoaderVariant
from tiktok_shop_emulator import Emulator, EmulatorConfig

sys.path.insert(0, str(Path(REPO) / "orchestration" / "dagster"))
from shard_dirs import shard_environment  # a file of the Dagster code location

SHOPS, LATENCY_MS, QPS = 9, 100, 50


def one_pass(env: dict[str, str], tmp: str, shards: int | None) -> tuple[float, dict[str, str]]:
    """Load every shop into a new schema, unsharded (None) or as shards started together."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    target = {f"TARGET_POSTGRES_{key.upper()}": value for key, value in PG.items()}
    target["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
    run_env = {**env, **target, "MELTANO_DATABASE_URI": f"sqlite:///{tmp}/{schema}.db"}
    # One `meltano` command first creates the system database: shards that all start on a new
    # one would each run its migrations at once (the Dagster job does the same, see there).
    prepared = run_measured([str(MELTANO), "upgrade", "database"], env=run_env, clean=True)
    expect(prepared.returncode == 0, "meltano upgrade database failed")
    commands = [([str(MELTANO), "run", "tap-tiktok-shop", "target-postgres"], {})]
    if shards is not None:
        commands = [
            (
                [
                    str(MELTANO),
                    "run",
                    f"--state-id-suffix=shard-{index}-of-{shards}",
                    "tap-tiktok-shop",
                    "target-postgres",
                ],
                {
                    "TAP_TIKTOK_SHOP_SHARD": f"{index}/{shards}",
                    **shard_environment(REPO, f"{schema}-{index}", run_env),
                },
            )
            for index in range(shards)
        ]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        runs = list(
            pool.map(
                lambda command: run_measured(
                    command[0], env={**run_env, **command[1]}, clean=True, roles={}
                ),
                commands,
            )
        )
    wall = time.monotonic() - start
    for run in runs:
        expect(run.returncode == 0, f"a run failed:\n{run.stderr.decode(errors='replace')[-2000:]}")
    return wall, target


def main() -> None:
    """Print both wall times and the ratio (medians of the rounds)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--orders-per-shop", type=int, default=2000)
    args = parser.parse_args()
    print(machine_info())
    orders = SHOPS * args.orders_per_shop
    config = EmulatorConfig(
        shops=SHOPS,
        orders_per_shop=args.orders_per_shop,
        latency_ms=LATENCY_MS,
        qps_limit=QPS,
        order_cache_size=orders + 100,
    )
    walls: dict[str, list[float]] = {"one run": [], f"{args.shards} shards": []}
    checker = LoaderVariant("check", "target-postgres")
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        env = {**_clean_env(), **tap_env(emulator_config(emu))}
        for _ in range(args.runs):
            for label, shards in (("one run", None), (f"{args.shards} shards", args.shards)):
                wall, target = one_pass(env, tmp, shards)
                expect(count_orders(checker, target) == orders, f"{label}: orders missing")
                walls[label].append(wall)
    one, sharded = median(walls["one run"]), median(walls[f"{args.shards} shards"])
    print(
        f"{SHOPS} shops x {args.orders_per_shop} orders, {LATENCY_MS} ms latency, "
        f"{QPS} req/s per shop and API; medians of {args.runs} rounds"
    )
    print(f"one meltano run:                 {one:7.1f} s")
    print(f"{args.shards} shards in parallel:            {sharded:7.1f} s")
    print(f"speed-up:                        {one / sharded:7.2f}x")


if __name__ == "__main__":
    main()
