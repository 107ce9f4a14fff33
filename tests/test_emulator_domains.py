"""The emulator's endpoints beyond orders: each one's own rules, full-shape data, cap, scopes."""

from __future__ import annotations

import typing as t

import pytest
import requests

from tests.test_emulator import Client
from tiktok_shop_emulator import Emulator
from tiktok_shop_emulator.shapes import load_shape, mismatches

RETURNS = "/return_refund/202309/returns/search"
CANCELLATIONS = "/return_refund/202309/cancellations/search"
PRODUCTS = "/product/202502/products/search"
STATEMENTS = "/finance/202309/statements"
PAYMENTS = "/finance/202309/payments"
WITHDRAWALS = "/finance/202309/withdrawals"
ALL_TYPES = "WITHDRAW,SETTLE,TRANSFER,REVERSE"

#: kind -> (path, method, records key, shape file, key field, parameters that make it valid)
ENDPOINTS: dict[str, tuple[str, str, str, str, str, dict[str, str]]] = {
    "returns": (
        RETURNS,
        "POST",
        "return_orders",
        "returns_search_202309",
        "return_id",
        {"page_size": "10", "sort_field": "update_time", "sort_order": "ASC"},
    ),
    "cancellations": (
        CANCELLATIONS,
        "POST",
        "cancellations",
        "cancellations_search_202309",
        "cancel_id",
        {"page_size": "7", "sort_field": "update_time", "sort_order": "ASC"},
    ),
    "products": (PRODUCTS, "POST", "products", "products_search_202502", "id", {"page_size": "7"}),
    "statements": (
        STATEMENTS,
        "GET",
        "statements",
        "statements_202309",
        "id",
        {"page_size": "7", "sort_field": "statement_time", "sort_order": "ASC"},
    ),
    "payments": (
        PAYMENTS,
        "GET",
        "payments",
        "payments_202309",
        "id",
        {"page_size": "7", "sort_field": "create_time", "sort_order": "ASC"},
    ),
    "withdrawals": (
        WITHDRAWALS,
        "GET",
        "withdrawals",
        "withdrawals_202309",
        "id",
        {"page_size": "7", "types": ALL_TYPES},
    ),
}


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(
        shops=2,
        orders_per_shop=200,
        seed=5,
        history_days=40,
        products_per_shop=45,
        returns_per_shop=25,
        cancellations_per_shop=12,
        statement_days=20,
        withdrawals_per_shop=9,
    )


@pytest.fixture
def client(emu: Emulator) -> Client:
    return Client(emu)


def _cipher(emu: Emulator, index: int = 0) -> str:
    return str(emu.shops()[index]["cipher"])


def _shop(emu: Emulator, index: int = 0) -> str:
    return str(emu.shops()[index]["id"])


def _call(
    client: Client,
    kind: str,
    params: dict[str, str] | None = None,
    body: t.Any = None,
    index: int = 0,
) -> dict[str, t.Any]:
    path, method, *_, valid = ENDPOINTS[kind]
    query = {"shop_cipher": _cipher(client.emu, index), **valid, **(params or {})}
    query = {key: value for key, value in query.items() if value is not None}
    if method == "POST":
        answer = client.call("POST", path, query, {} if body is None else body)
    else:
        answer = client.call("GET", path, query)
    result: dict[str, t.Any] = answer.json()
    return result


def _all(
    client: Client,
    kind: str,
    params: dict[str, str] | None = None,
    body: t.Any = None,
    index: int = 0,
) -> list[dict[str, t.Any]]:
    records_key = ENDPOINTS[kind][2]
    records: list[dict[str, t.Any]] = []
    token: str | None = None
    while True:
        extra = {**(params or {}), **({"page_token": token} if token else {})}
        answer = _call(client, kind, extra, body, index)
        assert answer["code"] == 0, answer
        records += answer["data"][records_key]
        token = answer["data"]["next_page_token"]
        if not token:
            return records


@pytest.mark.parametrize("kind", sorted(ENDPOINTS))
def test_every_record_is_served_once_with_every_shape_field(emu, client, kind):
    *_, shape_name, key, _ = ENDPOINTS[kind]
    shape = load_shape(shape_name)
    served = _all(client, kind)
    expected = {row["id"] for row in emu.records(kind, _shop(emu))}
    assert len(served) == len(expected) > 0
    assert {record[key] for record in served} == expected
    for record in served:
        assert mismatches(record, shape) == []
    assert emu.record(kind, _shop(emu), served[0][key]) == served[0]


def test_statement_transactions_202501_full_shape_and_sum_to_the_statement(emu, client):
    shape = load_shape("statement_transactions_202501")
    statements = _all(client, "statements")
    checked = 0
    for statement in statements:
        path = f"/finance/202501/statements/{statement['id']}/statement_transactions"
        answer = client.call(
            "GET",
            path,
            {
                "shop_cipher": _cipher(emu),
                "page_size": "2",
                "sort_field": "order_create_time",
                "sort_order": "ASC",
            },
        ).json()
        assert answer["code"] == 0, answer
        transactions = answer["data"]["transactions"]
        token = answer["data"]["next_page_token"]
        while token:
            more = client.call(
                "GET",
                path,
                {
                    "shop_cipher": _cipher(emu),
                    "page_size": "2",
                    "sort_field": "order_create_time",
                    "sort_order": "ASC",
                    "page_token": token,
                },
            ).json()
            transactions += more["data"]["transactions"]
            token = more["data"]["next_page_token"]
        assert transactions == emu.statement_transactions(_shop(emu), statement["id"])
        times = [item["order_create_time"] for item in transactions]
        assert times == sorted(times)
        for item in transactions:
            assert mismatches(item, shape) == []
        total = sum(round(float(item["settlement_amount"]) * 100) for item in transactions)
        assert total == round(float(statement["settlement_amount"]) * 100)
        checked += len(transactions) > 1
    assert checked, "no statement had several transactions"


def test_statement_transactions_202309_is_retired(emu, client):
    statement = emu.records("statements", _shop(emu))[0]["id"]
    old = client.call(
        "GET",
        f"/finance/202309/statements/{statement}/statement_transactions",
        {"shop_cipher": _cipher(emu), "page_size": "10", "sort_field": "order_create_time"},
    ).json()
    assert old["code"] == 36009014
    unsorted = client.call(
        "GET",
        f"/finance/202501/statements/{statement}/statement_transactions",
        {"shop_cipher": _cipher(emu), "page_size": "10"},
    ).json()
    assert unsorted["code"] == 36009004
    assert "sort_field" in unsorted["message"]


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [
        ("returns", {"page_size": "9"}, 25001001),  # returns accept 10..50
        ("returns", {"page_size": "51"}, 25001001),
        ("cancellations", {"page_size": "0"}, 25001001),  # cancellations accept 1..50
        ("cancellations", {"page_size": "51"}, 25001001),
        ("products", {"page_size": None}, 12019109),  # required
        ("products", {"page_size": "101"}, 12019109),
        ("products", {"sort_field": "update_time"}, 36009004),  # products cannot sort
        ("statements", {"sort_field": None}, 36009004),  # sort_field is required
        ("statements", {"sort_field": "create_time"}, 36009004),
        ("payments", {"sort_field": None}, 36009004),
        ("payments", {"page_size": "101"}, 36009004),
        ("withdrawals", {"types": None}, 36009004),  # types is required
        ("withdrawals", {"types": "WITHDRAW,REFUND"}, 36009004),
        ("withdrawals", {"sort_field": "create_time"}, 36009004),  # no sort offered
        ("statements", {"update_time_ge": "1"}, 36009004),  # unknown parameter
    ],
)
def test_each_endpoint_is_strict_about_its_parameters(client, kind, params, code):
    answer = _call(client, kind, params)
    assert answer["code"] == code, answer
    assert answer["data"] is None


def test_page_size_edges_are_accepted(client):
    for kind, size in (
        ("returns", "10"),
        ("returns", "50"),
        ("cancellations", "1"),
        ("products", "100"),
        ("statements", "1"),
        ("withdrawals", "100"),
    ):
        assert _call(client, kind, {"page_size": size})["code"] == 0, (kind, size)


def test_bodies_are_checked_too(client):
    assert _call(client, "products", body={"update_time_lt": 5})["code"] == 36009004
    assert _call(client, "returns", body={"update_time_le": 5})["code"] == 25001001
    assert _call(client, "returns", body={"update_time_ge": "soon"})["code"] == 25001001
    assert _call(client, "returns", body={"return_status": ["NOPE"]})["code"] == 25001001
    answer = client.call(
        "GET",
        STATEMENTS,
        {"shop_cipher": _cipher(client.emu), "sort_field": "statement_time"},
        {"a": 1},
    ).json()
    assert answer["code"] == 36009004  # a GET takes no body


def test_products_upper_bound_is_inclusive(emu, client):
    rows = emu.records("products", _shop(emu))
    edge = rows[len(rows) // 2]["update_time"]
    got = _all(
        client, "products", body={"update_time_ge": rows[0]["update_time"], "update_time_le": edge}
    )
    assert {p["id"] for p in got} == {r["id"] for r in rows if r["update_time"] <= edge}
    assert any(p["update_time"] == edge for p in got)


def test_returns_window_is_half_open_and_sorted(emu, client):
    rows = emu.records("returns", _shop(emu))
    low, high = rows[3]["update_time"], rows[-3]["update_time"]
    got = _all(client, "returns", body={"update_time_ge": low, "update_time_lt": high})
    expected = [r["id"] for r in rows if low <= r["update_time"] < high]
    assert [r["return_id"] for r in got] == expected


def test_finance_filters_are_query_parameters(emu, client):
    rows = emu.records("payments", _shop(emu))
    low, high = rows[2]["create_time"], rows[-2]["create_time"]
    got = _all(client, "payments", {"create_time_ge": str(low), "create_time_lt": str(high)})
    assert [p["id"] for p in got] == [r["id"] for r in rows if low <= r["create_time"] < high]
    settle = _all(client, "withdrawals", {"types": "SETTLE"})
    assert settle
    assert {w["type"] for w in settle} == {"SETTLE"}


def test_products_search_cannot_page_past_10000(emulator_factory):
    emu = emulator_factory(shops=1, orders_per_shop=5, products_per_shop=10_050, statement_days=1)
    client = Client(emu)
    first = _call(client, "products", {"page_size": "100"})
    assert first["data"]["total_count"] == 10_050
    token = first["data"]["next_page_token"]
    for _ in range(99):
        page = _call(client, "products", {"page_size": "100", "page_token": token})
        assert page["code"] == 0
        token = page["data"]["next_page_token"]
    beyond = _call(client, "products", {"page_size": "100", "page_token": token})
    assert beyond["code"] == 12052180
    assert "10000" in beyond["message"]


def test_page_tokens_are_bound_to_their_query(emu, client):
    first = _call(client, "payments", {"page_size": "3"})
    token = first["data"]["next_page_token"]
    assert token
    other = _call(
        client, "payments", {"page_size": "3", "page_token": token, "create_time_ge": "1"}
    )
    assert other["code"] == 36009004
    assert _call(client, "payments", {"page_size": "3", "page_token": "garbage"})["code"] == (
        36009004
    )


def test_scopes_are_per_token(emu, client):
    narrow = Client(
        emu, emu.issue_access_token(scopes=["seller.authorization.info", "seller.order.info"])
    )
    assert _call(narrow, "payments")["code"] == 105005
    assert _call(narrow, "returns")["code"] == 105005
    assert _call(client, "payments")["code"] == 0
    emu.config.granted_scopes = [s for s in emu.config.granted_scopes if s != "seller.finance.info"]
    assert _call(client, "payments")["code"] == 105005  # the app lost the package
    refreshed = requests.get(
        emu.base_url + "/api/v2/token/refresh",
        params={
            "app_key": emu.config.app_key,
            "app_secret": emu.config.app_secret,
            "refresh_token": emu.config.refresh_token,
            "grant_type": "refresh_token",
        },
        timeout=10,
    ).json()["data"]
    assert "seller.finance.info" not in refreshed["granted_scopes"]
    assert "seller.product.basic" in refreshed["granted_scopes"]


def test_admin_hooks_change_returns_products_and_payments(emu, client):
    shop = _shop(emu)
    before = {r["id"]: r for r in emu.records("returns", shop)}
    changed = emu.update_returns(shop, 3)
    after = {r["id"]: r for r in emu.records("returns", shop)}
    assert len(changed) == 3
    for return_id in changed:
        assert after[return_id]["update_time"] >= before[return_id]["update_time"]
        assert after[return_id]["update_time"] >= int(emu.now()) - 1

    product = emu.update_products(shop, 1)[0]
    assert emu.record("products", shop, product)["update_time"] >= int(emu.now()) - 1

    pending = [p for p in emu.records("payments", shop) if p["status"] == "PROCESSING"]
    assert pending
    answer = requests.post(
        emu.base_url + "/__admin__/update_records",
        json={"kind": "payments", "shop_id": shop, "count": 1},
        timeout=10,
    ).json()
    paid = answer["ids"]
    assert paid == [pending[0]["id"]]
    payment = emu.record("payments", shop, paid[0])
    assert payment["status"] == "PAID"
    assert payment["paid_time"] > 0
    statement = emu.record("statements", shop, pending[0]["statement_id"])
    assert statement["payment_status"] == "PAID"
    assert payment["create_time"] == pending[0]["create_time"]  # the incremental field stays
    listed = requests.get(
        emu.base_url + "/__admin__/records",
        params={"kind": "payments", "shop_id": shop},
        timeout=10,
    ).json()
    assert {p["id"]: p["status"] for p in listed["payments"]}[paid[0]] == "PAID"
    bad = requests.post(
        emu.base_url + "/__admin__/update_records",
        json={"kind": "withdrawals", "shop_id": shop},
        timeout=10,
    )
    assert bad.status_code == 400


def test_returns_and_cancellations_refund_real_order_lines(emu, client):
    shop = _shop(emu)
    for record in _all(client, "returns")[:5]:
        order = emu.order(shop, record["order_id"])
        line_ids = {line["id"] for line in order["line_items"]}
        assert {item["order_line_item_id"] for item in record["return_line_items"]} <= line_ids
    for record in _all(client, "cancellations")[:5]:
        assert emu.order(shop, record["order_id"])["id"] == record["order_id"]
