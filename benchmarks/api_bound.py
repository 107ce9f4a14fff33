"""API-bound benchmark: wall time against the bound the API's rate limit sets.

5 shops x 4,000 orders, 200 ms latency per request, the emulator limiting each shop to 20
requests per second (as the real API counts: per app, shop and API). The bound is
requests / QPS; the tap's `requests_per_second` is set to the same 20. A sequential run
(`parallel_reads` = 1) is printed for comparison.

Usage: python -m benchmarks.api_bound [--runs 3]
"""

from __future__ import annotations

import argparse
import tempfile

from benchmarks.common import (
    count_records,
    emulator_config,
    expect,
    machine_info,
    median,
    run_measured,
    tap_command,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig

SHOPS, ORDERS, LATENCY_MS, QPS = 5, 4000, 200, 20


def measure(emu: Emulator, tmp: str, parallel: int, runs: int) -> tuple[float, float, int, int]:
    """Median wall time, median ratio to the bound, requests per run and 429s in all runs."""
    command = tap_command(
        emulator_config(emu, requests_per_second=QPS, parallel_reads=parallel),
        tmp,
        f"config-{parallel}.json",
    )
    walls, ratios, throttled, requests = [], [], 0, 0
    for _ in range(runs):
        emu.stats.reset()
        run = run_measured(command)
        expect(run.returncode == 0, "the tap failed")
        expect(count_records(run.stdout) == SHOPS * ORDERS, "the tap missed orders")
        requests = sum(emu.stats.requests_per_path().values())
        throttled += emu.stats.rate_limited
        walls.append(run.wall)
        ratios.append(run.wall / (requests / QPS))
    return median(walls), median(ratios), requests, throttled


def main() -> None:
    """Print the figures and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine_info())
    config = EmulatorConfig(
        shops=SHOPS,
        orders_per_shop=ORDERS,
        latency_ms=LATENCY_MS,
        qps_limit=QPS,
        order_cache_size=SHOPS * ORDERS + 100,
    )
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        print(
            f"{SHOPS} shops x {ORDERS} orders, {LATENCY_MS} ms latency, limit {QPS} req/s "
            f"per shop, {args.runs} runs each"
        )
        for parallel in (1, 16):
            runs = 1 if parallel == 1 else args.runs  # the sequential run is only a yardstick
            wall, ratio, requests, throttled = measure(emu, tmp, parallel, runs)
            label = f"parallel_reads={parallel}" + (" (default)" if parallel == 16 else "")
            print(
                f"{label:32s} median wall {wall:6.2f} s; requests {requests}; "
                f"bound {requests / QPS:5.2f} s; ratio {ratio:.2f}x; 429s {throttled}"
            )
    print("target: default run within 1.25x of the bound")


if __name__ == "__main__":
    main()
