"""Per-shop streams read by calendar day of the shop, bookmarked on the last day read.

A stream here asks for ``[first, last]`` days in requests of ``days_per_request`` days
(``start_date_ge`` inclusive, ``end_date_lt`` exclusive) and learns the shop's
``latest_available_date`` from every answer (``days.ShopCalendar``): it never reads past that
day. Until an answer has told it, it asks one day at a time, the first request placed by the
clock and later ones stopped at ``clock_stop``; that first answer settles a first sync's first
day. Once the read reached the shop's latest day, the bookmark becomes that day (not the
greatest date of a record: a day without records was read too); the next run re-reads the
lookback days ending there, then every new day (see days.py for the range).

Why not the time windows of ``incremental.py``: those are unix seconds with a frozen end taken
from this machine's clock, while these APIs speak in days of a time zone nobody reports.

A shop's read is fetched ahead on the prefetcher like the other shop streams (``prefetch.py``):
its requests run on a worker as a sequence of items (each request's days, then its pages, last
the day read through), which the consumer turns into records and the bookmark, so what is
emitted and bookmarked is what a read in place gives. The records' check against the latest day
uses the date known when they are emitted, which is never earlier than at their answer.

An answer ``28001022`` (invalid parameters) before the read found any data means a window
before the shop had data: nothing there, not a failure. Later in a read it ends the shop's read
like any shop failure (``per_shop.py``): the bookmark stays, the other shops go on.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
import typing as t
from urllib.parse import parse_qs, urlsplit

from typing_extensions import override

from tap_tiktok_shop.days import (
    ONE_DAY,
    Day,
    DayRange,
    ReadThrough,
    ShopCalendar,
    clock_stop,
    first_day,
    parse_day,
    utc_day,
)
from tap_tiktok_shop.errors import (
    Action,
    ConfigurationError,
    InvalidRequestWindowError,
    NoRelatedDataError,
    ScopeMissingError,
    TikTokShopAPIError,
    TransientAPIError,
    Verdict,
)
from tap_tiktok_shop.outcome import PROGRESS_MARKERS
from tap_tiktok_shop.pagination import Page, parse_exact
from tap_tiktok_shop.per_shop import PerShopStream
from tap_tiktok_shop.window_reads import ShopFailed

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

    from tap_tiktok_shop.ratelimit import RateLimiter

#: Context key holding the days of one request (never part of state).
DAYS_KEY = "_days"
#: Attribute of a response holding its fully parsed envelope (ids parsed exactly).
PARSED_ATTR = "_day_read_envelope"
#: The HTTP status one client saw before the package was approved; treated like ``105005``.
FORBIDDEN = 403


class DayGrainedStream(PerShopStream):
    """A shop stream read in whole days of the shop, up to its ``latest_available_date``."""

    is_sorted = False  # the bookmark is set at the end of a shop's read (module docstring)
    #: How many days one request covers (list endpoints: 1, their rows cover the range).
    days_per_request: t.ClassVar[int] = 1
    #: Path of the record list inside ``data`` (e.g. ``("performance", "intervals")``).
    records_path: t.ClassVar[tuple[str, ...]]
    #: Settings: days re-read before the bookmark, and days of a first sync's history.
    lookback_setting: t.ClassVar[str]
    history_setting: t.ClassVar[str]
    #: Query parameters sent on every request besides days, paging and the shop.
    fixed_params: t.ClassVar[dict[str, str]] = {}
    #: Whether the endpoint pages (``page_size``, ``page_token``).
    paged: t.ClassVar[bool] = True

    @property
    @override
    def records_key(self) -> str:  # type: ignore[override]
        """The list's name, for messages."""
        return ".".join(self.records_path)

    @property
    def calendar(self) -> ShopCalendar:
        """The shops' latest days, shared by every day-grained stream of the run."""
        return self.tiktok_tap.shop_calendar

    @property
    @override
    def pacer(self) -> RateLimiter:
        """These endpoints have their own, lower pace (``analytics_requests_per_second``)."""
        return self.tiktok_tap.analytics_rate_limiter

    @override
    def pace_key(self, context: Context | None) -> tuple[t.Any, ...]:
        """One lane per shop for all of these endpoints: the quota is per shop."""
        return ((context or {}).get("shop_id"), "analytics")

    @override
    def query_params(self, context: Context | None) -> dict[str, str]:
        """The days of the request, the currency, paging and the endpoint's fixed values."""
        days: DayRange = (context or {})[DAYS_KEY]
        params = {
            "start_date_ge": days.first.isoformat(),
            "end_date_lt": (days.last + ONE_DAY).isoformat(),
            "currency": str(self.config["analytics_currency"]),
            **self.fixed_params,
        }
        if self.paged:
            params["page_size"] = "100"  # the documented maximum (the default is 10)
        return params

    @override
    def get_new_paginator(self) -> t.Any:
        """Single answers for endpoints that do not page."""
        return super().get_new_paginator() if self.paged else None

    # Answers ---------------------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Classify; then parse the body exactly once and learn the shop's latest day.

        A 403 is taken for a missing package (one client saw it before approval); a first page
        that counts records but lists none (seen during batch runs) is retried.
        """
        try:
            super().validate_response(response)
        except TikTokShopAPIError as exc:
            verdict = exc.verdict
            if verdict is not None and verdict.status == FORBIDDEN:
                raise ScopeMissingError(str(exc), verdict) from None
            raise
        envelope = parse_exact(response.content)
        setattr(response, PARSED_ATTR, envelope)
        data = envelope.get("data") if isinstance(envelope, dict) else None
        data = data if isinstance(data, dict) else {}
        shop_id = self._shop_of(response)
        if shop_id is not None:
            try:
                self.calendar.learn(shop_id, data.get("latest_available_date"), self.path)
            except ConfigurationError as exc:
                raise TikTokShopAPIError(str(exc)) from None
        total = data.get("total_count")
        first_page = "page_token" not in parse_qs(urlsplit(response.request.url or "").query)
        counted = self.paged and first_page and isinstance(total, int) and total > 0
        if counted and not self._records_in(envelope):
            verdict = Verdict(Action.RETRY, response.status_code, 0, "empty first page")
            raise TransientAPIError(
                f"{self.describe_request(response)}: total_count {total} but no record "
                "on the first page",
                verdict,
                response,
            )

    def _shop_of(self, response: requests.Response) -> str | None:
        ciphers = parse_qs(urlsplit(response.request.url or "").query).get("shop_cipher")
        return self.tiktok_tap.shops.shop_id_for_cipher(ciphers[0]) if ciphers else None

    def _records_in(self, envelope: t.Any) -> list[dict[str, t.Any]]:
        """The records under ``records_path`` (none when absent); refuse other shapes."""
        node = envelope.get("data") if isinstance(envelope, dict) else None
        for name in self.records_path:
            node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            return []
        if not isinstance(node, list) or not all(isinstance(row, dict) for row in node):
            msg = f"{self.path}: data.{self.records_key} in the answer is not a list of objects"
            raise TikTokShopAPIError(msg)
        return node

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        """The records of a page, from the body parsed in ``validate_response``."""
        envelope = getattr(response, PARSED_ATTR, None)
        if envelope is None:
            envelope = parse_exact(response.content)
        yield from self._records_in(envelope)

    @override
    def records_of_raw_page(self, raw: bytes) -> list[dict[str, t.Any]]:
        """The records of a page body (ids parsed exactly)."""
        return self._records_in(parse_exact(raw))

    # Reading ---------------------------------------------------------------------------

    def bookmark(self, context: Context | None) -> datetime.date | None:
        """The last day read for the shop, from state.

        Raises:
            ConfigurationError: when the state holds something else than a date.
        """
        state = self.get_context_state(context)
        if state.get("replication_key") != self.replication_key:
            return None
        value = state.get("replication_key_value")
        if value is None:
            return None
        shop_id = (context or {}).get("shop_id")
        return parse_day(value, f"state: the {self.name} bookmark of shop {shop_id}")

    def _setting_days(self) -> tuple[datetime.date | None, datetime.date | None]:
        """``start_date``'s day, and the last day ``end_date`` lets a read reach (UTC days)."""
        start = self.tiktok_tap.start_timestamp
        first = None if start is None else utc_day(start)
        last = None
        if self.config.get("end_date"):
            last = utc_day(self.tiktok_tap.sync_end) - ONE_DAY
        return first, last

    @override
    def start_read_ahead(self, context: Context, order: int) -> None:
        """Queue this shop's read on the prefetcher (``prefetch.py``), paced in its shop's lane.

        At the analytics pace (about 1 request per second per shop) a shop's first sync takes
        minutes; the pace is per shop, so the shops are read at once, up to ``parallel_reads``
        and within ``read_ahead_mb``, while their records are still emitted shop by shop.
        """
        if self.tiktok_tap.scopes.missing(self.required_scope):
            return
        bookmark = self.bookmark(context)  # state is read here, on the SDK's thread
        prober = self.tiktok_tap.scopes.claim_probe(self.required_scope)
        self.tiktok_tap.prefetcher.submit(
            self._read_key(context),
            (order,),
            lambda: self.isolated(
                self.gated(lambda: self._requests(context, bookmark), prober=prober)
            ),
            self.records_of_raw_page,
            lane=self.pace_key(context),  # every request of the read waits for this pace
        )

    def _read_key(self, context: Context | None) -> tuple[str, str]:
        return (self.name, str((context or {})["shop_id"]))

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Read the shop's days up to its latest day (fetched ahead, or in place); bookmark."""
        prefetcher = self.tiktok_tap.prefetcher
        key = self._read_key(context)
        items: Iterable[object]
        if prefetcher.has(key):
            self.log("Reading %s for shop %s (fetched ahead)", self.name, key[1])
            items = prefetcher.consume(key)
        else:
            items = self._requests(context or {}, self.bookmark(context))
        shop_id = key[1]
        days: DayRange | None = None
        seen: set[tuple[t.Any, ...]] = set()
        for item in items:
            if isinstance(item, Page):
                rows: Iterable[object] = item.records
            elif isinstance(item, ShopFailed):
                raise item.error
            elif isinstance(item, DayRange):  # the next request's days: its rows follow
                days, seen = item, set()
                continue
            elif isinstance(item, ReadThrough):
                self._finish(context, shop_id, item.first, item.last)
                continue
            else:
                rows = (item,)
            assert days is not None  # a request's days come before its rows
            yield from self._records(
                t.cast("Iterable[dict[str, t.Any]]", rows), days, seen, shop_id
            )

    def _requests(
        self, context: Context, bookmark: Day | None
    ) -> Iterator[DayRange | Page | ReadThrough]:
        """The shop's requests, oldest day first, as items (see the module docstring).

        Each request's days, then its pages; last, the days read through (``ReadThrough``).
        Runs on a prefetch worker when the read is fetched ahead: it never touches state
        (``bookmark`` was read before).
        """
        shop_id = str(context["shop_id"])
        start_day, end_day = self._setting_days()
        stop = clock_stop(time.time())
        first_from = functools.partial(
            first_day,
            bookmark=bookmark,
            start_date=start_day,
            lookback_days=int(self.config[self.lookback_setting]),
            history_days=int(self.config[self.history_setting]),
        )
        # A first sync's default history ends at the shop's latest day. Until an answer has
        # told it, the first request is placed by the clock; its answer then settles the
        # first day, and if that differs the request's rows are dropped and the read starts
        # there (one request more, so every run covers the same days whatever answered first).
        unsettled = bookmark is None and start_day is None
        first = first_from(reference=self.calendar.latest(shop_id) or stop)
        unsettled = unsettled and self.calendar.latest(shop_id) is None
        found = restart = asked = False
        day = first
        read_through: Day | None = None
        while True:
            latest = self.calendar.latest(shop_id)
            # Before any answer the clock's stop bounds the read, but the first request is
            # always sent: a day after the shop's latest answers an empty list and the date.
            last = latest or (stop if asked else max(stop, day))
            if end_day is not None:
                last = min(last, end_day)
            if day > last:
                break
            size = self.days_per_request if latest is not None else 1
            days = DayRange(day, min(day + ONE_DAY * (size - 1), last))
            try:
                for index, page in enumerate(self.iter_pages({**context, DAYS_KEY: days})):
                    known = self.calendar.latest(shop_id)
                    if unsettled and known is not None:
                        unsettled = False
                        restart = first_from(reference=known) != first
                        if restart:
                            first = day = first_from(reference=known)
                            break
                    if index == 0:  # once answered (the scope gate settles on a first item)
                        yield days
                    found = found or bool(page.records)
                    yield page
            except (InvalidRequestWindowError, NoRelatedDataError) as exc:
                if found and isinstance(exc, InvalidRequestWindowError):
                    raise
                self.log(
                    "Shop %s: no %s data for %s..%s (%s)",
                    shop_id,
                    self.name,
                    days.first,
                    days.last,
                    exc.verdict.code if exc.verdict else "?",
                )
            asked, unsettled = True, False  # only the first answer may move the first day
            if restart:
                restart = False
                continue
            read_through = days.last
            day = days.last + ONE_DAY
        yield ReadThrough(first, read_through)

    def _records(
        self,
        rows: Iterable[dict[str, t.Any]],
        days: DayRange,
        seen: set[tuple[t.Any, ...]],
        shop_id: str,
    ) -> Iterator[dict[str, t.Any]]:
        """The records of one request's rows, each key once, none after the latest day."""
        latest = self.calendar.latest(shop_id)
        for row in rows:
            record = self.shape_record(row, shop_id, days)
            if record is None:
                continue
            day = record.get(str(self.replication_key))
            if latest is not None and isinstance(day, str) and day > latest.isoformat():
                continue  # never a day the API does not call available
            key = tuple(record.get(name) for name in self.primary_keys)
            if key in seen:
                continue
            seen.add(key)
            yield record

    def shape_record(
        self, row: dict[str, t.Any], shop_id: str, days: DayRange
    ) -> dict[str, t.Any] | None:
        """The record of one answered row: the row with its shop and day (list endpoints)."""
        return {**row, "shop_id": shop_id, "date": days.first.isoformat()}

    def _finish(
        self,
        context: Context | None,
        shop_id: str,
        first: datetime.date,
        read_through: datetime.date | None,
    ) -> None:
        """Bookmark the last day read, when the API told which day is the latest."""
        state = self.get_context_state(context)
        latest = self.calendar.latest(shop_id)
        if latest is None or read_through is None:
            if read_through is not None:
                self.log(
                    "Shop %s: no %s answer carried latest_available_date (%s..%s read); the "
                    "bookmark stays",
                    shop_id,
                    self.name,
                    first,
                    read_through,
                    level=logging.WARNING,
                )
            return
        state.pop(PROGRESS_MARKERS, None)  # the bookmark is the day read through, set here
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = min(read_through, latest).isoformat()
