"""Deterministic seeded shops and compact order rows, indexed for fast keyset paging."""

from __future__ import annotations

import bisect
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from tiktok_shop_emulator.config import EmulatorConfig
from tiktok_shop_emulator.regions import (
    ADJECTIVES,
    PRODUCTS,
    REGION_CYCLE,
    REGIONS,
    VARIANTS,
    Region,
)

STATUSES: tuple[str, ...] = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
_STATUS_WEIGHTS: tuple[int, ...] = (1, 1, 3, 1, 2, 4, 18, 62, 8)
_FINAL = frozenset({"DELIVERED", "COMPLETED", "CANCELLED"})
_NEXT_STATUS: dict[str, str] = {
    "UNPAID": "ON_HOLD",
    "ON_HOLD": "AWAITING_SHIPMENT",
    "AWAITING_SHIPMENT": "AWAITING_COLLECTION",
    "PARTIALLY_SHIPPING": "AWAITING_COLLECTION",
    "AWAITING_COLLECTION": "IN_TRANSIT",
    "IN_TRANSIT": "DELIVERED",
    "DELIVERED": "COMPLETED",
}
_CANCELLABLE = frozenset({"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"})
_UNIT_WEIGHTS: tuple[int, ...] = (50, 25, 13, 8, 4)
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UPPER_DIGITS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CATALOGUE_SIZE = 50
UPDATE_LAG_CAP = 120


@dataclass(frozen=True)
class Sku:
    """One sellable SKU of a shop's catalogue, with stable prices in minor units."""

    product_id: str
    sku_id: str
    product_name: str
    sku_name: str
    seller_sku: str
    sku_image: str
    original: int
    seller_discount: int
    platform_discount: int
    tax: int

    @property
    def sale(self) -> int:
        """Price the buyer pays for one unit, before tax."""
        return self.original - self.seller_discount - self.platform_discount


class OrderRow:
    """The compact, mutable core of one order; the full object is materialized when served."""

    __slots__ = (
        "buyer_cancel",
        "create_time",
        "id",
        "seed",
        "shipping_type",
        "status",
        "units",
        "update_time",
        "user_id",
        "warehouse_id",
    )

    def __init__(
        self,
        order_id: str,
        create_time: int,
        update_time: int,
        status: str,
        *,
        units: tuple[int, ...],
        seed: int,
        user_id: str,
        warehouse_id: str,
    ) -> None:
        """Store the row; derived flags come from the per-order seed."""
        self.id = order_id
        self.create_time = create_time
        self.update_time = update_time
        self.status = status
        self.units = units
        self.seed = seed
        self.user_id = user_id
        self.warehouse_id = warehouse_id
        self.shipping_type = "TIKTOK" if (seed >> 8) % 10 < 7 else "SELLER"
        self.buyer_cancel = False
        self.refresh_flags()

    def refresh_flags(self) -> None:
        """Recompute the status-dependent flags after a status change."""
        self.buyer_cancel = self.status in _CANCELLABLE and (self.seed >> 16) % 10 == 0

    def compact(self) -> dict[str, Any]:
        """Return the fields tests need to compute expected result sets."""
        return {
            "id": self.id,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "status": self.status,
        }


@dataclass
class Shop:
    """One authorized shop with its catalogue, order rows and sort indexes."""

    index: int
    id: str
    name: str
    region: str
    seller_type: str
    cipher: str
    code: str
    authorized: bool = True
    catalogue: list[Sku] = field(default_factory=list)
    warehouses: list[str] = field(default_factory=list)
    rows: dict[str, OrderRow] = field(default_factory=dict)
    by_create: list[tuple[int, str]] = field(default_factory=list)
    by_update: list[tuple[int, str]] = field(default_factory=list)
    version: int = 0
    count_cache: dict[tuple[Any, ...], int] = field(default_factory=dict, repr=False)
    pages_served: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def info(self) -> Region:
        """Region facts (currency, tax, address parts) of this shop."""
        return REGIONS[self.region]

    def public(self) -> dict[str, str]:
        """The shop as GET /authorization/202309/shops lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "seller_type": self.seller_type,
            "cipher": self.cipher,
            "code": self.code,
        }

    def set_update_time(self, row: OrderRow, update_time: int) -> None:
        """Change an order's update_time and keep the update_time index sorted."""
        with self.lock:
            old = (row.update_time, row.id)
            pos = bisect.bisect_left(self.by_update, old)
            if pos < len(self.by_update) and self.by_update[pos] == old:
                del self.by_update[pos]
            row.update_time = update_time
            bisect.insort(self.by_update, (update_time, row.id))
            self.version += 1


def digits(rng: random.Random, prefix: str, length: int) -> str:
    """Return a numeric string of `length` digits starting with `prefix`."""
    rest = length - len(prefix)
    return prefix + str(rng.randrange(10 ** (rest - 1), 10**rest))


def _price(rng: random.Random, region: Region) -> int:
    """Draw a catalogue price in minor units, rounded to the market's granularity."""
    raw = rng.randint(region.price_min, region.price_max)
    step = region.granularity
    cents = max(step, (raw // step) * step)
    if step == 1:  # prices like 12.99 look more like a shop than 12.37
        cents = (cents // 100) * 100 + 99 if cents > 100 else cents
    return cents


def _catalogue(rng: random.Random, shop_no: int, region: Region) -> list[Sku]:
    """Build a shop's ~50-SKU catalogue: products with one to four variants each."""
    skus: list[Sku] = []
    product_no = 0
    while len(skus) < CATALOGUE_SIZE:
        product_no += 1
        product_id = digits(rng, "1729", 19)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(PRODUCTS)}"
        original = _price(rng, region)
        seller_pct = rng.choice((0, 0, 0, 10, 15, 20))
        platform_pct = rng.choice((0, 0, 0, 0, 5))
        for variant_no, variant in enumerate(rng.sample(VARIANTS, rng.randint(1, 4)), 1):
            step = region.granularity
            seller = (original * seller_pct // 100) // step * step
            platform = (original * platform_pct // 100) // step * step
            sale = original - seller - platform
            skus.append(
                Sku(
                    product_id=product_id,
                    sku_id=digits(rng, "1729", 19),
                    product_name=name,
                    sku_name=variant,
                    seller_sku=f"DS{shop_no}-{product_no:03d}-{variant_no:02d}",
                    sku_image=f"https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/"
                    f"{rng.getrandbits(128):032x}~tplv-o3syd03w52-origin-jpeg.jpeg",
                    original=original,
                    seller_discount=seller,
                    platform_discount=platform,
                    tax=round(sale * region.tax_rate),
                )
            )
    return skus[:CATALOGUE_SIZE]


def _shop(rng: random.Random, index: int, used: set[str]) -> Shop:
    """Build the public identity of shop number `index` (0-based)."""
    region = REGION_CYCLE[index % len(REGION_CYCLE)]
    shop_id = digits(rng, "749", 16)
    while shop_id in used:
        shop_id = digits(rng, "749", 16)
    used.add(shop_id)
    seller_type = "LOCAL" if rng.random() < 0.7 else "CROSS_BORDER"
    prefix = "GCP_" if region == "US" else "ROW_"
    cipher = prefix + "".join(rng.choice(_URLSAFE) for _ in range(26))
    code = region + ("LC" if seller_type == "LOCAL" else "CB")
    code += "".join(rng.choice(_UPPER_DIGITS) for _ in range(6))
    return Shop(
        index=index,
        id=shop_id,
        name=f"Demo Shop {index + 1}",
        region=region,
        seller_type=seller_type,
        cipher=cipher,
        code=code,
    )


def _orders(
    shop: Shop, rng: random.Random, count: int, *, start: int, history_days: int, used: set[str]
) -> None:
    """Fill a shop with `count` compact order rows and build its sort indexes."""
    cap = start - UPDATE_LAG_CAP
    low = start - history_days * 86400
    span = max(1, cap - low)
    buyers = [digits(rng, "7494", 19) for _ in range(max(20, count // 3))]
    cum_status = list(_cum(_STATUS_WEIGHTS))
    cum_units = list(_cum(_UNIT_WEIGHTS))
    n_skus = len(shop.catalogue)
    for _ in range(count):
        order_id = str(rng.randrange(576_000_000_000_000_000, 578_000_000_000_000_000))
        while order_id in used:
            order_id = str(rng.randrange(576_000_000_000_000_000, 578_000_000_000_000_000))
        used.add(order_id)
        create_time = low + int(rng.random() * span)
        update_time = min(create_time + rng.randrange(0, 3 * 86400 + 1), cap)
        status = STATUSES[bisect.bisect_right(cum_status, rng.random() * cum_status[-1])]
        if status not in _FINAL and start - create_time > 14 * 86400:
            status = "COMPLETED"
        n_units = bisect.bisect_right(cum_units, rng.random() * cum_units[-1]) + 1
        sku = int(n_skus * rng.random() ** 1.6)
        units = [sku]
        for _ in range(n_units - 1):
            if rng.random() >= 0.35:
                sku = int(n_skus * rng.random() ** 1.6)
            units.append(sku)
        seed = rng.getrandbits(48)
        warehouse = shop.warehouses[(seed >> 12) % len(shop.warehouses)]
        row = OrderRow(
            order_id,
            create_time,
            update_time,
            status,
            units=tuple(units),
            seed=seed,
            user_id=buyers[seed % len(buyers)],
            warehouse_id=warehouse,
        )
        shop.rows[order_id] = row
    shop.by_create = sorted((r.create_time, r.id) for r in shop.rows.values())
    shop.by_update = sorted((r.update_time, r.id) for r in shop.rows.values())


def _cum(weights: tuple[int, ...]) -> list[int]:
    """Cumulative sums of integer weights, for bisect-based weighted draws."""
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def build_shops(config: EmulatorConfig, start: int) -> list[Shop]:
    """Generate all shops, catalogues and orders deterministically from config.seed."""
    used_shops: set[str] = set()
    used_orders: set[str] = set()
    shops: list[Shop] = []
    for index in range(config.shops):
        rng = random.Random(f"tts-emulator:{config.seed}:shop:{index}")  # noqa: S311 (fake data)
        shop = _shop(rng, index, used_shops)
        shop.catalogue = _catalogue(rng, index + 1, shop.info)
        shop.warehouses = [digits(rng, "7068", 19) for _ in range(rng.randint(1, 2))]
        orng = random.Random(f"tts-emulator:{config.seed}:orders:{index}")  # noqa: S311
        empty = index >= config.shops - config.empty_shops
        _orders(
            shop,
            orng,
            0 if empty else config.orders_per_shop,
            start=start,
            history_days=config.history_days,
            used=used_orders,
        )
        shops.append(shop)
    return shops


def mutate_order(shop: Shop, row: OrderRow, now: int, rng: random.Random) -> None:
    """Simulate a seller or buyer changing an order: bump update_time, maybe advance status."""
    with shop.lock:
        if row.status in _CANCELLABLE and rng.random() < 0.1:
            row.status = "CANCELLED"
        elif row.status in _NEXT_STATUS and rng.random() < 0.6:
            row.status = _NEXT_STATUS[row.status]
        row.refresh_flags()
        shop.set_update_time(row, max(now, row.create_time))


def update_orders(shop: Shop, count: int, now: int, rng: random.Random) -> list[str]:
    """Pick `count` orders of a shop and mutate them; return their ids."""
    with shop.lock:
        picks = rng.sample(shop.by_create, min(count, len(shop.by_create)))
        chosen = [order_id for _, order_id in picks]
        for order_id in chosen:
            mutate_order(shop, shop.rows[order_id], now, rng)
    return chosen
