"""`login/exchange --add`: several sellers in one config, and `shops` for all of them."""

from __future__ import annotations

import json
import stat
import typing as t

import pytest
from dotenv import dotenv_values

from tests.conftest import run_in_process
from tests.faultkit import all_orders, emitted
from tests.test_authorize_commands import (  # the autouse fixture clears TAP_TIKTOK_SHOP_*
    _no_ambient_settings,  # noqa: F401
    app,
    run,
    secret_env,
)
from tiktok_shop_emulator import Emulator


@pytest.fixture
def sellers(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=3, orders_per_shop=10, sellers=3)


def add(emu: Emulator, seller: int, *files: str, name: str | None = None):
    named = ["--name", name] if name else []
    return run(
        emu,
        "exchange",
        "--code",
        emu.issue_auth_code(seller=seller),
        "--add",
        *named,
        *app(emu),
        *files,
        env=secret_env(emu),
    )


def test_add_appends_each_seller_and_the_config_syncs_them_all(sellers, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"start_date": "2020-01-01"}))
    for seller in (1, 2, 3):
        done = add(sellers, seller, "--write-config", str(config))
        assert done.exit_code == 0, done.stderr
        assert f"({seller} in the list)" in done.stdout
    saved = json.loads(config.read_text())
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert saved["start_date"] == "2020-01-01"  # the other settings are kept
    assert "refresh_token" not in saved
    listed = saved["authorizations"]
    assert [entry["name"] for entry in listed] == ["Demo Seller", "Demo Seller 2", "Demo Seller 3"]
    tokens = {row["seller"]: row for row in sellers.refresh_tokens()}
    assert [entry["refresh_token"] for entry in listed] == [
        tokens[i]["refresh_token"] for i in (1, 2, 3)
    ]
    assert [entry["open_id"] for entry in listed] == [tokens[i]["open_id"] for i in (1, 2, 3)]

    tap_config = {**saved, "api_base_url": sellers.base_url, "auth_base_url": sellers.base_url}
    synced = run_in_process(sellers, tap_config)
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert emitted(synced) == all_orders(sellers)


def test_authorizing_a_seller_again_replaces_its_entry(sellers, tmp_path):
    config = tmp_path / "config.json"
    for seller in (1, 2):
        assert add(sellers, seller, "--write-config", str(config)).exit_code == 0
    sellers.revoke_refresh_token(seller=2)  # the seller revoked, then authorized again
    done = add(sellers, 2, "--write-config", str(config), name="Second Seller")
    assert done.exit_code == 0, done.stderr
    listed = json.loads(config.read_text())["authorizations"]
    assert [entry["name"] for entry in listed] == ["Demo Seller", "Second Seller"]
    current = next(row for row in sellers.refresh_tokens() if row["seller"] == 2)
    assert listed[1]["refresh_token"] == current["refresh_token"]


def test_add_to_an_env_file_and_shops_lists_every_authorization(sellers, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nOTHER=1\n")
    for seller in (1, 2):
        assert add(sellers, seller, "--write-env", str(env_file)).exit_code == 0
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["OTHER"] == "1"
    listed = json.loads(str(values["TAP_TIKTOK_SHOP_AUTHORIZATIONS"]))
    assert [entry["name"] for entry in listed] == ["Demo Seller", "Demo Seller 2"]
    assert env_file.read_text().startswith("# mine\n")

    done = run(sellers, "shops", "--env-file", str(env_file), *app(sellers), "--format", "json")
    assert done.exit_code == 0, done.stderr
    facts = json.loads(done.stdout)
    expected = [
        {
            "name": f"Demo Seller{'' if i == 1 else f' {i}'}",
            "shop_ids": [shop.id for shop in sellers.seller_shops(i)],
        }
        for i in (1, 2)
    ]
    assert facts["authorizations"] == expected
    assert {row["authorization"] for row in facts["shops"]} == {"Demo Seller", "Demo Seller 2"}
    table = run(sellers, "shops", "--env-file", str(env_file), *app(sellers))
    assert "Authorization 'Demo Seller 2' (1 shop(s)):" in table.stdout


def test_a_name_is_made_safe_and_unique(sellers, tmp_path):
    config = tmp_path / "config.json"
    assert add(sellers, 1, "--write-config", str(config), name='Shop\'s "best"\n').exit_code == 0
    assert add(sellers, 2, "--write-config", str(config), name="Shop s best").exit_code == 0
    names = [entry["name"] for entry in json.loads(config.read_text())["authorizations"]]
    assert names == ["Shop s best", "Shop s best 2"]


def test_name_without_add_is_a_usage_error(sellers):
    done = run(
        sellers,
        "exchange",
        "--code",
        "x",
        "--name",
        "A",
        *app(sellers),
        "--show-secrets",
        env=secret_env(sellers),
    )
    assert done.exit_code == 2
    assert "--name needs --add" in done.error()
