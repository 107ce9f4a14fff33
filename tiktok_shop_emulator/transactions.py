"""Statement transactions (v202501): derived on demand from a statement and the shop's orders.

Nothing is stored: a statement's transactions are regenerated from its seed each time, one per
order created the day before the statement (plus the odd adjustment or reserve), so statement
totals always equal the sum of their transactions.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

from tiktok_shop_emulator.data import Shop, digits
from tiktok_shop_emulator.listing import Endpoint
from tiktok_shop_emulator.orders import money
from tiktok_shop_emulator.records import Row
from tiktok_shop_emulator.shapes import default_for, load_shape

TRANSACTION_SHAPE = "statement_transactions_202501"
CURRENT_VERSION = "202501"
DAY = 86400
MAX_PER_STATEMENT = 20
_MONEY_OBJECTS = (
    "fee_tax_breakdown",
    "revenue_breakdown",
    "shipping_cost_breakdown",
    "supplementary_component",
)

ENDPOINT = Endpoint(
    page_sizes=(1, 100),
    default_page_size=20,
    sort_fields=("order_create_time",),
    sort_required=True,
)


def _zero_money(value: Any) -> Any:
    """Replace the empty strings of a neutral template with "0.00" (all amounts here)."""
    if isinstance(value, dict):
        return {key: _zero_money(sub) for key, sub in value.items()}
    return "0.00" if value == "" else value


class TransactionBuilder:
    """Generates the transactions of one statement, deterministically."""

    def __init__(self) -> None:
        """Precompute the neutral template, with every amount at "0.00"."""
        template: dict[str, Any] = default_for(load_shape(TRANSACTION_SHAPE))
        for key in _MONEY_OBJECTS:
            template[key] = _zero_money(template[key])
        for key in list(template):
            if key.endswith("_amount"):
                template[key] = "0.00"
        self._template = template

    def _orders(self, shop: Shop, statement_time: int) -> list[str]:
        """Order ids created during the day the statement covers."""
        with shop.lock:
            index = shop.by_create
            lo = bisect.bisect_left(index, (statement_time - DAY, ""))
            hi = bisect.bisect_left(index, (statement_time, ""))
            return [order_id for _, order_id in index[lo:hi][:MAX_PER_STATEMENT]]

    def build(self, shop: Shop, statement: Row) -> list[dict[str, Any]]:
        """The statement's transactions, ascending by order_create_time."""
        rnd = random.Random(statement.seed)  # noqa: S311 (fake data)
        statement_time = statement.times["statement_time"]
        region = shop.info
        tpl = self._template
        out: list[dict[str, Any]] = []
        order_ids = self._orders(shop, statement_time)
        for order_id in order_ids:
            order = shop.rows[order_id]
            skus = [shop.catalogue[i] for i in order.units]
            original = sum(sku.original for sku in skus)
            discount = sum(sku.seller_discount for sku in skus)
            revenue = original - discount
            commission = -(revenue * 6 // 100)
            transaction_fee = -(revenue * 2 // 100 + 30)
            shipping = -region.shipping_fee
            out.append(
                {
                    **tpl,
                    "id": digits(rnd, "7320", 19),
                    "type": "ORDER",
                    "order_id": order_id,
                    "order_create_time": order.create_time,
                    "revenue_amount": money(revenue),
                    "revenue_breakdown": {
                        **tpl["revenue_breakdown"],
                        "subtotal_before_discount_amount": money(original),
                        "seller_discount_amount": money(-discount),
                    },
                    "fee_tax_amount": money(commission + transaction_fee),
                    "fee_tax_breakdown": {
                        "fee": {
                            **tpl["fee_tax_breakdown"]["fee"],
                            "platform_commission_amount": money(commission),
                            "transaction_fee_amount": money(transaction_fee),
                        },
                        "tax": tpl["fee_tax_breakdown"]["tax"],
                    },
                    "shipping_cost_amount": money(shipping),
                    "shipping_cost_breakdown": {
                        **tpl["shipping_cost_breakdown"],
                        "actual_shipping_fee_amount": money(shipping),
                    },
                    "settlement_amount": money(revenue + commission + transaction_fee + shipping),
                    "supplementary_component": {
                        **tpl["supplementary_component"],
                        "customer_payment_amount": money(revenue),
                    },
                }
            )
        if not out or rnd.random() < 0.2:
            amount = -(100 + rnd.randrange(900))
            out.append(
                {
                    **tpl,
                    "id": digits(rnd, "7320", 19),
                    "type": "SHIPPING_FEE_ADJUSTMENT",
                    "order_create_time": statement_time - DAY,
                    "adjustment_id": digits(rnd, "7321", 19),
                    "adjustment_order_id": order_ids[0] if order_ids else "",
                    "adjustment_amount": money(amount),
                    "settlement_amount": money(amount),
                }
            )
        out.sort(key=lambda item: (item["order_create_time"], item["id"]))
        return out


def totals(transactions: list[dict[str, Any]]) -> dict[str, int]:
    """Statement amounts in minor units: the sums over its transactions."""

    def cents(item: dict[str, Any], key: str) -> int:
        return round(float(item[key]) * 100)

    keys = (
        "revenue_amount",
        "fee_tax_amount",
        "shipping_cost_amount",
        "adjustment_amount",
        "settlement_amount",
    )
    return {key: sum(cents(item, key) for item in transactions) for key in keys}
