"""The base stream's contract with its subclasses: the hooks it calls, the checks of every page."""

from __future__ import annotations

import orjson
import pytest

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.errors import ResultCapError
from tap_tiktok_shop.streams.products import SEARCH_CAP
from tap_tiktok_shop.tap import TapTikTokShop

CONFIG = {"app_key": "k", "app_secret": "s", "refresh_token": "r"}


@pytest.mark.parametrize(
    ("sdk_hook", "ours"),
    sorted(TikTokShopStream.REPLACED_SDK_HOOKS.items()),
)
def test_a_stream_defining_an_sdk_hook_the_base_never_calls_is_refused(sdk_hook, ours):
    with pytest.raises(TypeError, match=f"define {ours} instead"):
        type("Careless", (TikTokShopStream,), {sdk_hook: lambda self, *args: None})


def _products_page(total: int) -> bytes:
    return orjson.dumps(
        {"code": 0, "message": "Success", "data": {"total_count": total, "products": [{"id": "1"}]}}
    )


def test_every_products_page_over_the_cap_is_refused_spooled_or_live():
    tap = TapTikTokShop(config=CONFIG, parse_env_config=False)
    products = tap.streams["products"]
    # A spooled page is read back through records_of_raw_page, without parse_response.
    assert products.records_of_raw_page(_products_page(SEARCH_CAP)) == [{"id": "1"}]
    with pytest.raises(ResultCapError, match=f"{SEARCH_CAP + 1} records match"):
        products.records_of_raw_page(_products_page(SEARCH_CAP + 1))


def test_streams_without_a_cap_accept_any_total():
    tap = TapTikTokShop(config=CONFIG, parse_env_config=False)
    page = orjson.dumps(
        {"code": 0, "message": "Success", "data": {"total_count": 10**9, "orders": []}}
    )
    assert tap.streams["orders"].records_of_raw_page(page) == []
