"""Memory benchmark: the tap's peak RSS does not grow with the number of orders.

One shop, zero latency; the tap's peak RSS (its own process) at 50,000 and at 200,000 orders.
Nothing per order is kept, so both peaks should be about the same and well under 200 MB.

Usage: python -m benchmarks.memory [--orders 200000] [--runs 1]
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


def peak_rss(orders: int, runs: int) -> float:
    """Median peak RSS (MB) of the tap syncing ``orders`` orders of one shop."""
    config = EmulatorConfig(shops=1, orders_per_shop=orders)
    peaks = []
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        command = tap_command(emulator_config(emu), tmp)
        for _ in range(runs):
            run = run_measured(command)
            expect(run.returncode == 0, "the tap failed")
            expect(count_records(run.stdout) == orders, "the tap missed orders")
            peaks.append(run.peak_rss_mb)
    return median(peaks)


def main() -> None:
    """Print peak RSS at a quarter of the orders and at all of them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(machine_info())
    small = peak_rss(args.orders // 4, args.runs)
    large = peak_rss(args.orders, args.runs)
    print(f"peak RSS at {args.orders // 4:>7} orders: {small:6.1f} MB")
    print(f"peak RSS at {args.orders:>7} orders: {large:6.1f} MB  (target < 200 MB)")
    print(f"growth for 4x the orders: {large / small:.2f}x (1.00x = flat)")


if __name__ == "__main__":
    main()
