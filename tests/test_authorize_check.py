"""`tap-tiktok-shop-auth check` (issue 16) against the emulator: what a first sync would do."""

from __future__ import annotations

import json
import os
import re
import typing as t

import pytest
from click.testing import CliRunner

from tap_tiktok_shop.authorize.check import authorizations
from tap_tiktok_shop.authorize.cli import cli
from tests.conftest import assert_no_secrets, catalog_selecting, tap_config
from tiktok_shop_emulator.config import DEFAULT_SCOPES

if t.TYPE_CHECKING:
    from pathlib import Path

    from tiktok_shop_emulator import Emulator


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TAP_TIKTOK_SHOP_"):
            monkeypatch.delenv(name)


def check(
    emu: Emulator,
    tmp_path: Path,
    *,
    catalog: dict[str, t.Any] | None = None,
    args: t.Sequence[str] = (),
    **overrides: t.Any,
) -> tuple[int, str, list[str]]:
    """Run `check` on a config file; return the exit code, stdout and the problem lines."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(emu, **overrides)))
    command = ["check", "--config", str(config), *args]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", str(tmp_path / "catalog.json")]
    result = CliRunner().invoke(cli, command, prog_name="tap-tiktok-shop-auth")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    assert_no_secrets(
        result.stdout + result.stderr,
        [*emu.issued_secrets(), emu.config.app_secret, emu.config.refresh_token],
    )
    problems = [line for line in result.stderr.splitlines() if line.startswith("Problem: ")]
    return result.exit_code, result.stdout, problems


def test_a_good_config_lists_shops_and_sizes_the_first_sync(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=130, products_per_shop=7)
    code, out, problems = check(emu, tmp_path, args=["--format", "json"])
    assert (code, problems) == (0, [])
    facts = json.loads(out)
    (authorization,) = facts["authorizations"]
    assert abs(authorization["clock_skew_seconds"]) <= 2
    regions = {row["id"]: row["region"] for row in authorization["authorized_shops"]}
    assert regions == {shop["id"]: shop["region"] for shop in emu.shops()}
    sizes = authorization["first_sync"]["records"]
    for shop_id in regions:
        assert sizes[shop_id]["orders"] == len(emu.orders_for_shop(shop_id)) == 130
        assert sizes[shop_id]["products"] == 7
    # One search of one record per shop and stream: the API told the sizes.
    searches = [r for r in emu.stats.records("/order/202309/orders/search")]
    assert len(searches) == 2
    assert all(r.query["page_size"] == "1" for r in searches)
    pages = 2 * (2 + 1)  # orders in pages of 100 (130: 2 pages) and products (1 page), 2 shops
    assert authorization["first_sync"]["requests"] >= pages


def test_the_text_report_names_regions_sizes_and_the_time(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=250)
    code, out, _ = check(emu, tmp_path, catalog=catalog_selecting(["shops", "orders"]))
    assert code == 0
    shop = emu.shops()[0]
    assert f"{shop['id']}  {shop['name']}  {shop['region']}" in out
    assert f"Shop {shop['id']}, first sync: orders 250 records" in out
    assert "First sync: about 3 requests" in out  # 250 orders in pages of 100


def test_a_wrong_app_secret_is_one_problem_line(emulator, tmp_path):
    code, _, problems = check(emulator, tmp_path, app_secret="not_the_app_secret")
    assert code == 1
    assert len(problems) == 1
    assert problems[0].startswith("Problem: Token: Refreshing")


def test_a_missing_api_package_names_the_streams_and_what_to_do(emulator_factory, tmp_path):
    scopes = [scope for scope in DEFAULT_SCOPES if scope != "seller.finance.info"]
    emu = emulator_factory(shops=2, orders_per_shop=10, granted_scopes=scopes)
    catalog = catalog_selecting(["shops", "orders", "payments", "statements"])
    code, out, problems = check(emu, tmp_path, catalog=catalog)
    assert code == 1
    assert len(problems) == 2, problems  # one per stream, not per shop
    for stream, problem in zip(("payments", "statements"), sorted(problems), strict=True):
        assert f"Stream '{stream}' cannot sync" in problem
        assert "'Finance Information'" in problem
        assert "Partner Center" in problem
    assert "orders 10 records" in out  # the streams the app has are still sized
    assert emu.stats.count("/finance/202309/payments") == 0  # the token said it already


def test_a_package_refused_by_the_api_is_probed_once_per_shop(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=10)
    emu.faults.add("scope_missing", count=5, path_prefix="/return_refund/")
    catalog = catalog_selecting(["shops", "orders", "returns", "cancellations"])
    code, _, problems = check(emu, tmp_path, catalog=catalog)
    assert code == 1
    assert len(problems) == 2
    assert all("'Return and refund'" in p for p in problems)
    assert len(emu.faults.fired) == 1  # the package's first stream probed it; no second call


def test_a_deauthorized_shop_is_named_with_what_to_do(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=10)
    first, second = (shop["id"] for shop in emu.shops())
    emu.faults.add("deauthorize_shop", path_prefix="/order/", shop_id=second)
    code, out, problems = check(emu, tmp_path, catalog=catalog_selecting(["shops", "orders"]))
    assert code == 1
    assert len(problems) == 1
    assert problems[0].startswith(f"Problem: Shop {second}: ")
    assert "101000" in problems[0]
    assert "authorize it again" in problems[0]
    assert f"Shop {first}, first sync: orders 10 records" in out


def test_shop_ids_naming_a_shop_no_longer_authorized(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=10)
    gone = emu.shops()[1]["id"]
    emu.deauthorize_shop(gone)
    code, _, problems = check(emu, tmp_path, shop_ids=[gone])
    assert code == 1
    assert len(problems) == 1
    assert f"shop_ids: {gone} not among the shops" in problems[0]


def test_a_clock_ahead_of_the_api_is_a_problem(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=5, clock_offset_seconds=-120)
    code, _, problems = check(emu, tmp_path)
    assert code == 1
    assert len(problems) == 1, problems  # the refused call is explained by the clock alone
    assert re.search(
        r"Problem: Clock: this machine's clock is about 12\d s ahead of the API's: "
        r"fix it \(NTP\)",
        problems[0],
    ), problems


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (
            {"page_size": 0},
            "Invalid config: 0 is less than the minimum of 1 in config['page_size']",
        ),
        ({"start_date": "yesterday"}, "start_date"),
        ({"refresh_token": None}, "refresh_token: required"),
    ],
)
def test_a_bad_config_is_the_taps_own_one_line_error(emulator, tmp_path, overrides, needle):
    code, _, problems = check(emulator, tmp_path, **overrides)
    assert code == 1
    assert len(problems) == 1
    assert problems[0].startswith("Problem: Config: ")
    assert needle in problems[0]
    assert emulator.stats.requests_per_path() == {}  # nothing was called


def test_check_covers_each_authorization_the_config_holds():
    config = {
        "app_key": "k",
        "app_secret": "s",
        "refresh_token": "r",
        "shop_ids": ["1"],
        "authorizations": [{"name": "B", "refresh_token": "rb", "shop_ids": ["2"]}],
    }
    assert authorizations(config) == [
        (
            "refresh_token",
            {"app_key": "k", "app_secret": "s", "refresh_token": "r", "shop_ids": ["1"]},
        ),
        (
            "B",
            {
                "app_key": "k",
                "app_secret": "s",
                "authorizations": [{"name": "B", "refresh_token": "rb", "shop_ids": ["2"]}],
            },
        ),
    ]


def test_check_names_the_seller_whose_authorization_fails(emulator_factory, tmp_path):
    emu = emulator_factory(shops=2, orders_per_shop=10, sellers=2)
    listed = [
        {"name": "First", "refresh_token": emu.config.refresh_token},
        {"name": "Second", "refresh_token": f"{emu.config.refresh_token}_2"},
    ]
    code, out, problems = check(
        emu, tmp_path, refresh_token=None, authorizations=listed, args=["--format", "json"]
    )
    assert (code, problems) == (0, [])
    facts = json.loads(out)
    assert [each["name"] for each in facts["authorizations"]] == ["First", "Second"]
    assert [
        [row["id"] for row in each["authorized_shops"]] for each in facts["authorizations"]
    ] == [[shop.id for shop in emu.seller_shops(i)] for i in (1, 2)]

    emu.revoke_refresh_token(seller=2)
    (tmp_path / "revoked").mkdir()
    # Without the store: the first check stored an access token that still works until expiry.
    code, _, problems = check(
        emu,
        tmp_path / "revoked",
        refresh_token=None,
        authorizations=listed,
        token_store_enabled=False,
    )
    assert code == 1
    (problem,) = problems
    assert problem.startswith("Problem: Authorization 'Second': Token: ")
    assert "36004001" in problem
