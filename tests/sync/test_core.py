"""The SDK's standard tap tests, run against a local emulator started at import time.

``get_tap_test_class`` builds the tap when the class is created, so the emulator must be up
before then; it is stopped when the interpreter exits. Every stream is selected (the opt-in
``affiliate_order_skus`` too, its restricted package granted), so each is tested.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_tiktok_shop.streams import STREAM_TYPES
from tap_tiktok_shop.tap import TapTikTokShop
from tests.support.tap_runs import catalog_selecting
from tiktok_shop_emulator import Emulator, EmulatorConfig
from tiktok_shop_emulator.config import AFFILIATE_SCOPE, DEFAULT_SCOPES

_EMULATOR = Emulator(
    EmulatorConfig(
        shops=2, orders_per_shop=60, seed=7, granted_scopes=[*DEFAULT_SCOPES, AFFILIATE_SCOPE]
    )
)
_EMULATOR.start()
atexit.register(_EMULATOR.stop)

TestTapTikTokShop = get_tap_test_class(
    tap_class=TapTikTokShop,
    config={
        "app_key": _EMULATOR.config.app_key,
        "app_secret": _EMULATOR.config.app_secret,
        "refresh_token": _EMULATOR.config.refresh_token,
        "api_base_url": _EMULATOR.base_url,
        "auth_base_url": _EMULATOR.base_url,
        "page_size": 25,
        # The emulator's 14 days of analytics at its speed (not the real API's 90 at 1/s).
        "analytics_history_days": 16,
        "analytics_requests_per_second": 0,
    },
    suite_config=SuiteConfig(max_records_limit=None),
    catalog=catalog_selecting(stream.name for stream in STREAM_TYPES),
    parse_env_config=False,
)
