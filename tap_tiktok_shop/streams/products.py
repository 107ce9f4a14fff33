"""The ``products`` stream: product search per shop, in ``update_time`` windows split at the cap.

Product search (v202502) cannot sort, takes an inclusive upper bound (``update_time_le``) and
refuses to page past its 10,000th result (error ``12052180``). A window whose search matches
more than that (seen from ``total_count`` on its first page, or from the error itself) is cut
in two and each half read in turn, so every product of a large shop is read. Records that were
emitted before a late cap error are read again in the halves (at-least-once). The bookmark
still moves only when the shop's whole window completes (see ``incremental.py``).
"""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema

from tap_tiktok_shop import schemas
from tap_tiktok_shop.errors import ResultCapError, TikTokShopAPIError
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.pagination import data_of
from tap_tiktok_shop.streams.shops import ShopsStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_shop.windows import Window

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
    required_scope = "seller.product.basic"
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        """Refuse a page whose search matches more than the cap: its window must be split."""
        total = data_of(response).get("total_count")
        if isinstance(total, int) and total > SEARCH_CAP:
            msg = f"{self.path}: {total} products match; one search reads at most {SEARCH_CAP}"
            raise ResultCapError(msg)
        yield from super().parse_response(response)

    def read_window(self, context: Context | None, window: Window) -> Iterable[dict[str, t.Any]]:
        """Read the window, halving any part whose search hits the cap, oldest part first."""
        pending = [window]
        while pending:
            current = pending.pop()
            try:
                yield from super().read_window(context, current)
            except ResultCapError as exc:
                halves = current.halves()
                if halves is None:
                    msg = f"{exc}; it cannot be narrowed below one second, so it cannot be read"
                    raise TikTokShopAPIError(msg) from None
                self.log(
                    "Splitting %s window [%d, %d) of shop %s: over %d results",
                    self.name, current.start, current.end, (context or {}).get("shop_id"),
                    SEARCH_CAP,
                )
                pending += [halves[1], halves[0]]
