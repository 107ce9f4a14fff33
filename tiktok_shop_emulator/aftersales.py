"""Returns and cancellations: seeded rows tied to the shop's orders, full-shape rendering, changes.

Every return or cancellation points at a real order of the shop and refunds some of its line
items, so the data joins like the real API's. Rows advance along the documented status flows
when the admin hook changes them, bumping ``update_time`` as the API does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tiktok_shop_emulator.data import UPDATE_LAG_CAP, Shop, digits
from tiktok_shop_emulator.listing import Endpoint, Listing, list_of, text, unix_time
from tiktok_shop_emulator.orders import money
from tiktok_shop_emulator.records import Row, Table
from tiktok_shop_emulator.shapes import default_for, load_shape

RETURN_SHAPE = "returns_search_202309"
CANCEL_SHAPE = "cancellations_search_202309"
DAY = 86400
BAD_PARAM = 25001001  # the return_refund APIs' own "invalid parameter" code

RETURN_FLOWS: dict[str, tuple[str, ...]] = {
    "REFUND": (
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    ),
    "RETURN_AND_REFUND": (
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    ),
    "REPLACEMENT": (
        "REPLACEMENT_REQUEST_PENDING",
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "REPLACEMENT_REQUEST_COMPLETE",
    ),
}
RETURN_STATUSES = (
    *sorted({s for flow in RETURN_FLOWS.values() for s in flow}),
    "REFUND_OR_RETURN_REQUEST_REJECT",
    "RETURN_OR_REFUND_REQUEST_CANCEL",
    "REPLACEMENT_REQUEST_REJECT",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS",
    "REPLACEMENT_REQUEST_CANCEL",
    "AWAITING_BUYER_RESPONSE",
)
CANCEL_FLOW = (
    "CANCELLATION_REQUEST_PENDING",
    "CANCELLATION_REQUEST_SUCCESS",
    "CANCELLATION_REQUEST_COMPLETE",
)
CANCEL_STATUSES = (*CANCEL_FLOW, "CANCELLATION_REQUEST_CANCEL")
_RETURN_REASONS = (
    ("ecom_order_delivered_refund_and_return_reason_wrong_item", "Wrong item was sent"),
    ("ecom_order_delivered_refund_and_return_reason_damaged", "Package or item damaged"),
    (
        "ecom_order_delivered_refund_and_return_reason_not_as_described",
        "Item does not match description",
    ),
    ("ecom_order_delivered_refund_reason_missing_item", "Missing package or item"),
)
_CANCEL_REASONS = (
    ("ecom_order_unpaid_cancel_reason_no_longer_needed", "No longer needed"),
    ("ecom_order_to_ship_cancel_reason_change_address", "Need to change shipping address"),
    ("seller_cancel_reason_out_of_stock", "Out of stock"),
)
_CARRIERS = (("6617675021119438849", "USPS"), ("6617675021119438850", "UPS"))

_TIME_BODY = {
    name: unix_time
    for name in ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")
}
_SORTS = {"create_time": "create_time", "update_time": "update_time"}

RETURNS = Listing(
    kind="returns",
    records_key="return_orders",
    endpoint=Endpoint(
        page_sizes=(10, 50),
        default_page_size=10,
        sort_fields=("create_time", "update_time"),
        error_code=BAD_PARAM,
        body={
            **_TIME_BODY,
            "return_ids": list_of(),
            "order_ids": list_of(),
            "buyer_user_ids": list_of(),
            "return_types": list_of(*RETURN_FLOWS),
            "return_status": list_of(*RETURN_STATUSES),
            "locale": text,
        },
    ),
    time_fields=("create_time", "update_time"),
    default_sort="create_time",
    sorts=_SORTS,
    predicates={
        "return_status": lambda row, wanted: row.status in wanted,
        "order_ids": lambda row, wanted: row.links["order_id"] in wanted,
        "return_ids": lambda row, wanted: row.id in wanted,
    },
)
CANCELLATIONS = Listing(
    kind="cancellations",
    records_key="cancellations",
    endpoint=Endpoint(
        page_sizes=(1, 50),
        default_page_size=10,
        sort_fields=("create_time", "update_time"),
        error_code=BAD_PARAM,
        body={
            **_TIME_BODY,
            "cancel_ids": list_of(),
            "order_ids": list_of(),
            "buyer_user_ids": list_of(),
            "cancel_types": list_of("CANCEL", "BUYER_CANCEL"),
            "cancel_status": list_of(*CANCEL_STATUSES),
            "locale": text,
        },
    ),
    time_fields=("create_time", "update_time"),
    default_sort="create_time",
    sorts=_SORTS,
    predicates={
        "cancel_status": lambda row, wanted: row.status in wanted,
        "order_ids": lambda row, wanted: row.links["order_id"] in wanted,
        "cancel_ids": lambda row, wanted: row.id in wanted,
    },
)


def _pick_orders(shop: Shop, statuses: frozenset[str]) -> list[str]:
    """Order ids of the shop in the given statuses (any order when none match)."""
    with shop.lock:
        ids = [oid for _, oid in shop.by_create if shop.rows[oid].status in statuses]
        return ids or [oid for _, oid in shop.by_create]


def _rows(
    shop: Shop,
    rng: random.Random,
    count: int,
    now: int,
    *,
    prefix: str,
    orders: list[str],
    status_for: Callable[[random.Random, str, int], tuple[str, str]],
    delay: tuple[int, int],
) -> Table:
    """Build `count` rows, each on a distinct order when possible, created after its order."""
    cap = now - UPDATE_LAG_CAP
    rows: list[Row] = []
    used: set[str] = set()
    if not orders:
        return Table(rows, ("create_time", "update_time"))
    picks = rng.sample(orders, min(count, len(orders)))
    for n in range(count):
        # distinct orders first; more returns than orders means partial returns of the same
        order_id = picks[n] if n < len(picks) else rng.choice(orders)
        created = min(shop.rows[order_id].create_time + rng.randrange(*delay), cap)
        kind, status = status_for(rng, order_id, now - created)
        updated = min(created + rng.randrange(0, 3 * DAY), cap)
        record_id = digits(rng, prefix, 19)
        while record_id in used:
            record_id = digits(rng, prefix, 19)
        used.add(record_id)
        rows.append(
            Row(
                record_id,
                rng.getrandbits(48),
                status,
                {"create_time": created, "update_time": updated},
                {"order_id": order_id, "type": kind},
            )
        )
    return Table(rows, ("create_time", "update_time"))


def _return_status(rng: random.Random, order_id: str, age: int) -> tuple[str, str]:
    kind = rng.choice(("REFUND", "RETURN_AND_REFUND", "RETURN_AND_REFUND", "REPLACEMENT"))
    flow = RETURN_FLOWS[kind]
    if age > 14 * DAY:
        return kind, rng.choice((flow[-1], flow[-1], flow[-1], "REFUND_OR_RETURN_REQUEST_REJECT"))
    return kind, flow[rng.randrange(len(flow) - 1)]


def _cancel_status(rng: random.Random, order_id: str, age: int) -> tuple[str, str]:
    kind = rng.choice(("CANCEL", "BUYER_CANCEL", "BUYER_CANCEL"))
    if age > 7 * DAY:
        return kind, rng.choice((CANCEL_FLOW[-1], CANCEL_FLOW[-1], "CANCELLATION_REQUEST_CANCEL"))
    return kind, CANCEL_FLOW[rng.randrange(len(CANCEL_FLOW) - 1)]


def make_tables(
    shop: Shop, rng: random.Random, now: int, *, returns: int, cancellations: int
) -> dict[str, Table]:
    """The returns and cancellations of one shop."""
    delivered = _pick_orders(shop, frozenset({"DELIVERED", "COMPLETED"}))
    cancelled = _pick_orders(shop, frozenset({"CANCELLED", "AWAITING_SHIPMENT", "ON_HOLD"}))
    return {
        "returns": _rows(
            shop,
            rng,
            returns,
            now,
            prefix="4035",
            orders=delivered,
            status_for=_return_status,
            delay=(2 * DAY, 20 * DAY),
        ),
        "cancellations": _rows(
            shop,
            rng,
            cancellations,
            now,
            prefix="4036",
            orders=cancelled,
            status_for=_cancel_status,
            delay=(60, DAY),
        ),
    }


def advance(table: Table, row: Row, now: int, rng: random.Random) -> None:
    """A buyer or seller acts on a return or cancellation: next status, fresh update_time."""
    with table.lock:
        flow = RETURN_FLOWS.get(row.links["type"], CANCEL_FLOW)
        if row.status in flow and row.status != flow[-1]:
            row.status = flow[flow.index(row.status) + 1]
        elif row.status not in flow and rng.random() < 0.5:
            row.status = flow[0]  # re-opened through arbitration
        table.set_time(row, "update_time", max(now, row.times["create_time"]))


class AftersalesRenderer:
    """Builds full-shape return and cancellation objects from rows and their orders."""

    def __init__(self, order_lines: Callable[[Shop, str], list[dict[str, Any]]]) -> None:
        """Keep the order line-item source; precompute the neutral templates of both shapes."""
        self._order_lines = order_lines
        self._return: dict[str, Any] = default_for(load_shape(RETURN_SHAPE))
        self._cancel: dict[str, Any] = default_for(load_shape(CANCEL_SHAPE))

    def _refund(
        self, template: dict[str, Any], currency: str, subtotal: int, tax: int, shipping: int = 0
    ) -> dict[str, Any]:
        return {
            **template,
            "currency": currency,
            "refund_subtotal": money(subtotal),
            "refund_tax": money(tax),
            "refund_shipping_fee": money(shipping),
            "refund_total": money(subtotal + tax + shipping),
            "buyer_service_fee": "0.00",
            "retail_delivery_fee": "0.00",
        }

    def _lines(
        self,
        shop: Shop,
        row: Row,
        template: dict[str, Any],
        *,
        id_key: str,
        sub_key: str,
        sub_id_key: str,
    ) -> tuple[list[dict[str, Any]], int, int]:
        """Refunded line items (one or more of the order's) with their refund amounts."""
        lines = self._order_lines(shop, row.links["order_id"])
        picked = lines[: 1 + row.seed % len(lines)]
        out: list[dict[str, Any]] = []
        subtotal = tax = 0
        currency = shop.info.currency
        for k, line in enumerate(picked):
            price = round(float(line["sale_price"]) * 100)
            line_tax = round(float(line["item_tax"][0]["tax_amount"]) * 100)
            subtotal += price
            tax += line_tax
            item_id = f"{row.id[:4]}{(row.seed + k * 7919) % 10**15:015d}"
            common = {
                "order_line_item_id": line["id"],
                "sku_id": line["sku_id"],
                "sku_name": line["sku_name"],
                "product_name": line["product_name"],
                "seller_sku": line["seller_sku"],
                "product_image": {"url": line["sku_image"], "width": 200, "height": 200},
                "refund_amount": self._refund(template["refund_amount"], currency, price, line_tax),
            }
            sub = {
                **template[sub_key][0],
                **common,
                id_key: item_id,
                sub_id_key: f"{item_id}1",
                "sub_order_line_item_id": line["id"],
            }
            out.append({**template, **common, id_key: item_id, sub_key: [sub]})
        return out, subtotal, tax

    def render_return(self, shop: Shop, row: Row) -> dict[str, Any]:
        """One return as Search Returns serves it."""
        tpl = self._return
        line_tpl = tpl["return_line_items"][0]
        lines, subtotal, tax = self._lines(
            shop,
            row,
            line_tpl,
            id_key="return_line_item_id",
            sub_key="return_sub_line_items",
            sub_id_key="return_sub_line_item_id",
        )
        currency = shop.info.currency
        kind, status = row.links["type"], row.status
        shipping = kind != "REFUND"
        carrier_id, carrier = _CARRIERS[row.seed % len(_CARRIERS)]
        reason, reason_text = _RETURN_REASONS[row.seed % len(_RETURN_REASONS)]
        open_status = status not in {flow[-1] for flow in RETURN_FLOWS.values()}
        region = shop.info
        tracking = f"RT{region.code}{row.seed % 10**12:012d}"
        return {
            **tpl,
            "return_id": row.id,
            "order_id": row.links["order_id"],
            "return_type": kind,
            "return_status": status,
            "role": "BUYER",
            "create_time": row.times["create_time"],
            "update_time": row.times["update_time"],
            "return_reason": reason,
            "return_reason_text": reason_text,
            "arbitration_status": "",
            "shipment_type": "PLATFORM" if shipping else "",
            "return_method": "",
            "handover_method": "DROP_OFF" if shipping else "",
            "return_tracking_number": tracking if shipping else "",
            "return_provider_id": carrier_id if shipping else "",
            "return_provider_name": carrier if shipping else "",
            "can_buyer_keep_item": not shipping,
            "is_combined_return": False,
            "is_quick_refund": kind == "REFUND" and row.seed % 5 == 0,
            "buyer_rejected_partial_refund": False,
            "return_shipping_document_type": "SHIPPING_LABEL" if shipping else "",
            "return_warehouse_address": {"full_address": f"1 Returns Way, {region.country}"},
            "seller_next_action_response": [
                {
                    "action": "SELLER_RESPOND_REQUEST" if open_status else "",
                    "deadline": row.times["update_time"] + 2 * DAY if open_status else 0,
                }
            ],
            "return_line_items": lines,
            "refund_amount": self._refund(tpl["refund_amount"], currency, subtotal, tax),
            "partial_refund": {"amount": "0.00", "currency": currency},
            "discount_amount": [
                {
                    **tpl["discount_amount"][0],
                    "currency": currency,
                    "product_platform_discount": "0.00",
                    "product_seller_discount": "0.00",
                    "shipping_fee_platform_discount": "0.00",
                    "shipping_fee_seller_discount": "0.00",
                }
            ],
            "shipping_fee_amount": [
                {
                    "currency": currency,
                    "buyer_paid_return_shipping_fee": "0.00",
                    "platform_paid_return_shipping_fee": "0.00",
                    "seller_paid_return_shipping_fee": money(
                        region.shipping_fee if shipping else 0
                    ),
                }
            ],
        }

    def render_cancellation(self, shop: Shop, row: Row) -> dict[str, Any]:
        """One cancellation as Search Cancellations serves it."""
        tpl = self._cancel
        line_tpl = tpl["cancel_line_items"][0]
        lines, subtotal, tax = self._lines(
            shop,
            row,
            line_tpl,
            id_key="cancel_line_item_id",
            sub_key="cancel_sub_line_items",
            sub_id_key="cancel_sub_line_item_id",
        )
        reason, reason_text = _CANCEL_REASONS[row.seed % len(_CANCEL_REASONS)]
        pending = row.status == CANCEL_FLOW[0]
        return {
            **tpl,
            "cancel_id": row.id,
            "order_id": row.links["order_id"],
            "cancel_type": row.links["type"],
            "cancel_status": row.status,
            "role": "SELLER" if row.links["type"] == "CANCEL" else "BUYER",
            "cancel_reason": reason,
            "cancel_reason_text": reason_text,
            "create_time": row.times["create_time"],
            "update_time": row.times["update_time"],
            "should_replenish_stock": True,
            "seller_next_action_response": [
                {
                    "action": "SELLER_RESPOND_CANCEL" if pending else "",
                    "deadline": row.times["update_time"] + DAY if pending else 0,
                }
            ],
            "cancel_line_items": lines,
            "refund_amount": self._refund(tpl["refund_amount"], shop.info.currency, subtotal, tax),
        }
