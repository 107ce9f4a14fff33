"""Creator commerce: the SKU lines of affiliate orders, with their commissions (opt-in).

POST /affiliate_seller/202410/orders/search needs the restricted package "Read Seller Affiliate
Collaboration" (the app must apply for it; not offered in the UK and EU), so the stream is not
selected by default: a run without a catalog never calls it. Why the stream looks as it does:

- The API pages SKU lines, not orders: one order's lines can arrive on two pages. Each line is
  its own record (keyed by shop, order and SKU), so no record is ever built from part of an
  order.
- The only filter is the order's creation time, at most three months per request, and a
  missing bound means "now" (which moves between pages) or the shop's first order. Both bounds
  are always sent, in windows of at most 89 days (``max_window_seconds``), read in parallel.
- Commissions settle days to weeks after delivery while the creation time never changes, so
  each run re-reads ``affiliate_lookback_days`` of creation times before the bookmark; a
  target merges the newer figures on the key. A first sync starts at ``start_date``, else
  ``affiliate_history_days`` before now.
- Amounts stay the API's strings (some are localized display strings), rates stay strings in
  hundredths of a percent: parsing belongs to the marts (transform/).
"""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_shop import schemas
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream

AFFILIATE_SCOPE = "seller.affiliate_collaboration.read"
DAY = 86400
#: Days per request: the API refuses more than three months; 89 days always fit in three.
MAX_WINDOW_DAYS = 89
#: Order fields every SKU line carries, under their record names.
ORDER_FIELDS = {
    "id": "order_id",
    "create_time": "order_create_time",
    "delivery_time": "order_delivery_time",
    "status": "order_status",
}


def sku_lines(order: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One record per SKU line of an order (as much of the order as one page holds)."""
    common = {name: order.get(field) for field, name in ORDER_FIELDS.items()}
    return [{**line, **common} for line in order.get("skus") or [] if isinstance(line, dict)]


class AffiliateOrderSkusStream(ShopIncrementalStream):
    """POST /affiliate_seller/202410/orders/search: affiliate order SKU lines, per shop."""

    name = "affiliate_order_skus"
    path = "/affiliate_seller/202410/orders/search"
    method = "POST"
    records_key = "orders"
    primary_keys = ("shop_id", "order_id", "sku_id")
    replication_key = "order_create_time"
    time_filter_field = "create_time"
    lookback_setting = ("affiliate_lookback_days", DAY)
    history_setting = ("affiliate_history_days", DAY)
    max_window_seconds = MAX_WINDOW_DAYS * DAY
    required_scope = AFFILIATE_SCOPE
    parent_stream_type = ShopsStream
    selected_by_default = False  # a restricted package: opt-in (see the module docstring)
    schema = StreamSchema(SchemaDirectory(schemas))

    @override
    def records_of_raw_page(self, raw: bytes) -> list[dict[str, t.Any]]:
        """A page's orders, unpacked into their SKU lines."""
        return [line for order in super().records_of_raw_page(raw) for line in sku_lines(order)]
