"""Issue 21: several sellers' authorizations in one run, and tokens that survive rotation.

The emulator splits its shops among sellers, each with its own refresh token; a shop of one
seller answers another seller's token like a de-authorized shop. So a run that signed a
request with the wrong authorization would fail, and one that read a shared shop twice would
emit its orders twice.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from tap_tiktok_shop.authorizations import Authorizations
from tap_tiktok_shop.tokens import TokenSet
from tests.conftest import catalog_selecting, finish_tap, run_in_process, spawn_tap, tap_config
from tests.faultkit import all_orders, assert_state_never_ahead, bookmarks, emitted
from tiktok_shop_emulator import Emulator

SHOPS = "/authorization/202309/shops"
REFRESH = "/api/v2/token/refresh"


def seller_token(emu: Emulator, seller: int) -> str:
    return emu.config.refresh_token if seller == 1 else f"{emu.config.refresh_token}_{seller}"


def sellers_config(emu: Emulator, sellers: t.Iterable[int], **overrides: t.Any) -> dict:
    """Settings with one authorization per seller (named), and no single refresh_token."""
    listed = [{"name": f"Seller {i}", "refresh_token": seller_token(emu, i)} for i in sellers]
    return tap_config(emu, **{"refresh_token": None, "authorizations": listed, **overrides})


def seller_shop_ids(emu: Emulator, seller: int) -> list[str]:
    return [shop.id for shop in emu.seller_shops(seller)]


@pytest.fixture
def three(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    """3 sellers x 2 shops; seller 2 also lists seller 1's last shop, seller 3 seller 2's."""
    return emulator_factory(shops=6, orders_per_shop=30, sellers=3, shared_shops=1)


def test_three_sellers_in_one_run_sync_every_shop_once(three):
    run = run_in_process(three, sellers_config(three, (1, 2, 3)))
    assert run.returncode == 0, run.stderr[-3000:]
    shop_ids = [record["id"] for record in run.records("shops")]
    assert sorted(shop_ids) == sorted(shop["id"] for shop in three.shops())  # each shop once
    assert emitted(run) == all_orders(three)
    assert len(run.records("orders")) == len(all_orders(three)), "a shared shop was read twice"
    assert set(bookmarks(run.last_state)) == set(shop_ids)  # state keeps its per-shop shape
    assert_state_never_ahead(run, three)
    assert three.stats.count(SHOPS) == 3  # each authorization listed its shops once
    # Every shop request carried a token of a seller that covers the shop: no 101000 at all.
    assert all(record.code == 0 for record in three.stats.records("/order/202309/orders/search"))


def test_the_single_refresh_token_and_the_list_work_together(three):
    config = sellers_config(three, (2, 3), refresh_token=three.config.refresh_token)
    run = run_in_process(three, config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert emitted(run) == all_orders(three)


def test_a_revoked_seller_is_skipped_and_the_others_sync(three):
    three.revoke_refresh_token(seller=2)
    run = run_in_process(three, sellers_config(three, (1, 2, 3)))
    assert run.returncode == 1  # fail_on_shop_errors: true by default
    warnings = [line for line in run.stderr.splitlines() if "Authorization 'Seller 2'" in line]
    assert len(warnings) == 1
    assert "API code 36004001" in warnings[0]
    expected = set(seller_shop_ids(three, 1)) | set(seller_shop_ids(three, 3))
    assert {record["id"] for record in run.records("shops")} == expected
    assert emitted(run) == all_orders(three, expected)
    assert set(bookmarks(run.last_state)) == expected
    summary = run.error_lines()[-1]
    assert "authorization 'Seller 2'" in summary
    assert "fail_on_shop_errors" in summary

    relaxed = run_in_process(three, sellers_config(three, (1, 2, 3), fail_on_shop_errors=False))
    assert relaxed.returncode == 0


def test_every_seller_revoked_fails_the_run_in_one_line(three):
    three.revoke_refresh_token()
    run = run_in_process(three, sellers_config(three, (1, 2)))
    assert run.returncode == 1
    assert "36004001" in run.error_lines()[-1]
    assert not run.records("orders")


def test_shop_ids_per_authorization_and_for_the_run(three):
    first, second = seller_shop_ids(three, 1), seller_shop_ids(three, 2)
    config = sellers_config(three, (1, 2, 3))
    config["authorizations"][0]["shop_ids"] = [first[0]]
    config["shop_ids"] = [first[0], second[-1]]
    run = run_in_process(three, config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert {record["id"] for record in run.records("shops")} == {first[0], second[-1]}


def test_a_shop_an_authorization_does_not_cover_is_a_shop_failure(three):
    config = sellers_config(three, (1, 2))
    config["authorizations"][1]["shop_ids"] = [seller_shop_ids(three, 1)[0], "999"]
    run = run_in_process(three, config)
    assert run.returncode == 1
    assert any(
        "Shop 999" in line and "authorization 'Seller 2' covers" in line
        for line in run.stderr.splitlines()
    )
    assert set(seller_shop_ids(three, 1)) <= {record["id"] for record in run.records("shops")}


def test_a_seller_lacking_a_package_is_named_for_that_seller_only():
    # Sellers authorize the packages the app had then: seller B's token lacks Product.
    config = {
        "app_key": "k",
        "app_secret": "s",
        "auth_base_url": "http://127.0.0.1:9",
        "request_timeout": 5,
        "token_store_enabled": False,
        "authorizations": [
            {"name": "A", "refresh_token": "rt-a"},
            {"name": "B", "refresh_token": "rt-b"},
        ],
    }
    owners = {"1": "A", "2": "B"}
    authorizations = Authorizations(config, owners.get)
    scopes = {"A": ["seller.order.info", "seller.product.basic"], "B": ["seller.order.info"]}
    for each in authorizations:
        each.tokens._current = TokenSet(
            access_token=f"at-{each.name}",
            access_token_expire_in=None,
            granted_scopes=scopes[each.name],
        )
    assert authorizations.lacking({"shop_id": "1"}, "seller.product.basic") is None
    assert authorizations.lacking({"shop_id": "2"}, "seller.product.basic") == "B"
    assert authorizations.lacking({"shop_id": "2"}, "seller.order.info") is None
    assert authorizations.granted_scopes() == ["seller.order.info", "seller.product.basic"]


@pytest.mark.parametrize(
    ("authorizations", "needle"),
    [
        (
            [{"refresh_token": "abcdef1", "name": "A"}, {"refresh_token": "abcdef2", "name": "A"}],
            "two authorizations are named 'A'",
        ),
        (
            [{"refresh_token": "abcdef1"}, {"refresh_token": "abcdef1"}],
            "has the same refresh_token as",
        ),
        ([{"refresh_token": "abcdef1", "refreshtoken": "x"}], "authorizations"),
        ([{"name": "no token"}], "authorizations"),
        ([{"refresh_token": "abc def"}], "authorizations[1].refresh_token"),
        ([{"refresh_token": "abcdef1", "name": "bad\x1b[2Jname"}], "authorizations[1].name"),
    ],
)
def test_a_bad_authorizations_list_is_one_line_without_the_token(emulator, authorizations, needle):
    config = tap_config(emulator, refresh_token=None, authorizations=authorizations)
    run = run_in_process(emulator, config)
    assert run.returncode == 1
    (line,) = run.error_lines()
    assert needle in line
    assert "abcdef1" not in run.stderr
    assert "abc def" not in run.stderr
    assert emulator.stats.count(REFRESH) == 0


# --- the token store ----------------------------------------------------------------------


@pytest.fixture
def rotating(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    """2 sellers x 1 shop whose refresh tokens rotate on every refresh (old ones refused)."""
    return emulator_factory(shops=2, orders_per_shop=5, sellers=2, rotate_refresh_token=True)


def scheduled_runs(emu: Emulator, config: dict[str, t.Any], runs: int) -> list[int]:
    """Exit codes of ``runs`` runs in a row, each finding its access tokens expired."""
    codes, state = [], None
    for _ in range(runs):
        emu.expire_access_tokens()  # so every run must refresh (and so rotate)
        run = run_in_process(emu, config, state=state)
        codes.append(run.returncode)
        state = run.last_state or state
    return codes


def test_with_rotating_refresh_tokens_ten_scheduled_runs_keep_working(rotating, tmp_path):
    config = sellers_config(rotating, (1, 2), token_store_path=str(tmp_path / "tokens.json"))
    assert scheduled_runs(rotating, config, 10) == [0] * 10
    assert rotating.stats.count(REFRESH) == 20  # each run refreshed each seller once
    stored = json.loads((tmp_path / "tokens.json").read_text())["entries"]
    current = {row["refresh_token"] for row in rotating.refresh_tokens()}
    assert {entry["refresh_token"] for entry in stored.values()} == current


def test_without_the_store_the_second_scheduled_run_fails(rotating):
    config = sellers_config(rotating, (1, 2), token_store_enabled=False)
    codes = scheduled_runs(rotating, config, 2)
    assert codes == [0, 1]  # the configured refresh tokens were superseded by the first run


def test_a_valid_stored_access_token_is_used_without_refreshing(rotating, tmp_path):
    config = sellers_config(rotating, (1, 2), token_store_path=str(tmp_path / "tokens.json"))
    assert run_in_process(rotating, config).returncode == 0
    refreshes = rotating.stats.count(REFRESH)
    assert run_in_process(rotating, config).returncode == 0
    assert rotating.stats.count(REFRESH) == refreshes


def test_two_runs_at_once_sharing_a_store_lose_no_token(rotating, tmp_path):
    store = tmp_path / "tokens.json"
    config = sellers_config(rotating, (1, 2), token_store_path=str(store))
    catalog = catalog_selecting(("shops", "orders"))
    for round_ in range(3):
        rotating.expire_access_tokens()
        taps = [
            spawn_tap(tmp_path / f"run-{round_}-{i}", config, catalog=catalog) for i in range(2)
        ]
        runs = [finish_tap(tap, rotating, config) for tap in taps]
        assert [run.returncode for run in runs] == [0, 0], runs[0].stderr[-2000:]
    stored = json.loads(store.read_text())["entries"]
    current = {row["refresh_token"] for row in rotating.refresh_tokens()}
    assert {entry["refresh_token"] for entry in stored.values()} == current
    assert rotating.stats.count(REFRESH) == 6  # one refresh per seller and round, not two


def test_a_seller_revoked_during_the_run_costs_only_its_shops(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=20, sellers=2)
    config = sellers_config(emu, (1, 2), token_store_path=str(tmp_path / "tokens.json"))
    assert run_in_process(emu, config).returncode == 0  # both sellers' tokens are stored
    # Seller 2 revokes: its stored access token still lists the shops, then the order search
    # is refused and refreshing fails: a failure of that seller's shop, not of the run.
    emu.revoke_refresh_token(seller=2)
    second_shop = seller_shop_ids(emu, 2)[0]
    emu.faults.add("token_deauthorized", count=5, path_prefix="/order/", on_shop=second_shop)
    run = run_in_process(emu, config)
    assert run.returncode == 1
    failed = [line for line in run.stderr.splitlines() if f"Shop {second_shop}:" in line]
    assert len(failed) == 1
    assert "authorization 'Seller 2'" in failed[0]
    assert emitted(run) == all_orders(emu, seller_shop_ids(emu, 1))


def test_shards_split_the_shops_of_every_seller(three):
    parts = []
    for index in range(2):
        run = run_in_process(three, sellers_config(three, (1, 2, 3), shard=f"{index}/2"))
        assert run.returncode == 0, run.stderr[-2000:]
        parts.append({record["id"] for record in run.records("shops")})
    assert not parts[0] & parts[1]
    assert parts[0] | parts[1] == {shop["id"] for shop in three.shops()}
