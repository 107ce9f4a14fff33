"""Many small shops: wall time against the bound that latency and ``parallel_reads`` set.

An agency runs one tap for hundreds of shops, each holding little data, so what bounds a run
is the number of API calls: every call waits for the API's latency, and at most
``parallel_reads`` calls are in flight at once. The bound is calls x latency / parallel_reads;
the ratio of the wall time to it shows the tap's per-shop overhead (and any read that is not
made in parallel, such as statement transactions read one statement after another).

200 shops, every default stream (no catalog), small shops: 40 orders and 20 of each other
record per shop, 20 daily statements (each with its own transactions read); the emulator
answers after 100 ms and enforces the per-shop limit (50 requests per second per shop and
API, sliding one-second window). Calls and 429s are counted by the emulator.

Usage: python -m benchmarks.many_shops [--shops 200] [--runs 3] [--no-statements]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from benchmarks.common import (
    count_records,
    emulator_config,
    expect,
    machine_info,
    median,
    run_measured,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig

ORDERS, OTHERS, STATEMENT_DAYS, LATENCY_MS, QPS, PARALLEL = 40, 20, 20, 100, 50, 16


def emulator_settings(shops: int, *, statements: bool) -> EmulatorConfig:
    """The emulator of the benchmark: small shops, 100 ms per call, the per-shop limit on."""
    return EmulatorConfig(
        shops=shops,
        orders_per_shop=ORDERS,
        returns_per_shop=OTHERS,
        cancellations_per_shop=OTHERS,
        products_per_shop=OTHERS,
        withdrawals_per_shop=OTHERS,
        statement_days=STATEMENT_DAYS if statements else 0,
        latency_ms=LATENCY_MS,
        qps_limit=QPS,
        order_cache_size=shops * ORDERS + 100,
        stats_history=10,
    )


def main() -> None:
    """Print calls, wall time, the bound and the ratio (medians of the runs)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-statements", action="store_true")
    args = parser.parse_args()
    statements = not args.no_statements
    print(machine_info())
    with (
        Emulator(emulator_settings(args.shops, statements=statements)) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as handle:
            json.dump(emulator_config(emu, parallel_reads=PARALLEL), handle)
        command = [sys.executable, "-m", "tap_tiktok_shop", "--config", path]
        print(
            f"{args.shops} shops, default streams, {ORDERS} orders and {OTHERS} of each other "
            f"record per shop, {STATEMENT_DAYS if statements else 0} statements per shop; "
            f"{LATENCY_MS} ms latency, limit {QPS} req/s per shop and API; "
            f"parallel_reads={PARALLEL}; {args.runs} runs"
        )
        walls, ratios, calls, throttled, rss = [], [], 0, 0, []
        for _ in range(args.runs):
            emu.stats.reset()
            run = run_measured(command)
            expect(run.returncode == 0, "the tap failed")
            expect(count_records(run.stdout) == args.shops * ORDERS, "the tap missed orders")
            calls = sum(emu.stats.requests_per_path().values())
            throttled += emu.stats.rate_limited
            bound = calls * LATENCY_MS / 1000 / PARALLEL
            walls.append(run.wall)
            ratios.append(run.wall / bound)
            rss.append(run.peak_rss_mb)
            print(
                f"  run: wall {run.wall:6.1f} s; calls {calls}; bound {bound:5.1f} s; "
                f"ratio {run.wall / bound:.2f}x; 429s {emu.stats.rate_limited}; "
                f"peak RSS {run.peak_rss_mb:.0f} MB"
            )
        bound = calls * LATENCY_MS / 1000 / PARALLEL
        print(
            f"median wall {median(walls):.1f} s; calls {calls}; bound {bound:.1f} s "
            f"(calls x {LATENCY_MS} ms / {PARALLEL}); ratio {median(ratios):.2f}x; "
            f"429s {throttled} in all runs; peak RSS {max(rss):.0f} MB"
        )
    print("target: within 2.0x of the bound, no 429 storms, memory bounded")


if __name__ == "__main__":
    main()
