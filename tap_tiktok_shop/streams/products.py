"""The ``products`` stream: product search per shop, in ``update_time`` windows split at the cap.

Product search (v202502) cannot sort, takes an inclusive upper bound (``update_time_le``) and
refuses to page past its 10,000th result (error ``12052180``). A window whose search matches
more than that (seen from ``total_count`` on its first page, or from the error itself) is cut
into windows by the shared machinery (``incremental.py``), so every product of a large shop is
read. Records emitted before a late cap error are read again in the halves (at-least-once).
"""

from __future__ import annotations

from singer_sdk import SchemaDirectory, StreamSchema

from tap_tiktok_shop import schemas
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream

#: The most results one product search may page through.
SEARCH_CAP = 10_000


class ProductsStream(ShopIncrementalStream):
    """POST /product/202502/products/search over ``update_time`` windows, per shop."""

    name = "products"
    path = "/product/202502/products/search"
    method = "POST"
    records_key = "products"
    primary_keys = ("id",)
    replication_key = "update_time"
    inclusive_upper_bound = True
    result_cap = SEARCH_CAP
    required_scope = "seller.product.basic"
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))
