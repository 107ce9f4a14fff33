"""The ``shops`` stream: the shops the authorizations cover, parent of every shop stream."""

from __future__ import annotations

import typing as t

from singer_sdk import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_tiktok_shop import schemas
from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.shop_discovery import discover_shops

if t.TYPE_CHECKING:
    from tap_tiktok_shop.progress import EmittedCounter

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class ShopsStream(TikTokShopStream):
    """GET /authorization/202309/shops, filtered by ``shop_ids`` and ``shard``."""

    name = "shops"
    path = "/authorization/202309/shops"
    records_key = "shops"
    shop_scoped = False  # the API rejects shop_cipher on /authorization paths
    primary_keys = ("id",)
    replication_key = None
    schema = StreamSchema(SchemaDirectory(schemas))

    @override
    @override
    def get_new_paginator(self) -> None:  # type: ignore[override]
        """One page holds every authorized shop."""
        return

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """List every authorization's shops, then yield the ones this run syncs."""
        tap = self.tiktok_tap
        shops = discover_shops(
            self.request_records, tap.authorizations, tap.shops, tap.shop_failures
        )
        tap.run_summary.shops = [str(shop["id"]) for shop in shops]
        shard = tap.shops.shard
        if shard is not None:  # an empty shard is normal (few shops); the line tells why
            self.logger.info(
                "Shard %s: %d of %d authorized shops", shard, len(shops), tap.shops.listed_count()
            )
        self.read_ahead(shops)
        try:
            yield from shops
        finally:  # done, or failed: no worker may go on sending requests
            self.tiktok_tap.prefetcher.close()
        # The SDK syncs a shop's child streams before asking for the next shop, so every
        # shop stream has run by now.
        self.tiktok_tap.fail_if_nothing_synced()

    @override
    def get_record_counter(self, **kwargs: t.Any) -> EmittedCounter:
        """The record counter; it spans the sync of every shop stream, so it sees a failure.

        The SDK counts this stream's records around the whole loop in which it syncs the
        shops' child streams: a sync that fails or is interrupted ends there (run_summary).
        """
        counter = super().get_record_counter(**kwargs)
        counter.on_exit = self.tiktok_tap.run_summary.sync_ended
        return counter

    @override
    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        """Write the final STATE, then the run summary and the shop-failure line, last.

        The SDK calls this once the shops and every child stream are synced, so the summary
        comes after everything else was emitted and its STATE written.

        Raises:
            ShopsFailedError: when shops failed and ``fail_on_shop_errors`` is true.
        """
        super().finalize_state_progress_markers(state)
        if state is None:
            self.tiktok_tap.run_summary.sync_finished()

    def read_ahead(self, shops: list[dict[str, t.Any]]) -> None:
        """Start the shops' child reads in the order the SDK will consume them."""
        children = [
            child
            for child in self.child_streams
            if isinstance(child, TikTokShopStream)
            and (child.selected or child.has_selected_descendents)
        ]
        order = 0
        for shop in shops:
            context = self.get_child_context(shop, None)
            for child in children:
                child.start_read_ahead(context, order)
                order += 1

    @override
    def get_child_context(
        self,
        record: dict[str, t.Any],
        context: Context | None,
    ) -> dict[str, t.Any]:
        """Children get only the stable shop id: state is keyed by it."""
        return {"shop_id": str(record["id"])}
