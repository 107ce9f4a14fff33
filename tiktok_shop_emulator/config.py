"""Settings of one emulator instance, so tests and the CLI can tune data, limits and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The restricted affiliate package: an app must apply for it, so tokens lack it by default.
AFFILIATE_SCOPE = "seller.affiliate_collaboration.read"
DEFAULT_SCOPES: tuple[str, ...] = (
    "seller.authorization.info",
    "seller.order.info",
    "seller.product.basic",
    "seller.return_refund.basic",
    "seller.finance.info",
    "data.shop_analytics.public.read",
)

# Knobs that may be changed while the emulator runs (also through POST /__admin__/config).
RUNTIME_KNOBS: frozenset[str] = frozenset(
    {
        "latency_ms",
        "qps_limit",
        "clock_offset_seconds",
        "fail_rate",
        "granted_scopes",
        "mutate_every_n_pages",
        "mutate_count",
        "stale_update_time_probability",
        "rotate_refresh_token",
        "token_lifetime",
    }
)


# Knobs fixed when the emulator starts that the admin config endpoint shows as well.
FIXED_KNOBS: frozenset[str] = frozenset({"sellers", "shared_shops"})


@dataclass
class EmulatorConfig:
    """All emulator knobs; those in RUNTIME_KNOBS may be changed on a live emulator."""

    host: str = "127.0.0.1"
    port: int = 0
    shops: int = 3
    orders_per_shop: int = 1000
    #: The last `empty_shops` shops have no orders at all.
    empty_shops: int = 0
    seed: int = 1
    history_days: int = 365
    # Unix time the seeded history ends at; None = when the emulator starts. A fixed value
    # makes a restarted emulator serve the very same orders (the demo relies on it).
    data_until: int | None = None
    latency_ms: float = 0.0
    qps_limit: int = 0
    app_key: str = "demo_app_key"
    app_secret: str = "demo_app_secret"  # noqa: S105 (fake credentials of a local fake)
    refresh_token: str = "demo_refresh_token"  # noqa: S105
    token_lifetime: int = 604800
    refresh_token_lifetime: int = 365 * 86400
    auth_code_lifetime: int = 1800
    rotate_refresh_token: bool = False
    granted_scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    redirect_uri: str = "http://127.0.0.1:8976/callback"
    seller_name: str = "Demo Seller"
    #: Sellers that authorized the app, each with its own refresh token and a contiguous group
    #: of the shops (in shop order; the remainder goes to the first sellers). Seller 1 has
    #: refresh_token and seller_name, seller i >= 2 f"{refresh_token}_{i}" and
    #: f"{seller_name} {i}" (see sellers.py).
    sellers: int = 1
    #: Each seller after the first also lists the last `shared_shops` shops of the previous
    #: seller: a shop two authorizations cover.
    shared_shops: int = 0
    clock_offset_seconds: float = 0.0
    fail_rate: float = 0.0
    mutate_every_n_pages: int = 0
    mutate_count: int = 0
    stale_update_time_probability: float = 0.0
    stats_history: int = 10000
    order_cache_size: int = 10000
    returns_per_shop: int = 40
    cancellations_per_shop: int = 25
    products_per_shop: int = 60
    statement_days: int = 30  # one statement (and one payment) per day, newest first
    withdrawals_per_shop: int = 12
    #: Days of analytics per shop, ending the shop's local day before the data's end.
    analytics_days: int = 14
    #: Affiliate orders per shop (1-3 SKU lines each), spread over history_days. Their API
    #: package (AFFILIATE_SCOPE) is restricted: not in DEFAULT_SCOPES, grant it to use them.
    affiliate_orders_per_shop: int = 40
