"""Materializes full-shape order objects from compact rows, quickly and with a bounded cache."""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from typing import Any

import orjson

from tiktok_shop_emulator.data import OrderRow, Shop, Sku
from tiktok_shop_emulator.regions import (
    CANCEL_REASONS,
    CARRIERS,
    FIRST_NAMES,
    LAST_NAMES,
    STREETS,
    Region,
)
from tiktok_shop_emulator.shapes import ORDER_SHAPE, complete, default_for, load_shape

_SHIPPED = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
_COLLECTED = frozenset({"IN_TRANSIT", "DELIVERED", "COMPLETED"})
_DELIVERED = frozenset({"DELIVERED", "COMPLETED"})
_MASKED = frozenset({"UNPAID", "ON_HOLD", "CANCELLED"})
_LINE_STATUS = {"ON_HOLD": "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING": "AWAITING_SHIPMENT"}
_PACKAGE_STATUS = {
    "UNPAID": "TO_FULFILL",
    "ON_HOLD": "TO_FULFILL",
    "AWAITING_SHIPMENT": "TO_FULFILL",
    "PARTIALLY_SHIPPING": "PROCESSING",
    "AWAITING_COLLECTION": "PROCESSING",
    "IN_TRANSIT": "FULFILLING",
    "DELIVERED": "COMPLETED",
    "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}
_PAYMENT_METHODS = ("CCDC", "PayPal", "Apple Pay", "Google Pay", "Klarna")
_DELIVERY_OPTIONS = (
    ("7091146663229654785", "Standard Shipping"),
    ("7091146663229671169", "Express Shipping"),
    ("7091146663229687553", "Economy Shipping"),
)
_MESSAGES = ("", "", "", "", "Please pack carefully", "Gift, no invoice please")
ZERO = "0.00"
ADDRESS_SLOTS = 97
HOUR = 3600
DAY = 86400


_MONEY: dict[int, str] = {}


def money(cents: int) -> str:
    """Format minor units as the API's two-decimal money string (e.g. 2340 -> "23.40")."""
    text = _MONEY.get(cents)
    if text is None:
        sign = "-" if cents < 0 else ""
        text = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        if len(_MONEY) > 200_000:  # amounts repeat a lot; keep the memo bounded
            _MONEY.clear()
        _MONEY[cents] = text
    return text


class OrderBuilder:
    """Builds order dicts and their JSON bytes, caching bytes by (id, update_time, status)."""

    def __init__(self, cache_size: int = 10000) -> None:
        """Precompute the neutral templates of every nested object of the order shape."""
        shape = load_shape(ORDER_SHAPE)
        self._shape = shape
        self._top: dict[str, Any] = default_for(shape)
        self._line: dict[str, Any] = default_for(shape["line_items"][0])
        self._sub_item_shape = shape["line_items"][0]["sub_item_info"][0]
        self._payment: dict[str, Any] = default_for(shape["payment"])
        self._address: dict[str, Any] = default_for(shape["recipient_address"])
        self._district: dict[str, Any] = default_for(shape["recipient_address"]["district_info"][0])
        self._payment_zero = {
            key: ZERO if value == "" else value for key, value in self._payment.items()
        }
        self._addresses: dict[tuple[str, int, bool], dict[str, Any]] = {}
        self._sku_lines: dict[tuple[str, int], dict[str, Any]] = {}
        self._cache: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _sku_line(self, shop: Shop, index: int) -> dict[str, Any]:
        """Return (building once) the status-independent part of a line item for one SKU."""
        key = (shop.id, index)
        line = self._sku_lines.get(key)
        if line is not None:
            return line
        sku: Sku = shop.catalogue[index]
        region: Region = shop.info
        currency = region.currency
        prices = {
            "currency": currency,
            "original_price": money(sku.original),
            "sale_price": money(sku.sale),
            "seller_discount": money(sku.seller_discount),
            "platform_discount": money(sku.platform_discount),
        }
        ids = {
            "product_id": sku.product_id,
            "product_name": sku.product_name,
            "sku_id": sku.sku_id,
            "sku_name": sku.sku_name,
            "sku_image": sku.sku_image,
            "seller_sku": sku.seller_sku,
        }
        tax = {
            "tax_amount": money(sku.tax),
            "tax_rate": f"{region.tax_rate:g}",
            "tax_type": region.tax_type,
        }
        sub_item = complete(
            {
                **ids,
                **prices,
                "id": sku.sku_id,
                "item_tax": [tax],
                "warehouse_id": shop.warehouses[0],
            },
            self._sub_item_shape,
        )
        line = {
            **self._line,
            **ids,
            **prices,
            "item_tax": [tax],
            "combined_listing_skus": [
                {
                    "product_id": sku.product_id,
                    "seller_sku": sku.seller_sku,
                    "sku_count": 1,
                    "sku_id": sku.sku_id,
                }
            ],
            "sub_item_info": [sub_item],
            "sku_type": "NORMAL",
            "product_listing_type": "NORMAL",
            "handling_duration_days": "3",
            "gift_retail_price": ZERO,
            "buyer_service_fee": ZERO,
            "retail_delivery_fee": ZERO,
            "small_order_fee": ZERO,
            "pfand_fee": ZERO,
            "distance_fee": ZERO,
            "distance_shipping_fee": ZERO,
            "shipping_vat_amount": ZERO,
            "shipping_vat_rate": "0",
        }
        self._sku_lines[key] = line
        return line

    def _address_for(self, shop: Shop, row: OrderRow) -> dict[str, Any]:
        """Return the buyer's recipient address, masked as the US market masks pending orders."""
        slot = int(row.user_id) % ADDRESS_SLOTS
        masked = row.status in _MASKED
        key = (shop.id, slot, masked)
        address = self._addresses.get(key)
        if address is None:
            address = self._make_address(shop, slot, masked)
            self._addresses[key] = address
        return address

    def _make_address(self, shop: Shop, slot: int, masked: bool) -> dict[str, Any]:
        """Build address number `slot` of a shop's pool of buyer addresses."""
        rnd = random.Random(f"{shop.id}:address:{slot}")  # noqa: S311 (fake data)
        region = shop.info
        state, city, postal = region.states[rnd.randrange(len(region.states))]
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        line1 = f"{rnd.randint(1, 999)} {rnd.choice(STREETS)}"
        line2 = rnd.choice(("", "", f"Apt {rnd.randint(1, 40)}"))
        area, mid, tail = rnd.randint(200, 989), rnd.randint(100, 999), rnd.randint(1000, 9999)
        phone = f"({region.phone_prefix}){area}-{mid}-{tail}"
        name = f"{first} {last}"
        if masked:
            name, first, last = f"{first[0]}***", f"{first[0]}***", f"{last[0]}***"
            line1, line2, postal = "***", "", postal[:2] + "***"
            phone = f"({region.phone_prefix}){area}-***-****"
        district = [
            {
                **self._district,
                "address_level": "L0",
                "address_level_name": "Country",
                "address_name": region.country,
                "iso_code": region.code,
            },
            {
                **self._district,
                "address_level": "L1",
                "address_level_name": "State",
                "address_name": state,
                "iso_code": f"{region.code}-{state[:2].upper()}",
            },
            {
                **self._district,
                "address_level": "L2",
                "address_level_name": "City",
                "address_name": city,
                "iso_code": "",
            },
        ]
        parts = (line1, line2, city, state, postal, region.country)
        full = ", ".join(part for part in parts if part)
        return {
            **self._address,
            "address_detail": line2,
            "address_line1": line1,
            "address_line2": line2,
            "district_info": district,
            "first_name": first,
            "last_name": last,
            "full_address": full,
            "name": name,
            "phone_number": phone,
            "post_town": city if region.code == "GB" else "",
            "postal_code": postal,
            "region_code": region.code,
            "delivery_preferences": {"drop_off_location": rnd.choice(("", "Front door"))},
        }

    def build(self, shop: Shop, row: OrderRow) -> dict[str, Any]:
        """Materialize the full order object of a row (shared sub-objects: do not mutate)."""
        region = shop.info
        status, ct, ut, seed = row.status, row.create_time, row.update_time, row.seed
        mix = (seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF  # cheap per-order draws
        cancelled = status == "CANCELLED"
        paid = 0 if status == "UNPAID" else min(ct + 5 + mix % 895, ut)
        rts = min(ct + 4 * HOUR + (mix >> 10) % (44 * HOUR), ut) if status in _SHIPPED else 0
        collected = min(rts + HOUR + (mix >> 27) % (23 * HOUR), ut) if status in _COLLECTED else 0
        delivered = (
            min(collected + DAY + (mix >> 44) % (3 * DAY), ut) if status in _DELIVERED else 0
        )
        carrier_id, carrier = CARRIERS[seed % len(CARRIERS)]
        shipped = rts > 0 or status == "PARTIALLY_SHIPPING"
        tracking = f"TT{region.code}{seed % 10**14:014d}" if shipped else ""
        package_id = f"115{(seed * 2654435761) % 10**15:015d}"
        initiator, reason, cancel_user = CANCEL_REASONS[seed % len(CANCEL_REASONS)]
        line_status = _LINE_STATUS.get(status, status)
        package_status = _PACKAGE_STATUS[status]
        lines = []
        orig = seller = platform = sub_total = product_tax = 0
        for k, sku_index in enumerate(row.units):
            sku = shop.catalogue[sku_index]
            orig += sku.original
            seller += sku.seller_discount
            platform += sku.platform_discount
            sub_total += sku.sale
            product_tax += sku.tax
            shipped_line = shipped and (status != "PARTIALLY_SHIPPING" or k == 0)
            lines.append(
                {
                    **self._sku_line(shop, sku_index),
                    "id": f"577{(seed * 1000003 + k * 7919) % 10**15:015d}",
                    "display_status": "AWAITING_COLLECTION"
                    if shipped_line and line_status == "AWAITING_SHIPMENT"
                    else line_status,
                    "package_id": package_id,
                    "package_status": package_status,
                    "shipping_provider_id": carrier_id if shipped_line else "",
                    "shipping_provider_name": carrier if shipped_line else "",
                    "tracking_number": tracking if shipped_line else "",
                    "rts_time": rts,
                    "cancel_user": cancel_user if cancelled else "",
                    "cancel_reason": reason if cancelled else "",
                    "is_gift": False,
                }
            )
        orig_ship = region.shipping_fee
        ship_seller = orig_ship if sub_total >= region.free_shipping_over else 0
        ship_platform = (orig_ship - ship_seller) // 2 if seed % 9 == 0 else 0
        shipping_fee = orig_ship - ship_seller - ship_platform
        shipping_tax = round(shipping_fee * region.tax_rate)
        tax = product_tax + shipping_tax
        payment = {
            **self._payment_zero,
            "currency": region.currency,
            "sub_total": money(sub_total),
            "original_total_product_price": money(orig),
            "seller_discount": money(seller),
            "platform_discount": money(platform),
            "original_shipping_fee": money(orig_ship),
            "shipping_fee_seller_discount": money(ship_seller),
            "shipping_fee_platform_discount": money(ship_platform),
            "shipping_fee": money(shipping_fee),
            "product_tax": money(product_tax),
            "shipping_fee_tax": money(shipping_tax),
            "tax": money(tax),
            "total_amount": money(sub_total + shipping_fee + tax),
        }
        option_id, option_name = _DELIVERY_OPTIONS[(seed >> 4) % len(_DELIVERY_OPTIONS)]
        user_hash = f"{int(row.user_id) * 11400714819323198485 % 2**64:016x}"
        return {
            **self._top,
            "id": row.id,
            "status": status,
            "create_time": ct,
            "update_time": ut,
            "paid_time": paid,
            "user_id": row.user_id,
            "buyer_email": f"v{user_hash[:14]}@scs{seed % 4 + 1}.tiktok.com",
            "buyer_nickname": f"user{user_hash[:8]}",
            "buyer_avatar": f"https://p16-sign-va.tiktokcdn.com/avatar/{user_hash}.jpeg",
            "buyer_message": _MESSAGES[seed % len(_MESSAGES)],
            "seller_note": "",
            "line_items": lines,
            "payment": payment,
            "recipient_address": self._address_for(shop, row),
            "packages": [{"id": package_id}],
            "payment_method_name": _PAYMENT_METHODS[(seed >> 6) % len(_PAYMENT_METHODS)],
            "shipping_type": row.shipping_type,
            "warehouse_id": row.warehouse_id,
            "fulfillment_type": "FULFILLMENT_BY_TIKTOK"
            if seed % 10 == 0
            else "FULFILLMENT_BY_SELLER",
            "delivery_type": "HOME_DELIVERY",
            "delivery_option_id": option_id,
            "delivery_option_name": option_name,
            "commerce_platform": "TIKTOK_SHOP",
            "order_type": "NORMAL",
            "order_rights": [1],
            "split_or_combine_tag": "",
            "handling_duration": {"days": "3", "type": "BUSINESS_DAY"},
            "shipping_provider": carrier if shipped else "",
            "shipping_provider_id": carrier_id if shipped else "",
            "tracking_number": tracking,
            "rts_time": rts,
            "collection_time": collected,
            "delivery_time": delivered,
            "rts_sla_time": ct + 3 * DAY,
            "tts_sla_time": ct + 4 * DAY,
            "shipping_due_time": ct + 5 * DAY,
            "collection_due_time": ct + 7 * DAY,
            "delivery_due_time": ct + 14 * DAY,
            "delivery_sla_time": ct + 10 * DAY,
            "delivery_option_required_delivery_time": ct + 7 * DAY,
            "cancel_order_sla_time": ct + DAY if status == "UNPAID" else 0,
            "cancel_time": ut if cancelled else 0,
            "cancel_reason": reason if cancelled else "",
            "cancellation_initiator": initiator if cancelled else "",
            "is_buyer_request_cancel": row.buyer_cancel,
            "request_cancel_time": ut if row.buyer_cancel else 0,
            "is_on_hold_order": status == "ON_HOLD",
            "has_updated_recipient_address": seed % 17 == 0,
        }

    def body(self, shop: Shop, row: OrderRow) -> bytes:
        """Return the order's JSON bytes, from the cache when the row did not change."""
        key = (row.id, row.update_time, row.status)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        data = orjson.dumps(self.build(shop, row))
        if self._cache_size > 0:
            with self._lock:
                self._cache[key] = data
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return data
