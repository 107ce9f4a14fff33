"""Shared machinery for per-shop incremental streams: time windows per shop, read in parallel.

Why bookmarks move only at window boundaries: the APIs either sort by time but may return a
record whose time was refreshed past the filter while the search ran (orders, returns), or do
not sort at all (products), so the greatest value seen is not a safe resume point mid-window.
The streams are declared unsorted: the SDK keeps the running maximum as a progress marker and
promotes it to the bookmark when the shop's partition finishes, capped by the signpost at the
run's frozen ``end``. A shop read split into windows (see ``_planned``) also moves its bookmark
after each window, to the greatest value emitted capped at that window's end, and writes STATE.
A run that dies midway never leaves a bookmark past a record that was not emitted.

Endpoints differ in how a window is sent: the time field's name, JSON body (POST searches)
or query string (finance GETs), and an exclusive (``_lt``) or inclusive (``_le``) upper bound.
Subclasses declare those as class attributes; the requests are built here, once.
"""

from __future__ import annotations

import functools
import itertools
import logging
import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_tiktok_shop.child_reads import ChildReads
from tap_tiktok_shop.errors import PageTokenError, ResultCapError
from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.per_shop import PerShopStream
from tap_tiktok_shop.window_reads import (
    ShopFailed,
    once_per_window,
    pages_restarting_once,
)
from tap_tiktok_shop.windows import WINDOW_KEY, Window, bookmark_value, read_window

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

    from tap_tiktok_shop.tap import TapTikTokShop
    from tap_tiktok_shop.window_reads import Restart

#: A read's key: the stream name and shop id, then window indexes of split reads.
ReadKey = tuple[t.Any, ...]
#: A read is split only when it holds more than this many times ``pages_per_window`` pages.
SPLIT_SLACK = 1.5
#: At most this many windows per split.
MAX_WINDOWS = 256


@dataclass(frozen=True)
class Plan:
    """A read split into consecutive windows, each its own read, consumed in this order."""

    windows: tuple[Window, ...]
    keys: tuple[ReadKey, ...]


class _Highest:
    """The greatest replication value emitted so far in one shop's read."""

    def __init__(self) -> None:
        self.value: int | None = None

    def see(self, value: object) -> None:
        if isinstance(value, int) and (self.value is None or value > self.value):
            self.value = value


class ShopIncrementalStream(PerShopStream):
    """A shop-partitioned stream read over a time window and bookmarked per shop."""

    is_sorted = False  # see the module docstring
    #: Prefix of the endpoint's time filters (``<field>_ge``...); default: the replication key.
    time_filter_field: t.ClassVar[str | None] = None
    #: Whether the time filters go in the JSON body (POST searches) or the query string (GETs).
    filters_in_body: t.ClassVar[bool] = True
    #: Whether the endpoint's upper time bound is inclusive (``_le``) rather than ``_lt``.
    inclusive_upper_bound: t.ClassVar[bool] = False
    #: The field to sort by (always ascending), or None when the endpoint offers no sort.
    sort_field: t.ClassVar[str | None] = None
    #: Query parameters the endpoint requires beyond paging, sort and time filters.
    fixed_params: t.ClassVar[Mapping[str, str]] = {}
    #: The setting that says how far before the bookmark to re-read, and its unit in seconds.
    lookback_setting: t.ClassVar[tuple[str, int]] = ("lookback_minutes", 60)
    #: The most results one search may page through (products: 10,000), or None.
    result_cap: t.ClassVar[int | None] = None
    #: The widest range one request may ask for (affiliate orders: three months), or None.
    max_window_seconds: t.ClassVar[int | None] = None
    #: Without ``start_date`` or a bookmark, read this far back (setting, unit in seconds);
    #: None: the shop's whole history.
    history_setting: t.ClassVar[tuple[str, int] | None] = None

    def __init__(self, tap: TapTikTokShop) -> None:
        """Create the stream; no read has failed yet."""
        super().__init__(tap)
        #: (stream, shop) of reads that failed for their shop (added from worker threads).
        self._failed_reads: set[ReadKey] = set()
        #: Child reads (statement transactions) submitted as this stream's pages arrive.
        self._child_reads = ChildReads(self)

    @property
    def filter_field(self) -> str:
        """The name the endpoint's time filters start with."""
        return self.time_filter_field or str(self.replication_key)

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> int:
        """Never let a bookmark pass the run's frozen end."""
        return self.tiktok_tap.sync_end

    def read_window_for(self, context: Context | None) -> Window:
        """The shop's read window, from its bookmark in state and the settings."""
        shop_id = str((context or {})["shop_id"])
        state = self.get_context_state(context)
        bookmark = None
        if state.get("replication_key") == self.replication_key:
            bookmark = bookmark_value(shop_id, state.get("replication_key_value"))
        setting, unit = self.lookback_setting
        start_date = self.tiktok_tap.start_timestamp
        if start_date is None and bookmark is None and self.history_setting is not None:
            history, history_unit = self.history_setting
            start_date = self.tiktok_tap.sync_end - int(self.config[history]) * history_unit
        return read_window(
            bookmark=bookmark,
            start_date=start_date,
            lookback_seconds=int(self.config[setting]) * unit,
            end=self.tiktok_tap.sync_end,
        )

    def window_of(self, context: Context | None) -> Window:
        """The window a request belongs to (carried in the request's context)."""
        start, end = (context or {})[WINDOW_KEY]
        return Window(start=start, end=end)

    def time_filters(self, context: Context | None) -> dict[str, int]:
        """The window as the endpoint's filters: ``_ge`` inclusive, then ``_lt`` or ``_le``."""
        window = self.window_of(context)
        field = self.filter_field
        if self.inclusive_upper_bound:  # same range in whole seconds: t <= end - 1
            return {f"{field}_ge": window.start, f"{field}_le": window.end - 1}
        return {f"{field}_ge": window.start, f"{field}_lt": window.end}

    @override
    def query_params(self, context: Context | None) -> dict[str, str]:
        """Page size, sort (always sent: defaults differ per endpoint) and GET filters."""
        params = {"page_size": str(self.page_size), **self.fixed_params}
        if self.sort_field:
            params.update(sort_field=self.sort_field, sort_order="ASC")
        if not self.filters_in_body:
            params.update({key: str(value) for key, value in self.time_filters(context).items()})
        return params

    @override
    def request_body(self, context: Context | None) -> dict[str, t.Any] | None:
        """The time filters, for endpoints that take them in a JSON body."""
        return self.time_filters(context) if self.filters_in_body else None

    @override
    def check_page(self, envelope: dict[str, t.Any]) -> None:
        """Refuse a page whose search matches more than ``result_cap``: split its window."""
        data = envelope.get("data")
        total = data.get("total_count") if isinstance(data, dict) else None
        if self.result_cap is not None and isinstance(total, int) and total > self.result_cap:
            msg = f"{self.path}: {total} records match; one search reads at most {self.result_cap}"
            raise ResultCapError(msg)

    def _read_key(self, context: Context | None) -> ReadKey:
        return (self.name, str((context or {})["shop_id"]))

    def _parts(self, total: int | None, window: Window) -> int:
        """How many windows a read of ``total`` records should be cut into (1: no split)."""
        per_window = self.page_size * int(self.config["pages_per_window"])
        if total is None:
            return 1
        parts = 1 if total <= per_window * SPLIT_SLACK else -(-total // per_window)
        if self.result_cap is not None and total > self.result_cap:
            parts = max(parts, 2)  # the search could not page through all of it
        return min(parts, MAX_WINDOWS, window.end - window.start)

    @override
    def start_read_ahead(self, context: Context, order: int) -> None:
        """Queue this shop's read on the prefetcher; its window is fixed now, from state."""
        if self.tiktok_tap.scopes.missing(self.required_scope):
            return
        window = self.read_window_for(context)
        if window.empty:
            return
        key = self._read_key(context)
        prober = self.tiktok_tap.scopes.claim_probe(self.required_scope)
        self.tiktok_tap.prefetcher.submit(
            key,
            (order,),
            lambda: self._isolated(key, self._gated(context, window, key, (order,), prober=prober)),
            self.records_of_raw_page,
        )

    def _gated(
        self,
        context: Context,
        window: Window,
        key: ReadKey,
        order: tuple[int, ...],
        *,
        prober: bool,
    ) -> Iterator[Page | Plan | Restart]:
        """A shop's read-ahead; only the first read of a scope runs before it is known."""
        return self.gated(lambda: self._planned(context, window, key, order), prober=prober)

    def _isolated(
        self, key: ReadKey, items: Iterable[Page | Plan | Restart]
    ) -> Iterator[Page | Plan | Restart | ShopFailed]:
        """A read's items, a failure of this shop ending them (``PerShopStream.isolated``).

        The shop's other windows not started yet are then not read at all (``_planned``).
        """
        return self.isolated(items, lambda: self._failed_reads.add(key[:2]))

    def _window_pages(
        self, context: Context, window: Window
    ) -> Generator[Page | Restart, None, None]:
        """The pages of one window, read again from its first page once if a token is refused."""
        shop_id = context["shop_id"]

        def restarting(error: PageTokenError) -> None:
            self.log(
                "Shop %s: the API refused the page token of %s window [%d, %d) (%s); reading "
                "the window again from its first page, without emitting a record twice",
                shop_id,
                self.name,
                window.start,
                window.end,
                error,
                level=logging.WARNING,
            )

        return pages_restarting_once(
            lambda: self.iter_pages({**context, WINDOW_KEY: (window.start, window.end)}),
            restarting,
        )

    def _identity(self, record: dict[str, t.Any]) -> tuple[t.Any, ...]:
        """A record version: its primary key and replication value."""
        return (
            *(record.get(key) for key in self.primary_keys),
            record.get(str(self.replication_key)),
        )

    def _planned(
        self, context: Context, window: Window, key: ReadKey, order: tuple[int, ...]
    ) -> Iterator[Page | Plan | Restart]:
        """Read a window, or split it into windows read in parallel.

        The first page's ``total_count`` says how many pages the window holds; a window found
        larger than expected is split again, the same way, when its own read starts.
        """
        if key[:2] in self._failed_reads:
            return  # another window of this shop failed: the shop's read has ended
        chunks = window.chunks(self.max_window_seconds)
        if len(chunks) > 1:  # wider than one request may ask: one read per chunk
            yield self._split(context, chunks, key, order, "the API's widest range")
            return
        pages = self._window_pages(context, window)
        try:
            first = next(pages, None)
            if first is None:
                return
            assert isinstance(first, Page)  # a restart comes only after a page
            parts = self._parts(first.total_count, window)
            if parts > 1:
                pages.close()
                if self.sort_field == self.replication_key and first.records:
                    # Sorted ascending: nothing lies before the first record; split from there.
                    earliest = first.records[0].get(str(self.replication_key))
                    if isinstance(earliest, int) and window.start < earliest < window.end:
                        window = Window(earliest, window.end)
                yield self._split(
                    context, window.split(parts), key, order, f"{first.total_count} records"
                )
                return
            yield from self._child_reads.ahead(context, itertools.chain((first,), pages), order)
        except ResultCapError:
            # The search hit the API's result cap (products): read the window as two halves
            # (records already emitted from it come again; a target merges them on the key).
            halves = window.halves()
            if halves is None:
                raise
            yield self._split(context, list(halves), key, order, "result cap")

    def _split(
        self,
        context: Context,
        windows: list[Window],
        key: ReadKey,
        order: tuple[int, ...],
        reason: str,
    ) -> Plan:
        """Submit one read per window (each may split again) and return their plan."""
        keys = [(*key, index) for index in range(len(windows))]
        for index, (part, sub_key) in enumerate(zip(windows, keys, strict=True)):
            self.tiktok_tap.prefetcher.submit(
                sub_key,
                (*order, index),
                functools.partial(
                    self._isolated,
                    sub_key,
                    self._planned(context, part, sub_key, (*order, index)),
                ),
                self.records_of_raw_page,
            )
        self.log(
            "Splitting %s window [%d, %d) of shop %s into %d windows read in parallel (%s)",
            self.name,
            windows[0].start,
            windows[-1].end,
            context["shop_id"],
            len(windows),
            reason,
        )
        return Plan(tuple(windows), tuple(keys))

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The shop's records (see PerShopStream); then its child reads nobody consumed go."""
        yield from super().get_records(context)
        self._child_reads.discard(context)

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Read the shop's window; the SDK advances the bookmark when it completes."""
        prefetcher = self.tiktok_tap.prefetcher
        key = self._read_key(context)
        if prefetcher.has(key):
            self.log("Reading %s for shop %s (fetched ahead)", self.name, key[1])
            yield from self._consume(context, key, _Highest())
            return
        window = self.read_window_for(context)
        shop_id = (context or {}).get("shop_id")
        if window.empty:
            self.log(
                "Nothing to read for %s of shop %s: window [%d, %d) is empty",
                self.name,
                shop_id,
                window.start,
                window.end,
            )
            return
        self.log(
            "Reading %s for shop %s: %s in [%d, %d)",
            self.name,
            shop_id,
            self.filter_field,
            window.start,
            window.end,
        )
        yield from self.read_window(context, window)

    def _consume(
        self, context: Context | None, key: ReadKey, highest: _Highest
    ) -> Iterator[dict[str, t.Any]]:
        """Yield a read's records; after each window of a split read, move the bookmark."""
        field = str(self.replication_key)
        for item in once_per_window(self.tiktok_tap.prefetcher.consume(key), self._identity):
            if isinstance(item, ShopFailed):
                raise item.error
            if isinstance(item, Plan):
                for window, sub_key in zip(item.windows, item.keys, strict=True):
                    yield from self._consume(context, sub_key, highest)
                    self._bookmark_window(context, window, highest.value)
                continue
            record = t.cast("dict[str, t.Any]", item)
            highest.see(record.get(field))
            yield record

    def _bookmark_window(
        self, context: Context | None, window: Window, highest: int | None
    ) -> None:
        """Every record before ``window.end`` was emitted: move the bookmark and write STATE.

        The value is the greatest one emitted, capped at the window's end (a record refreshed
        during the run can carry a later time), and never moves back.
        """
        if highest is None:
            return
        value = min(highest, window.end)
        state = self.get_context_state(context)
        current = state.get("replication_key_value")
        same_key = state.get("replication_key") == self.replication_key
        if same_key and isinstance(current, int) and value <= current:
            return
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value
        self.tiktok_tap.state_writer.write_state(self.tiktok_tap.state)

    def read_window(self, context: Context | None, window: Window) -> Iterable[dict[str, t.Any]]:
        """Yield every record of one window, in place (reads not fetched ahead)."""
        for chunk in window.chunks(self.max_window_seconds):
            pages = self._window_pages(dict(context or {}), chunk)
            yield from t.cast("Iterator[dict[str, t.Any]]", once_per_window(pages, self._identity))
