"""Issue 14, security (SECURITY.md), on the tap: hosts, redirects, hostile answers, secrets.

Each test fails on the code before the fix: an http:// host accepted, a redirect followed
(the access token reaching another host), a traceback on a hostile answer, a secret quoted.
"""

from __future__ import annotations

import io
import json
import typing as t

import pytest
import requests

from tap_tiktok_shop import transport
from tap_tiktok_shop.auth import TikTokShopAuthenticator
from tap_tiktok_shop.envelope import control_fields
from tap_tiktok_shop.errors import ConfigurationError, TikTokShopAPIError
from tap_tiktok_shop.tokens import TokenClient, TokenManager
from tap_tiktok_shop.untrusted import check_base_url, printable
from tests.conftest import run_in_process, tap_config
from tests.faultkit import assert_one_error_line, assert_shop_failed
from tiktok_shop_emulator import Emulator

ORDERS = "/order/202309/orders/search"
SHOPS = "/authorization/202309/shops"
REFRESH = "/api/v2/token/refresh"


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=2, orders_per_shop=30)


def answer(
    emu: Emulator,
    path: str,
    body: object,
    *,
    count: int = 1,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    """Script the emulator's next answer(s) on ``path`` (the "answer" fault)."""
    text = body if isinstance(body, str) else json.dumps(body)
    emu.faults.add("answer", count, path, status=status, body=text, headers=headers or [])


# --- M1: http:// only on loopback --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9",
        "http://127.8.0.1",
        "http://[::1]:8",
        "http://localhost:1",
        "https://open-api.example.com",
    ],
)
def test_https_or_loopback_urls_are_accepted(url):
    assert check_base_url("api_base_url", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://open-api.tiktokglobalshop.com",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_another_host_is_refused(url):
    with pytest.raises(ConfigurationError, match=r"^api_base_url: must be https:// \(http:// "):
        check_base_url("api_base_url", url)


@pytest.mark.parametrize("setting", ["api_base_url", "auth_base_url"])
def test_the_tap_refuses_plain_http_to_another_host_in_one_line(emu, setting):
    run = run_in_process(emu, tap_config(emu, **{setting: "http://192.0.2.1"}))
    assert_one_error_line(run, f"{setting}: must be https://")
    assert run.messages == []
    assert emu.stats.count(REFRESH) == 0


# --- L3: no redirects --------------------------------------------------------------------------


def test_a_redirect_on_a_signed_call_is_not_followed(emulator_factory, emu):
    elsewhere = emulator_factory(shops=1, orders_per_shop=1)
    answer(emu, ORDERS, "", status=302, headers=[("Location", elsewhere.base_url + ORDERS)])
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, "HTTP 302 redirect to http://127.0.0.1", "not followed")
    assert elsewhere.stats.count(ORDERS) == 0  # the access token never reached it


def test_a_redirect_on_a_token_call_is_not_followed(emulator_factory, emu):
    elsewhere = emulator_factory(shops=1, orders_per_shop=1)
    answer(emu, REFRESH, "", status=307, headers=[("Location", elsewhere.base_url + REFRESH)])
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, "Refreshing the access token failed", "HTTP 307 redirect")
    assert elsewhere.stats.count(REFRESH) == 0  # nor did the app secret


# --- L6: hostile or malformed answers ----------------------------------------------------------


def test_an_answer_over_the_body_cap_is_one_line(emu, monkeypatch):
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 4000)  # a page of 30 orders is larger
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, ORDERS, "larger than 4000 bytes")


def test_the_cap_holds_for_a_body_without_content_length(monkeypatch):
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 10)
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(b"x" * 11)
    with pytest.raises(TikTokShopAPIError, match="larger than 10 bytes"):
        transport.read_capped(response, "/p")
    response.raw = io.BytesIO(b"x" * 10)
    response._content = False
    response._content_consumed = False
    assert transport.read_capped(response, "/p") == b"x" * 10


DEEP = '{"code":0,"message":"Success","data":{"deep":' + "[" * 100_000 + "]" * 100_000 + "}}"


def test_deeply_nested_json_is_no_envelope_rather_than_a_recursion_error(emu, waits):
    assert control_fields(DEEP.encode()) is None
    answer(emu, ORDERS, DEEP, count=16)  # all 8 attempts at each shop's first page
    run = run_in_process(emu, tap_config(emu))
    for shop in emu.shops():
        assert_shop_failed(run, shop["id"], "not a JSON envelope", "gave up after 8 attempts")
    assert run.records("orders") == []


@pytest.mark.parametrize(
    "data",
    [{"orders": {"id": "1"}}, {"orders": ["1"]}, [1]],
    ids=["object", "list-of-strings", "data-is-a-list"],
)
def test_wrong_types_where_records_are_expected_are_one_line(emu, data):
    answer(emu, ORDERS, {"code": 0, "message": "Success", "request_id": "r", "data": data})
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, ORDERS, "data.orders in the answer is not a list of objects")


@pytest.mark.parametrize("shop", [{"id": "1"}, {"id": 1, "cipher": "c"}, {"cipher": "c"}])
def test_a_shop_without_a_string_id_and_cipher_is_one_line(emu, shop):
    answer(
        emu, SHOPS, {"code": 0, "message": "Success", "request_id": "r", "data": {"shops": [shop]}}
    )
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, SHOPS, "shop #1 of the answer has no string id and cipher")


def test_printable_escapes_terminal_controls_and_keeps_other_scripts():
    assert printable("Shop\x1b[2J\r\u202e") == "Shop\\x1b[2J\\r\\u202e"
    assert printable("ร้านค้า Shop") == "ร้านค้า Shop"


# --- L2: secrets never in an error line or a traceback -----------------------------------------


@pytest.mark.parametrize("setting", ["app_secret", "refresh_token", "access_token"])
def test_a_secret_of_the_wrong_type_is_named_without_its_value(emu, setting):
    run = run_in_process(emu, tap_config(emu, **{setting: 98765432123}))
    line = assert_one_error_line(run, setting, "the value is not shown")
    assert "98765432123" not in run.stderr, line


@pytest.mark.parametrize("setting", ["app_secret", "refresh_token", "access_token"])
def test_a_secret_holding_a_newline_is_refused_at_start_up(emu, setting):
    run = run_in_process(emu, tap_config(emu, **{setting: "abc123\nInjected: header"}))
    assert_one_error_line(run, f"{setting}: malformed", "the value is not shown")
    assert "Injected" not in run.stderr
    assert emu.stats.count(REFRESH) == 0


def test_a_token_answer_holding_a_newline_is_one_line_without_the_token(emu):
    token = "tok_leak42\r\nX-Evil: 1"
    answer(
        emu,
        REFRESH,
        {
            "code": 0,
            "message": "success",
            "request_id": "r",
            "data": {"access_token": token, "access_token_expire_in": 2**31},
        },
    )
    run = run_in_process(emu, tap_config(emu))
    assert_one_error_line(run, "the token answer's access_token: malformed")
    assert "tok_leak42" not in run.stderr


def test_a_header_the_http_library_refuses_is_a_redacted_line(emu):
    client = TokenClient(app_key="k", app_secret="s", auth_base_url=emu.base_url)
    tokens = TokenManager(client, refresh_token=None, access_token="tok_leak43\nX: 1")
    signer = TikTokShopAuthenticator(app_key="k", app_secret="s", tokens=tokens)
    session = requests.Session()
    prepared = signer(session.prepare_request(requests.Request("GET", emu.base_url + SHOPS)))
    with pytest.raises(TikTokShopAPIError) as caught:
        transport.send(session, prepared, timeout=5, where=SHOPS)
    assert "value is not shown" in str(caught.value)
    assert "tok_leak43" not in str(caught.value)
    assert caught.value.__suppress_context__
