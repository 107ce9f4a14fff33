"""CPU-bound benchmark: orders per CPU-second of the tap against the SDK's default path.

1 shop x 50,000 orders from the emulator with zero latency. The tap's CPU is its own process's
user+sys (the emulator runs in this process and does not count). The reference is a minimal
SDK tap emitting the same records from memory through the SDK's default record path
(`reference_tap.py`). Runs are paired (tap, reference, tap, reference...) and medians printed.

Usage: python -m benchmarks.cpu_bound [--orders 50000] [--runs 3]
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
    tap_command,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig


def main() -> None:
    """Print the figures and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine_info())
    config = EmulatorConfig(
        shops=1, orders_per_shop=args.orders, order_cache_size=args.orders + 100
    )
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        command = tap_command(emulator_config(emu), tmp)
        warm = run_measured(command)  # also warms the emulator's order cache
        expect(warm.returncode == 0, "the tap failed")
        expect(count_records(warm.stdout) == args.orders, "the tap missed orders")
        orders_file = os.path.join(tmp, "orders.jsonl")
        with open(orders_file, "w") as handle:
            for line in warm.stdout.splitlines():
                message = json.loads(line)
                if message["type"] == "RECORD" and message["stream"] == "orders":
                    handle.write(json.dumps(message["record"]) + "\n")
        reference = [sys.executable, "benchmarks/reference_tap.py", orders_file]
        tap_rates, ref_rates, ratios = [], [], []
        for _ in range(args.runs):
            tap = run_measured(command)
            ref = run_measured(reference)
            expect(count_records(tap.stdout) == args.orders, "the tap missed orders")
            expect(count_records(ref.stdout) == args.orders, "the reference missed orders")
            tap_rates.append(args.orders / tap.cpu)
            ref_rates.append(args.orders / ref.cpu)
            ratios.append(tap_rates[-1] / ref_rates[-1])
    print(f"orders: {args.orders}, runs: {args.runs} (paired)")
    print(f"tap:       median {median(tap_rates):8.0f} orders per CPU-second")
    print(f"reference: median {median(ref_rates):8.0f} orders per CPU-second (SDK default path)")
    print(f"CPU ratio (tap / reference), median of pairs: {median(ratios):.2f}x  (target >= 2.5x)")


if __name__ == "__main__":
    main()
