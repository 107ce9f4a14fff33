"""What a stream may ask of the tap: the contract between the streams and ``TapTikTokShop``.

The streams share run-wide services that the tap builds once (the shop directory, the
authorizations, rate limiters, the read-ahead, the outage breaker, the scope gate, the run's
figures). Streams reach them only through ``TikTokShopStream.tiktok_tap``, typed as this
protocol, so the list below is the whole of what a stream may rely on: mypy rejects a stream
that reaches for anything else, and checks that the tap provides all of it (``tap.py``). To
give streams a new service, add it here and on the tap.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types
    from singer_sdk.helpers._state import StateWriter

    from tap_tiktok_shop.authorizations import Authorizations
    from tap_tiktok_shop.days import ShopCalendar
    from tap_tiktok_shop.outage import OutageBreaker
    from tap_tiktok_shop.prefetch import Prefetcher
    from tap_tiktok_shop.progress import Progress
    from tap_tiktok_shop.ratelimit import RateLimiter
    from tap_tiktok_shop.run_summary import RunSummary
    from tap_tiktok_shop.scopes import ScopeGate
    from tap_tiktok_shop.shop_directory import ShopDirectory
    from tap_tiktok_shop.shop_failures import ShopFailures


class TapServices(t.Protocol):
    """The run-wide services the tap gives its streams, each built once per run."""

    @property
    def sync_end(self) -> int:
        """Upper bound (exclusive, unix seconds) of every read in this run."""

    @property
    def start_timestamp(self) -> int | None:
        """``start_date`` in unix seconds, if set."""

    @property
    def shops(self) -> ShopDirectory:
        """The authorized shops, their ciphers, and the ``shop_ids`` / ``shard`` filters."""

    @property
    def authorizations(self) -> Authorizations:
        """Every seller authorization, with its tokens and signer."""

    @property
    def rate_limiter(self) -> RateLimiter:
        """Request pacing per shop and endpoint."""

    @property
    def analytics_rate_limiter(self) -> RateLimiter:
        """The analytics endpoints' slower pace."""

    @property
    def shop_calendar(self) -> ShopCalendar:
        """Each shop's latest available analytics day, learned from the answers."""

    @property
    def prefetcher(self) -> Prefetcher:
        """The bounded read-ahead: reads submitted by key, consumed in order."""

    @property
    def breaker(self) -> OutageBreaker:
        """Counts shops failing in a row; stops the run when the API looks down."""

    @property
    def shop_failures(self) -> ShopFailures:
        """One shop's failed reads, reported at the end and deciding the exit code."""

    @property
    def scopes(self) -> ScopeGate:
        """Which API packages the app lacks; one skip warning per stream."""

    @property
    def progress(self) -> Progress:
        """Records emitted and expected per shop and stream."""

    @property
    def run_summary(self) -> RunSummary:
        """The run's request and record figures."""

    @property
    def state(self) -> types.TapState:
        """The SDK's state, bookmarks of every stream."""

    @property
    def state_writer(self) -> StateWriter:
        """Writes STATE messages (the tap's encoded writer)."""

    def fail_if_nothing_synced(self) -> None:
        """End the run with one line when no shop could be read at all."""
