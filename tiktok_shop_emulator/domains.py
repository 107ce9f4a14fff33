"""The shops' records beyond orders, built lazily per shop and domain, and their HTTP handlers.

Tables are generated on first use (seeded, so the same config gives the same data), which
keeps an emulator with 25,000 products per shop cheap to start.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from tiktok_shop_emulator import aftersales, finance, products
from tiktok_shop_emulator.http_types import Response, success
from tiktok_shop_emulator.listing import PARAM, Listing, error, parse, serve
from tiktok_shop_emulator.orders import money
from tiktok_shop_emulator.records import PageError, Row, Table, list_page
from tiktok_shop_emulator.transactions import ENDPOINT as TRANSACTIONS_ENDPOINT
from tiktok_shop_emulator.transactions import TransactionBuilder

if TYPE_CHECKING:
    from tiktok_shop_emulator.api import Api
    from tiktok_shop_emulator.config import EmulatorConfig
    from tiktok_shop_emulator.data import Shop
    from tiktok_shop_emulator.http_types import Request
    from tiktok_shop_emulator.orders import OrderBuilder

BAD_CONTENT_TYPE = 36009022
GROUP_OF = {
    "returns": "aftersales",
    "cancellations": "aftersales",
    "products": "products",
    "statements": "finance",
    "payments": "finance",
    "withdrawals": "finance",
}
#: Time field each kind's compact rows are listed by (oldest first).
LISTED_BY = {
    "returns": "update_time",
    "cancellations": "update_time",
    "products": "update_time",
    "statements": "statement_time",
    "payments": "create_time",
    "withdrawals": "create_time",
}
LISTINGS: dict[str, Listing] = {
    "returns": aftersales.RETURNS,
    "cancellations": aftersales.CANCELLATIONS,
    "products": products.PRODUCTS_LISTING,
    "statements": finance.STATEMENTS,
    "payments": finance.PAYMENTS,
    "withdrawals": finance.WITHDRAWALS,
}
TRANSACTIONS_PATH = re.compile(r"/finance/(\d{6})/statements/([^/]+)/statement_transactions")


class Domains:
    """Lazily built tables of every shop, the renderers, and the change hooks."""

    def __init__(self, config: EmulatorConfig, start: int, builder: OrderBuilder) -> None:
        """Remember what generation needs; nothing is generated yet."""
        self._config = config
        self._start = start
        self._builder = builder
        self._tables: dict[tuple[str, str], dict[str, Table]] = {}
        self._lock = threading.Lock()
        self.aftersales = aftersales.AftersalesRenderer(self._order_lines)
        self.products = products.ProductRenderer()
        self.transactions = TransactionBuilder()
        self.finance = finance.FinanceRenderer(self.transactions)

    def _order_lines(self, shop: Shop, order_id: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = self._builder.build(shop, shop.rows[order_id])["line_items"]
        return lines

    def _generate(self, group: str, shop: Shop) -> dict[str, Table]:
        config = self._config
        rng = random.Random(f"tts-emulator:{config.seed}:{group}:{shop.index}")  # noqa: S311
        if group == "aftersales":
            return aftersales.make_tables(
                shop,
                rng,
                self._start,
                returns=config.returns_per_shop,
                cancellations=config.cancellations_per_shop,
            )
        if group == "products":
            return {
                "products": products.make_table(
                    shop,
                    rng,
                    self._start,
                    count=config.products_per_shop,
                    history_days=config.history_days,
                )
            }
        return finance.make_tables(
            shop,
            rng,
            self._start,
            days=config.statement_days,
            withdrawals=config.withdrawals_per_shop,
        )

    def table(self, kind: str, shop: Shop) -> Table:
        """The shop's table of one kind, generated on first use."""
        group = GROUP_OF[kind]
        with self._lock:
            tables = self._tables.get((group, shop.id))
            if tables is None:
                tables = self._generate(group, shop)
                self._tables[(group, shop.id)] = tables
        return tables[kind]

    def render(self, kind: str, shop: Shop, row: Row) -> dict[str, Any]:
        """The full object of one row, as its endpoint serves it."""
        if kind == "returns":
            return self.aftersales.render_return(shop, row)
        if kind == "cancellations":
            return self.aftersales.render_cancellation(shop, row)
        if kind == "products":
            return self.products.render(shop, row)
        if kind == "statements":
            return self.finance.render_statement(shop, row)
        if kind == "payments":
            statement = self.table("statements", shop).rows[row.links["statement_id"]]
            return self.finance.render_payment(shop, row, statement)
        return self.finance.render_withdrawal(shop, row)

    def update(self, kind: str, shop: Shop, count: int, now: int, rng: random.Random) -> list[str]:
        """Change `count` records and return their ids.

        Returns and cancellations advance, products are edited, payments get paid.
        """
        if kind == "payments":
            self.table("payments", shop)
            return finance.pay(self._tables[("finance", shop.id)], count, now)
        table = self.table(kind, shop)
        change: Callable[[Table, Row, int, random.Random], None]
        if kind in ("returns", "cancellations"):
            change = aftersales.advance
        elif kind == "products":
            change = products.change
        else:
            raise KeyError(
                f"{kind} cannot be changed; use returns, cancellations, products or payments"
            )
        with table.lock:
            chosen = rng.sample(sorted(table.rows), min(count, len(table.rows)))
            for record_id in chosen:
                change(table, table.rows[record_id], now, rng)
        return chosen


def listing_handler(listing: Listing) -> Callable[[Api, Request, Shop | None, bool], Response]:
    """The route handler of one list endpoint."""

    def handle(api: Api, req: Request, shop: Shop | None, repeat: bool) -> Response:
        emu = api.emu
        assert shop is not None
        content_type = (req.headers.get("content-type") or "").lower()
        if listing.endpoint.body is not None and not content_type.startswith("application/json"):
            return error(
                BAD_CONTENT_TYPE, "Invalid content type: application/json is required", emu.now()
            )
        domains = emu.domains
        table = domains.table(listing.kind, shop)
        return serve(
            listing,
            shop,
            table,
            req=req,
            now=emu.now(),
            render=lambda row: orjson.dumps(domains.render(listing.kind, shop, row)),
        )

    return handle


def statement_transactions(api: Api, req: Request, shop: Shop | None, repeat: bool) -> Response:
    """GET /finance/202501/statements/{statement_id}/statement_transactions."""
    emu = api.emu
    now = emu.now()
    assert shop is not None
    match = TRANSACTIONS_PATH.fullmatch(req.path)
    assert match is not None
    statement_id = match[2]
    domains = emu.domains
    statement = domains.table("statements", shop).rows.get(statement_id)
    if statement is None:
        return error(PARAM, "Invalid parameter: statement_id", now)
    try:
        parsed = parse(
            TRANSACTIONS_ENDPOINT, f"transactions:{shop.id}:{statement_id}", req.query, req.body
        )
        items = domains.transactions.build(shop, statement)
        if parsed.descending:
            items.reverse()
        chunk, token = list_page(
            items,
            page_size=parsed.page_size,
            page_token=parsed.page_token,
            fingerprint=parsed.fingerprint,
            owner_id=statement_id,
        )
    except PageError as exc:
        return error(exc.code, exc.message, now)
    sums = domains.finance.statement_totals(shop, statement)
    data = {
        "id": statement_id,
        "create_time": statement.times["statement_time"],
        "status": "SETTLED" if statement.status == "PAID" else "PROCESSING",
        "currency": shop.info.currency,
        "total_count": len(items),
        "total_settlement_amount": money(sums["settlement_amount"]),
        "next_page_token": token,
        "transactions": chunk,
    }
    return success(data, now)
