"""POST /affiliate_seller/202410/orders/search: affiliate orders paged by SKU line, strictly.

As documented (docs: tiktok-shop-analytics-api.md, affiliate section): query ``page_size``
(1..100, default 20), ``page_token`` and ``shop_cipher`` only (``category_asset_cipher`` is for
partners and refused from a seller); a JSON body with ``create_time_ge`` (inclusive),
``create_time_lt`` (exclusive) and ``program_id``, nothing else. A missing upper bound means
now, a missing lower bound the shop's first order, neither the last three months; one range
may not exceed three calendar months. No sort parameters: orders come newest first. Pages
count and cut **SKU lines** (``total_count`` too), so an order's lines can span two pages: each
page groups the lines it holds by order. The range and order wording of refusals is the
emulator's own (the documents give none); codes are the API's catch-all ``36009004``.

Commissions settle over time: a line is ``To-SETTLE`` until its order's settlement time
(15 days after delivery), then ``SETTLED`` with its actual amounts (``INELIGIBLE``, actual
zero, when fully returned); before delivery ``AWAITING PAYMENT``. Tests settle orders early
with ``AffiliateStore.settle``. Some amounts are localized display strings, as the 2026 docs
warn: ``LOCALIZED_FORMS`` lists the forms served.
"""

from __future__ import annotations

import calendar
import datetime
import random
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tiktok_shop_emulator.http_types import Response, success
from tiktok_shop_emulator.listing import Endpoint, parse, text, unix_time
from tiktok_shop_emulator.listing import error as param_error
from tiktok_shop_emulator.records import PageError, list_page
from tiktok_shop_emulator.shapes import complete, load_shape

if TYPE_CHECKING:
    from collections.abc import Callable

    from tiktok_shop_emulator.api import Api
    from tiktok_shop_emulator.data import Shop
    from tiktok_shop_emulator.http_types import Request

PATH = "/affiliate_seller/202410/orders/search"
SCOPE = "seller.affiliate_collaboration.read"
SHAPE = "affiliate_seller_orders_search_202410"
PARAM = 36009004
BAD_CONTENT_TYPE = 36009022
DAY = 86400
SETTLE_DAYS = 15
RANGE_TOO_WIDE = "Invalid parameter: the create time range cannot exceed three months"
RANGE_REVERSED = "Invalid parameter: create_time_ge must be before create_time_lt"
ENDPOINT = Endpoint(
    page_sizes=(1, 100),
    default_page_size=20,
    body={"create_time_ge": unix_time, "create_time_lt": unix_time, "program_id": text},
)
CREATORS = ("glowwithmia", "techtomtalks", "chef.rosa", "fitbyjay", "dealhunter_kim")
CONTENT_TYPES = ("VIDEO", "VIDEO", "LIVE", "SHOP", "PRE_LIVE", "PROMOTION_PAGE", "LINKSHARE")
#: Display forms of an amount (symbol, thousands separator) besides the plain "1234.56".
SYMBOLS = {
    "USD": "$",
    "GBP": "£",
    "MYR": "RM",
    "IDR": "Rp",
    "THB": "฿",
    "PHP": "₱",
    "VND": "₫",
    "SGD": "S$",
}
LOCALIZED_FORMS = ("{symbol}{grouped}", "{grouped} {currency}", "{symbol} {grouped}")
MONEY_FIELDS = (
    "price",
    "estimated_commission_base",
    "estimated_paid_commission",
    "estimated_paid_partner_commission",
    "estimated_paid_shop_ads_commission",
    "estimated_cofunded_creator_bonus_amount",
    "actual_commission_base",
    "actual_paid_commission",
    "actual_paid_partner_commission",
    "actual_paid_shop_ads_commission",
    "actual_cofunded_creator_bonus_amount",
)
CENT = Decimal("0.01")


def add_months(moment: int, months: int) -> int:
    """The same UTC time ``months`` calendar months later (the day clamped to the month)."""
    when = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def display(amount: Decimal, currency: str, form: int) -> str:
    """``amount`` as the API shows it: plain (form 0) or one of ``LOCALIZED_FORMS``."""
    if form == 0:
        return f"{amount:.2f}"
    return LOCALIZED_FORMS[(form - 1) % len(LOCALIZED_FORMS)].format(
        symbol=SYMBOLS.get(currency, currency), grouped=f"{amount:,.2f}", currency=currency
    )


class AffiliateStore:
    """Every shop's affiliate orders, generated on first use; settlement follows the clock."""

    def __init__(
        self, seed: int, until: int, count: int, history_days: int, clock: Callable[[], float]
    ) -> None:
        """Remember what generation needs; orders end at ``until`` (the data's end)."""
        self._seed, self._until, self._count = seed, until, count
        self._history = history_days
        self._clock = clock
        self._orders: dict[str, list[dict[str, Any]]] = {}
        self._settled: dict[tuple[str, str], int] = {}  # (shop, order) -> settled early at
        self._lock = threading.Lock()

    def orders(self, shop: Shop) -> list[dict[str, Any]]:
        """The shop's orders (compact: numbers as Decimal), newest first."""
        with self._lock:
            orders = self._orders.get(shop.id)
            if orders is None:
                orders = self._orders[shop.id] = self._generate(shop)
            return orders

    def _generate(self, shop: Shop) -> list[dict[str, Any]]:
        rng = random.Random(f"tts-emulator:{self._seed}:affiliate:{shop.index}")  # noqa: S311
        first = self._until - (self._history - 2) * DAY
        orders: list[dict[str, Any]] = []
        for number in range(self._count):
            created = rng.randrange(first, self._until - 3600)
            delivered = created + rng.randrange(2 * DAY, 8 * DAY)
            skus = rng.sample(shop.catalogue, min(len(shop.catalogue), rng.choice((1, 1, 2, 3))))
            lines = []
            for sku in skus:
                quantity = rng.choice((1, 1, 1, 2, 3))
                lines.append(
                    {
                        "sku": sku,
                        "quantity": quantity,
                        "price": Decimal(sku.original) / 100,
                        "rate": rng.choice((500, 1000, 1250, 1550, 2000)),
                        "partner_rate": rng.choice((0, 0, 200)),
                        "ads_rate": rng.choice((0, 0, 300)),
                        "bonus": Decimal(rng.choice((0, 0, 0, 150))) / 100,
                        "creator": rng.choice(CREATORS),
                        "content_type": rng.choice(CONTENT_TYPES),
                        "content_id": str(7_300_000_000_000_000_000 + rng.randrange(10**15)),
                        "fully_returned": rng.random() < 0.1,
                        "form": rng.choice((0, 0, 1, 2, 3)),
                    }
                )
            orders.append(
                {
                    "id": f"57{shop.index:02d}{number:012d}",
                    "create_time": created,
                    "delivery_time": delivered,
                    "lines": lines,
                }
            )
        orders.sort(key=lambda order: (-int(order["create_time"]), str(order["id"])))
        return orders

    def settle(self, shop: Shop, count: int) -> list[str]:
        """Settle the ``count`` oldest orders not settled yet, now; return their ids."""
        now = int(self._clock())
        chosen = [
            order
            for order in reversed(self.orders(shop))
            if self.state(shop, order, now)[0] not in ("SETTLED", "INELIGIBLE")
        ][:count]
        with self._lock:
            for order in chosen:
                self._settled[shop.id, order["id"]] = now
        return [order["id"] for order in chosen]

    def state(self, shop: Shop, order: dict[str, Any], now: int) -> tuple[str, int]:
        """The order's settlement status at ``now`` (for a line not fully returned), delivery."""
        early = self._settled.get((shop.id, order["id"]))
        delivered = order["delivery_time"] if early is None else min(order["delivery_time"], early)
        if delivered > now:
            return "AWAITING PAYMENT", 0
        if early is None and delivered + SETTLE_DAYS * DAY > now:
            return "To-SETTLE", delivered
        return "SETTLED", delivered

    def line_figures(
        self, shop: Shop, order: dict[str, Any], line: dict[str, Any], now: int
    ) -> dict[str, Any]:
        """One line's status and amounts (Decimal; actual ones None until settled)."""
        status, delivered = self.state(shop, order, now)
        if status == "SETTLED" and line["fully_returned"]:
            status = "INELIGIBLE"
        base = line["price"] * line["quantity"]
        estimated = {
            "estimated_commission_base": base,
            "estimated_paid_commission": (base * line["rate"] / 10000).quantize(CENT),
            "estimated_paid_partner_commission": (base * line["partner_rate"] / 10000).quantize(
                CENT
            ),
            "estimated_paid_shop_ads_commission": (base * line["ads_rate"] / 10000).quantize(CENT),
            "estimated_cofunded_creator_bonus_amount": line["bonus"],
        }
        actual: dict[str, Decimal | None] = {
            key.replace("estimated", "actual"): None for key in estimated
        }
        if status == "SETTLED":
            actual = {key.replace("estimated", "actual"): value for key, value in estimated.items()}
        elif status == "INELIGIBLE":
            actual = {key: Decimal("0.00") for key in actual}
        return {
            "settlement_status": status,
            "delivery_time": delivered,
            "price": line["price"],
            **estimated,
            **actual,
        }

    def lines(self, shop: Shop) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (order, line) of the shop, newest order first: what pages are cut from."""
        return [(order, line) for order in self.orders(shop) for line in order["lines"]]

    def expected(self, shop: Shop, now: int) -> list[dict[str, Any]]:
        """Every line as tests compare it: keys, creator, rate (int) and figures (Decimal)."""
        return [
            {
                "order_id": order["id"],
                "sku_id": line["sku"].sku_id,
                "create_time": order["create_time"],
                "creator": line["creator"],
                "content_type": line["content_type"],
                "content_id": line["content_id"],
                "rate": line["rate"],
                "quantity": line["quantity"],
                "currency": shop.info.currency,
                **self.line_figures(shop, order, line, now),
            }
            for order, line in self.lines(shop)
        ]

    def render_line(
        self, shop: Shop, order: dict[str, Any], line: dict[str, Any], now: int
    ) -> dict[str, Any]:
        """One SKU line in the published shape; some amounts as localized display strings."""
        figures = self.line_figures(shop, order, line, now)
        currency = shop.info.currency
        sku = line["sku"]
        out: dict[str, Any] = {
            "sku_id": sku.sku_id,
            "product_id": sku.product_id,
            "quantity": line["quantity"],
            "creator_username": line["creator"],
            "content_type": line["content_type"],
            "content_id": line["content_id"],
            "commission_model": "STANDARD",
            "commission_rate": str(line["rate"]),
            "partner_commission_rate": str(line["partner_rate"]),
            "shop_ads_commission_rate": str(line["ads_rate"]),
            "settlement_status": figures["settlement_status"],
            "fully_return": "true" if line["fully_returned"] else "false",
            "is_carousel": False,
            "refunded_quantity": 0,
            "returned_quantity": 0,
            "open_collaboration_id": "" if line["content_type"] == "SHOP" else "6900012",
        }
        for name in MONEY_FIELDS:
            value = figures[name]
            form = (
                line["form"]
                if name in ("estimated_paid_commission", "actual_paid_commission", "price")
                else 0
            )
            out[name] = {
                "amount": "" if value is None else display(value, currency, form),
                "currency": currency,
            }
        return out


def _order_part(order: dict[str, Any], delivered: int) -> dict[str, Any]:
    return {
        "id": order["id"],
        "create_time": order["create_time"],
        "delivery_time": delivered,
        "status": "COMPLETED" if delivered else "IN_TRANSIT",
        "skus": [],
    }


def _bounds(filters: dict[str, Any], now: int, earliest: int) -> tuple[int, int]:
    """The documented defaults of missing bounds, and the three-month limit."""
    low, high = filters.get("create_time_ge"), filters.get("create_time_lt")
    if low is None and high is None:
        return add_months(now, -3), now
    high = now if high is None else high
    low = earliest if low is None else low
    if low >= high:
        raise PageError(PARAM, RANGE_REVERSED)
    if high > add_months(low, 3):
        raise PageError(PARAM, RANGE_TOO_WIDE)
    return low, high


def search(api: Api, req: Request, shop: Shop | None, repeat: bool) -> Response:
    """Answer one search: validate, cut the matching SKU lines, group each page's by order."""
    emu = api.emu
    now = int(emu.now())
    assert shop is not None
    if not (req.headers.get("content-type") or "").lower().startswith("application/json"):
        return param_error(
            BAD_CONTENT_TYPE, "Invalid content type: application/json is required", now
        )
    store: AffiliateStore = emu.affiliate
    if "category_asset_cipher" in req.query:  # for partners; a seller may not send it
        return param_error(PARAM, "Invalid parameter: category_asset_cipher", now)
    try:
        parsed = parse(ENDPOINT, f"affiliate:{shop.id}", req.query, req.body)
        every = store.lines(shop)
        earliest = min((order["create_time"] for order, _ in every), default=now)
        low, high = _bounds(parsed.filters, now, earliest)
        matching = [(order, line) for order, line in every if low <= order["create_time"] < high]
        chunk, token = list_page(
            matching,
            page_size=parsed.page_size,
            page_token=parsed.page_token,
            fingerprint=parsed.fingerprint,
            owner_id="0",
        )
    except PageError as exc:
        return param_error(exc.code, exc.message, now)
    shape = load_shape(SHAPE)
    orders: list[dict[str, Any]] = []
    for order, line in chunk:
        if not orders or orders[-1]["id"] != order["id"]:
            orders.append(_order_part(order, store.state(shop, order, now)[1]))
        orders[-1]["skus"].append(store.render_line(shop, order, line, now))
    rendered = [complete(order, shape) for order in orders]
    return success(
        {"next_page_token": token, "total_count": len(matching), "orders": rendered}, now
    )
