"""The ``orders`` stream: order search per shop, incremental on ``update_time``."""

from __future__ import annotations

from singer_sdk import SchemaDirectory, StreamSchema

from tap_tiktok_shop import schemas
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream


class OrdersStream(ShopIncrementalStream):
    """POST /order/202309/orders/search, ascending by ``update_time``, per shop.

    The sort is always sent: the API's default order is DESC by create_time.
    """

    name = "orders"
    path = "/order/202309/orders/search"
    method = "POST"
    records_key = "orders"
    primary_keys = ("id",)
    replication_key = "update_time"
    sort_field = "update_time"
    required_scope = "seller.order.info"
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))
