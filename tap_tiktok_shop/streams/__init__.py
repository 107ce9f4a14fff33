"""The tap's streams by API domain; ``STREAM_TYPES`` is the registry ``discover_streams`` reads."""

from tap_tiktok_shop.streams.affiliate import AffiliateOrderSkusStream
from tap_tiktok_shop.streams.analytics import (
    ANALYTICS_STREAMS,
    ShopLiveSessionsStream,
    ShopPerformanceDailyStream,
    ShopProductPerformanceDailyStream,
    ShopSkuPerformanceDailyStream,
    ShopVideoPerformanceDailyStream,
)
from tap_tiktok_shop.streams.finance import (
    PaymentsStream,
    StatementsStream,
    StatementTransactionsStream,
    WithdrawalsStream,
)
from tap_tiktok_shop.streams.orders import OrdersStream
from tap_tiktok_shop.streams.products import ProductsStream
from tap_tiktok_shop.streams.returns import CancellationsStream, ReturnsStream
from tap_tiktok_shop.streams.shops import ShopsStream

STREAM_TYPES = (
    ShopsStream,
    OrdersStream,
    ReturnsStream,
    CancellationsStream,
    ProductsStream,
    StatementsStream,
    StatementTransactionsStream,
    PaymentsStream,
    WithdrawalsStream,
    *ANALYTICS_STREAMS,
    AffiliateOrderSkusStream,
)

__all__ = [
    "STREAM_TYPES",
    "AffiliateOrderSkusStream",
    "CancellationsStream",
    "OrdersStream",
    "PaymentsStream",
    "ProductsStream",
    "ReturnsStream",
    "ShopLiveSessionsStream",
    "ShopPerformanceDailyStream",
    "ShopProductPerformanceDailyStream",
    "ShopSkuPerformanceDailyStream",
    "ShopVideoPerformanceDailyStream",
    "ShopsStream",
    "StatementTransactionsStream",
    "StatementsStream",
    "WithdrawalsStream",
]
