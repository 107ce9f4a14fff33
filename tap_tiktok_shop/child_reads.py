"""Per-record child reads (each statement's transactions) fetched ahead, in the parent's order.

The SDK reads a child stream of a record when it emits that record, one record after another
and outside the read-ahead: a year of daily statements is 365 sequential reads per shop, three
calls in four of a small shop's sync. Instead, as soon as a prefetch worker has fetched a page
of the parent's records, it submits each record's child read to the prefetcher, with an order
key right after the parent read's own: a shop's child reads start before the shop's later
streams and before later shops. When the SDK then syncs the child for that record, the child
stream consumes the read fetched ahead. Records, their order and STATE are those of a
sequential run, and a failure of one child read surfaces where a sequential run meets it, after
everything before it was emitted (one shop's failure as a ``ShopFailed`` item, see
window_reads, so it never pauses other reads).

Every child read of one shop paces on the same rate-limiter key (shop and endpoint), so each
names it as its ``lane``: the prefetcher spreads workers over shops instead of queueing them
behind one shop's pace. A child read submitted for a record whose children the SDK does not
sync after all (a stream map filtered the record out) is discarded when the parent's shop read
ends, so no read is left holding the read-ahead budget.

Memory: a child read waiting for a worker weighs about 1.3 KB (the prefetcher makes its
spool and queue only when needed), some 3.5 times its statement's bytes in the page that
brought it. Those pages wait under the read-ahead budget, and child reads are consumed right
after their record, so waiting child reads stay in proportion to ``read_ahead_mb`` (they are
not counted in it: at worst about 3.5 times it, were every page waiting a statements page).
"""

from __future__ import annotations

import functools
import threading
import typing as t

from typing_extensions import override

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.errors import ScopeMissingError, ShopError
from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.per_shop import PerShopStream
from tap_tiktok_shop.window_reads import ShopFailed

if t.TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Iterator

    from singer_sdk.helpers.types import Context

ChildKey = tuple[t.Any, ...]
_Item = t.TypeVar("_Item")


class ChildReadStream(PerShopStream):
    """A stream read once per record of its parent; its reads may be fetched ahead."""

    def child_read_key(self, context: Context) -> ChildKey:
        """The prefetcher key of the read for one parent record."""
        return (self.name, *sorted(context.items()))

    def start_child_read(self, context: Context, order: tuple[int, ...]) -> None:
        """Submit the read of one parent record's children (from a prefetch worker)."""
        self.tiktok_tap.prefetcher.submit(
            self.child_read_key(context),
            order,
            functools.partial(self._isolated_pages, context),
            self.records_of_raw_page,
            lane=(context["shop_id"], self.path),  # the rate limiter's key of these requests
        )

    def _isolated_pages(self, context: Context) -> Iterator[Page | ShopFailed]:
        try:
            yield from self.iter_pages(context)
        except (ShopError, ScopeMissingError) as error:
            yield ShopFailed(error)

    @override
    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The read fetched ahead for this record, or a read in place if there is none."""
        prefetcher = self.tiktok_tap.prefetcher
        key = self.child_read_key(context or {})
        if not prefetcher.has(key):
            yield from self.request_records(context)
            return
        for item in prefetcher.consume(key):
            if isinstance(item, ShopFailed):
                raise item.error
            yield t.cast("dict[str, t.Any]", item)


class ChildReads:
    """The child reads a parent stream's read-ahead submitted, per shop, until its read ends."""

    def __init__(self, parent: TikTokShopStream) -> None:
        """Track the child reads of ``parent``'s records."""
        self._parent = parent
        self._lock = threading.Lock()
        self._submitted: set[ChildKey] = set()
        self._pending: dict[str, list[ChildKey]] = {}

    @functools.cached_property
    def children(self) -> list[ChildReadStream]:
        """The selected child streams whose reads are fetched ahead."""
        return [
            child
            for child in self._parent.child_streams
            if isinstance(child, ChildReadStream)
            and child.selected
            and not self._parent.tiktok_tap.scopes.missing(child.required_scope)
        ]

    def ahead(
        self, context: Context, items: Iterable[_Item], order: tuple[int, ...]
    ) -> Iterator[_Item]:
        """Pass a parent read's items on, first submitting the child reads of each page.

        Runs in the parent read's worker. A record met again (a window read again after a
        refused page token) is not submitted twice: its second sync reads in place, as a
        sequential run would read it again.
        """
        children = self.children
        index = 0
        for item in items:
            if children and isinstance(item, Page):
                for record in item.records:
                    child_context = self._parent.get_child_context(record, context)
                    if child_context is None:
                        continue
                    for child in children:
                        if self._claim(child.child_read_key(child_context), context):
                            child.start_child_read(child_context, (*order, index))
                            index += 1
            yield item

    def _claim(self, key: ChildKey, context: Context) -> bool:
        with self._lock:
            if key in self._submitted:
                return False
            self._submitted.add(key)
            self._pending.setdefault(str(context["shop_id"]), []).append(key)
            return True

    def discard(self, context: Context | None) -> None:
        """The parent's read of this shop ended: drop its child reads nobody consumed."""
        with self._lock:
            keys: list[Hashable] = list(self._pending.pop(str((context or {})["shop_id"]), []))
            self._submitted.difference_update(keys)
        for key in keys:
            self._parent.tiktok_tap.prefetcher.discard(key)
