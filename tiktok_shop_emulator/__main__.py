"""Command line: run the emulator until SIGTERM/SIGINT, printing its base URL first.

The emulator is a test double: its admin API has no authentication (it reveals the secrets
of token calls and mints tokens) and its consent page redirects to any ``redirect_uri``. So it
says so in ``--help`` and warns when bound to an address other machines can reach.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from types import FrameType

from tiktok_shop_emulator import sellers
from tiktok_shop_emulator.config import EmulatorConfig
from tiktok_shop_emulator.server import Emulator


def parse_args(argv: list[str] | None = None) -> EmulatorConfig:
    """Map command-line options onto an EmulatorConfig."""
    d = EmulatorConfig()
    p = argparse.ArgumentParser(
        prog="python -m tiktok_shop_emulator",
        description="Local TikTok Shop Open API emulator, for tests and demos only: its admin "
        "API (/__admin__/) is unauthenticated, reveals token secrets and mints "
        "tokens, and its consent page redirects anywhere. Keep it on loopback.",
    )
    p.add_argument(
        "--host",
        default=d.host,
        help="address to bind (default %(default)s); anything but loopback lets "
        "other machines use the unauthenticated admin API",
    )
    p.add_argument("--port", type=int, default=d.port, help="0 picks a free port")
    p.add_argument("--shops", type=int, default=d.shops)
    p.add_argument(
        "--sellers",
        type=int,
        default=d.sellers,
        help="sellers that authorized the app, each with its own refresh token "
        "(seller i >= 2: <refresh-token>_i) and a contiguous group of the "
        "shops, the remainder to the first sellers (default %(default)s)",
    )
    p.add_argument(
        "--shared-shops",
        type=int,
        default=d.shared_shops,
        help="each seller after the first also lists the last N shops of the "
        "previous seller (default %(default)s)",
    )
    p.add_argument("--orders-per-shop", type=int, default=d.orders_per_shop)
    p.add_argument("--returns-per-shop", type=int, default=d.returns_per_shop)
    p.add_argument("--cancellations-per-shop", type=int, default=d.cancellations_per_shop)
    p.add_argument("--products-per-shop", type=int, default=d.products_per_shop)
    p.add_argument(
        "--statement-days",
        type=int,
        default=d.statement_days,
        help="days of daily statements (and their payments)",
    )
    p.add_argument("--withdrawals-per-shop", type=int, default=d.withdrawals_per_shop)
    p.add_argument(
        "--affiliate-orders-per-shop",
        type=int,
        default=d.affiliate_orders_per_shop,
        help="affiliate orders (1-3 SKU lines each); grant "
        "seller.affiliate_collaboration.read to read them",
    )
    p.add_argument(
        "--empty-shops", type=int, default=d.empty_shops, help="the last N shops have no orders"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--history-days", type=int, default=d.history_days)
    p.add_argument(
        "--data-until",
        type=int,
        default=d.data_until,
        help="unix time the order history ends at (default: start time); "
        "fix it to serve the same orders after a restart",
    )
    p.add_argument("--latency-ms", type=float, default=d.latency_ms)
    p.add_argument("--qps-limit", type=int, default=d.qps_limit, help="0 = unlimited")
    p.add_argument("--app-key", default=d.app_key)
    p.add_argument("--app-secret", default=d.app_secret)
    p.add_argument("--refresh-token", default=d.refresh_token)
    p.add_argument("--token-lifetime", type=int, default=d.token_lifetime)
    p.add_argument("--rotate-refresh-token", action="store_true")
    p.add_argument("--clock-offset-seconds", type=float, default=d.clock_offset_seconds)
    p.add_argument("--fail-rate", type=float, default=d.fail_rate)
    p.add_argument("--mutate-every-n-pages", type=int, default=d.mutate_every_n_pages)
    p.add_argument("--mutate-count", type=int, default=d.mutate_count)
    p.add_argument(
        "--stale-update-time-probability", type=float, default=d.stale_update_time_probability
    )
    p.add_argument(
        "--granted-scopes", default=",".join(d.granted_scopes), help="comma-separated scope keys"
    )
    a = p.parse_args(argv)
    config = EmulatorConfig(
        host=a.host,
        port=a.port,
        shops=a.shops,
        orders_per_shop=a.orders_per_shop,
        seed=a.seed,
        sellers=a.sellers,
        shared_shops=a.shared_shops,
        returns_per_shop=a.returns_per_shop,
        cancellations_per_shop=a.cancellations_per_shop,
        products_per_shop=a.products_per_shop,
        statement_days=a.statement_days,
        withdrawals_per_shop=a.withdrawals_per_shop,
        empty_shops=a.empty_shops,
        affiliate_orders_per_shop=a.affiliate_orders_per_shop,
        history_days=a.history_days,
        data_until=a.data_until,
        latency_ms=a.latency_ms,
        qps_limit=a.qps_limit,
        app_key=a.app_key,
        app_secret=a.app_secret,
        refresh_token=a.refresh_token,
        token_lifetime=a.token_lifetime,
        rotate_refresh_token=a.rotate_refresh_token,
        clock_offset_seconds=a.clock_offset_seconds,
        fail_rate=a.fail_rate,
        mutate_every_n_pages=a.mutate_every_n_pages,
        mutate_count=a.mutate_count,
        stale_update_time_probability=a.stale_update_time_probability,
        granted_scopes=[s for s in a.granted_scopes.split(",") if s],
    )
    try:
        sellers.validate(config)
    except ValueError as exc:
        p.error(str(exc))  # one line and exit code 2, no traceback
    return config


def exposure_warning(host: str) -> str | None:
    """The warning to print when ``host`` is not a loopback address (None when it is)."""
    name = host.strip().lower()
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (
        f"WARNING: the emulator listens on {host}, reachable from other machines: it is "
        "for tests only; its admin API is unauthenticated (reveals secrets, mints tokens)"
    )


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print the base URL as the first stdout line, serve until a signal."""
    config = parse_args(argv)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    warning = exposure_warning(config.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    emulator = Emulator(config)
    print(emulator.start(), flush=True)
    print(
        f"serving {config.shops} shops x {config.orders_per_shop} orders, "
        f"{config.sellers} seller(s)",
        file=sys.stderr,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
