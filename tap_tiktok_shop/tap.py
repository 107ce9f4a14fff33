"""The TikTok Shop tap: settings, shared services and the stream list."""

from __future__ import annotations

import typing as t
from functools import cached_property

import click
from singer_sdk import Tap
from typing_extensions import override

from tap_tiktok_shop.authorizations import Authorizations
from tap_tiktok_shop.days import ShopCalendar
from tap_tiktok_shop.errors import ConfigurationError, ScopeMissingError
from tap_tiktok_shop.outage import OutageBreaker
from tap_tiktok_shop.outcome import (
    json_object_file,
    one_line_failures,
    reporting,
    stop_on_signals,
)
from tap_tiktok_shop.output import EncodedStateWriter, OrjsonSingerWriter
from tap_tiktok_shop.per_shop import PerShopStream
from tap_tiktok_shop.prefetch import Prefetcher
from tap_tiktok_shop.progress import Progress
from tap_tiktok_shop.ratelimit import RateLimiter
from tap_tiktok_shop.run_summary import RunSummary
from tap_tiktok_shop.scopes import ScopeGate
from tap_tiktok_shop.settings import CONFIG_SCHEMA, run_window
from tap_tiktok_shop.sharding import parse_shard
from tap_tiktok_shop.shop_failures import ShopFailures
from tap_tiktok_shop.shops import ShopDirectory
from tap_tiktok_shop.streams import STREAM_TYPES

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

#: Input files given by path on the command line, opened and checked by ``invoke``.
INPUT_FILES = ("state", "catalog")


class TapTikTokShop(Tap):
    """Singer tap for TikTok Shop: orders, returns, products and finance of every shop."""

    name = "tap-tiktok-shop"
    package_name = "tap-tiktok-shop"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = OrjsonSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Validate the settings, freeze the run's time window, stop cleanly on signals."""
        super().__init__(*args, **kwargs)
        # The SDK's writer deep-copies the whole state at each STATE (see output.py); the SDK
        # offers no hook for its class, and writes through this attribute itself.
        self._state_writer = EncodedStateWriter(t.cast("OrjsonSingerWriter", self.message_writer))
        self.run_window = run_window(self.config)
        self.authorizations  # noqa: B018 - a bad list fails here, before any request
        self.run_summary  # noqa: B018 - the wall clock starts with the tap
        stop_on_signals(self)

    @property
    def sync_end(self) -> int:
        """Upper bound (exclusive) of every read in this run, frozen at start-up."""
        return self.run_window.end

    @property
    def start_timestamp(self) -> int | None:
        """``start_date`` in unix seconds, if set."""
        return self.run_window.start

    @cached_property
    def shops(self) -> ShopDirectory:
        """The authorized shops of this run and the ``shop_ids`` and ``shard`` filters."""
        return ShopDirectory(self.config.get("shop_ids"), parse_shard(self.config.get("shard")))

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Request pacing per shop and endpoint, shared by every stream and thread."""
        return RateLimiter(float(self.config["requests_per_second"]))

    @cached_property
    def analytics_rate_limiter(self) -> RateLimiter:
        """The slower pace of the analytics endpoints, one lane per shop."""
        return RateLimiter(float(self.config["analytics_requests_per_second"]))

    @cached_property
    def shop_calendar(self) -> ShopCalendar:
        """Each shop's ``latest_available_date``, learned from its analytics answers."""
        return ShopCalendar()

    @cached_property
    def prefetcher(self) -> Prefetcher:
        """Reads shops ahead in parallel while records are emitted shop by shop."""
        flush = getattr(self.message_writer, "flush_pending", None)
        return Prefetcher(
            workers=int(self.config["parallel_reads"]),
            on_idle=flush,
            budget_bytes=int(self.config["read_ahead_mb"]) * 2**20,
        )

    @cached_property
    def breaker(self) -> OutageBreaker:
        """Stops the run when shop after shop fails as if the API were down."""
        return OutageBreaker(self.prefetcher)

    @cached_property
    def shop_failures(self) -> ShopFailures:
        """Reads that failed for one shop only; summarized, and the exit code, at the end."""
        return ShopFailures(self.logger, fail_run=bool(self.config["fail_on_shop_errors"]))

    @cached_property
    def authorizations(self) -> Authorizations:
        """Every seller authorization of the run, each with its tokens and signer."""
        return Authorizations(self.config, self.shops.owner)

    @cached_property
    def progress(self) -> Progress:
        """Records emitted and expected per shop and stream; the progress lines."""
        return Progress(self.logger, enabled=bool(self.config["progress_log"]))

    @cached_property
    def run_summary(self) -> RunSummary:
        """What the run did, logged (and written as JSON) when it ends."""
        return RunSummary(self)

    @cached_property
    def scopes(self) -> ScopeGate:
        """Which API packages the app lacks; skips the streams that need them."""
        return ScopeGate(self.authorizations.granted_scopes, self.logger)

    @override
    def discover_streams(self) -> list[Stream]:
        """Return one instance of every stream."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def fail_if_nothing_synced(self) -> None:
        """Stop with the skip line(s) when missing scopes kept out every selected shop stream.

        Raises:
            ScopeMissingError: when streams were skipped and no selected shop stream synced.
        """
        selected: list[Stream] = [
            stream
            for stream in self.streams.values()
            if isinstance(stream, PerShopStream) and stream.selected
        ]
        failure = self.scopes.nothing_synced(selected)
        if failure:
            raise ScopeMissingError(failure)

    @classmethod
    @override
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; known failures end with one error line and exit code 1 (see outcome)."""
        with one_line_failures(cls.logger):
            for option in INPUT_FILES:
                kwargs[option] = json_object_file(option, kwargs.get(option))
            super().invoke(*args, **kwargs)

    @classmethod
    @override
    def cb_config(
        cls,
        ctx: click.Context,
        param: click.Option,
        value: tuple[str, ...],
    ) -> t.Any:
        """Read ``--config`` files; a missing or malformed one is a one-line error."""
        try:
            return super().cb_config(ctx, param, value)
        except OSError as exc:
            msg = f"--config: {exc}"
        except ValueError as exc:  # the JSON parser's message holds no file content
            msg = f"--config: not a valid JSON file ({exc})"
        except TypeError:  # a JSON file that holds something else than an object
            msg = "--config: must hold a JSON object"
        raise ConfigurationError(msg)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with every option callback reporting failures in one line.

        ``--config`` is read and ``--discover`` runs inside click's option callbacks, before
        ``invoke``; without this their failures would print a traceback. ``--state`` and
        ``--catalog`` become plain paths that ``invoke`` opens, so that a missing file is one
        line too rather than click's usage message.
        """
        command = super().get_singer_command()
        for param in command.params:
            if param.callback is not None:
                param.callback = reporting(param.callback, cls.logger)
            if param.name in INPUT_FILES:
                param.type = click.Path()
        return command
