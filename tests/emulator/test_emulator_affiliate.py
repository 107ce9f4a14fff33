"""The emulator's affiliate-order search: strict like the real API, paged by SKU line.

Signing, token, scope and cipher checks are the common ones (test_emulator.py); here: the
restricted package, the endpoint's own query and body rules, the three-month limit and the
defaults of missing bounds, SKU-line paging (an order split across pages), the full published
shape, and commissions that settle over time.
"""

from __future__ import annotations

import typing as t
from decimal import Decimal

import pytest

from tests.emulator.test_emulator import Client
from tiktok_shop_emulator.affiliate import (
    PATH,
    RANGE_REVERSED,
    RANGE_TOO_WIDE,
    SHAPE,
    add_months,
    display,
)
from tiktok_shop_emulator.config import AFFILIATE_SCOPE, DEFAULT_SCOPES
from tiktok_shop_emulator.shapes import load_shape, mismatches

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator

DAY = 86400
PARAM = 36009004


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(
        shops=1, orders_per_shop=5, seed=9, granted_scopes=[*DEFAULT_SCOPES, AFFILIATE_SCOPE]
    )


@pytest.fixture
def client(emu: Emulator) -> Client:
    return Client(emu)


def _search(client: Client, body: t.Any, **params: str) -> dict[str, t.Any]:
    query = {"shop_cipher": str(client.emu.shops()[0]["cipher"]), **params}
    answer: dict[str, t.Any] = client.call("POST", PATH, query, body).json()
    return answer


def _recent(emu: Emulator, days: int = 80) -> dict[str, int]:
    now = int(emu.now())
    return {"create_time_ge": now - days * DAY, "create_time_lt": now}


def _pages(client: Client, body: dict[str, t.Any], page_size: str) -> list[list[dict[str, t.Any]]]:
    pages, token = [], ""
    while True:
        extra = {"page_token": token} if token else {}
        answer = _search(client, body, page_size=page_size, **extra)
        assert answer["code"] == 0, answer
        pages.append(answer["data"]["orders"])
        token = answer["data"]["next_page_token"]
        if not token:
            return pages


def test_every_order_has_the_full_published_shape(emu, client):
    answer = _search(client, _recent(emu, 85), page_size="100")
    assert answer["code"] == 0, answer
    orders = answer["data"]["orders"]
    assert orders
    shape = load_shape(SHAPE)
    assert all(mismatches(order, shape) == [] for order in orders)


def test_pages_cut_sku_lines_so_an_order_can_span_two_pages(emu, client):
    body = _recent(emu)
    pages = _pages(client, body, "3")
    assert all(sum(len(order["skus"]) for order in page) <= 3 for page in pages)
    lines = [
        (order["id"], sku["sku_id"]) for page in pages for order in page for sku in order["skus"]
    ]
    assert len(lines) == len(set(lines))
    total = _search(client, body, page_size="3")["data"]["total_count"]
    assert total == len(lines)  # total_count counts SKU lines
    spanning = {page[-1]["id"] for page in pages[:-1]} & {page[0]["id"] for page in pages[1:]}
    assert spanning, "no order spans two pages"
    whole = [
        (order["id"], sku["sku_id"])
        for order in _pages(client, body, "100")[0]
        for sku in order["skus"]
    ]
    assert whole == lines


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        ({"page_size": "0"}, None, "Invalid parameter: page_size"),
        ({"page_size": "101"}, None, "Invalid parameter: page_size"),
        ({"sort_field": "create_time"}, None, "Invalid parameter: sort_field"),
        ({"category_asset_cipher": "x"}, None, "Invalid parameter: category_asset_cipher"),
        ({}, {"update_time_ge": 1}, "Invalid parameter: update_time_ge"),
        ({}, {"create_time_ge": "soon"}, "Invalid parameter: create_time_ge"),
        ({}, {"create_time_ge": 2_000_000, "create_time_lt": 1_000_000}, RANGE_REVERSED),
        (
            {},
            {"create_time_ge": 1_700_000_000, "create_time_lt": 1_700_000_000 + 93 * DAY},
            RANGE_TOO_WIDE,
        ),
        ({}, {"create_time_ge": 1_000}, RANGE_TOO_WIDE),  # without _lt: up to now
    ],
)
def test_bad_parameters_are_refused_with_the_catch_all_code(client, params, body, message):
    sent = {"create_time_ge": 1_700_000_000, "create_time_lt": 1_700_086_400}
    answer = _search(client, sent if body is None else body, **params)
    assert answer["code"] == PARAM
    assert answer["message"] == message
    assert answer["data"] is None


def test_three_calendar_months_is_the_widest_range(client):
    low = 1_675_209_600  # 2023-02-01: Feb-Apr is 89 days, May 1st is exactly three months
    assert add_months(low, 3) - low == 89 * DAY
    assert _search(client, {"create_time_ge": low, "create_time_lt": low + 89 * DAY})["code"] == 0
    answer = _search(client, {"create_time_ge": low, "create_time_lt": low + 89 * DAY + 1})
    assert answer["message"] == RANGE_TOO_WIDE


def test_missing_bounds_take_the_documented_defaults(emu, client):
    now = int(emu.now())
    lines = emu.affiliate_lines(str(emu.shops()[0]["id"]))
    recent = [line for line in lines if line["create_time"] >= add_months(now, -3)]
    answer = _search(client, {}, page_size="100")  # neither: the last three months
    assert answer["data"]["total_count"] == len(recent)
    earliest = min(line["create_time"] for line in lines)
    upto = earliest + 30 * DAY
    answer = _search(client, {"create_time_lt": upto})  # no _ge: from the shop's first order
    assert answer["data"]["total_count"] == len(
        [line for line in lines if line["create_time"] < upto]
    )


def test_json_body_is_required(client):
    query = {"shop_cipher": str(client.emu.shops()[0]["cipher"])}
    answer = client.call("POST", PATH, query, "{}", content_type="text/plain").json()
    assert answer["code"] == 36009022


def test_a_token_without_the_restricted_package_gets_105005(emu):
    token = emu.issue_access_token(scopes=list(DEFAULT_SCOPES))
    answer = _search(Client(emu, token), _recent(emu))
    assert answer["code"] == 105005


def test_commissions_settle_over_time(emu, client):
    shop = str(emu.shops()[0]["id"])
    before = {(line["order_id"], line["sku_id"]): line for line in emu.affiliate_lines(shop)}
    waiting = [line for line in before.values() if line["settlement_status"] == "To-SETTLE"]
    assert waiting
    assert all(line["actual_paid_commission"] is None for line in waiting)
    settled = emu.settle_affiliate(shop, 2)
    answer = _search(client, _recent(emu, 85), page_size="100")
    served = {
        (order["id"], sku["sku_id"]): sku
        for order in answer["data"]["orders"]
        for sku in order["skus"]
    }
    for key, sku in served.items():
        if key[0] in settled:
            assert sku["settlement_status"] in ("SETTLED", "INELIGIBLE")
            assert sku["actual_paid_commission"]["amount"]
        elif before[key]["settlement_status"] == "To-SETTLE":
            assert sku["actual_paid_commission"]["amount"] == ""
    assert any(key[0] in settled for key in served)


def test_some_amounts_are_localized_display_strings(emu, client):
    answer = _search(client, _recent(emu, 85), page_size="100")
    amounts = [
        sku["estimated_paid_commission"]["amount"]
        for order in answer["data"]["orders"]
        for sku in order["skus"]
    ]
    assert any(amount.startswith("$") for amount in amounts)
    assert any(amount.endswith(" USD") for amount in amounts)
    assert any(amount[0].isdigit() and "USD" not in amount for amount in amounts)
    assert display(Decimal("1234.5"), "USD", 1) == "$1,234.50"
