"""The base of every stream read shop by shop: scope gating and per-shop failures.

A stream whose API package the app lacks is skipped (one warning, see ``scopes.py``) instead
of failing the run: the gate is consulted before a shop is read, and a ``105005`` answer on the
first shop's first page skips the stream for every shop. A failure that concerns one shop (a
``ShopError``: de-authorized shop, inactive seller, refused cipher, retries exhausted, or a
``105005`` for a stream that other shops can read) ends that shop's read of the stream only:
one WARNING line (``shop_failures.py``), and the read's progress is dropped so the bookmark
stays where it was; nothing skipped is ever marked read. Every other shop syncs, unless shop
after shop fails as if the API were down (``outage.py``): then the run stops.
"""

from __future__ import annotations

import contextlib
import typing as t

from typing_extensions import override

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.errors import ScopeMissingError, ShopError
from tap_tiktok_shop.outage import OutageBreaker
from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.run_exit import PROGRESS_MARKERS
from tap_tiktok_shop.scopes import refusal
from tap_tiktok_shop.window_reads import ShopFailed

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from singer_sdk.helpers.types import Context

_Item = t.TypeVar("_Item")


class PerShopStream(TikTokShopStream):
    """A shop-scoped stream whose shop reads are gated on the app's API packages."""

    #: The scope key (API package) the endpoint needs; see ``scopes.SCOPE_PACKAGES``.
    required_scope: t.ClassVar[str]

    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Yield the records of one partition (a shop, or a statement of a shop)."""
        yield from self.request_records(context)

    @override
    def iter_pages(self, context: Context | None) -> Generator[Page, None, None]:
        """Every page of one read; the first one's ``total_count`` goes to the progress lines."""
        with contextlib.closing(super().iter_pages(context)) as pages:
            first = next(pages, None)
            if first is None:
                return
            self.tiktok_tap.progress.expect(self.name, context, first.total_count)
            yield first
            yield from pages

    def flush_output(self) -> None:
        """Write out records the message writer still holds (see message_writer.py)."""
        flush = getattr(self._tap.message_writer, "flush_pending", None)
        if flush is not None:
            flush()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Read the partition unless the app lacks the stream's package; isolate shop failures."""
        gate = self.tiktok_tap.scopes
        if gate.missing(self.required_scope):
            gate.skip(self, self.required_scope, gate.evidence(self.required_scope))
            return
        lacking = self.tiktok_tap.authorizations.lacking(context, self.required_scope)
        if lacking:
            gate.skip_for_authorization(self, self.required_scope, lacking)
            return
        emitted = False
        try:
            for record in self.read(context):
                emitted = True
                yield record
        except ScopeMissingError as exc:
            if emitted or not self._scope_missing_everywhere():
                self.shop_failed(context, exc)
                return
            self.tiktok_tap.prefetcher.resume()  # handled: reads paused by the failure go on
            gate.refuse(self.required_scope, refusal(exc))
            gate.skip(self, self.required_scope, gate.evidence(self.required_scope))
            return
        except ShopError as exc:
            self.shop_failed(context, exc)
            return
        except BaseException:
            self.flush_output()  # the records emitted before the failure leave with it
            raise
        gate.synced.add(self.name)
        self.tiktok_tap.progress.tally(self.name, self.shop_of(context)).synced = True
        self.tiktok_tap.breaker.succeeded(self.name)

    @staticmethod
    def shop_of(context: Context | None) -> str:
        """The shop id of a partition (or of one record's child read)."""
        return str((context or {}).get("shop_id"))

    def gated(self, items: Callable[[], Iterable[_Item]], *, prober: bool) -> Iterator[_Item]:
        """A read fetched ahead, behind this stream's scope gate (``ScopeGate.gated``)."""
        return self.tiktok_tap.scopes.gated(self.required_scope, items, prober=prober)

    def isolated(
        self, items: Iterable[_Item], on_failure: Callable[[], None] | None = None
    ) -> Iterator[_Item | ShopFailed]:
        """A read's items; a failure of this shop ends them as an item (see window_reads).

        A failure that may mean the API is down holds further read-ahead at once, before the
        consumer reaches it and decides (``outage.py``).
        """
        try:
            yield from items
        except (ShopError, ScopeMissingError) as error:
            if on_failure is not None:
                on_failure()
            if OutageBreaker.counts(error):
                self.tiktok_tap.prefetcher.hold()
            yield ShopFailed(error)

    def _scope_missing_everywhere(self) -> bool:
        """Whether a ``105005`` means the app lacks the package (rather than this shop).

        It concerns this shop only when the token's granted scopes list the package, or
        another shop's read of this stream already went through.
        """
        gate, scope = self.tiktok_tap.scopes, self.required_scope
        if gate.missing(scope):
            return True
        return not (gate.granted_lists(scope) or self.name in gate.synced)

    def shop_failed(self, context: Context | None, error: Exception) -> None:
        """End this shop's read of the stream: one WARNING line, the bookmark left as it was.

        The SDK would promote the read's progress (the greatest value emitted) to the
        bookmark when the partition ends; that progress is dropped, so a rerun reads again
        what this run could not.

        Raises:
            ApiDownError: when this failure makes too many shops in a row that failed as if
                the API were down (``outage.py``); its line replaces this shop's WARNING.
        """
        self.tiktok_tap.prefetcher.resume()  # a failure of one shop never pauses the others
        self.get_context_state(context).pop(PROGRESS_MARKERS, None)
        shop_id = self.shop_of(context)
        self.tiktok_tap.progress.tally(self.name, shop_id).failed = True
        outage = self.tiktok_tap.breaker.failed(self.name, shop_id, error)
        if outage is not None:
            self.flush_output()  # what was read leaves before the run stops
            raise outage from None
        self.tiktok_tap.shop_failures.record(shop_id, self.name, error)
