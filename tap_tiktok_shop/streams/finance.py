"""Finance streams: ``statements`` (with ``statement_transactions``), ``payments``, ``withdrawals``.

All are GETs with their time filters in the query string. Finance records change after they
are created (a payment, and its statement, go from PROCESSING to PAID days later) while their
incremental field does not, so each run re-reads ``finance_lookback_days`` before the bookmark.
Statements and payments require ``sort_field``; withdrawals require ``types`` and offer no sort.
Statement transactions are read for every statement emitted, at version 202501 (202309 is
retired for that API), fetched ahead in parallel like the other reads (``child_reads.py``).
"""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_shop import schemas
from tap_tiktok_shop.child_reads import ChildReadStream
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.streams.shops import ShopsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

FINANCE_SCOPE = "seller.finance.info"
DAY = 86400
WITHDRAWAL_TYPES = "WITHDRAW,SETTLE,TRANSFER,REVERSE"


class FinanceStream(ShopIncrementalStream):
    """A finance GET endpoint read per shop, re-reading ``finance_lookback_days``."""

    filters_in_body = False
    lookback_setting = ("finance_lookback_days", DAY)
    required_scope = FINANCE_SCOPE
    parent_stream_type = ShopsStream
    schema = StreamSchema(SchemaDirectory(schemas))


class StatementsStream(FinanceStream):
    """GET /finance/202309/statements, one per day, incremental on ``statement_time``."""

    name = "statements"
    path = "/finance/202309/statements"
    records_key = "statements"
    primary_keys = ("id",)
    replication_key = "statement_time"
    sort_field = "statement_time"

    @override
    def get_child_context(
        self, record: dict[str, t.Any], context: Context | None
    ) -> dict[str, t.Any]:
        """Each statement's transactions are read with its id."""
        return {"shop_id": (context or {})["shop_id"], "statement_id": str(record["id"])}


class PaymentsStream(FinanceStream):
    """GET /finance/202309/payments, incremental on ``create_time``."""

    name = "payments"
    path = "/finance/202309/payments"
    records_key = "payments"
    primary_keys = ("id",)
    replication_key = "create_time"
    sort_field = "create_time"


class WithdrawalsStream(FinanceStream):
    """GET /finance/202309/withdrawals (all four types), incremental on ``create_time``."""

    name = "withdrawals"
    path = "/finance/202309/withdrawals"
    records_key = "withdrawals"
    primary_keys = ("id",)
    replication_key = "create_time"
    fixed_params: t.ClassVar = {"types": WITHDRAWAL_TYPES}


class StatementTransactionsStream(ChildReadStream):
    """GET /finance/202501/statements/{statement_id}/statement_transactions, per statement.

    Each statement's read is fetched ahead as soon as its statement was (see child_reads).
    """

    name = "statement_transactions"
    path = "/finance/202501/statements/{statement_id}/statement_transactions"
    records_key = "transactions"
    primary_keys = ("statement_id", "id")
    replication_key = None
    required_scope = FINANCE_SCOPE
    parent_stream_type = StatementsStream
    # Read whole for each statement emitted: no per-statement bookmarks to pile up in state.
    state_partitioning_keys: t.ClassVar = ()
    schema = StreamSchema(SchemaDirectory(schemas))

    @override
    def query_params(self, context: Context | None) -> dict[str, str]:
        """The API requires ``sort_field``; ascending by order creation."""
        return {
            "page_size": str(self.page_size),
            "sort_field": "order_create_time",
            "sort_order": "ASC",
        }

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Every transaction carries its shop and statement (state is not partitioned)."""
        return {
            **row,
            "shop_id": (context or {})["shop_id"],
            "statement_id": (context or {})["statement_id"],
        }
