"""The tap's streams; ``STREAM_TYPES`` is the registry ``discover_streams`` reads."""

from tap_tiktok_shop.streams.orders import OrdersStream
from tap_tiktok_shop.streams.shops import ShopsStream

STREAM_TYPES = (ShopsStream, OrdersStream)

__all__ = ["STREAM_TYPES", "OrdersStream", "ShopsStream"]
