"""The base of every stream read shop by shop: scope gating around each shop's read.

A stream whose API package the app lacks is skipped (one warning, see ``scopes.py``) instead
of failing the run: the gate is consulted before a shop is read, and a ``105005`` answer on a
shop's first page skips the stream for every shop. A ``105005`` after records were emitted
stops the run: skipping then would let the bookmark move past data that was never read.
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.errors import ScopeMissingError

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class PerShopStream(TikTokShopStream):
    """A shop-scoped stream whose shop reads are gated on the app's API packages."""

    #: The scope key (API package) the endpoint needs; see ``scopes.SCOPE_PACKAGES``.
    required_scope: t.ClassVar[str]

    def read(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Yield the records of one partition (a shop, or a statement of a shop)."""
        yield from self.request_records(context)

    def flush_output(self) -> None:
        """Write out records the message writer still holds (see output.py)."""
        flush = getattr(self._tap.message_writer, "flush_pending", None)
        if flush is not None:
            flush()

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Read the partition unless the app lacks the stream's package."""
        gate = self.tiktok_tap.scopes
        if gate.missing(self.required_scope):
            gate.skip(self, self.required_scope, "not in the token's granted scopes")
            return
        emitted = False
        try:
            for record in self.read(context):
                emitted = True
                yield record
        except ScopeMissingError as exc:
            if emitted:
                self.flush_output()
                raise
            self.tiktok_tap.prefetcher.resume()  # handled: reads paused by the failure go on
            gate.refuse(self.required_scope)
            request_id = exc.verdict.request_id if exc.verdict else ""
            gate.skip(self, self.required_scope, f"API code 105005, request_id {request_id}")
            return
        except BaseException:
            self.flush_output()  # the records emitted before the failure leave with it
            raise
        gate.synced.add(self.name)
