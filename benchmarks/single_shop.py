"""Single big shop benchmark: one shop's first sync against the API's per-shop rate limit.

1 shop x 30,000 orders, 250 ms latency per request, the emulator limiting the shop to 50
requests per second with a sliding one-second window and no burst allowance. Printed: the time
from the first order search to the last answer against its bound (order searches / 50), the
whole run's time, the number of 429 answers, and that every order arrived.

Usage: python -m benchmarks.single_shop [--runs 3] [--orders 30000]
"""

from __future__ import annotations

import argparse
import tempfile

import orjson

from benchmarks.common import (
    emulator_config,
    expect,
    machine_info,
    median,
    run_measured,
    tap_command,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig

SEARCH = "/order/202309/orders/search"
LATENCY_MS, QPS = 250, 50


def main() -> None:
    """Print the figures and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=int, default=30_000)
    args = parser.parse_args()
    print(machine_info())
    config = EmulatorConfig(
        shops=1,
        orders_per_shop=args.orders,
        latency_ms=LATENCY_MS,
        qps_limit=QPS,
        order_cache_size=args.orders + 100,
    )
    ratios, walls, throttled_share = [], [], []
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        command = tap_command(emulator_config(emu), tmp)
        expected = {row["id"] for row in emu.orders_for_shop(emu.shops()[0]["id"])}
        for _ in range(args.runs):
            emu.stats.reset()
            run = run_measured(command)
            expect(run.returncode == 0, "the tap failed")
            got = set()
            for line in run.stdout.splitlines():
                message = orjson.loads(line)
                if message["type"] == "RECORD" and message["stream"] == "orders":
                    got.add(message["record"]["id"])
            expect(got == expected, "orders were missing")
            searches = emu.stats.records(SEARCH)
            answered = [record for record in searches if record.status != 429]
            span = max(r.at for r in searches) - min(r.at for r in searches)
            # The first search starts one latency before its answer is recorded.
            span += LATENCY_MS / 1000
            ratios.append(span / (len(answered) / QPS))
            walls.append(run.wall)
            throttled_share.append(100 * (len(searches) - len(answered)) / len(searches))
            print(
                f"  run: searches {len(searches)} (429: {len(searches) - len(answered)}), "
                f"search phase {span:.2f} s, bound {len(answered) / QPS:.2f} s, "
                f"whole run {run.wall:.2f} s"
            )
    print(
        f"1 shop x {args.orders} orders, {LATENCY_MS} ms latency, limit {QPS} req/s, "
        f"{args.runs} runs"
    )
    print(f"search phase / bound, median: {median(ratios):.2f}x  (target <= 1.5x)")
    print(
        f"whole run, median: {median(walls):.2f} s; 429 share, median: "
        f"{median(throttled_share):.1f}% (target < 2%)"
    )


if __name__ == "__main__":
    main()
