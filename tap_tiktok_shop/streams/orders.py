"""The ``orders`` stream: order search per shop, incremental on ``update_time``."""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema

from tap_tiktok_shop import schemas
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class OrdersStream(ShopIncrementalStream):
    """POST /order/202309/orders/search, ascending by ``update_time``, per shop."""

    name = "orders"
    path = "/order/202309/orders/search"
    method = "POST"
    records_key = "orders"
    primary_keys = ("id",)
    replication_key = "update_time"
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))

    def query_params(self, context: Context | None) -> dict[str, str]:
        """Always send the sort: the API's default order is DESC by create_time."""
        return {
            "page_size": str(self.config["page_size"]),
            "sort_field": "update_time",
            "sort_order": "ASC",
        }

    def request_body(self, context: Context | None) -> dict[str, t.Any]:
        """Filter on the shop's frozen read window (``_ge`` inclusive, ``_lt`` exclusive)."""
        window = self.window_of(context)
        return {"update_time_ge": window.start, "update_time_lt": window.end}
