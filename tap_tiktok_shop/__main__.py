"""Run the tap as ``python -m tap_tiktok_shop``."""

from tap_tiktok_shop.tap import TapTikTokShop

TapTikTokShop.cli()
