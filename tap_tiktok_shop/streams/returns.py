"""Return and refund streams: ``returns`` and ``cancellations``, incremental on ``update_time``.

Both are POST searches with the time filters in the JSON body (``_ge`` / ``_lt``) and their
own page-size ranges: returns accept 10-50, cancellations 1-50.
"""

from __future__ import annotations

from singer_sdk import SchemaDirectory, StreamSchema

from tap_tiktok_shop import schemas
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream

RETURN_REFUND_SCOPE = "seller.return_refund.basic"


class ReturnsStream(ShopIncrementalStream):
    """POST /return_refund/202309/returns/search, ascending by ``update_time``, per shop."""

    name = "returns"
    path = "/return_refund/202309/returns/search"
    method = "POST"
    records_key = "return_orders"
    primary_keys = ("return_id",)
    replication_key = "update_time"
    sort_field = "update_time"
    page_size_range = (10, 50)
    required_scope = RETURN_REFUND_SCOPE
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))


class CancellationsStream(ShopIncrementalStream):
    """POST /return_refund/202309/cancellations/search, ascending by ``update_time``."""

    name = "cancellations"
    path = "/return_refund/202309/cancellations/search"
    method = "POST"
    records_key = "cancellations"
    primary_keys = ("cancel_id",)
    replication_key = "update_time"
    sort_field = "update_time"
    page_size_range = (1, 50)
    required_scope = RETURN_REFUND_SCOPE
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))
