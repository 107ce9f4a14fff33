"""The Analytics API: shop, product, SKU, video and LIVE performance per shop day.

Each stream pins one API version (the versions differ in field names and structure, so a
version change is a schema change). The list endpoints take no granularity: a row's figures
cover the whole requested range, so they are asked one day at a time and each record carries
that ``date``. Shop performance does have a daily granularity (``1D``) and is read in windows
of up to 30 days. LIVE sessions are entities, not days: read in day windows, each session once
per run (the first day that lists it). Reading by day, the lookback, ``latest_available_date``
and the bookmark are the shared machinery of ``day_reads.py``; money stays ``{amount,
currency}`` and rates stay strings, as the API gives them.
"""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_shop import schemas
from tap_tiktok_shop.day_reads import DayGrainedStream
from tap_tiktok_shop.streams.shops import ShopsStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_tiktok_shop.days import DayRange

ANALYTICS_SCOPE = "data.shop_analytics.public.read"
#: Days per shop-performance request: no maximum is documented; 30 is a safe choice.
SHOP_PERFORMANCE_DAYS = 30


class AnalyticsStream(DayGrainedStream):
    """An analytics endpoint read per shop day, re-reading ``analytics_lookback_days``."""

    lookback_setting = "analytics_lookback_days"
    history_setting = "analytics_history_days"
    required_scope = ANALYTICS_SCOPE
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))
    replication_key = "date"


class ShopPerformanceDailyStream(AnalyticsStream):
    """GET /analytics/202509/shop/performance, ``granularity=1D``: one record per shop day."""

    name = "shop_performance_daily"
    path = "/analytics/202509/shop/performance"
    records_path = ("performance", "intervals")
    primary_keys = ("shop_id", "start_date")
    replication_key = "start_date"
    days_per_request = SHOP_PERFORMANCE_DAYS
    paged = False
    fixed_params: t.ClassVar[dict[str, str]] = {"granularity": "1D"}

    @override
    def shape_record(
        self, row: dict[str, t.Any], shop_id: str, days: DayRange
    ) -> dict[str, t.Any] | None:
        """An interval is already one day (``start_date``); it gains its shop."""
        return {**row, "shop_id": shop_id}


class ShopProductPerformanceDailyStream(AnalyticsStream):
    """GET /analytics/202605/shop_products/performance, one day per request."""

    name = "shop_product_performance_daily"
    path = "/analytics/202605/shop_products/performance"
    records_path = ("products",)
    primary_keys = ("shop_id", "id", "date")


class ShopSkuPerformanceDailyStream(AnalyticsStream):
    """GET /analytics/202509/shop_skus/performance, one day per request.

    Its ``id`` and ``product_id`` are JSON integers of up to 19 digits (parsed exactly, see
    pagination.parse_exact); they are emitted as strings like every other id.
    """

    name = "shop_sku_performance_daily"
    path = "/analytics/202509/shop_skus/performance"
    records_path = ("skus",)
    primary_keys = ("shop_id", "id", "date")

    @override
    def shape_record(
        self, row: dict[str, t.Any], shop_id: str, days: DayRange
    ) -> dict[str, t.Any] | None:
        """Ids as strings (their digits exactly as sent)."""
        record = super().shape_record(row, shop_id, days)
        assert record is not None
        for key in ("id", "product_id"):
            if isinstance(record.get(key), int):
                record[key] = str(record[key])
        return record


class ShopVideoPerformanceDailyStream(AnalyticsStream):
    """GET /analytics/202605/shop_videos/performance, one day per request, every account."""

    name = "shop_video_performance_daily"
    path = "/analytics/202605/shop_videos/performance"
    records_path = ("videos",)
    primary_keys = ("shop_id", "id", "date")
    fixed_params: t.ClassVar[dict[str, str]] = {"account_type": "ALL"}


class ShopLiveSessionsStream(AnalyticsStream):
    """GET /analytics/202509/shop_lives/performance in day windows; one record per session."""

    name = "shop_live_sessions"
    path = "/analytics/202509/shop_lives/performance"
    records_path = ("live_stream_sessions",)
    primary_keys = ("shop_id", "id")
    fixed_params: t.ClassVar[dict[str, str]] = {"account_type": "ALL"}

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The shop's sessions, each once in this run (day windows can list it twice)."""
        seen: set[t.Any] = set()
        for record in super().read(context):
            if record.get("id") in seen:
                continue
            seen.add(record.get("id"))
            yield record


ANALYTICS_STREAMS = (
    ShopPerformanceDailyStream,
    ShopProductPerformanceDailyStream,
    ShopSkuPerformanceDailyStream,
    ShopVideoPerformanceDailyStream,
    ShopLiveSessionsStream,
)
