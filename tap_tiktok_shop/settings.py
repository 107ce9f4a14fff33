"""The tap's settings: declared once here, mirrored by meltano.yml and .secrets.example."""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass

from singer_sdk import typing as th

from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.sharding import parse_shard
from tap_tiktok_shop.untrusted import SECRET_SETTINGS, check_base_url, check_secret
from tap_tiktok_shop.windows import parse_instant

DEFAULT_API_BASE_URL = "https://open-api.tiktokglobalshop.com"
DEFAULT_AUTH_BASE_URL = "https://auth.tiktok-shops.com"

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "app_key",
        th.StringType(min_length=1),
        required=True,
        title="App key",
        description="The app key of your TikTok Shop Partner Center app.",
    ),
    th.Property(
        "app_secret",
        th.StringType(min_length=1),
        required=True,
        secret=True,
        title="App secret",
        description="The app secret; signs every request. Never logged.",
    ),
    th.Property(
        "refresh_token",
        th.StringType(min_length=1),
        secret=True,
        title="Refresh token",
        description=(
            "Long-lived token from the seller's authorization (see `tap-tiktok-shop-auth`); "
            "the tap trades it for access tokens as needed. Required unless authorizations "
            "or access_token is set."
        ),
    ),
    th.Property(
        "authorizations",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType(min_length=1)),
                th.Property(
                    "refresh_token", th.StringType(min_length=1), required=True, secret=True
                ),
                th.Property("shop_ids", th.ArrayType(th.StringType(min_length=1))),
                th.Property("open_id", th.StringType(min_length=1)),
                additional_properties=False,
            )
        ),
        secret=True,
        title="Authorizations",
        description=(
            "Several sellers in one run: a list of {refresh_token, name, shop_ids}, one per "
            "seller authorization (`tap-tiktok-shop-auth login --add` appends one). Every "
            "authorization's shops are synced, each shop once; name (for logs) and shop_ids "
            "(a filter) are optional. Used with or instead of refresh_token."
        ),
    ),
    th.Property(
        "access_token",
        th.StringType(min_length=1),
        secret=True,
        title="Access token",
        description="Optional access token, used until it expires (then refresh_token is used).",
    ),
    th.Property(
        "shop_ids",
        th.ArrayType(th.StringType(min_length=1)),
        title="Shop IDs",
        description="Sync only these shop ids (default: every shop the authorization covers).",
    ),
    th.Property(
        "shard",
        th.StringType(),
        title="Shard",
        description=(
            "INDEX/COUNT, e.g. 2/8: sync only the authorized shops whose stable hash of the "
            "shop id, modulo COUNT, is INDEX (shards count from 0; combinable with shop_ids). "
            "Give each shard its own state id (docs/operations.md: Shards)."
        ),
    ),
    th.Property(
        "start_date",
        th.StringType(min_length=1),
        title="Start date",
        description=(
            "ISO-8601 date or datetime (UTC if no offset): read records updated at or after "
            "it. Default: the shop's whole history."
        ),
    ),
    th.Property(
        "end_date",
        th.StringType(min_length=1),
        title="End date",
        description="ISO-8601: read records updated before it (default: when the sync starts).",
    ),
    th.Property(
        "lookback_minutes",
        th.IntegerType(minimum=0),
        default=10,
        title="Lookback (minutes)",
        description="Re-read this much before each shop's bookmark, to catch late updates.",
    ),
    th.Property(
        "finance_lookback_days",
        th.IntegerType(minimum=0),
        default=7,
        title="Finance lookback (days)",
        description=(
            "Finance streams re-read this many days before each shop's bookmark on every run: "
            "payments and statements change status (PROCESSING to PAID) after creation."
        ),
    ),
    th.Property(
        "analytics_lookback_days",
        th.IntegerType(minimum=0),
        default=7,
        title="Analytics lookback (days)",
        description=(
            "Analytics streams re-read this many days, ending at each shop's last day read, on "
            "every run: the figures of recent days keep changing (refunds, attribution)."
        ),
    ),
    th.Property(
        "analytics_history_days",
        th.IntegerType(minimum=1),
        default=90,
        title="Analytics history (days)",
        description=(
            "Without start_date, a shop's first analytics sync reads this many days, ending at "
            "the shop's latest_available_date (every day costs requests)."
        ),
    ),
    th.Property(
        "analytics_currency",
        th.StringType(allowed_values=["LOCAL", "USD"]),
        default="LOCAL",
        title="Analytics currency",
        description=(
            "Currency of the analytics money values: LOCAL (the shop's registration country) "
            "or USD."
        ),
    ),
    th.Property(
        "analytics_requests_per_second",
        th.NumberType(minimum=0),
        default=1,
        title="Analytics requests per second",
        description=(
            "Client-side pace of the analytics endpoints per shop (their quotas are lower "
            "than for orders); 0 disables it. A 429 slows it down further."
        ),
    ),
    th.Property(
        "affiliate_lookback_days",
        th.IntegerType(minimum=0),
        default=60,
        title="Affiliate lookback (days)",
        description=(
            "affiliate_order_skus re-reads the orders created this many days before each "
            "shop's bookmark on every run: commission status and amounts keep changing until "
            "weeks after delivery."
        ),
    ),
    th.Property(
        "affiliate_history_days",
        th.IntegerType(minimum=1),
        default=365,
        title="Affiliate history (days)",
        description=(
            "Without start_date, a shop's first affiliate_order_skus sync reads the orders "
            "created in this many days before the sync (in requests of at most 89 days)."
        ),
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=100),
        default=100,
        title="Page size",
        description="Records per API page (1-100).",
    ),
    th.Property(
        "api_base_url",
        th.StringType(pattern="^https?://"),
        default=DEFAULT_API_BASE_URL,
        title="API base URL",
        description="Business API host (point it at the emulator for tests and demos).",
    ),
    th.Property(
        "auth_base_url",
        th.StringType(pattern="^https?://"),
        default=DEFAULT_AUTH_BASE_URL,
        title="Auth base URL",
        description="Token host for access-token refresh.",
    ),
    th.Property(
        "parallel_reads",
        th.IntegerType(minimum=1, maximum=64),
        default=16,
        title="Parallel reads",
        description=(
            "How many reads (a shop, or one time window of a big shop) are fetched at once. "
            "Records are still emitted shop by shop and window by window, so state stays exact."
        ),
    ),
    th.Property(
        "pages_per_window",
        th.IntegerType(minimum=1),
        # A window's pages are a chain of requests: the read-ahead bound must hold about
        # pages_per_window x latency of pages ahead of the consumer; with 10, 64 MB of
        # full-shape orders at 250 ms was too little (benchmarks/single_shop.py 2.3x; 5: 1.3x).
        default=5,
        title="Pages per window",
        description=(
            "A shop whose read holds more pages than about this is split into time windows "
            "fetched in parallel (sized from the API's total_count)."
        ),
    ),
    th.Property(
        "read_ahead_mb",
        th.IntegerType(minimum=1),
        default=64,
        title="Read-ahead bound (MB)",
        description=(
            "At most this many MB of pages fetched ahead of what is being emitted, in memory "
            "and temporary files together; reading ahead waits when it is reached, so a slow "
            "loader never makes the tap fill /tmp."
        ),
    ),
    th.Property(
        "requests_per_second",
        th.NumberType(minimum=0),
        default=45,
        title="Requests per second",
        description=(
            "Client-side pace per shop and API endpoint (the API allows 50); 0 disables it. "
            "The tap slows down further by itself when the API answers 429."
        ),
    ),
    th.Property(
        "fail_on_shop_errors",
        th.BooleanType(),
        default=True,
        title="Fail on shop errors",
        description=(
            "A failure that concerns one shop (de-authorized, seller inactive, retries "
            "exhausted...) ends only that shop's read, with a WARNING line, and the other shops "
            "sync. True: the run then exits 1 after a summary line listing those shops; false: "
            "it exits 0 (alert on the log instead)."
        ),
    ),
    th.Property(
        "token_store_enabled",
        th.BooleanType(),
        default=True,
        title="Token store",
        description=(
            "Keep each authorization's latest tokens in the token store between runs, so a "
            "refresh token TikTok rotates is never lost and a valid access token is reused. "
            "False: tokens live in memory only."
        ),
    ),
    th.Property(
        "token_store_path",
        th.StringType(min_length=1),
        title="Token store path",
        description=(
            "The token store file (mode 0600, locked while updated, so runs on one machine can "
            "share it). Default: tokens.json in the user's cache directory "
            "(~/.cache/tap-tiktok-shop/ on Linux)."
        ),
    ),
    th.Property(
        "progress_log",
        th.BooleanType(),
        default=True,
        title="Progress log",
        description=(
            "Log, per shop and stream, at most every 10 s, records emitted, the total "
            "expected, percent, rate and time left, and a line when it is done (reads shorter "
            "than 10 s stay quiet). False: no progress lines."
        ),
    ),
    th.Property(
        "run_summary_file",
        th.StringType(min_length=1),
        title="Run summary file",
        description=(
            "Also write the run summary (logged at the end of every run) to this file as "
            "JSON, replaced at each run: status, wall time, and per stream the records, shops "
            "synced/skipped/failed, new bookmarks, requests, retries and 429 answers."
        ),
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1),
        default=60,
        title="Request timeout (seconds)",
        description="Seconds to wait for one API answer before retrying.",
    ),
).to_dict()


@dataclass(frozen=True)
class RunWindow:
    """The run's time bounds, derived from the settings once at start-up."""

    start: int | None
    end: int


def run_window(config: t.Mapping[str, t.Any], now: float | None = None) -> RunWindow:
    """Check the settings the schema cannot check and freeze the run's upper bound.

    The base URLs must be https:// (http:// only on loopback) and the secrets plain tokens
    (see untrusted.py); checked here, before the first request carries any of them.

    Raises:
        ConfigurationError: naming the offending setting (never a secret's value).
    """
    for setting in ("api_base_url", "auth_base_url"):
        check_base_url(setting, config[setting])
    for setting in SECRET_SETTINGS:
        if config.get(setting) is not None:
            check_secret(setting, config[setting])
    parse_shard(config.get("shard"))
    started = int(time.time() if now is None else now)
    start = parse_instant("start_date", config["start_date"]) if config.get("start_date") else None
    end = started
    if config.get("end_date"):
        end = min(parse_instant("end_date", config["end_date"]), started)
        if start is not None and start > parse_instant("end_date", config["end_date"]):
            msg = "start_date: must not be after end_date"
            raise ConfigurationError(msg)
    return RunWindow(start=start, end=end)
