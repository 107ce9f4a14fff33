"""Shared machinery for per-shop incremental streams (orders today; returns, products later).

Why bookmarks only move when a shop's read completes: the API sorts by ``update_time`` but
documents that a returned record may carry an ``update_time`` refreshed past the filter while
the search ran, so the greatest value seen is not a safe resume point mid-read. The stream is
therefore declared unsorted: the SDK keeps the running maximum as a progress marker and
promotes it to the bookmark only when the shop's partition finishes, capped by the signpost at
the run's frozen ``end``. A run that dies midway leaves that shop's bookmark where it was.
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.windows import Window, bookmark_value, read_window

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

#: Context key holding the frozen read window of one shop (never part of state).
WINDOW_KEY = "_window"


class ShopIncrementalStream(TikTokShopStream):
    """A shop-partitioned stream read over a time window and bookmarked per shop."""

    is_sorted = False  # see the module docstring
    #: Whether the endpoint's upper time bound is inclusive (products) or exclusive.
    inclusive_upper_bound: t.ClassVar[bool] = False

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
        return read_window(
            bookmark=bookmark,
            start_date=self.tiktok_tap.start_timestamp,
            lookback_seconds=int(self.config["lookback_minutes"]) * 60,
            end=self.tiktok_tap.sync_end,
        )

    def window_of(self, context: Context | None) -> Window:
        """The window a request belongs to (carried in the request's context)."""
        start, end = (context or {})[WINDOW_KEY]
        return Window(start=start, end=end)

    def _read_key(self, context: Context | None) -> tuple[str, str]:
        return (self.name, str((context or {})["shop_id"]))

    def _window_context(self, context: Context | None) -> dict[str, t.Any] | None:
        """The request context of the shop's read, or None when its window is empty."""
        window = self.read_window_for(context)
        if window.empty:
            return None
        return {**(context or {}), WINDOW_KEY: (window.start, window.end)}

    def start_read_ahead(self, context: Context) -> None:
        """Queue this shop's read on the prefetcher; its window is fixed now, from state."""
        read_context = self._window_context(context)
        if read_context is not None:
            self.tiktok_tap.prefetcher.submit(
                self._read_key(context),
                lambda: self.iter_pages(read_context),
                self.records_of_raw_page,
            )

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Read the shop's window; the SDK advances the bookmark when it completes."""
        prefetcher = self.tiktok_tap.prefetcher
        key = self._read_key(context)
        if prefetcher.has(key):
            self.log("Reading %s for shop %s (fetched ahead)", self.name, key[1])
            yield from prefetcher.consume(key)
            return
        read_context = self._window_context(context)
        if read_context is None:
            self.log("Nothing to read for %s of shop %s: empty window", self.name, key[1])
            return
        start, end = read_context[WINDOW_KEY]
        self.log("Reading %s for shop %s: [%d, %d)", self.name, key[1], start, end)
        yield from self.request_records(read_context)
