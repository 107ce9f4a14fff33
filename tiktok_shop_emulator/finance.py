"""Finance: daily statements, the payments that settle them, and withdrawals.

One statement per day at 00:00 UTC; each is paid by one payment a few hours later. The last
few days stay PROCESSING until the admin hook pays them, which changes a payment's status (and
its statement's ``payment_status``) without touching ``create_time`` or ``statement_time``:
only a client that re-reads a lookback sees it. All three endpoints are GETs with their
filters in the query string; statements and payments require ``sort_field``, withdrawals
require ``types``.
"""

from __future__ import annotations

import random
from typing import Any

from tiktok_shop_emulator.data import UPDATE_LAG_CAP, Shop, digits
from tiktok_shop_emulator.listing import Endpoint, Listing, comma_list, one_of, unix_time
from tiktok_shop_emulator.orders import money
from tiktok_shop_emulator.records import Row, Table
from tiktok_shop_emulator.shapes import default_for, load_shape
from tiktok_shop_emulator.transactions import TransactionBuilder, totals

DAY = 86400
PROCESSING_DAYS = 3
WITHDRAWAL_TYPES = ("WITHDRAW", "SETTLE", "TRANSFER", "REVERSE")
PAYMENT_STATUSES = ("PAID", "FAILED", "PROCESSING")

STATEMENTS = Listing(
    kind="statements",
    records_key="statements",
    endpoint=Endpoint(
        page_sizes=(1, 100),
        default_page_size=20,
        sort_fields=("statement_time",),
        sort_required=True,
        query={
            "statement_time_ge": unix_time,
            "statement_time_lt": unix_time,
            "payment_status": one_of(*PAYMENT_STATUSES),
        },
    ),
    time_fields=("statement_time",),
    default_sort="statement_time",
    sorts={"statement_time": "statement_time"},
    predicates={"payment_status": lambda row, wanted: row.status == wanted},
)
PAYMENTS = Listing(
    kind="payments",
    records_key="payments",
    endpoint=Endpoint(
        page_sizes=(1, 100),
        default_page_size=20,
        sort_fields=("create_time",),
        sort_required=True,
        query={"create_time_ge": unix_time, "create_time_lt": unix_time},
    ),
    time_fields=("create_time",),
    default_sort="create_time",
    sorts={"create_time": "create_time"},
)
WITHDRAWALS = Listing(
    kind="withdrawals",
    records_key="withdrawals",
    endpoint=Endpoint(
        page_sizes=(1, 100),
        default_page_size=20,
        required_query=("types",),
        query={
            "types": comma_list(*WITHDRAWAL_TYPES),
            "create_time_ge": unix_time,
            "create_time_lt": unix_time,
        },
    ),
    time_fields=("create_time",),
    default_sort="create_time",
    default_descending=True,
    predicates={"types": lambda row, wanted: row.links["type"] in wanted},
)


def make_tables(
    shop: Shop, rng: random.Random, now: int, *, days: int, withdrawals: int
) -> dict[str, Table]:
    """Statements for the last `days` days, their payments, and `withdrawals` withdrawals."""
    midnight = now - now % DAY
    latest = now - UPDATE_LAG_CAP
    statements: list[Row] = []
    payments: list[Row] = []
    for day in range(days):
        statement_time = midnight - day * DAY
        paid = day >= PROCESSING_DAYS
        created = min(statement_time + 3 * 3600, max(statement_time, latest))
        paid_time = created + DAY if paid else 0
        status = "PAID" if paid else "PROCESSING"
        statement_id, payment_id = digits(rng, "7318", 19), digits(rng, "7319", 19)
        statements.append(
            Row(
                statement_id,
                rng.getrandbits(48),
                status,
                {"statement_time": statement_time, "payment_time": paid_time},
                {"payment_id": payment_id},
            )
        )
        payments.append(
            Row(
                payment_id,
                rng.getrandbits(48),
                status,
                {"create_time": created, "paid_time": paid_time},
                {"statement_id": statement_id},
            )
        )
    rows: list[Row] = []
    low = midnight - days * DAY
    for _ in range(withdrawals):
        created = low + rng.randrange(max(1, latest - low))
        kind = rng.choice(("WITHDRAW", "WITHDRAW", "SETTLE", "SETTLE", "TRANSFER", "REVERSE"))
        status = (
            "PROCESSING"
            if latest - created < DAY
            else rng.choice(("SUCCESS", "SUCCESS", "SUCCESS", "FAILED"))
        )
        rows.append(
            Row(
                digits(rng, "7322", 19),
                rng.getrandbits(48),
                status,
                {"create_time": created},
                {"type": kind},
            )
        )
    return {
        "statements": Table(statements, ("statement_time",)),
        "payments": Table(payments, ("create_time",)),
        "withdrawals": Table(rows, ("create_time",)),
    }


def pay(tables: dict[str, Table], count: int, now: int) -> list[str]:
    """Pay up to `count` PROCESSING payments (oldest first) and mark their statements PAID."""
    payments, statements = tables["payments"], tables["statements"]
    with payments.lock, statements.lock:
        pending = [row for row in payments.rows.values() if row.status == "PROCESSING"]
        pending.sort(key=lambda row: row.times["create_time"])
        changed = pending[:count]
        for row in changed:
            row.status = "PAID"
            row.times["paid_time"] = now
            statement = statements.rows[row.links["statement_id"]]
            statement.status = "PAID"
            statement.times["payment_time"] = now
    return [row.id for row in changed]


class FinanceRenderer:
    """Builds full-shape statements, payments and withdrawals."""

    def __init__(self, transactions: TransactionBuilder) -> None:
        """Precompute the neutral templates; statements sum their transactions."""
        self.transactions = transactions
        self._statement: dict[str, Any] = default_for(load_shape("statements_202309"))
        self._payment: dict[str, Any] = default_for(load_shape("payments_202309"))
        self._withdrawal: dict[str, Any] = default_for(load_shape("withdrawals_202309"))

    def statement_totals(self, shop: Shop, statement: Row) -> dict[str, int]:
        """The statement's amounts, from its transactions."""
        return totals(self.transactions.build(shop, statement))

    def render_statement(self, shop: Shop, row: Row) -> dict[str, Any]:
        """One statement as Get Statements serves it."""
        sums = self.statement_totals(shop, row)
        return {
            **self._statement,
            "id": row.id,
            "statement_time": row.times["statement_time"],
            "currency": shop.info.currency,
            "payment_status": row.status,
            "payment_id": row.links["payment_id"],
            "payment_time": row.times["payment_time"],
            "revenue_amount": money(sums["revenue_amount"]),
            "net_sales_amount": money(sums["revenue_amount"]),
            "fee_amount": money(sums["fee_tax_amount"]),
            "shipping_cost_amount": money(sums["shipping_cost_amount"]),
            "adjustment_amount": money(sums["adjustment_amount"]),
            "settlement_amount": money(sums["settlement_amount"]),
        }

    def render_payment(self, shop: Shop, row: Row, statement: Row) -> dict[str, Any]:
        """One payment as Get Payments serves it (it settles `statement`)."""
        currency = shop.info.currency
        amount = {
            "value": money(self.statement_totals(shop, statement)["settlement_amount"]),
            "currency": currency,
        }
        return {
            **self._payment,
            "id": row.id,
            "create_time": row.times["create_time"],
            "status": row.status,
            "paid_time": row.times["paid_time"],
            "amount": amount,
            "settlement_amount": amount,
            "payment_amount_before_exchange": amount,
            "reserve_amount": {"value": "0.00", "currency": currency},
            "exchange_rate": "1",
            "bank_account": f"****{row.seed % 10000:04d}",
        }

    def render_withdrawal(self, shop: Shop, row: Row) -> dict[str, Any]:
        """One withdrawal as Get Withdrawals serves it."""
        amount = 1000 + row.seed % 500_000
        if row.links["type"] in ("REVERSE", "TRANSFER"):
            amount = -amount
        return {
            **self._withdrawal,
            "id": row.id,
            "type": row.links["type"],
            "status": row.status,
            "create_time": row.times["create_time"],
            "currency": shop.info.currency,
            "amount": money(amount),
        }
