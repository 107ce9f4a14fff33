"""The emulator's analytics endpoints: strict parameters, documented errors, full shapes."""

from __future__ import annotations

import datetime
import typing as t

import pytest
import yaml

from tests.conftest import REPO
from tests.test_emulator import Client
from tiktok_shop_emulator import Emulator
from tiktok_shop_emulator.analytics_data import TIME_ZONES
from tiktok_shop_emulator.shapes import load_shape, mismatches

SHOP = "/analytics/202509/shop/performance"
PRODUCTS = "/analytics/202605/shop_products/performance"
SKUS = "/analytics/202509/shop_skus/performance"
VIDEOS = "/analytics/202605/shop_videos/performance"
LIVES = "/analytics/202509/shop_lives/performance"
#: path -> (list path inside data, shape file)
LISTS = {
    PRODUCTS: (("products",), "analytics_shop_product_performance_list_202605"),
    SKUS: (("skus",), "analytics_shop_sku_performance_list_202509"),
    VIDEOS: (("videos",), "analytics_shop_video_performance_list_202605"),
    LIVES: (("live_stream_sessions",), "analytics_shop_live_performance_list_202509"),
    SHOP: (("performance", "intervals"), "analytics_shop_performance_202509_interval"),
}
BAD_DATES = "invalid request params; detail: start time or end time is invalid."


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=1, orders_per_shop=10, seed=3, analytics_days=10)


def _ask(emu: Emulator, path: str, first: str, end: str, **params: str) -> dict[str, t.Any]:
    query = {
        "shop_cipher": str(emu.shops()[0]["cipher"]),
        "start_date_ge": first,
        "end_date_lt": end,
        **params,
    }
    answer: dict[str, t.Any] = Client(emu).call("GET", path, query, None).json()
    return answer


def _latest(emu: Emulator) -> datetime.date:
    return datetime.date.fromisoformat(emu.analytics.latest_date(str(emu.shops()[0]["id"])))


def _items(answer: dict[str, t.Any], path: str) -> list[dict[str, t.Any]]:
    node: t.Any = answer["data"]
    for name in LISTS[path][0]:
        node = node[name]
    return t.cast("list[dict[str, t.Any]]", node)


@pytest.mark.parametrize("path", list(LISTS))
def test_every_object_has_its_full_published_shape(emu, path):
    latest = _latest(emu)
    params = {"granularity": "1D"} if path == SHOP else {"page_size": "100"}
    items: list[dict[str, t.Any]] = []
    for back in range(5):  # LIVE sessions are not on every day
        day = latest - datetime.timedelta(days=back)
        answer = _ask(
            emu, path, day.isoformat(), (day + datetime.timedelta(days=1)).isoformat(), **params
        )
        assert answer["code"] == 0, answer
        assert answer["data"]["latest_available_date"] == latest.isoformat()
        items += _items(answer, path)
    assert items
    shape = load_shape(LISTS[path][1])
    for item in items:
        assert mismatches(item, shape) == []


@pytest.mark.parametrize(
    ("first", "end"),
    [
        ("2025-13-01", "2025-13-02"),
        ("2025-01-02", "2025-01-02"),
        ("2025-01-03", "2025-01-02"),
        ("20250101", "20250102"),
    ],
)
def test_bad_or_reversed_dates_answer_28001022(emu, first, end):
    answer = _ask(emu, PRODUCTS, first, end)
    assert (answer["code"], answer["message"]) == (28001022, BAD_DATES)


def test_a_video_range_over_60_days_is_refused_with_the_documented_words(emu):
    answer = _ask(emu, VIDEOS, "2025-01-01", "2025-03-03")
    assert answer["code"] == 28001022
    assert answer["message"] == "invalid request params; detail:date range cannot exceed 60 days"
    assert _ask(emu, VIDEOS, "2025-01-01", "2025-03-02")["code"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (PRODUCTS, {"page_size": "101"}),
        (PRODUCTS, {"with_comparison": "true"}),
        (PRODUCTS, {"currency": "GBP"}),
        (SKUS, {"sort_field": "views"}),
        (VIDEOS, {"account_type": "MINE"}),
        (SHOP, {"page_size": "10"}),
        (SHOP, {"granularity": "1W"}),
        (LIVES, {"sort_order": "UP"}),
    ],
)
def test_parameters_outside_the_pinned_version_are_refused(emu, path, params):
    latest = _latest(emu).isoformat()
    end = (_latest(emu) + datetime.timedelta(days=1)).isoformat()
    assert _ask(emu, path, latest, end, **params)["code"] == 28001022


def test_no_day_after_latest_available_date_holds_data(emu):
    after = _latest(emu) + datetime.timedelta(days=1)
    answer = _ask(
        emu,
        PRODUCTS,
        after.isoformat(),
        (after + datetime.timedelta(days=3)).isoformat(),
        page_size="100",
    )
    assert answer["code"] == 0
    assert answer["data"]["products"] == []
    shop = _ask(
        emu,
        SHOP,
        after.isoformat(),
        (after + datetime.timedelta(days=1)).isoformat(),
        granularity="1D",
    )
    assert shop["data"]["performance"]["intervals"] == []


def test_list_rows_cover_the_whole_range_and_pages_default_to_10(emu):
    latest = _latest(emu)
    first = latest - datetime.timedelta(days=1)
    end = (latest + datetime.timedelta(days=1)).isoformat()
    two_days = _ask(emu, SKUS, first.isoformat(), end, page_size="100")["data"]["skus"]
    one = {
        r["id"]: r
        for r in _ask(emu, SKUS, first.isoformat(), latest.isoformat(), page_size="100")["data"][
            "skus"
        ]
    }
    other = {
        r["id"]: r
        for r in _ask(emu, SKUS, latest.isoformat(), end, page_size="100")["data"]["skus"]
    }
    for row in two_days:
        assert row["units_sold"] == one[row["id"]]["units_sold"] + other[row["id"]]["units_sold"]
    default = _ask(emu, SKUS, first.isoformat(), end)["data"]
    assert len(default["skus"]) == 10
    assert default["next_page_token"]
    assert default["total_count"] == len(two_days)


def test_revised_days_change_and_a_new_day_becomes_available(emu):
    shop_id = str(emu.shops()[0]["id"])
    latest = _latest(emu)
    day, end = latest.isoformat(), (latest + datetime.timedelta(days=1)).isoformat()
    before = _ask(emu, SHOP, day, end, granularity="1D")["data"]["performance"]["intervals"]
    assert emu.analytics.revise_recent(shop_id, 1) == [day]
    after = _ask(emu, SHOP, day, end, granularity="1D")["data"]["performance"]["intervals"]
    assert before != after
    assert emu.analytics.advance_day(shop_id) == end
    answer = _ask(
        emu, SHOP, end, (latest + datetime.timedelta(days=2)).isoformat(), granularity="1D"
    )
    assert answer["data"]["latest_available_date"] == end
    assert len(answer["data"]["performance"]["intervals"]) == 1


def test_the_emulators_shop_time_zones_are_the_dbt_projects():
    """The marts on shop days and the emulator's analytics days use the same zone per region."""
    project = yaml.safe_load((REPO / "transform" / "dbt_project.yml").read_text())
    assert project["vars"]["tiktok_shop_time_zones"] == TIME_ZONES
    assert project["vars"]["tiktok_shop_default_time_zone"] == "UTC"
