"""The TikTok Shop emulator itself: signing, tokens, common checks, order search, faults, CLI."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import orjson
import pytest
import requests

from tiktok_shop_emulator import Emulator, EmulatorConfig, signing
from tiktok_shop_emulator.faults import EVENT_KINDS, FAULT_KINDS
from tiktok_shop_emulator.orders import OrderBuilder
from tiktok_shop_emulator.search import parse_search, run_search
from tiktok_shop_emulator.shapes import load_shape, mismatches, shape_paths

SHOPS = "/authorization/202309/shops"
SEARCH = "/order/202309/orders/search"
REPO = Path(__file__).resolve().parent.parent


class Client:
    """A tiny signing client built on the emulator's own signing function."""

    def __init__(self, emu: Emulator, token: str | None = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.token = token if token is not None else emu.issue_access_token()

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: t.Any = None,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        sign_params: dict[str, str] | None = None,
    ) -> requests.Response:
        cfg = self.emu.config
        query = {"app_key": cfg.app_key, "timestamp": str(timestamp or int(time.time()))}
        query.update(params or {})
        text = body if isinstance(body, str) or body is None else orjson.dumps(body).decode()
        signed = {**query, **(sign_params or {})} if sign_params is not None else query
        query["sign"] = signing.sign(secret or cfg.app_secret, path, signed, text)
        hdrs = {"x-tts-access-token": self.token, "content-type": content_type}
        hdrs.update(headers or {})
        return self.session.request(
            method,
            self.emu.base_url + path,
            params=query,
            data=text.encode() if text is not None else None,
            headers=hdrs,
            timeout=10,
        )

    def shops(self) -> requests.Response:
        return self.call("GET", SHOPS)

    def search(self, cipher: str, body: t.Any = None, **params: str | None) -> requests.Response:
        merged: dict[str, str | None] = {
            "shop_cipher": cipher,
            "page_size": "100",
            "sort_field": "update_time",
            "sort_order": "ASC",
        }
        merged.update(params)
        query = {k: v for k, v in merged.items() if v is not None}
        return self.call("POST", SEARCH, query, {} if body is None else body)

    def all_orders(
        self, cipher: str, body: t.Any = None, **params: str | None
    ) -> list[dict[str, t.Any]]:
        orders: list[dict[str, t.Any]] = []
        token = ""
        while True:
            extra = {**params, "page_token": token} if token else params
            answer = self.search(cipher, body, **extra).json()
            assert answer["code"] == 0, answer
            orders += answer["data"]["orders"]
            token = answer["data"]["next_page_token"]
            if not token:
                return orders


@pytest.fixture
def make_emu(emulator_factory: t.Callable[..., Emulator]) -> t.Callable[..., Emulator]:
    """The shared emulator factory with this module's default data."""

    def start(**knobs: t.Any) -> Emulator:
        return emulator_factory(**{"shops": 2, "orders_per_shop": 150, "seed": 3, **knobs})

    return start


@pytest.fixture
def emu(make_emu: t.Callable[..., Emulator]) -> Emulator:
    return make_emu()


@pytest.fixture
def client(emu: Emulator) -> Client:
    return Client(emu)


def cipher_of(emu: Emulator, index: int = 0) -> str:
    return str(emu.shops()[index]["cipher"])


def shop_id(emu: Emulator, index: int = 0) -> str:
    return str(emu.shops()[index]["id"])


# --- signing ---------------------------------------------------------------------------------


def test_signing_golden_vectors() -> None:
    assert signing.sign("e59af819cc", SHOPS, {"app_key": "29a39d", "timestamp": "1623812664"}) == (
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )
    assert signing.string_to_sign(
        "test_app_secret", SHOPS, {"app_key": "test_app_key", "timestamp": "1700000000"}
    ) == (
        b"test_app_secret/authorization/202309/shopsapp_keytest_app_keytimestamp1700000000"
        b"test_app_secret"
    )
    assert signing.sign(
        "test_app_secret", SHOPS, {"app_key": "test_app_key", "timestamp": "1700000000"}
    ) == ("c1729c441acda29baaeab31d4139c2cd4ed2db0078b31437c812a72944df0392")
    params = {
        "app_key": "test_app_key",
        "timestamp": "1700000000",
        "shop_cipher": "GCP_test_cipher",
        "page_size": "100",
        "sort_field": "update_time",
        "sort_order": "ASC",
        "access_token": "ignored-token",
        "sign": "whatever",
    }
    body = '{"update_time_ge":1690000000,"update_time_lt":1700000000}'
    expected = "6096cc21f62e1eff1adabada2aeaef80d5f6b34fc0294d055cae4f9855378ee6"
    assert signing.sign("test_app_secret", SEARCH, params, body) == expected
    assert signing.sign("test_app_secret", SEARCH, list(params.items()), body.encode()) == expected
    assert signing.verify(
        "test_app_secret", SEARCH, params, body, content_type="application/json", signature=expected
    )
    multipart = signing.sign("s", "/p", {"a": "1"}, b"xx", "multipart/form-data; boundary=b")
    assert multipart == signing.sign("s", "/p", {"a": "1"}, None)


# --- auth host -------------------------------------------------------------------------------


def token_call(emu: Emulator, path: str, **params: str) -> dict[str, t.Any]:
    answer = requests.get(emu.base_url + path, params=params, timeout=10)
    assert answer.status_code == 200
    body: dict[str, t.Any] = answer.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    return body


def refresh(emu: Emulator, **over: str) -> dict[str, t.Any]:
    params = {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.config.refresh_token,
        "grant_type": "refresh_token",
        **over,
    }
    return token_call(emu, "/api/v2/token/refresh", **params)


def test_token_refresh_ok_and_token_works(emu: Emulator) -> None:
    before = int(time.time())
    body = refresh(emu)
    assert body["code"] == 0
    assert body["message"] == "Success"
    data = body["data"]
    assert before + 604800 <= data["access_token_expire_in"] <= before + 604802
    assert data["refresh_token"] == emu.config.refresh_token
    assert data["refresh_token_expire_in"] > before + 364 * 86400
    assert data["user_type"] == 0
    assert "seller.order.info" in data["granted_scopes"]
    assert {"open_id", "seller_name", "seller_base_region"} <= set(data)
    assert Client(emu, data["access_token"]).shops().json()["code"] == 0


def test_token_errors_never_echo_secrets(emu: Emulator) -> None:
    wrong = refresh(emu, app_secret="not-the-secret")
    assert (wrong["code"], wrong["message"]) == (36009004, "Invalid app_key or app_secret")
    assert refresh(emu, grant_type="authorized_code")["code"] == 36009004
    unknown = refresh(emu, refresh_token="nope-nope")
    assert (unknown["code"], unknown["message"]) == (36004001, "rt has expired")
    emu.revoke_refresh_token()
    revoked = refresh(emu)
    assert revoked["code"] == 36004001
    assert revoked["data"] is None
    for answer in (wrong, unknown, revoked):
        text = orjson.dumps(answer).decode()
        assert emu.config.app_secret not in text
        assert emu.config.refresh_token not in text


def test_auth_code_exchange_is_single_use_and_consent_redirects(emu: Emulator) -> None:
    params = {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "grant_type": "authorized_code",
    }
    code = emu.issue_auth_code()
    first = token_call(emu, "/api/v2/token/get", auth_code=code, **params)
    assert first["code"] == 0
    assert first["data"]["access_token"]
    again = token_call(emu, "/api/v2/token/get", auth_code=code, **params)
    assert (again["code"], again["message"]) == (36004005, "can not find related auth record")
    consent = requests.get(
        emu.base_url + "/open/authorize",
        allow_redirects=False,
        timeout=10,
        params={"service_id": "1", "state": "xyz", "redirect_uri": "http://localhost:9/cb"},
    )
    assert consent.status_code == 302
    location = consent.headers["Location"]
    assert location.startswith("http://localhost:9/cb?code=")
    assert location.endswith("&state=xyz")
    code2 = location.split("code=")[1].split("&")[0]
    assert token_call(emu, "/api/v2/token/get", auth_code=code2, **params)["code"] == 0


def test_rotating_refresh_token(make_emu: t.Callable[..., Emulator]) -> None:
    emu = make_emu(rotate_refresh_token=True)
    new = refresh(emu)["data"]["refresh_token"]
    assert new != emu.config.refresh_token
    assert refresh(emu)["code"] == 36004001
    assert refresh(emu, refresh_token=new)["code"] == 0


# --- common checks ---------------------------------------------------------------------------


def test_signed_shops_call(emu: Emulator, client: Client) -> None:
    answer = client.shops()
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == str(len(answer.content))
    body = answer.json()
    assert body["code"] == 0
    assert len(body["request_id"]) == 34
    shops = body["data"]["shops"]
    assert [s["name"] for s in shops] == ["Demo Shop 1", "Demo Shop 2"]
    assert [s["region"] for s in shops] == ["US", "GB"]
    for shop in shops:
        assert set(shop) == {"id", "name", "region", "seller_type", "cipher", "code"}
        assert shop["id"].isdigit()
        assert shop["cipher"][:4] in ("GCP_", "ROW_")
        assert shop["seller_type"] in ("LOCAL", "CROSS_BORDER")
    emu.deauthorize_shop(shops[1]["id"])
    assert len(client.shops().json()["data"]["shops"]) == 1
    assert client.search(shops[1]["cipher"]).json()["code"] == 101000


def test_bad_sign_and_blank_params_are_verified(emu: Emulator, client: Client) -> None:
    bad = client.call("GET", SHOPS, secret="wrong-secret")
    assert bad.status_code == 401
    assert bad.json()["code"] == 106001
    # page_token= sent blank but left out of the signed string: the server must notice
    cipher = cipher_of(emu)
    base = {"shop_cipher": cipher, "page_size": "5"}
    unsigned_blank = client.call("POST", SEARCH, {**base, "page_token": ""}, {}, sign_params={})
    assert unsigned_blank.status_code == 200
    assert unsigned_blank.json()["code"] == 0
    signed_without = {"app_key": emu.config.app_key}
    mismatch = client.call(
        "POST",
        SEARCH,
        {**base, "page_token": ""},
        {},
        sign_params={"page_token": "x", **signed_without},
    )
    assert mismatch.status_code == 401


def test_timestamp_window(client: Client) -> None:
    now = int(time.time())
    # The documented wordings (partner docs, "Common errors"):
    for stamp, message in (
        (
            now - 400,
            "Invalid timestamp. The value of the `timestamp` query parameter must not "
            "be earlier than 5 minutes before the current time.",
        ),
        (
            now + 60,
            "Invalid timestamp. The value of the `timestamp` query parameter must not "
            "exceed the current time by more than 30 seconds.",
        ),
    ):
        answer = client.call("GET", SHOPS, timestamp=stamp).json()
        assert (answer["code"], answer["message"]) == (36009004, message)
    assert client.call("GET", SHOPS, timestamp=now - 250).json()["code"] == 0
    assert client.call("GET", SHOPS, timestamp=now + 20).json()["code"] == 0


def test_token_scope_and_cipher_checks(emu: Emulator, client: Client) -> None:
    cipher = cipher_of(emu)
    missing = client.call("GET", SHOPS, headers={"x-tts-access-token": ""})
    assert missing.status_code == 401
    # The documented wordings (partner docs, "Common errors"):
    assert (missing.json()["code"], missing.json()["message"]) == (
        36009004,
        "Invalid credentials. The `x-tts-access-token` header is invalid.",
    )
    wrong_key = client.call("GET", SHOPS, params={"app_key": "other"}).json()
    assert (wrong_key["code"], wrong_key["message"]) == (
        36009004,
        "Invalid credentials. Invalid `app_key` query parameter.",
    )
    with_cipher = client.call("GET", SHOPS, params={"shop_cipher": cipher}).json()
    assert with_cipher["message"] == (
        "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
    )
    no_cipher = client.search(cipher, shop_cipher="").json()
    assert (no_cipher["code"], no_cipher["message"]) == (
        106013,
        "Missing identifier. The `shop_cipher` query parameter is required to identify "
        "the target shop.",
    )
    foreign = client.search("ROW_unknown").json()
    assert (foreign["code"], foreign["message"]) == (
        101000,
        "Invalid query or header. The `category_asset_cipher` query parameter or "
        "`x-tts-access-token` header is invalid.",
    )
    emu.config.granted_scopes = ["seller.authorization.info"]
    assert client.search(cipher).json()["code"] == 105005
    assert client.shops().json()["code"] == 0
    emu.expire_access_tokens()
    expired = client.shops()
    assert expired.status_code == 401
    assert expired.json()["code"] == 105002
    unknown = client.call("GET", "/order/202309/nothing").json()
    assert unknown["code"] == 36009009


# --- order search ----------------------------------------------------------------------------


def test_paging_update_time_asc_returns_each_order_once(emu: Emulator, client: Client) -> None:
    cipher, sid = cipher_of(emu), shop_id(emu)
    seen: list[dict[str, t.Any]] = []
    tokens: list[str] = []
    token = ""
    while True:
        extra = {"page_token": token} if token else {}
        data = client.search(cipher, page_size="17", **extra).json()["data"]
        assert data["total_count"] == 150
        seen += data["orders"]
        token = data["next_page_token"]
        if not token:
            break
        tokens.append(token)
    keys = [(o["update_time"], o["id"]) for o in seen]
    assert keys == sorted(keys)
    assert sorted(o["id"] for o in seen) == sorted(r["id"] for r in emu.orders_for_shop(sid))
    assert all(tok.endswith("=") for tok in tokens)
    assert any("+" in tok or "/" in tok for tok in tokens)
    assert emu.order(sid, seen[0]["id"]) == seen[0]


def test_default_sort_is_create_time_desc(emu: Emulator, client: Client) -> None:
    orders = client.all_orders(cipher_of(emu), sort_field=None, sort_order=None)
    keys = [(o["create_time"], o["id"]) for o in orders]
    assert keys == sorted(keys, reverse=True)
    assert len(keys) == 150


def test_filters(emu: Emulator, client: Client) -> None:
    cipher, rows = cipher_of(emu), emu.orders_for_shop(shop_id(emu))
    times = sorted(r["update_time"] for r in rows)
    low, high = times[30], times[90]
    got = client.all_orders(cipher, {"update_time_ge": low, "update_time_lt": high})
    assert {o["id"] for o in got} == {r["id"] for r in rows if low <= r["update_time"] < high}
    only_ge = client.all_orders(cipher, {"update_time_ge": low})
    assert {o["id"] for o in only_ge} == {r["id"] for r in rows if r["update_time"] >= low}
    created = sorted(r["create_time"] for r in rows)
    answer = client.search(
        cipher,
        {"create_time_ge": created[10], "create_time_lt": created[50]},
        sort_field="create_time",
        page_size="7",
    ).json()["data"]
    assert answer["total_count"] == sum(created[10] <= c < created[50] for c in created)
    cancelled = client.all_orders(cipher, {"order_status": "CANCELLED"}, sort_order="DESC")
    assert {o["id"] for o in cancelled} == {r["id"] for r in rows if r["status"] == "CANCELLED"}


@pytest.mark.parametrize(
    ("params", "body", "message"),
    [
        ({"page_size": "0"}, {}, "Invalid parameter: page_size"),
        ({"page_size": "101"}, {}, "Invalid parameter: page_size"),
        ({"page_size": "ten"}, {}, "Invalid parameter: page_size"),
        ({"page_size": None}, {}, "Invalid parameter: page_size"),
        ({"sort_order": "UP"}, {}, "Invalid parameter: sort_order"),
        ({}, {"update_time_ge": "1700000000"}, "Invalid parameter: update_time_ge"),
        ({}, {"color": "red"}, "Invalid parameter: color"),
        ({}, "{not json", None),
        ({"page_token": "not-a-token"}, {}, "Invalid page_token"),
    ],
)
def test_search_parameter_errors(
    emu: Emulator, client: Client, params: dict[str, str], body: t.Any, message: str | None
) -> None:
    answer = client.search(cipher_of(emu), body, **params).json()
    assert answer["code"] == 36009004
    if message:
        assert answer["message"] == message


def test_page_size_bounds_and_content_type(emu: Emulator, client: Client) -> None:
    cipher = cipher_of(emu)
    assert len(client.search(cipher, page_size="1").json()["data"]["orders"]) == 1
    assert len(client.search(cipher, page_size="100").json()["data"]["orders"]) == 100
    text = client.call(
        "POST", SEARCH, {"shop_cipher": cipher, "page_size": "5"}, {}, content_type="text/plain"
    ).json()
    assert text["code"] == 36009022


def test_page_token_is_bound_to_its_filters(emu: Emulator, client: Client) -> None:
    cipher = cipher_of(emu)
    token = client.search(cipher, page_size="10").json()["data"]["next_page_token"]
    base64.b64decode(token, validate=True)
    other = client.search(cipher, {"order_status": "COMPLETED"}, page_size="10", page_token=token)
    assert other.json()["message"] == "Invalid page_token"
    assert client.search(cipher_of(emu, 1), page_size="10", page_token=token).json()["code"] != 0


def test_every_shape_field_present_in_served_orders(emu: Emulator, client: Client) -> None:
    shape = load_shape()
    assert len(list(shape_paths(shape))) > 150
    for index in range(2):
        for order in client.all_orders(cipher_of(emu, index)):
            assert mismatches(order, shape) == [], order["id"]
            pay = order["payment"]
            cents = [round(float(li["sale_price"]) * 100) for li in order["line_items"]]
            assert round(float(pay["sub_total"]) * 100) == sum(cents)
            total = sum(round(float(pay[k]) * 100) for k in ("sub_total", "shipping_fee", "tax"))
            assert round(float(pay["total_amount"]) * 100) == total
            assert pay["currency"] == ("USD" if index == 0 else "GBP")
            assert 1 <= len(order["line_items"]) <= 5


def test_update_orders_moves_orders_to_the_end(emu: Emulator, client: Client) -> None:
    cipher, sid = cipher_of(emu), shop_id(emu)
    first_page = client.search(cipher, page_size="50").json()["data"]
    changed = emu.update_orders(sid, 5, seed=9)
    rest = client.all_orders(cipher, page_size="50", page_token=first_page["next_page_token"])
    assert [o["id"] for o in rest[-5:]]
    assert {o["id"] for o in rest[-5:]} == set(changed)
    assert all(o["update_time"] >= int(time.time()) - 5 for o in rest[-5:])
    http = requests.post(
        emu.base_url + "/__admin__/update_orders", timeout=10, json={"shop_id": sid, "count": 2}
    ).json()
    assert len(http["ids"]) == 2


def test_stale_update_time_and_mutation_knobs(make_emu: t.Callable[..., Emulator]) -> None:
    emu = make_emu(stale_update_time_probability=1.0)
    client = Client(emu)
    high = int(time.time()) - 200
    orders = client.search(cipher_of(emu), {"update_time_lt": high}, page_size="5").json()
    assert all(o["update_time"] >= high for o in orders["data"]["orders"])
    emu.config.stale_update_time_probability = 0.0
    emu.config.mutate_every_n_pages, emu.config.mutate_count = 1, 3
    before = {r["id"]: r["update_time"] for r in emu.orders_for_shop(shop_id(emu, 1))}
    client.search(cipher_of(emu, 1), page_size="5")
    after = emu.orders_for_shop(shop_id(emu, 1))
    assert sum(before[r["id"]] != r["update_time"] for r in after) == 3


def test_qps_limit_answers_429(make_emu: t.Callable[..., Emulator]) -> None:
    emu = make_emu(qps_limit=3)
    client = Client(emu)
    answers = [client.shops() for _ in range(6)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    assert all(a.json()["code"] == 36009002 for a in limited)
    assert sum(a.status_code == 200 for a in answers) == 3
    assert emu.stats.rate_limited == len(limited)
    assert client.search(cipher_of(emu)).status_code == 200  # other (shop, path) budget


# --- faults ----------------------------------------------------------------------------------

EXPECTED_FAULTS: dict[str, tuple[int, int | None]] = {
    "http500": (500, 36009003),
    "http502": (502, None),
    "http503": (503, 36009003),
    "http504": (504, None),
    "rate_limit": (429, 36009002),
    "rate_limit_200": (200, 36009002),
    "internal_200": (200, 36009003),
    "html_200": (200, None),
    "expired_token": (401, 105002),
    "invalid_token": (401, 36009004),
    "invalid_page_token": (200, 36009001),
    "token_deauthorized": (401, 105001),
    "seller_inactive": (200, 12052700),
    "result_cap": (200, 12052180),
    "scope_missing": (200, 105005),
    "answer": (418, 7),
}


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS - EVENT_KINDS))
def test_each_fault_fires_once_then_service_resumes(
    emu: Emulator, client: Client, kind: str
) -> None:
    cipher = cipher_of(emu)
    opts: dict[str, t.Any] = {"seconds": 0.2} if kind == "slow" else {}
    if kind == "rate_limit":
        opts["retry_after"] = 2
    if kind == "answer":
        opts = {"status": 418, "body": '{"code": 7}', "headers": [["X-Scripted", "1"]]}
    emu.faults.add(kind, count=1, path_prefix="/order/", **opts)
    assert client.shops().json()["code"] == 0  # other prefix: untouched
    started = time.monotonic()
    if kind in ("reset", "truncated"):
        with pytest.raises(
            requests.exceptions.ConnectionError
            if kind == "reset"
            else requests.exceptions.ChunkedEncodingError
        ):
            client.search(cipher, page_size="3")
    else:
        token = "refused" if kind == "invalid_page_token" else None  # needs a token to refuse
        answer = client.search(cipher, page_size="3", page_token=token)
        if kind in EXPECTED_FAULTS:
            status, code = EXPECTED_FAULTS[kind]
            assert answer.status_code == status
            if code is None:
                assert answer.headers["Content-Type"].startswith("text/html")
            else:
                assert answer.json()["code"] == code
            if kind == "rate_limit":
                assert answer.headers["Retry-After"] == "2"
        elif kind == "slow":
            assert time.monotonic() - started >= 0.2
            assert answer.json()["code"] == 0
        else:  # repeat_page_token: the token leads back to the first page
            data = answer.json()["data"]
            again = client.search(cipher, page_size="3", page_token=data["next_page_token"])
            assert again.json()["data"]["orders"] == data["orders"]
    normal = client.search(cipher, page_size="3").json()
    assert normal["code"] == 0
    assert len(normal["data"]["orders"]) == 3


def test_token_calls_meet_only_faults_named_for_their_path(emu: Emulator) -> None:
    refresh = f"{emu.base_url}/api/v2/token/refresh"
    params = {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.config.refresh_token,
        "grant_type": "refresh_token",
    }
    emu.faults.add("http503", count=1, path_prefix="/")  # meant for business calls
    emu.faults.add(
        "answer",
        count=1,
        path_prefix="/api/v2/token/",
        status=302,
        headers=[["Location", "https://elsewhere.example/"]],
    )
    redirected = requests.get(refresh, params=params, timeout=10, allow_redirects=False)
    assert redirected.status_code == 302
    assert redirected.headers["Location"] == "https://elsewhere.example/"
    assert requests.get(refresh, params=params, timeout=10).json()["code"] == 0
    assert [fault.kind for fault in emu.faults.pending()] == ["http503"]


def test_skip_lets_requests_pass_before_a_fault_fires(emu: Emulator, client: Client) -> None:
    cipher = cipher_of(emu)
    emu.faults.add("http503", count=2, path_prefix="/order/", skip=2)
    emu.faults.add("http500", count=1, path_prefix="/order/")
    statuses = [client.search(cipher, page_size="3").status_code for _ in range(6)]
    # the unskipped fault fires first; the skipping one counts that request too
    assert statuses == [500, 200, 503, 503, 200, 200]
    with pytest.raises(ValueError):
        emu.faults.add("http503", skip=-1)


def test_event_faults_change_state_then_answer_normally(emu: Emulator, client: Client) -> None:
    emu.faults.add("expire_access_tokens", path_prefix="/order/", skip=1)
    assert client.search(cipher_of(emu), page_size="3").json()["code"] == 0
    expired = client.search(cipher_of(emu), page_size="3")
    assert (expired.status_code, expired.json()["code"]) == (401, 105002)
    assert client.shops().json()["code"] == 105002  # the token stays expired

    fresh = Client(emu)
    victim = shop_id(emu, 1)
    emu.faults.add("deauthorize_shop", path_prefix="/order/", shop_id=victim)
    assert fresh.search(cipher_of(emu, 0), page_size="3").json()["code"] == 0
    assert fresh.search(cipher_of(emu, 1), page_size="3").json()["code"] == 101000
    assert victim not in {shop["id"] for shop in fresh.shops().json()["data"]["shops"]}
    with pytest.raises(ValueError):
        emu.faults.add("deauthorize_shop")


def test_empty_shops_have_no_orders(make_emu: t.Callable[..., Emulator]) -> None:
    emu = make_emu(shops=3, empty_shops=1)
    counts = [len(emu.orders_for_shop(shop["id"])) for shop in emu.shops()]
    assert counts == [150, 150, 0]
    answer = Client(emu).search(cipher_of(emu, 2)).json()
    assert answer["data"]["orders"] == []
    assert answer["data"]["next_page_token"] == ""


def test_slow_fault_ends_when_the_emulator_stops(make_emu: t.Callable[..., Emulator]) -> None:
    emu = make_emu()
    client = Client(emu)
    emu.faults.add("slow", path_prefix="/authorization/", seconds=60)

    def call() -> None:
        with contextlib.suppress(requests.RequestException):  # dropped by stop(): fine
            client.shops()

    caller = threading.Thread(target=call)
    caller.start()
    while not emu.faults.fired:
        time.sleep(0.01)
    emu.stop()
    caller.join(timeout=10)
    assert not caller.is_alive()


def test_fail_rate_and_unknown_fault(emu: Emulator, client: Client) -> None:
    with pytest.raises(ValueError):
        emu.faults.add("meteor")
    emu.config.fail_rate = 1.0
    assert client.shops().status_code == 503
    emu.config.fail_rate = 0.0
    assert client.shops().status_code == 200


def test_stats_record_what_was_sent(emu: Emulator, client: Client) -> None:
    client.search(cipher_of(emu), page_size="4")
    record = emu.stats.records(SEARCH)[-1]
    assert record.method == "POST"
    assert record.status == 200
    assert record.code == 0
    assert record.query["page_size"] == "4"
    assert "sign" not in record.query
    assert emu.stats.count(SEARCH) == 1
    http = requests.get(emu.base_url + "/__admin__/stats", timeout=10).json()
    assert http["requests_per_path"][SEARCH] == 1


# --- speed and CLI ---------------------------------------------------------------------------


def test_page_of_100_fresh_orders_costs_under_10ms_cpu() -> None:
    emu = Emulator(EmulatorConfig(shops=1, orders_per_shop=3000, order_cache_size=0))
    shop = emu.shop_objects()[0]
    builder = OrderBuilder(cache_size=0)
    query = parse_search(
        shop.id, {"page_size": "100", "sort_field": "update_time", "sort_order": "ASC"}, b"{}"
    )
    started = time.process_time()
    pages = 0
    while pages < 20:
        page = run_search(shop, query, int(time.time()))
        b",".join(builder.body(shop, row) for row in page.rows)
        query = parse_search(
            shop.id,
            {
                "page_size": "100",
                "sort_field": "update_time",
                "sort_order": "ASC",
                "page_token": page.next_page_token,
            },
            b"{}",
        )
        pages += 1
    assert (time.process_time() - started) / pages < 0.010


def test_cli_prints_base_url_first(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiktok_shop_emulator",
            "--port",
            "0",
            "--shops",
            "1",
            "--orders-per-shop",
            "20",
            "--app-key",
            "k1",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        shops = requests.get(base_url + "/__admin__/shops", timeout=10).json()["shops"]
        assert len(shops) == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
