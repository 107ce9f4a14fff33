"""The emulator's sellers: each authorization has its own refresh token, shops and tokens."""

from __future__ import annotations

import random
import subprocess
import sys
import typing as t

import pytest
import requests

from tests.test_emulator import REPO, Client, token_call
from tiktok_shop_emulator import Emulator, EmulatorConfig, messages
from tiktok_shop_emulator.sellers import split_counts
from tiktok_shop_emulator.tokens import secrets_issued_in_process

Make = t.Callable[..., Emulator]


@pytest.fixture
def make(emulator_factory: Make) -> Make:
    """Emulators with few orders: these tests are about who may read which shop."""

    def start(**knobs: t.Any) -> Emulator:
        return emulator_factory(**{"orders_per_shop": 5, "seed": 4, **knobs})

    return start


def refresh(emu: Emulator, token: str) -> dict[str, t.Any]:
    return token_call(
        emu,
        "/api/v2/token/refresh",
        app_key=emu.config.app_key,
        app_secret=emu.config.app_secret,
        refresh_token=token,
        grant_type="refresh_token",
    )


def exchange(emu: Emulator, code: str) -> dict[str, t.Any]:
    return token_call(
        emu,
        "/api/v2/token/get",
        app_key=emu.config.app_key,
        app_secret=emu.config.app_secret,
        auth_code=code,
        grant_type="authorized_code",
    )


def seller_token(number: int) -> str:
    return "demo_refresh_token" if number == 1 else f"demo_refresh_token_{number}"


def listed(emu: Emulator, access_token: str) -> list[str]:
    body = Client(emu, access_token).shops().json()
    assert body["code"] == 0, body["message"]
    return [shop["id"] for shop in body["data"]["shops"]]


def admin(emu: Emulator, method: str, name: str, **body: t.Any) -> requests.Response:
    return requests.request(
        method, f"{emu.base_url}/__admin__/{name}", timeout=10, json=body if body else None
    )


def ids(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops()]


# --- how shops are split -------------------------------------------------------------------------


@pytest.mark.parametrize(("shops", "sellers"), [(10, 3), (3, 3), (7, 2), (5, 1), (100, 7)])
def test_split_is_contiguous_fair_and_leaves_no_seller_without_a_shop(shops, sellers):
    counts = split_counts(shops, sellers)
    assert sum(counts) == shops
    assert len(counts) == sellers
    assert min(counts) >= 1
    assert max(counts) - min(counts) <= 1
    assert counts == sorted(counts, reverse=True)  # the remainder goes to the first sellers


def test_each_seller_lists_its_own_contiguous_group_of_shops(make):
    emu = make(shops=10, sellers=3)
    every = ids(emu)
    groups = [every[:4], every[4:7], every[7:]]
    for number, group in enumerate(groups, start=1):
        assert listed(emu, emu.issue_access_token(seller=number)) == group
        assert [shop.id for shop in emu.seller_shops(number)] == group
    rows = admin(emu, "GET", "shops").json()["shops"]
    assert [row["sellers"] for row in rows] == [[1]] * 4 + [[2]] * 3 + [[3]] * 3


def test_shared_shops_are_listed_by_both_sellers(make):
    emu = make(shops=6, sellers=3, shared_shops=1)
    s1, s2, s3, s4, s5, s6 = ids(emu)
    assert listed(emu, emu.issue_access_token(seller=1)) == [s1, s2]
    assert listed(emu, emu.issue_access_token(seller=2)) == [s2, s3, s4]
    assert listed(emu, emu.issue_access_token(seller=3)) == [s4, s5, s6]
    rows = {row["id"]: row["sellers"] for row in admin(emu, "GET", "shops").json()["shops"]}
    assert rows == {s1: [1], s2: [1, 2], s3: [2], s4: [2, 3], s5: [3], s6: [3]}
    shared = emu.shops()[1]["cipher"]
    for number in (1, 2):
        answer = Client(emu, emu.issue_access_token(seller=number)).search(shared).json()
        assert answer["code"] == 0
    refused = Client(emu, emu.issue_access_token(seller=3)).search(shared).json()
    assert refused["code"] == 101000


def test_a_deauthorized_shared_shop_leaves_both_authorizations(make):
    emu = make(shops=4, sellers=2, shared_shops=1)
    s1, s2, s3, s4 = ids(emu)
    emu.deauthorize_shop(s2)
    assert listed(emu, emu.issue_access_token(seller=1)) == [s1]
    assert listed(emu, emu.issue_access_token(seller=2)) == [s3, s4]


def test_another_sellers_cipher_answers_like_a_deauthorized_shop(make):
    emu = make(shops=4, sellers=2)
    first = Client(emu, emu.issue_access_token(seller=1))
    foreign = first.search(emu.shops()[2]["cipher"])
    emu.deauthorize_shop(emu.shops()[0]["id"])
    removed = first.search(emu.shops()[0]["cipher"])
    assert foreign.status_code == removed.status_code == 200
    assert foreign.json()["code"] == removed.json()["code"] == 101000
    assert foreign.json()["message"] == removed.json()["message"] == messages.SHOP_NOT_AUTHORIZED
    assert foreign.json()["data"] is None
    own = Client(emu, emu.issue_access_token(seller=2)).search(emu.shops()[2]["cipher"])
    assert own.json()["code"] == 0


# --- tokens per seller ---------------------------------------------------------------------------


def test_each_refresh_token_answers_its_sellers_token_set(make):
    emu = make(shops=6, sellers=3)
    answers = [refresh(emu, seller_token(number))["data"] for number in (1, 2, 3)]
    assert [a["seller_name"] for a in answers] == ["Demo Seller", "Demo Seller 2", "Demo Seller 3"]
    assert [a["refresh_token"] for a in answers] == [seller_token(n) for n in (1, 2, 3)]
    assert len({a["open_id"] for a in answers}) == 3
    assert [a["seller_base_region"] for a in answers] == [
        shop["region"] for shop in (emu.shops()[0], emu.shops()[2], emu.shops()[4])
    ]
    every = ids(emu)
    for number, answer in enumerate(answers, start=1):
        assert listed(emu, answer["access_token"]) == every[2 * number - 2 : 2 * number]
    rows = admin(emu, "GET", "refresh_tokens").json()["sellers"]
    assert rows == [
        {"seller": n, "refresh_token": seller_token(n), "open_id": a["open_id"]}
        for n, a in enumerate(answers, start=1)
    ]


def test_revoking_one_seller_leaves_the_others_working(make):
    emu = make(shops=6, sellers=3)
    before = emu.issue_access_token(seller=2)
    assert admin(emu, "POST", "revoke_refresh_token", seller=2).json() == {"ok": True}
    revoked = refresh(emu, seller_token(2))
    assert (revoked["code"], revoked["message"], revoked["data"]) == (
        36004001,
        "rt has expired",
        None,
    )
    assert refresh(emu, seller_token(1))["code"] == 0
    assert refresh(emu, seller_token(3))["code"] == 0
    assert listed(emu, before)  # the docs say nothing: issued access tokens live on
    rows = admin(emu, "GET", "refresh_tokens").json()["sellers"]
    assert [row["refresh_token"] for row in rows] == [seller_token(1), None, seller_token(3)]
    # Consent again: a new authorization period with a new refresh token of seller 2.
    again = exchange(emu, emu.issue_auth_code(seller=2))["data"]
    assert again["refresh_token"] not in {seller_token(2), None}
    assert again["seller_name"] == "Demo Seller 2"
    assert refresh(emu, again["refresh_token"])["code"] == 0
    assert emu.tokens.current_refresh_token(2) == again["refresh_token"]


def test_revoking_with_deauthorized_access_tokens_answers_105001_for_that_seller_only(make):
    emu = make(shops=4, sellers=2)
    first, second = emu.issue_access_token(seller=1), emu.issue_access_token(seller=2)
    answer = admin(emu, "POST", "revoke_refresh_token", seller=2, deauthorize_access_tokens=True)
    assert answer.status_code == 200
    refused = Client(emu, second).shops()
    assert refused.status_code == 401
    assert (refused.json()["code"], refused.json()["message"]) == (
        105001,
        messages.TOKEN_DEAUTHORIZED,
    )
    assert listed(emu, first) == ids(emu)[:2]
    assert refresh(emu, seller_token(1))["code"] == 0
    fresh = exchange(emu, emu.issue_auth_code(seller=2))["data"]["access_token"]
    assert listed(emu, fresh) == ids(emu)[2:]  # tokens of the new consent work


def test_revoking_every_seller_is_the_default(make):
    emu = make(shops=4, sellers=2)
    token = emu.issue_access_token(seller=2)
    emu.revoke_refresh_token()
    assert [refresh(emu, seller_token(n))["code"] for n in (1, 2)] == [36004001, 36004001]
    assert listed(emu, token) == ids(emu)[2:]


def test_rotation_replaces_only_the_refreshing_sellers_token(make):
    emu = make(shops=6, sellers=3, rotate_refresh_token=True)
    rotated = refresh(emu, seller_token(2))["data"]
    new = rotated["refresh_token"]
    assert new != seller_token(2)
    assert rotated["seller_name"] == "Demo Seller 2"
    assert refresh(emu, seller_token(2))["code"] == 36004001  # the old one is gone
    rows = admin(emu, "GET", "refresh_tokens").json()["sellers"]
    assert [row["refresh_token"] for row in rows] == [seller_token(1), new, seller_token(3)]
    again = refresh(emu, new)["data"]["refresh_token"]
    assert refresh(emu, new)["code"] == 36004001
    first = refresh(emu, seller_token(1))["data"]["refresh_token"]  # seller 1 rotates its own
    assert emu.tokens.current_refresh_token(2) == again
    assert emu.tokens.current_refresh_token(1) == first != seller_token(1)
    assert emu.tokens.current_refresh_token(3) == seller_token(3)
    assert listed(emu, refresh(emu, again)["data"]["access_token"]) == ids(emu)[2:4]


def test_expiring_one_sellers_access_tokens(make):
    emu = make(shops=4, sellers=2)
    first, second = emu.issue_access_token(seller=1), emu.issue_access_token(seller=2)
    assert admin(emu, "POST", "expire_access_tokens", seller=2).json() == {"ok": True}
    assert Client(emu, second).shops().json()["code"] == 105002
    assert Client(emu, first).shops().json()["code"] == 0


# --- auth codes and the consent page -------------------------------------------------------------


def test_auth_codes_belong_to_their_seller(make):
    emu = make(shops=6, sellers=3)
    by_method = exchange(emu, emu.issue_auth_code(seller=3))["data"]
    assert (by_method["seller_name"], by_method["refresh_token"]) == (
        "Demo Seller 3",
        seller_token(3),
    )
    code = admin(emu, "POST", "auth_code", seller=2).json()["auth_code"]
    by_admin = exchange(emu, code)["data"]
    assert (by_admin["seller_name"], by_admin["refresh_token"]) == (
        "Demo Seller 2",
        seller_token(2),
    )
    default = exchange(emu, admin(emu, "POST", "auth_code").json()["auth_code"])["data"]
    assert default["refresh_token"] == seller_token(1)
    token = admin(emu, "POST", "access_token", seller=3).json()["access_token"]
    assert listed(emu, token) == ids(emu)[4:]
    assert listed(emu, admin(emu, "POST", "access_token").json()["access_token"]) == ids(emu)[:2]


def test_the_consent_page_logs_in_as_the_seller_asked_for(make):
    emu = make(shops=4, sellers=2)
    consent = requests.get(
        emu.base_url + "/open/authorize",
        allow_redirects=False,
        timeout=10,
        params={
            "service_id": "1",
            "state": "s",
            "seller": "2",
            "redirect_uri": "http://localhost:9/cb",
        },
    )
    assert consent.status_code == 302
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    data = exchange(emu, code)["data"]
    assert (data["seller_name"], data["refresh_token"]) == ("Demo Seller 2", seller_token(2))
    assert data["open_id"] == emu.refresh_tokens()[1]["open_id"]
    for bad in ("0", "3", "two"):
        refused = requests.get(
            emu.base_url + "/open/authorize",
            allow_redirects=False,
            timeout=10,
            params={"service_id": "1", "seller": bad},
        )
        assert refused.status_code == 400
        assert refused.text == "seller must be an integer from 1 to 2"


@pytest.mark.parametrize("bad", [0, 3, "1", True, None])
def test_admin_refuses_an_unknown_seller_in_one_line(make, bad):
    emu = make(shops=4, sellers=2)
    for name in ("auth_code", "access_token", "revoke_refresh_token", "expire_access_tokens"):
        answer = requests.post(f"{emu.base_url}/__admin__/{name}", json={"seller": bad}, timeout=10)
        if bad is None:  # an explicit null means the default
            assert answer.status_code == 200, name
            continue
        assert answer.status_code == 400, name
        assert answer.json() == {"error": f"seller must be an integer from 1 to 2, not {bad!r}"}
    with pytest.raises(ValueError, match="from 1 to 2"):
        emu.issue_access_token(seller=3)


# --- one seller, configuration, secrets ----------------------------------------------------------


def test_one_seller_is_the_single_authorization_of_before(make):
    emu = make(shops=3)
    rows = admin(emu, "GET", "refresh_tokens").json()["sellers"]
    legacy_open_id = f"{random.Random('open_id:4').getrandbits(60):x}"
    assert rows == [{"seller": 1, "refresh_token": "demo_refresh_token", "open_id": legacy_open_id}]
    data = refresh(emu, "demo_refresh_token")["data"]
    assert (data["open_id"], data["seller_name"]) == (legacy_open_id, "Demo Seller")
    assert data["seller_base_region"] == emu.shops()[0]["region"]
    assert listed(emu, data["access_token"]) == ids(emu)
    assert [row["sellers"] for row in emu.shops()] == [[1], [1], [1]]


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"sellers": 0}, "sellers must be an integer >= 1"),
        ({"sellers": 2, "shared_shops": -1}, "shared_shops must be an integer >= 0"),
        ({"shared_shops": 1}, "shared_shops needs sellers >= 2"),
        ({"shops": 5, "sellers": 4, "shared_shops": 2}, r"shared_shops \(2\) exceeds the 1 shop"),
    ],
)
def test_impossible_seller_knobs_are_refused(knobs, message):
    with pytest.raises(ValueError, match=message):
        Emulator(EmulatorConfig(orders_per_shop=1, **knobs))


def test_fewer_shops_than_sellers_leaves_the_last_sellers_without_shops(make):
    emu = make(shops=2, sellers=3)
    assert listed(emu, emu.issue_access_token(seller=3)) == []
    assert refresh(emu, seller_token(3))["data"]["seller_base_region"] == emu.shops()[0]["region"]


def test_the_admin_config_shows_the_seller_knobs_but_does_not_change_them(make):
    emu = make(shops=4, sellers=2, shared_shops=1)
    shown = admin(emu, "GET", "config").json()
    assert (shown["sellers"], shown["shared_shops"]) == (2, 1)
    refused = admin(emu, "POST", "config", sellers=3)
    assert refused.status_code == 400
    assert "sellers is not a runtime knob" in refused.json()["error"]


def test_every_sellers_tokens_are_known_secrets(make):
    emu = make(shops=4, sellers=2, rotate_refresh_token=True)
    rotated = refresh(emu, seller_token(2))["data"]
    minted = emu.issue_access_token(seller=2)
    known, process = set(emu.issued_secrets()), set(secrets_issued_in_process())
    for secret in (
        seller_token(1),
        seller_token(2),
        rotated["refresh_token"],
        rotated["access_token"],
        minted,
    ):
        assert secret in known
        assert secret in process
    code = emu.issue_auth_code(seller=2)
    assert code in emu.issued_secrets()
    assert code in secrets_issued_in_process()


def test_cli_serves_several_sellers_and_refuses_bad_knobs_in_one_line():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tiktok_shop_emulator",
            "--port",
            "0",
            "--shops",
            "5",
            "--orders-per-shop",
            "1",
            "--sellers",
            "2",
            "--shared-shops",
            "1",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        rows = requests.get(base_url + "/__admin__/shops", timeout=10).json()["shops"]
        assert [row["sellers"] for row in rows] == [[1], [1], [1, 2], [2], [2]]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "tiktok_shop_emulator", "--sellers", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().splitlines()[-1].endswith("sellers must be an integer >= 1, not 0")
    assert "Traceback" not in bad.stderr
