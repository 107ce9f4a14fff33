"""Golden vectors for the v202309 signature (issue 2, point 3)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

import requests

from tap_tiktok_shop.auth import TikTokShopAuthenticator
from tap_tiktok_shop.signing import canonical_string, sign

BODY = '{"update_time_ge":1690000000,"update_time_lt":1700000000}'


def test_official_worked_example():
    """The partner docs' step-by-step example (GET /authorization/202309/shops)."""
    params = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert canonical_string("/authorization/202309/shops", params, None) == (
        "/authorization/202309/shopsapp_key29a39dtimestamp1623812664"
    )
    assert sign("e59af819cc", "/authorization/202309/shops", params, None) == (
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )


def test_vector_get_without_body():
    params = {"app_key": "test_app_key", "timestamp": "1700000000"}
    assert sign("test_app_secret", "/authorization/202309/shops", params, None) == (
        "c1729c441acda29baaeab31d4139c2cd4ed2db0078b31437c812a72944df0392"
    )


def test_vector_post_with_body_excludes_access_token_and_sign():
    params = {
        "app_key": "test_app_key",
        "timestamp": "1700000000",
        "shop_cipher": "GCP_test_cipher",
        "page_size": "100",
        "sort_field": "update_time",
        "sort_order": "ASC",
        "access_token": "ignored-token",
        "sign": "ignored-too",
    }
    expected = "6096cc21f62e1eff1adabada2aeaef80d5f6b34fc0294d055cae4f9855378ee6"
    assert sign("test_app_secret", "/order/202309/orders/search", params, BODY) == expected
    assert sign("test_app_secret", "/order/202309/orders/search", params, BODY.encode()) == expected


def test_multipart_body_is_not_signed():
    params = {"app_key": "k", "timestamp": "1"}
    with_body = sign("s", "/p", params, b"--boundary", content_type="multipart/form-data; b=x")
    assert with_body == sign("s", "/p", params, None)


class _FixedTokens:
    def access_token(self) -> str:
        return "tok-123"


def _signer(clock: float) -> TikTokShopAuthenticator:
    return TikTokShopAuthenticator(
        app_key="test_app_key",
        app_secret="test_app_secret",
        tokens=_FixedTokens(),  # type: ignore[arg-type]
        clock=lambda: clock,
    )


def test_authenticator_signs_the_exact_bytes_sent_and_is_idempotent():
    request = requests.Request(
        "POST",
        "http://127.0.0.1/order/202309/orders/search",
        params={
            "shop_cipher": "GCP_test_cipher",
            "page_size": "100",
            "sort_field": "update_time",
            "sort_order": "ASC",
        },
        data=BODY.encode(),
        headers={"Content-Type": "application/json"},
    ).prepare()
    signer = _signer(1700000000)
    signer(request)
    signer(request)  # the SDK calls it more than once: parameters are replaced, not appended
    query = requests.utils.urlparse(request.url).query
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    keys = [key for key, _ in pairs]
    assert sorted(keys) == sorted(set(keys)), "a parameter was appended twice"
    values = dict(pairs)
    assert values["sign"] == "6096cc21f62e1eff1adabada2aeaef80d5f6b34fc0294d055cae4f9855378ee6"
    assert request.body == BODY.encode()
    assert request.headers["x-tts-access-token"] == "tok-123"


def test_authenticator_keeps_blank_values_and_signs_raw_page_tokens():
    token = "ab+/c=="
    request = requests.Request(
        "GET",
        "http://127.0.0.1/finance/202309/statements",
        params={"page_token": token, "empty": ""},
    ).prepare()
    _signer(time.time())(request)
    parsed = requests.utils.urlparse(request.url)
    params = parse_qsl(parsed.query, keep_blank_values=True)
    assert ("empty", "") in params
    assert ("page_token", token) in params
    sent_sign = dict(params)["sign"]
    assert sent_sign == sign("test_app_secret", parsed.path, params, None)
