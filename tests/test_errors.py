"""Error classification: every answer maps to ok, retry, refresh or fail (issue 2, point 9)."""

from __future__ import annotations

import json

import pytest
import requests

from tap_tiktok_shop.errors import (
    Action,
    AuthorizationError,
    InvalidShopCipherError,
    PageTokenError,
    SellerInactiveError,
    ShopError,
    ShopNotAuthorizedError,
    TikTokShopAPIError,
    classify,
    raise_for_verdict,
    refused_after_refresh,
)


def _body(code: int, message: str = "m", request_id: str = "RID1") -> bytes:
    return json.dumps({"code": code, "message": message, "request_id": request_id}).encode()


@pytest.mark.parametrize(
    ("status", "body", "headers", "action"),
    [
        (200, _body(0), {}, Action.OK),
        (429, _body(36009002), {}, Action.RETRY),
        (200, _body(36009002), {}, Action.RETRY),  # rate limit inside an HTTP 200
        (200, _body(36009003), {}, Action.RETRY),
        (200, _body(36009007), {}, Action.RETRY),
        (500, _body(36009003), {}, Action.RETRY),
        (503, b"", {}, Action.RETRY),
        (502, b"<html><body>502 Bad Gateway</body></html>", {}, Action.RETRY),
        (200, b'{"code": 0, "da', {}, Action.RETRY),  # truncated body
        (401, _body(105002, "Access token is expired"), {}, Action.REFRESH_TOKEN),
        (401, _body(36009004, "Invalid access token"), {}, Action.REFRESH_TOKEN),
        (
            401,
            _body(105001, "access token is invalid; detail:your token has been deauthorized"),
            {},
            Action.REFRESH_TOKEN,
        ),
        (401, _body(106001, "Invalid credentials. The 'sign' is invalid."), {}, Action.FAIL),
        (200, _body(36009004, "Invalid timestamp"), {}, Action.FAIL),
        (200, _body(105005, "you should apply auth pkg for this api"), {}, Action.FAIL),
        (200, _body(101000), {}, Action.FAIL),
        (200, _body(36009014), {}, Action.FAIL),
        (404, b"not found", {}, Action.FAIL),
    ],
)
def test_classification(status, body, headers, action):
    assert classify(status, body, headers).action is action


def test_retry_after_is_read_and_request_id_kept():
    verdict = classify(429, _body(36009002, request_id="REQ42"), {"Retry-After": "3"})
    assert verdict.retry_after == 3.0
    line = verdict.describe("/order/202309/orders/search (shop 1)")
    assert "REQ42" in line
    assert "36009002" in line
    assert "\n" not in line


# The documented wordings, quoted from the partner docs ("Common errors" page, the product
# search reference, the authorization guide). Code first; the message only breaks the tie of
# the catch-all code 36009004.
DOCUMENTED_TOKEN_ANSWERS = [
    (36009004, "Invalid credentials. The `x-tts-access-token` header is invalid."),
    (36009004, "Invalid credentials. The `access_token` header is invalid."),
    (105002, "Expired credentials. The `access_token` or `x-tts-access-token` header has expired."),
    (105001, "access token is invalid; detail:your token has been deauthorized"),
]


@pytest.mark.parametrize(("code", "message"), DOCUMENTED_TOKEN_ANSWERS)
def test_documented_token_answers_refresh_the_token(code, message):
    assert classify(401, _body(code, message), {}).action is Action.REFRESH_TOKEN


@pytest.mark.parametrize(
    "message",
    [
        "Invalid credentials. Invalid `app_key` query parameter.",
        "Missing credentials. The request does not include a required signature in the query.",
        "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the "
        "current time by more than 30 seconds.",
        "Unexpected identifier. The `shop_cipher` query parameter is not required for this "
        "request.",
    ],
)
def test_other_catch_all_answers_are_not_token_problems(message):
    assert classify(200, _body(36009004, message), {}).action is Action.FAIL


def test_code_decides_before_the_message():
    # 101000 names the x-tts-access-token header too, but refreshing cannot fix a shop.
    message = (
        "Invalid query or header. The `category_asset_cipher` query parameter or "
        "`x-tts-access-token` header is invalid."
    )
    assert classify(200, _body(101000, message), {}).action is Action.FAIL


def _raised(code: int, message: str) -> Exception:
    verdict = classify(200, _body(code, message), {})
    with pytest.raises(TikTokShopAPIError) as caught:
        raise_for_verdict(verdict, "/x (shop 7)", requests.Response())
    return caught.value


@pytest.mark.parametrize(
    ("code", "message", "kind", "advice"),
    [
        (
            101000,
            "Invalid query or header. The `category_asset_cipher` query parameter or "
            "`x-tts-access-token` header is invalid.",
            ShopNotAuthorizedError,
            "authorize it again",
        ),
        (12052700, "The seller is inactive.", SellerInactiveError, "reactivate"),
        (
            36009004,
            "Invalid identifier. The `shop_id` query parameter is invalid.",
            InvalidShopCipherError,
            "cipher",
        ),
        (36009001, "Invalid page_token", PageTokenError, ""),
        (38023048, "Invalid page token", PageTokenError, ""),
    ],
)
def test_answers_that_concern_one_shop_are_shop_errors(code, message, kind, advice):
    error = _raised(code, message)
    assert type(error) is kind
    assert isinstance(error, ShopError)
    assert advice in str(error)
    assert f"API code {code}" in str(error)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (106001, "Invalid credentials. The `sign` query parameter is invalid."),
        (36009004, "Invalid credentials. Invalid `app_key` query parameter."),
        (
            36009004,
            "Invalid timestamp. The value of the `timestamp` query parameter must not be "
            "earlier than 5 minutes before the current time.",
        ),
        (
            36009033,
            "Access denied. Your IP address is not in the IP allow list configured for this app.",
        ),
    ],
)
def test_answers_that_concern_every_shop_are_not_shop_errors(code, message):
    assert not isinstance(_raised(code, message), ShopError)


def test_deauthorized_token_refused_again_says_the_seller_must_authorize_again():
    verdict = classify(401, _body(105001, DOCUMENTED_TOKEN_ANSWERS[3][1]), {})
    on_shop = refused_after_refresh(verdict, "/order (shop 7)", shop_scoped=True)
    on_listing = refused_after_refresh(verdict, "/authorization", shop_scoped=False)
    assert isinstance(on_shop, ShopError)
    assert isinstance(on_listing, AuthorizationError)
    for error in (on_shop, on_listing):
        assert "105001" in str(error)
        assert "must authorize it again" in str(error)
        assert "\n" not in str(error)
