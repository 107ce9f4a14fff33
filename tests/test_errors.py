"""Error classification: every answer maps to ok, retry, refresh or fail (issue 2, point 9)."""

from __future__ import annotations

import json

import pytest

from tap_tiktok_shop.errors import Action, classify


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
