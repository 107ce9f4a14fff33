"""Seeded analytics of every shop: daily figures that are revised, and a latest available day.

Each shop lives in its region's time zone (``TIME_ZONES``, the same defaults as the dbt
project's ``tiktok_shop_time_zones`` var, daylight saving included): its days are local calendar
days, and its ``latest_available_date`` starts as the local day before the data's end. Days
from ``analytics_days`` before it up to it hold data; earlier and later days hold none. Every
object has every field of its published shape (``shapes/analytics_*.json``). Figures are drawn
from (seed, shop, day, revision): ``revise`` gives a day new figures, as late refunds and
attribution do, and ``advance`` makes the next day available.
"""

from __future__ import annotations

import datetime
import random
import threading
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tiktok_shop_emulator.data import Shop, digits
from tiktok_shop_emulator.shapes import load_shape

ONE_DAY = datetime.timedelta(days=1)
#: The shop's time zone by region (transform/dbt_project.yml's var holds the same).
TIME_ZONES = {
    "US": "America/Los_Angeles",
    "GB": "Europe/London",
    "ID": "Asia/Jakarta",
    "MY": "Asia/Kuala_Lumpur",
    "SG": "Asia/Singapore",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "PH": "Asia/Manila",
}
#: Units of local currency per US dollar, for ``currency=USD``.
PER_USD = {
    "USD": Decimal(1),
    "GBP": Decimal("0.79"),
    "IDR": Decimal(15800),
    "MYR": Decimal("4.7"),
    "SGD": Decimal("1.35"),
    "THB": Decimal(36),
    "VND": Decimal(25000),
    "PHP": Decimal(57),
}
SHAPES = {
    "shop": "analytics_shop_performance_202509_interval",
    "products": "analytics_shop_product_performance_list_202605",
    "skus": "analytics_shop_sku_performance_list_202509",
    "videos": "analytics_shop_video_performance_list_202605",
    "lives": "analytics_shop_live_performance_list_202509",
}
_PERCENT_RATES = frozenset({"click_through_rate", "click_to_order_rate"})  # LIVE: "13.99%"
_CHANNELS = ("LIVE", "VIDEO", "PRODUCT_CARD")
#: Integer fields that name or describe an entity rather than count: never summed.
_IDENTITY = frozenset({"id", "product_id", "duration"})


def time_zone(shop: Shop) -> zoneinfo.ZoneInfo:
    """The shop's time zone (UTC for a region without one)."""
    return zoneinfo.ZoneInfo(TIME_ZONES.get(shop.region, "UTC"))


def local_day(moment: float, shop: Shop) -> datetime.date:
    """The shop's calendar day at unix time ``moment``."""
    return datetime.datetime.fromtimestamp(moment, tz=time_zone(shop)).date()


def _money(rng: random.Random, currency: str, top: int = 50_000) -> dict[str, str]:
    return {"amount": f"{rng.randrange(0, top * 100) / 100:.2f}", "currency": currency}


def _rate(rng: random.Random, name: str, percent: bool) -> str:
    value = rng.random() * 0.3
    return f"{value * 100:.2f}%" if percent else f"{value:.4f}"


def fill(
    shape: Any, rng: random.Random, currency: str, *, percent_rates: bool, name: str = ""
) -> Any:
    """A value of ``shape`` with drawn figures: counts, money, rates; arrays of 1 to 3."""
    if isinstance(shape, dict):
        if set(shape) == {"amount", "currency"}:
            return _money(rng, currency)
        return {
            key: fill(sub, rng, currency, percent_rates=percent_rates, name=key)
            for key, sub in shape.items()
        }
    if isinstance(shape, list):
        return [
            fill(shape[0], rng, currency, percent_rates=percent_rates, name=name)
            for _ in range(rng.randint(1, 3))
        ]
    if shape in ("integer", "boolean"):
        return rng.randrange(0, 2000) if shape == "integer" else rng.random() < 0.5
    if "rate" in name or name in {"ctr", "ctor", "unique_ctr"} or name.endswith("_ctr"):
        return _rate(rng, name, percent_rates and name in _PERCENT_RATES)
    return f"{name}-{rng.randrange(10**6)}"


class AnalyticsStore:
    """Every shop's analytics: the days with data, their revisions and the latest day."""

    def __init__(
        self,
        seed: int,
        data_until: float,
        days: int,
        shop_by_id: Callable[[str], Shop],
        *,
        product_ids: Callable[[Shop], list[str]],
    ) -> None:
        """Days with data end the local day before ``data_until`` (per shop)."""
        self._shop = shop_by_id
        self._seed = seed
        self._until = data_until
        self._days = max(1, days)
        self._product_ids = product_ids
        self._latest: dict[str, datetime.date] = {}
        self._first: dict[str, datetime.date] = {}
        self._revisions: dict[tuple[str, datetime.date], int] = {}
        self._shapes = {kind: load_shape(name) for kind, name in SHAPES.items()}
        self._lock = threading.Lock()

    def _span(self, shop: Shop) -> tuple[datetime.date, datetime.date]:
        with self._lock:
            if shop.id not in self._latest:
                latest = local_day(self._until, shop) - ONE_DAY
                self._latest[shop.id] = latest
                self._first[shop.id] = latest - ONE_DAY * (self._days - 1)
            return self._first[shop.id], self._latest[shop.id]

    def latest(self, shop: Shop) -> datetime.date:
        """The shop's ``latest_available_date``."""
        return self._span(shop)[1]

    def has_data(self, shop: Shop, day: datetime.date) -> bool:
        """Whether the day holds data (from the first day with data to the latest)."""
        first, latest = self._span(shop)
        return first <= day <= latest

    def revise(self, shop: Shop, days: list[datetime.date]) -> None:
        """Give these days new figures (the API revising recent days)."""
        with self._lock:
            for day in days:
                self._revisions[(shop.id, day)] = self._revisions.get((shop.id, day), 0) + 1

    def advance(self, shop: Shop, count: int = 1) -> datetime.date:
        """Make the next ``count`` days available; return the new latest day."""
        self._span(shop)
        with self._lock:
            self._latest[shop.id] += ONE_DAY * count
            return self._latest[shop.id]

    # By shop id, for tests and the admin endpoints ------------------------------------

    def latest_date(self, shop_id: str) -> str:
        """The shop's ``latest_available_date``."""
        return self.latest(self._shop(shop_id)).isoformat()

    def days_with_data(self, shop_id: str) -> list[str]:
        """Every day that holds data, oldest first."""
        first, latest = self._span(self._shop(shop_id))
        return [(first + ONE_DAY * n).isoformat() for n in range((latest - first).days + 1)]

    def revise_recent(self, shop_id: str, count: int) -> list[str]:
        """New figures for the shop's last ``count`` days; return those days."""
        shop = self._shop(shop_id)
        latest = self.latest(shop)
        days = [latest - ONE_DAY * n for n in range(count)]
        self.revise(shop, days)
        return sorted(day.isoformat() for day in days)

    def advance_day(self, shop_id: str, count: int = 1) -> str:
        """Make the shop's next ``count`` days available; return the new latest day."""
        return self.advance(self._shop(shop_id), count).isoformat()

    def expected(self, kind: str, shop_id: str, currency: str = "LOCAL") -> list[dict[str, Any]]:
        """Every row of one kind a client reading day by day gets, with ``date`` (not shop).

        ``shop``: the daily intervals (no ``date``: their ``start_date`` is the day).
        """
        shop = self._shop(shop_id)
        wanted = "USD" if currency == "USD" else shop.info.currency
        out = []
        for day in self.days_with_data(shop_id):
            for row in self.rows(kind, shop, datetime.date.fromisoformat(day), wanted):
                out.append(row if kind == "shop" else {**row, "date": day})
        return out

    def _rng(
        self, shop: Shop, day: datetime.date, kind: str, *, revised: bool = True
    ) -> random.Random:
        revision = self._revisions.get((shop.id, day), 0) if revised else 0
        return random.Random(f"analytics:{self._seed}:{shop.id}:{day}:{kind}:{revision}")  # noqa: S311

    def rows(
        self, kind: str, shop: Shop, day: datetime.date, currency: str
    ) -> list[dict[str, Any]]:
        """One day's rows of one kind (``shop``: its single interval), in ``currency``."""
        if not self.has_data(shop, day):
            return []
        make = {
            "shop": self._interval,
            "products": self._products,
            "skus": self._skus,
            "videos": self._videos,
            "lives": self._lives,
        }[kind]
        rows = make(shop, day, shop.info.currency)
        return [convert(row, currency) for row in rows] if currency == "USD" else rows

    def _interval(self, shop: Shop, day: datetime.date, currency: str) -> list[dict[str, Any]]:
        rng = self._rng(shop, day, "shop")
        interval = fill(self._shapes["shop"], rng, currency, percent_rates=False)
        interval["start_date"] = day.isoformat()
        interval["end_date"] = (day + ONE_DAY).isoformat()
        sales = interval["sales"]
        sales["gmv"]["breakdowns"] = [
            {"type": kind, "gmv": _money(rng, currency)} for kind in _CHANNELS
        ]
        shares = [rng.randrange(1, 100) for _ in _CHANNELS]
        sales["gross_revenue"]["breakdowns"] = [
            {"type": kind, "percentage": f"{share / sum(shares):.4f}"}
            for kind, share in zip(_CHANNELS, shares, strict=True)
        ]
        return [interval]

    def _products(self, shop: Shop, day: datetime.date, currency: str) -> list[dict[str, Any]]:
        rows = []
        for product_id in self._product_ids(shop):
            rng = self._rng(shop, day, f"product:{product_id}")
            row = fill(self._shapes["products"], rng, currency, percent_rates=False)
            row["id"] = product_id
            rows.append(row)
        return rows

    def _skus(self, shop: Shop, day: datetime.date, currency: str) -> list[dict[str, Any]]:
        rows = []
        for sku in shop.catalogue:
            rng = self._rng(shop, day, f"sku:{sku.sku_id}")
            row = fill(self._shapes["skus"], rng, currency, percent_rates=False)
            row.update(id=int(sku.sku_id), product_id=int(sku.product_id))
            rows.append(row)
        return rows

    def _video_ids(self, shop: Shop) -> list[tuple[str, datetime.date]]:
        """The shop's videos and their post days: about one every three days."""
        first, _ = self._span(shop)
        rng = random.Random(f"analytics:{self._seed}:{shop.id}:videos")  # noqa: S311
        count = max(2, self._days // 3)
        return [
            (digits(rng, "7301", 19), first + ONE_DAY * rng.randrange(self._days))
            for _ in range(count)
        ]

    def _videos(self, shop: Shop, day: datetime.date, currency: str) -> list[dict[str, Any]]:
        rows = []
        for video_id, posted in self._video_ids(shop):
            if posted > day:
                continue
            rng = self._rng(shop, day, f"video:{video_id}")
            row = fill(self._shapes["videos"], rng, currency, percent_rates=False)
            name = random.Random(video_id)  # noqa: S311 - stable per video
            row.update(
                id=video_id,
                title=f"Video {video_id[-4:]}",
                duration=name.randrange(8, 90),
                video_post_time=f"{posted.isoformat()} {name.randrange(24):02d}:"
                f"{name.randrange(60):02d}:00",
                username=f"creator{name.randrange(100)}",
                hash_tags=["tiktokshop", f"deal{name.randrange(9)}"],
            )
            row["creator"].update(
                open_id=f"{name.getrandbits(60):x}",
                author_type="OFFICIAL",
                creator_country=shop.region,
                user_name=row["username"],
            )
            rows.append(row)
        return rows

    def _lives(self, shop: Shop, day: datetime.date, currency: str) -> list[dict[str, Any]]:
        sessions = self._rng(shop, day, "lives", revised=False)
        midnight = int(
            datetime.datetime.combine(day, datetime.time(), tzinfo=time_zone(shop)).timestamp()
        )
        rows = []
        for number in range(sessions.randrange(0, 3)):
            session_id = digits(sessions, "7402", 19)
            start = midnight + sessions.randrange(6 * 3600, 20 * 3600)
            end = start + sessions.randrange(1800, 4 * 3600)
            rng = self._rng(shop, day, f"live:{number}")
            row = fill(self._shapes["lives"], rng, currency, percent_rates=True)
            row.update(
                id=session_id,
                title=f"LIVE {day.isoformat()} #{number + 1}",
                start_time=str(start),
                end_time=str(end),
                username=f"{shop.code.lower()}",
            )
            row["interaction_performance"]["avg_viewing_duration"] = str(rng.randrange(10, 400))
            rows.append(row)
        return rows


def convert(value: Any, currency: str) -> Any:
    """A copy of ``value`` with every money object converted to ``currency`` (USD)."""
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"} and value["currency"] != currency:
            amount = Decimal(value["amount"]) / PER_USD.get(value["currency"], Decimal(1))
            return {"amount": f"{amount:.2f}", "currency": currency}
        return {key: convert(sub, currency) for key, sub in value.items()}
    if isinstance(value, list):
        return [convert(item, currency) for item in value]
    return value


def merge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One entity's figures over several days: counts and money summed, the rest the last day's.

    The list endpoints have no granularity: a row covers the whole requested range.
    """

    def combine(values: list[Any], name: str = "") -> Any:
        last = values[-1]
        if isinstance(last, dict):
            if set(last) == {"amount", "currency"}:
                total = sum(Decimal(v["amount"]) for v in values)
                return {"amount": f"{total:.2f}", "currency": last["currency"]}
            return {key: combine([v[key] for v in values if key in v], key) for key in last}
        if isinstance(last, int) and not isinstance(last, bool) and name not in _IDENTITY:
            return sum(values)
        return last

    merged: dict[str, Any] = combine(rows)
    return merged
