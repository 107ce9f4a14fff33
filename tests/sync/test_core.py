"""The SDK's standard tap tests, run against a local emulator started at import time.

``get_tap_test_class`` builds the tap when the class is created, so the emulator must be up
before then; it is stopped when the interpreter exits.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_tiktok_shop.tap import TapTikTokShop
from tiktok_shop_emulator import Emulator, EmulatorConfig

_EMULATOR = Emulator(EmulatorConfig(shops=2, orders_per_shop=60, seed=7))
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
    parse_env_config=False,
)
