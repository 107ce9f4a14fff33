"""The Analytics API endpoints: strict GET parameters, day ranges, pages, latest_available_date.

As documented (docs: tiktok-shop-analytics-api.md): GET with query parameters only; dates
``start_date_ge`` (inclusive) and ``end_date_lt`` (exclusive) as ``YYYY-MM-DD``, required; a
malformed or reversed range, or any other invalid value, answers ``28001022``; video ranges over
60 days are refused; ``page_size`` defaults to 10, at most 100; every answer carries
``latest_available_date``, and days after it (or before the shop had data) hold nothing. List
rows cover the whole range asked for (no granularity); shop performance has ``1D`` or ``ALL``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from tiktok_shop_emulator.analytics_data import ONE_DAY, merge
from tiktok_shop_emulator.http_types import JSON, Response, request_id, success
from tiktok_shop_emulator.records import PageError, list_page

if TYPE_CHECKING:
    from tiktok_shop_emulator.api import Api
    from tiktok_shop_emulator.data import Shop
    from tiktok_shop_emulator.http_types import Request

SCOPE = "data.shop_analytics.public.read"
INVALID = 28001022
BAD_DATES = "invalid request params; detail: start time or end time is invalid."
VIDEO_RANGE = "invalid request params; detail:date range cannot exceed 60 days"
VIDEO_MAX_DAYS = 60
COMMON = frozenset(
    {"app_key", "timestamp", "sign", "shop_cipher", "start_date_ge", "end_date_lt", "currency"}
)
ACCOUNT_TYPES = ("ALL", "OFFICIAL_ACCOUNTS", "MARKETING_ACCOUNTS", "AFFILIATE_ACCOUNTS")


def _gmv(row: dict[str, Any]) -> Decimal:
    gmv = (
        row.get("gmv")
        or row.get("total_performance", {}).get("gmv")
        or row.get("sales_performance", {}).get("gmv")
        or {"amount": "0"}
    )
    return Decimal(gmv["amount"])


@dataclass(frozen=True)
class AnalyticsEndpoint:
    """The rules of one analytics endpoint."""

    kind: str
    records_key: str
    sort_fields: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)  # None: any
    max_days: int | None = None
    paged: bool = True


ENDPOINTS: dict[str, AnalyticsEndpoint] = {
    "/analytics/202509/shop/performance": AnalyticsEndpoint(
        "shop", "performance", paged=False, extra={"granularity": ("ALL", "1D")}
    ),
    "/analytics/202605/shop_products/performance": AnalyticsEndpoint(
        "products",
        "products",
        ("gmv", "items_sold", "orders"),
        {"category_filter": None, "product_status_filter": ("LIVE", "INACTIVE", "ALL")},
    ),
    "/analytics/202509/shop_skus/performance": AnalyticsEndpoint(
        "skus",
        "skus",
        ("gmv", "sku_orders", "units_sold"),
        {
            "product_ids": None,
            "category_filter": None,
            "product_status_filter": ("LIVE", "INACTIVE", "ALL"),
        },
    ),
    "/analytics/202605/shop_videos/performance": AnalyticsEndpoint(
        "videos",
        "videos",
        (
            "gmv",
            "sku_orders",
            "views",
            "click_through_rate",
            "gpm",
            "avg_customers",
            "items_sold",
            "post_time",
        ),
        {"account_type": ACCOUNT_TYPES},
        max_days=VIDEO_MAX_DAYS,
    ),
    "/analytics/202509/shop_lives/performance": AnalyticsEndpoint(
        "lives",
        "live_stream_sessions",
        (
            "gmv",
            "products_added",
            "different_products_sold",
            "sku_orders",
            "items_sold",
            "customers",
            "24h_live_gmv",
        ),
        {"account_type": ACCOUNT_TYPES},
    ),
}


@dataclass(frozen=True)
class Ask:
    """A validated analytics request."""

    first: datetime.date
    end: datetime.date  # exclusive
    currency: str
    page_size: int
    page_token: str | None
    descending: bool
    options: dict[str, str]
    fingerprint: bytes


def _date(value: str | None) -> datetime.date:
    if value is None or len(value) != 10:
        raise PageError(INVALID, BAD_DATES)
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise PageError(INVALID, BAD_DATES) from None


def _invalid(name: str) -> PageError:
    return PageError(INVALID, f"invalid request params; detail: invalid {name}")


def _options(endpoint: AnalyticsEndpoint, query: Mapping[str, str]) -> dict[str, str]:
    """The endpoint's own parameters, each checked against its allowed values."""
    options = {}
    for name, values in endpoint.extra.items():
        if name in query:
            if values is not None and query[name] not in values:
                raise _invalid(name)
            options[name] = query[name]
    return options


def parse_ask(endpoint: AnalyticsEndpoint, shop: Shop, req: Request) -> Ask:
    """Validate one request against its endpoint's rules (anything unlisted is refused)."""
    query = req.query
    if req.body.strip():
        raise _invalid("request body (GET takes query parameters only)")
    allowed = COMMON | set(endpoint.extra)
    if endpoint.paged:
        allowed |= {"page_size", "page_token", "sort_field", "sort_order"}
    for name in query:
        if name not in allowed:
            raise _invalid(name)
    first, end = _date(query.get("start_date_ge")), _date(query.get("end_date_lt"))
    if first >= end:
        raise PageError(INVALID, BAD_DATES)
    if endpoint.max_days is not None and (end - first).days > endpoint.max_days:
        raise PageError(INVALID, VIDEO_RANGE)
    currency = query.get("currency", "LOCAL")
    if currency not in ("LOCAL", "USD"):
        raise _invalid("currency")
    size_text = query.get("page_size", "10")
    size = int(size_text) if size_text.isdigit() else 0
    if not 1 <= size <= 100:
        raise _invalid("page_size")
    if "sort_field" in query and query["sort_field"] not in endpoint.sort_fields:
        raise _invalid("sort_field")
    if query.get("sort_order", "DESC") not in ("ASC", "DESC"):
        raise _invalid("sort_order")
    options = _options(endpoint, query)
    bound = {
        key: value
        for key, value in query.items()
        if key not in {"page_token", "timestamp", "sign", "app_key"}
    }
    digest = hashlib.sha256(
        orjson.dumps([endpoint.kind, shop.id, bound], option=orjson.OPT_SORT_KEYS)
    ).digest()[:8]
    return Ask(
        first,
        end,
        "USD" if currency == "USD" else shop.info.currency,
        size,
        query.get("page_token") or None,
        query.get("sort_order", "DESC") == "DESC",
        options,
        digest,
    )


def _days(ask: Ask) -> list[datetime.date]:
    return [ask.first + ONE_DAY * index for index in range((ask.end - ask.first).days)]


def _list_rows(api: Api, endpoint: AnalyticsEndpoint, shop: Shop, ask: Ask) -> list[dict[str, Any]]:
    """The endpoint's rows over the range: one per entity, its figures over the whole range."""
    store = api.emu.analytics
    by_id: dict[str, list[dict[str, Any]]] = {}
    for day in _days(ask):
        for row in store.rows(endpoint.kind, shop, day, ask.currency):
            by_id.setdefault(str(row["id"]), []).append(row)
    rows = [merge(versions) if len(versions) > 1 else versions[0] for versions in by_id.values()]
    rows.sort(key=lambda row: (_gmv(row), str(row["id"])), reverse=ask.descending)
    return rows


def _shop_intervals(api: Api, shop: Shop, ask: Ask) -> list[dict[str, Any]]:
    """Daily intervals (``1D``), or one interval with daily averages (``ALL``, the default)."""
    store = api.emu.analytics
    days = [row for day in _days(ask) for row in store.rows("shop", shop, day, ask.currency)]
    if ask.options.get("granularity") == "1D" or not days:
        return days
    whole = merge(days)
    whole.update(start_date=ask.first.isoformat(), end_date=ask.end.isoformat())
    for name in ("avg_visitors", "avg_page_views"):
        whole["traffic"][name] //= len(days)
    whole["sales"]["avg_customers_count"] //= len(days)
    return [whole]


def _error(exc: PageError, now: float) -> Response:
    body = orjson.dumps(
        {"code": exc.code, "message": exc.message, "request_id": request_id(now), "data": None}
    )
    return Response(200, body, JSON, code=exc.code)


def handler(path: str) -> Callable[[Api, Request, Shop | None, bool], Response]:
    """The route handler of one analytics endpoint."""
    endpoint = ENDPOINTS[path]

    def handle(api: Api, req: Request, shop: Shop | None, repeat: bool) -> Response:
        now = api.emu.now()
        assert shop is not None
        try:
            ask = parse_ask(endpoint, shop, req)
            latest = api.emu.analytics.latest(shop).isoformat()
            if not endpoint.paged:
                intervals = _shop_intervals(api, shop, ask)
                return success(
                    {"latest_available_date": latest, "performance": {"intervals": intervals}}, now
                )
            rows = _list_rows(api, endpoint, shop, ask)
            chunk, token = list_page(
                rows,
                page_size=ask.page_size,
                page_token=ask.page_token,
                fingerprint=ask.fingerprint,
                owner_id="0",
            )
        except PageError as exc:
            return _error(exc, now)
        return success(
            {
                "latest_available_date": latest,
                "next_page_token": token,
                "total_count": len(rows),
                endpoint.records_key: chunk,
            },
            now,
        )

    return handle
