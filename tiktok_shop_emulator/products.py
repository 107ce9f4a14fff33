"""Products: the shop's catalogue plus synthetic listings, served unsorted with the 10,000 cap.

Product search (v202502) offers no sort and answers newest-updated first here, so a client
cannot rely on ascending times. Its upper time bounds are inclusive (``update_time_le``,
``create_time_le``) and ``_lt`` is refused. A search may not reach past its 10,000th result
(error 12052180): clients must narrow the time range. Rows are compact, so a shop with tens of
thousands of products is cheap until it is read.
"""

from __future__ import annotations

import random
from typing import Any

from tiktok_shop_emulator.data import UPDATE_LAG_CAP, Shop, Sku, digits
from tiktok_shop_emulator.listing import Endpoint, Listing, list_of, one_of, unix_time
from tiktok_shop_emulator.orders import money
from tiktok_shop_emulator.records import Row, Table
from tiktok_shop_emulator.regions import ADJECTIVES, PRODUCTS
from tiktok_shop_emulator.shapes import default_for, load_shape

PRODUCT_SHAPE = "products_search_202502"
SEARCH_CAP = 10_000
CAP_EXCEEDED = 12052180
BAD_PAGE_SIZE = 12019109
STATUSES = (
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)
_STATUS_WEIGHTS = (
    ("ACTIVATE", 80),
    ("SELLER_DEACTIVATED", 8),
    ("DRAFT", 5),
    ("PENDING", 3),
    ("DELETED", 2),
    ("PLATFORM_DEACTIVATED", 1),
    ("FAILED", 1),
)
_CATEGORIES = (
    ("601152", "Women's Tops"),
    ("600001", "Home Supplies"),
    ("601450", "Phone Accessories"),
    ("848648", "Beauty & Personal Care"),
)
_TIERS = ("GOOD", "GOOD", "FAIR", "POOR")

PRODUCTS_LISTING = Listing(
    kind="products",
    records_key="products",
    endpoint=Endpoint(
        page_sizes=(1, 100),
        default_page_size=None,
        page_size_code=BAD_PAGE_SIZE,
        body={
            "status": one_of("ALL", *STATUSES),
            "seller_skus": list_of(max_items=10),
            "create_time_ge": unix_time,
            "create_time_le": unix_time,
            "update_time_ge": unix_time,
            "update_time_le": unix_time,
            "category_version": one_of("v1", "v2"),
            "sku_ids": list_of(max_items=10),
            "listing_quality_tiers": list_of("GOOD", "FAIR", "POOR"),
            "listing_platforms": list_of("TIKTOK_SHOP", "TOKOPEDIA"),
        },
    ),
    time_fields=("create_time", "update_time"),
    default_sort="update_time",
    default_descending=True,
    predicates={"status": lambda row, wanted: wanted in ("ALL", row.status)},
    cap=SEARCH_CAP,
    cap_code=CAP_EXCEEDED,
    cap_message="The total number of search results can not exceed 10000.",
)


def make_table(shop: Shop, rng: random.Random, now: int, *, count: int, history_days: int) -> Table:
    """The shop's catalogue products first, then synthetic listings up to `count`."""
    cap = now - UPDATE_LAG_CAP
    low = now - history_days * 86400
    span = max(1, cap - low)
    ids = list(dict.fromkeys(sku.product_id for sku in shop.catalogue))[:count]
    used = set(ids)
    while len(ids) < count:
        product_id = digits(rng, "1731", 19)
        if product_id not in used:
            used.add(product_id)
            ids.append(product_id)
    statuses = [name for name, weight in _STATUS_WEIGHTS for _ in range(weight)]
    rows = []
    for product_id in ids:
        created = low + int(rng.random() * span)
        updated = min(created + int(rng.random() * 30 * 86400), cap)
        rows.append(
            Row(
                product_id,
                rng.getrandbits(48),
                rng.choice(statuses),
                {"create_time": created, "update_time": updated},
            )
        )
    return Table(rows, ("create_time", "update_time"))


def change(table: Table, row: Row, now: int, rng: random.Random) -> None:
    """A seller edits a product: new price and stock, sometimes (de)activation."""
    with table.lock:
        row.seed = rng.getrandbits(48)
        if row.status == "ACTIVATE" and rng.random() < 0.2:
            row.status = "SELLER_DEACTIVATED"
        elif row.status == "SELLER_DEACTIVATED":
            row.status = "ACTIVATE"
        table.set_time(row, "update_time", max(now, row.times["create_time"]))


class ProductRenderer:
    """Builds full-shape product objects; catalogue products reuse their order SKUs."""

    def __init__(self) -> None:
        """Precompute the neutral templates of the product shape."""
        shape = load_shape(PRODUCT_SHAPE)
        self._top: dict[str, Any] = default_for(shape)
        self._sku: dict[str, Any] = default_for(shape["skus"][0])
        self._catalogues: dict[str, dict[str, list[Sku]]] = {}

    def _catalogue(self, shop: Shop) -> dict[str, list[Sku]]:
        skus = self._catalogues.get(shop.id)
        if skus is None:
            skus = {}
            for sku in shop.catalogue:
                skus.setdefault(sku.product_id, []).append(sku)
            self._catalogues[shop.id] = skus
        return skus

    def _skus(self, shop: Shop, row: Row) -> tuple[str, list[dict[str, Any]]]:
        """The product title and its SKUs, with stock and prices drawn from the row's seed."""
        region = shop.info
        seed = row.seed
        known = self._catalogue(shop).get(row.id)
        if known:
            title = known[0].product_name
            specs = [(sku.sku_id, sku.seller_sku, sku.original, sku.sale) for sku in known]
        else:
            rnd = random.Random(row.id)  # noqa: S311 (fake data; stable per product)
            title = f"{rnd.choice(ADJECTIVES)} {rnd.choice(PRODUCTS)}"
            price = region.price_min + rnd.randrange(max(1, region.price_max - region.price_min))
            price -= price % region.granularity
            specs = [
                (digits(rnd, "1731", 19), f"SKU-{row.id[-6:]}-{n:02d}", price, price)
                for n in range(1, 2 + rnd.randrange(3))
            ]
        skus = []
        for n, (sku_id, seller_sku, original, sale) in enumerate(specs):
            quantity = 0 if row.status != "ACTIVATE" else (seed >> (n * 5)) % 250
            skus.append(
                {
                    **self._sku,
                    "id": sku_id,
                    "seller_sku": seller_sku,
                    "price": {
                        "currency": region.currency,
                        "sale_price": money(sale),
                        "tax_exclusive_price": money(sale),
                        "starting_bid_price": "0.00",
                    },
                    "list_price": {"amount": money(original), "currency": region.currency},
                    "external_list_prices": [
                        {
                            "amount": money(original),
                            "currency": region.currency,
                            "source": "SHOPIFY",
                        }
                    ],
                    "fees": [{"type": "PFAND", "amount": "0.00", "additional_attribute": ""}],
                    "inventory": [
                        {
                            "warehouse_id": shop.warehouses[0],
                            "quantity": quantity,
                            "backorder_quantity": 0,
                            "handling_time": 2,
                        }
                    ],
                    "pre_sale": {
                        "type": "",
                        "fulfillment_type": {"handling_duration_days": 0, "release_date": 0},
                    },
                    "status_info": {
                        "status": "NORMAL" if row.status == "ACTIVATE" else "SELLER_DEACTIVATED",
                        "deactivation_source": "",
                    },
                }
            )
        return title, skus

    def render(self, shop: Shop, row: Row) -> dict[str, Any]:
        """One product as Search Products serves it."""
        title, skus = self._skus(shop, row)
        category_id, category = _CATEGORIES[row.seed % len(_CATEGORIES)]
        return {
            **self._top,
            "id": row.id,
            "title": title,
            "status": row.status,
            "create_time": row.times["create_time"],
            "update_time": row.times["update_time"],
            "skus": skus,
            "sales_regions": [shop.region],
            "has_draft": row.seed % 11 == 0,
            "is_not_for_sale": False,
            "listing_quality_tier": _TIERS[row.seed % len(_TIERS)],
            "selling_format": "NORMAL",
            "product_tags": ["NEW_ARRIVAL"],
            "audit": {"status": "APPROVED", "pre_approved_reasons": ["KNOWN_BRAND"]},
            "integrated_platform_statuses": [{"platform": "TIKTOK_SHOP", "status": row.status}],
            "product_families": [{"id": f"F{row.id[-8:]}", "products": [{"id": row.id}]}],
            "recommended_categories": [{"id": category_id, "local_name": category}],
            "scheduled_sale": {"is_enabled_scheduled_sale": False, "schedule_sale_time": 0},
            "product_sync_fail_reasons": ["NONE"],
        }
