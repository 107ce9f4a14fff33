"""The ``shard`` setting: parsing, a stable assignment, and the tap syncing one shard of shops."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.sharding import Shard, parse_shard, shard_of
from tap_tiktok_shop.shops import ShopDirectory
from tests.conftest import run_in_process, run_tap, tap_config


def _shops(count: int, seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    ids = {str(rng.randrange(7_000_000_000_000_000, 7_999_999_999_999_999)) for _ in range(count)}
    return [{"id": shop_id, "cipher": f"cipher-{shop_id}"} for shop_id in sorted(ids)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0/1", Shard(0, 1)),
        ("2/8", Shard(2, 8)),
        ("7/8", Shard(7, 8)),
        ("10/64", Shard(10, 64)),
        (None, None),
        ("", None),
    ],
)
def test_valid_values_parse(value, expected):
    assert parse_shard(value) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("8/8", "index 8 is out of range for 8 shards (0 to 7)"),
        ("3/0", "must be INDEX/COUNT"),
        ("-1/4", "must be INDEX/COUNT"),
        ("2", "must be INDEX/COUNT"),
        ("2/8/1", "must be INDEX/COUNT"),
        (" 2/8", "must be INDEX/COUNT"),
        ("a/b", "must be INDEX"),
        ("02/8", "must be INDEX/COUNT"),
        ("2 of 8", "must be INDEX/COUNT"),
        (2, "not 2"),
        ("1/" + "9" * 50, "must be INDEX/COUNT"),
    ],
)
def test_malformed_values_are_one_line_errors_naming_the_setting(value, words):
    with pytest.raises(ConfigurationError) as caught:
        parse_shard(value)
    message = str(caught.value)
    assert message.startswith("shard: ")
    assert words in message
    assert "\n" not in message
    assert len(message) < 140


def test_the_assignment_is_pinned_to_sha256_of_the_shop_id():
    # Deployments rely on these never changing: a new hash would move shops between shards.
    # (`printf 7494049642642901 | sha256sum`: the first 16 hex digits, modulo the count)
    assert [shard_of("7494049642642901", n) for n in (2, 3, 8)] == [1, 0, 1]
    assert [shard_of("7495830261937251", n) for n in (2, 3, 8)] == [0, 1, 0]
    assert shard_of("7494049642642901", 1) == 0


@pytest.mark.parametrize("count", [1, 2, 3, 8, 13])
def test_every_shop_is_in_exactly_one_shard_of_a_count(count):
    shops = _shops(400)
    holders = Counter()
    for index in range(count):
        for shop in ShopDirectory(None, Shard(index, count)).select(shops):
            holders[shop["id"]] += 1
    assert holders == Counter({shop["id"]: 1 for shop in shops})


def test_shards_are_about_even():
    sizes = Counter(shard_of(shop["id"], 4) for shop in _shops(4000))
    assert set(sizes) == {0, 1, 2, 3}
    assert all(850 < size < 1150 for size in sizes.values()), sizes


def test_the_choice_does_not_depend_on_api_order_or_the_other_shops():
    shops = _shops(60)
    chosen = {shop["id"] for shop in ShopDirectory(None, Shard(1, 3)).select(shops)}
    shuffled = list(shops)
    random.Random(9).shuffle(shuffled)
    again = ShopDirectory(None, Shard(1, 3)).select(shuffled)
    assert {shop["id"] for shop in again} == chosen
    assert [shop["id"] for shop in again] == [s["id"] for s in shuffled if s["id"] in chosen]
    # A newly authorized shop joins one shard; the others keep theirs.
    newcomer = {"id": "7499999999999999", "cipher": "cipher-new"}
    grown = [*shuffled, newcomer]
    after = {shop["id"] for shop in ShopDirectory(None, Shard(1, 3)).select(grown)}
    assert after - {newcomer["id"]} == chosen


def test_shop_ids_and_shard_combine_and_unknown_shop_ids_still_fail():
    shops = _shops(30)
    wanted = [shop["id"] for shop in shops[:12]]
    chosen = ShopDirectory(wanted, Shard(0, 2)).select(shops)
    assert {shop["id"] for shop in chosen} == {i for i in wanted if shard_of(i, 2) == 0}
    assert 0 < len(chosen) < 12
    # A shop id of the authorization but of another shard is no error; an unknown one is.
    unknown = ShopDirectory([*wanted, "123"], Shard(0, 2))
    unknown.select(shops)
    with pytest.raises(ConfigurationError, match="shop_ids: 123 not among"):
        unknown.check_wanted()
    directory = ShopDirectory(None, Shard(0, 2))
    directory.select(shops)
    outside = next(shop for shop in shops if shard_of(shop["id"], 2) == 1)
    assert directory.listed_count() == len(shops)  # every listed shop is known to the checks
    assert directory.owner(outside["id"]) is None  # but only the shard's shops are read
    with pytest.raises(ConfigurationError, match="not among the authorized shops"):
        directory.cipher(outside["id"])


def test_the_tap_syncs_only_its_shards_shops_and_their_orders(emulator_factory):
    emu = emulator_factory(shops=5, orders_per_shop=20, seed=3)
    all_ids = {shop["id"] for shop in emu.shops()}
    seen: dict[str, int] = {}
    for index in range(2):
        run = run_in_process(emu, tap_config(emu, shard=f"{index}/2"))
        assert run.returncode == 0, run.stderr[-2000:]
        shop_ids = {record["id"] for record in run.records("shops")}
        assert shop_ids == {i for i in all_ids if shard_of(i, 2) == index}
        orders = run.records("orders")
        assert {order["shop_id"] for order in orders} <= shop_ids
        assert len(orders) == 20 * len(shop_ids)
        bookmarks = run.last_state["bookmarks"]["orders"]["partitions"]
        assert {p["context"]["shop_id"] for p in bookmarks} == shop_ids
        assert f"Shard {index}/2: {len(shop_ids)} of 5 authorized shops" in run.stderr
        seen.update(dict.fromkeys(shop_ids, index))
    assert set(seen) == all_ids


def test_a_malformed_shard_on_the_command_line_is_one_line_and_exit_1(tmp_path, emulator):
    config = tap_config(emulator, shard="3/3")
    run = run_tap(tmp_path, emulator, config)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.error_lines() == [
        next(line for line in run.stderr.splitlines() if "shard: index 3 is out of range" in line)
    ]


def _reshard_module():
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location(
        "reshard_state", Path(__file__).resolve().parent.parent / "scripts" / "reshard_state.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(marks: dict[str, int]) -> dict:
    partitions = [
        {
            "context": {"shop_id": shop},
            "replication_key": "update_time",
            "replication_key_value": mark,
        }
        for shop, mark in marks.items()
    ]
    return {"bookmarks": {"orders": {"partitions": partitions}, "statement_transactions": {}}}


def test_reshard_gives_each_new_shard_exactly_its_shops_bookmarks():
    reshard = _reshard_module()
    shops = [shop["id"] for shop in _shops(40)]
    marks = {shop: 1_700_000_000 + n for n, shop in enumerate(shops)}
    old = [
        _state({s: m for s, m in marks.items() if shard_of(s, 3) == index}) for index in range(3)
    ]
    merged = reshard.merge_states(old)
    carried: dict[str, int] = {}
    for index in range(5):
        state = reshard.state_of_shard(merged, Shard(index, 5))
        assert state["bookmarks"]["statement_transactions"] == {}
        partitions = state["bookmarks"]["orders"]["partitions"]
        assert all(shard_of(p["context"]["shop_id"], 5) == index for p in partitions)
        for partition in partitions:
            assert partition["context"]["shop_id"] not in carried
            carried[partition["context"]["shop_id"]] = partition["replication_key_value"]
    assert carried == marks
    whole = reshard.state_of_shard(merged, None)["bookmarks"]["orders"]["partitions"]
    assert len(whole) == len(shops)


def test_reshard_keeps_the_later_bookmark_of_a_shop_found_twice_and_names_the_state_ids():
    reshard = _reshard_module()
    merged = reshard.merge_states([_state({"1": 9, "2": 5}), _state({"1": 10}), _state({"1": 8})])
    assert {
        p["context"]["shop_id"]: p["replication_key_value"]
        for p in merged["bookmarks"]["orders"]["partitions"]
    } == {"1": 10, "2": 5}
    assert [state_id for state_id, _ in reshard.state_ids("prod", "job", 2)] == [
        "prod:job:shard-0-of-2",
        "prod:job:shard-1-of-2",
    ]
    assert reshard.state_ids("prod", "job", None) == [("prod:job", None)]
    with pytest.raises(reshard.ReshardError, match=r"bookmarks\.orders\.partitions: not a list"):
        reshard.merge_states([{"bookmarks": {"orders": {"partitions": {}}}}])
