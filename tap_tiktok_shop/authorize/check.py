"""`tap-tiktok-shop-auth check`: will the first sync work, and how big and long will it be?

Before the first run nothing else tells a new user whether the app key, secret, refresh token,
scopes and shops are right, short of running the whole sync. ``check`` takes the tap's own
settings (``--config`` files or ``ENV``, and ``--catalog`` for the selection) and, without
syncing, goes through what a run would do, with the tap's own machinery (its config checks,
token manager, signer, streams, error classifier and their one-line messages):

1. the config, with the tap's one-line errors;
2. the token: refreshed as the tap would;
3. the authorized shops (and ``shop_ids`` among them), with their regions; the API's ``Date``
   header of that answer against this machine's clock (the API refuses request timestamps
   more than 5 minutes old or 30 seconds ahead);
4. per shop and selected stream, one search for one record over the first sync's window: the
   first of each API package is the scope probe (a ``105005`` means the app lacks the package
   for every stream of it), and each answer's ``total_count`` is that stream's first-sync
   size; the calls' latency and the request budget (``requests_per_second``,
   ``parallel_reads``) give an estimated first-sync time.

Every problem is one line saying what to do; the exit code is 0 when everything selected can
sync, 1 otherwise. The report goes to stdout, the problems to stderr. ``authorizations`` splits
a config into one per seller authorization, each checked on its own.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import time
import typing as t
from dataclasses import dataclass, field

import click
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_shop.authorizations import SINGLE_NAME, configured_authorizations
from tap_tiktok_shop.authorize import report
from tap_tiktok_shop.child_reads import ChildReadStream
from tap_tiktok_shop.day_reads import DAYS_KEY, DayGrainedStream
from tap_tiktok_shop.days import DayRange, clock_stop
from tap_tiktok_shop.errors import (
    AuthorizationError,
    ConfigurationError,
    ScopeMissingError,
    ShopError,
)
from tap_tiktok_shop.http_dates import server_time
from tap_tiktok_shop.incremental import ShopIncrementalStream
from tap_tiktok_shop.per_shop import PerShopStream
from tap_tiktok_shop.progress import duration
from tap_tiktok_shop.run_exit import SyncInterrupted, json_object_file
from tap_tiktok_shop.scopes import package_of
from tap_tiktok_shop.tap import TapTikTokShop
from tap_tiktok_shop.untrusted import redacted_validation_errors
from tap_tiktok_shop.windows import WINDOW_KEY

if t.TYPE_CHECKING:
    import requests

    from tap_tiktok_shop.streams.shops import ShopsStream

#: Failures of a call that end that step with their own line.
CALL_ERRORS = (AuthorizationError, ConfigurationError, FatalAPIError, RetriableAPIError)
#: A person is waiting: a probe's request is tried this often, for at most this long.
PROBE_TRIES = 2
PROBE_SECONDS = 20.0
#: Clock skew (this machine minus the API, seconds) beyond which signed calls fail or soon
#: will: the API accepts timestamps from 300 s behind to 30 s ahead of its time.
CLOCK_AHEAD_LIMIT = 20.0
CLOCK_BEHIND_LIMIT = 240.0
SHOP_FIELDS = ("id", "name", "region")


@dataclass
class Findings:
    """What ``check`` found: report lines, problem lines, and the same as facts (JSON)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    facts: dict[str, t.Any] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        """Record one problem line (said once, however often it is met)."""
        if text not in self.problems:
            self.problems.append(text)


def load_tap(config_args: tuple[str, ...], catalog_path: str | None) -> TapTikTokShop:
    """The tap as ``tap-tiktok-shop --config ... --catalog ...`` would start.

    Raises:
        ConfigurationError: with the tap's one line for a bad config or catalog.
    """
    config = TapTikTokShop.cb_config(None, None, config_args)  # type: ignore[arg-type]
    catalog = None
    opened = json_object_file("catalog", catalog_path)
    if opened is not None:
        catalog = json.load(opened)
    try:
        return TapTikTokShop(
            config=config.config,
            catalog=catalog,
            parse_env_config=config.parse_env,
            validate_config=True,
        )
    except ConfigValidationError as exc:
        msg = f"Invalid config: {'; '.join(redacted_validation_errors(exc.errors))}"
        raise ConfigurationError(msg) from None


def authorizations(config: t.Mapping[str, t.Any]) -> list[tuple[str, dict[str, t.Any]]]:
    """The configs to check, one per authorization of the tap's config, with its name.

    Each keeps only its own credentials (``refresh_token``, or one ``authorizations`` entry),
    so each authorization is checked, and its problems named, on its own.
    """
    single = {key: value for key, value in config.items() if key != "authorizations"}
    # A list entry's own shop_ids apply; the run's cover every seller's shops, not one's.
    without = {
        k: v for k, v in single.items() if k not in {"refresh_token", "access_token", "shop_ids"}
    }
    configs: list[tuple[str, dict[str, t.Any]]] = []
    for each in configured_authorizations(config):
        if each.name == SINGLE_NAME:
            configs.append((SINGLE_NAME, single))
            continue
        entry: dict[str, t.Any] = {"name": each.name, "refresh_token": each.refresh_token}
        if each.shop_ids:
            entry["shop_ids"] = list(each.shop_ids)
        configs.append((each.name, {**without, "authorizations": [entry]}))
    return configs


def run_check(tap: TapTikTokShop) -> Findings:
    """Check every authorization of the tap's config (see the module docstring)."""
    findings = Findings()
    findings.lines.append("Config: valid.")
    findings.facts["authorizations"] = []
    several = len(authorizations(tap.config)) > 1
    for name, config in authorizations(tap.config):
        facts: dict[str, t.Any] = {"name": name}
        findings.facts["authorizations"].append(facts)
        if several:
            findings.lines.append(f"Authorization '{name}':")
        problems = len(findings.problems)
        _check_authorization(tap, config, findings, facts)
        if several:  # say whose problem each is
            findings.problems[problems:] = [
                f"Authorization '{name}': {line}" for line in findings.problems[problems:]
            ]
    findings.facts["problems"] = findings.problems
    return findings


def _probing_tap(tap: TapTikTokShop, config: dict[str, t.Any]) -> TapTikTokShop:
    """A tap for one authorization whose searches ask for one record (the smallest page)."""
    return TapTikTokShop(
        config={**config, "page_size": 1},
        catalog=tap.catalog_dict,
        parse_env_config=False,
        validate_config=True,
    )


def _impatient(stream: PerShopStream | ShopsStream) -> None:
    vars(stream).update(retry_max_tries=PROBE_TRIES, retry_max_seconds=PROBE_SECONDS)


def _check_authorization(
    tap: TapTikTokShop, config: dict[str, t.Any], findings: Findings, facts: dict[str, t.Any]
) -> None:
    probe = _probing_tap(tap, config)
    (authorization,) = probe.authorizations
    try:
        authorization.tokens.access_token()
    except CALL_ERRORS as exc:
        findings.problem(f"Token: {exc}")
        return
    tokens = authorization.tokens.current
    assert tokens is not None
    findings.lines += report.token_lines(tokens, show_secrets=False)
    facts.update(report.token_facts(tokens, show_secrets=False))
    shops = _shops(probe, findings, facts)
    if shops is None:
        return
    streams = [
        stream
        for stream in probe.streams.values()
        if isinstance(stream, PerShopStream) and tap.streams[stream.name].selected
    ]
    sizes = _Sizes(tap)
    for shop in shops:
        _check_shop(probe, str(shop["id"]), streams, findings, sizes)
    facts["first_sync"] = sizes.facts()
    findings.lines += sizes.lines()


def _shops(
    probe: TapTikTokShop, findings: Findings, facts: dict[str, t.Any]
) -> list[dict[str, t.Any]] | None:
    """The authorized shops, those the run syncs, and the clock against the answer's Date."""
    stream = t.cast("ShopsStream", probe.streams["shops"])
    _impatient(stream)
    dates: list[float] = []

    def note_date(response: requests.Response, *args: t.Any, **kwargs: t.Any) -> None:
        answered = server_time(response.headers.get("Date"))
        if answered is not None:
            dates.append(answered - time.time())

    stream.requests_session.hooks["response"].append(note_date)
    try:
        authorized = list(stream.request_records(None))
    except CALL_ERRORS as exc:
        if not _check_clock(dates, findings, facts):  # else the clock is why: one line
            findings.problem(f"Shops: {exc}")
        return None
    _check_clock(dates, findings, facts)
    facts["authorized_shops"] = report.shop_rows(authorized, SHOP_FIELDS)
    (authorization,) = probe.authorizations
    shops = probe.shops.select(authorized, authorization.name, authorization.settings.shop_ids)
    try:
        probe.shops.check_wanted(authorization.settings.shop_ids, authorization.name)
    except ConfigurationError as exc:
        findings.problem(f"{exc}: remove them from shop_ids, or have the seller authorize them")
        return None
    findings.lines.append(f"Authorized shops: {len(authorized)}; this config syncs {len(shops)}:")
    findings.lines.append(report.shops_table(shops, SHOP_FIELDS) if shops else "(none)")
    if not shops:
        findings.problem(
            "Shops: the authorization covers no shop: have the seller authorize "
            "the app for at least one shop (`tap-tiktok-shop-auth login`)"
        )
    return shops


def _check_clock(offsets: list[float], findings: Findings, facts: dict[str, t.Any]) -> bool:
    """Compare this clock with the API's ``Date``; True when it is a problem."""
    if not offsets:
        return False
    skew = -offsets[0]  # this machine minus the API: positive when this clock is ahead
    facts["clock_skew_seconds"] = round(skew, 1)
    side = "ahead of" if skew > 0 else "behind"
    if skew > CLOCK_AHEAD_LIMIT or skew < -CLOCK_BEHIND_LIMIT:
        findings.problem(
            f"Clock: this machine's clock is about {abs(skew):.0f} s {side} the API's: fix it "
            "(NTP); the API accepts request timestamps from 5 minutes before to 30 seconds "
            "after its own time"
        )
        return True
    findings.lines.append(f"Clock: within {abs(skew):.0f} s of the API's.")
    return False


@dataclass
class _Probe:
    records: int | None
    seconds: float


class _Sizes:
    """Expected first-sync records and requests per shop and stream; the time estimate."""

    def __init__(self, tap: TapTikTokShop) -> None:
        self._tap = tap
        self.per_shop: dict[str, dict[str, int | None]] = {}
        self._requests: dict[tuple[str, str], int] = {}
        self._latencies: list[float] = []

    def add(self, shop_id: str, name: str, probe: _Probe) -> None:
        self.per_shop.setdefault(shop_id, {})[name] = probe.records
        self._latencies.append(probe.seconds)
        page_size = t.cast("PerShopStream", self._tap.streams[name]).page_size
        self._requests[shop_id, name] = max(1, math.ceil((probe.records or 0) / page_size))
        child = self._child_of(name)
        if child is not None and probe.records:  # one call (at least) per parent record
            self.per_shop[shop_id][child] = None
            self._requests[shop_id, child] = probe.records

    def _child_of(self, name: str) -> str | None:
        return next(
            (child.name for child in self._tap.streams[name].child_streams if child.selected), None
        )

    def requests(self) -> int:
        return sum(self._requests.values())

    def seconds(self) -> float:
        """Paced per shop and endpoint, and ``parallel_reads`` calls at the measured latency."""
        config = self._tap.config
        rate = float(config["requests_per_second"])
        paced = max(self._requests.values(), default=0) / rate if rate > 0 else 0.0
        latency = sum(self._latencies) / len(self._latencies) if self._latencies else 0.0
        return max(paced, self.requests() * latency / int(config["parallel_reads"]))

    def facts(self) -> dict[str, t.Any]:
        return {
            "records": self.per_shop,
            "requests": self.requests(),
            "estimated_seconds": round(self.seconds(), 1),
        }

    def lines(self) -> list[str]:
        lines = []
        for shop_id, sizes in self.per_shop.items():
            parts = [
                f"{name} {'(one read per parent record)' if count is None else f'{count:,}'}"
                for name, count in sizes.items()
            ]
            lines.append(f"Shop {shop_id}, first sync: {', '.join(parts)} records")
        if self.per_shop:
            config = self._tap.config
            lines.append(
                f"First sync: about {self.requests():,} requests, roughly "
                f"{duration(max(self.seconds(), 1.0))} (at most {config['requests_per_second']} "
                f"requests/s per shop and endpoint, {config['parallel_reads']} reads at once)"
            )
        return lines


def _check_shop(
    probe: TapTikTokShop,
    shop_id: str,
    streams: list[PerShopStream],
    findings: Findings,
    sizes: _Sizes,
) -> None:
    """One search per stream of the shop; the first of each API package probes its scope."""
    refused: set[str] = set()
    for stream in streams:
        scope = stream.required_scope
        if isinstance(stream, ChildReadStream):
            continue  # read per parent record: its parent's probe covers its package
        if probe.scopes.missing(scope) or scope in refused:
            findings.problem(_lacks(stream.name, scope, "not in the token's granted scopes"))
            continue
        try:
            if isinstance(stream, DayGrainedStream):  # sized per day, not per first sync
                _search_one(stream, shop_id)
            else:
                sizes.add(shop_id, stream.name, _search_one(stream, shop_id))
        except ScopeMissingError:
            refused.add(scope)
            findings.problem(_lacks(stream.name, scope, "the API answered 105005"))
        except ShopError as exc:
            findings.problem(f"Shop {shop_id}: {exc}")
            return
        except CALL_ERRORS as exc:
            findings.problem(f"Shop {shop_id}, stream '{stream.name}': {exc}")


def _lacks(stream: str, scope: str, evidence: str) -> str:
    return (
        f"Stream '{stream}' cannot sync: the app lacks the API package "
        f"'{package_of(scope)}' (scope {scope}; {evidence}): add the package to the app "
        "in Partner Center and have the seller authorize again, or deselect the stream"
    )


def _search_one(stream: PerShopStream, shop_id: str) -> _Probe:
    """The first page of the shop's first-sync read, one record long: its ``total_count``.

    A read the API takes in limited ranges (affiliate orders: three months) is asked once per
    range, and the counts are added.
    """
    _impatient(stream)
    context: dict[str, t.Any] = {"shop_id": shop_id}
    if isinstance(stream, DayGrainedStream):  # one day: the latest that ended everywhere
        day = clock_stop(time.time())
        context[DAYS_KEY] = DayRange(day, day)
    windows: list[t.Any] = [None]
    if isinstance(stream, ShopIncrementalStream):
        window = stream.read_window_for(context)
        if window.empty:
            return _Probe(0, 0.0)
        windows = window.chunks(stream.max_window_seconds)
    started = time.monotonic()
    total: int | None = 0
    for window in windows:
        if window is not None:
            context[WINDOW_KEY] = (window.start, window.end)
        with contextlib.closing(stream.iter_pages(context)) as pages:
            first = next(pages, None)
        count = 0 if first is None else first.total_count
        total = None if total is None or count is None else total + count
    return _Probe(total, time.monotonic() - started)


@click.command()
@click.option(
    "--config",
    "config_args",
    multiple=True,
    required=True,
    help="The tap's config JSON (repeatable, merged in order), or ENV for the "
    "TAP_TIKTOK_SHOP_* variables (and a .env file), as for tap-tiktok-shop.",
)
@click.option(
    "--catalog",
    "catalog_path",
    help="Check only the streams this Singer catalog selects (default: every stream).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def check(config_args: tuple[str, ...], catalog_path: str | None, output_format: str) -> None:
    """Check settings, clock, token, shops and scopes; size the first sync (no sync)."""
    try:
        findings = run_check(load_tap(config_args, catalog_path))
    except ConfigurationError as exc:
        findings = Findings()
        findings.problem(f"Config: {exc}")
    except SyncInterrupted as exc:
        click.echo(f"Interrupted by {signal.Signals(exc.signum).name}.", err=True)
        sys.exit(128 + exc.signum)
    if output_format == "json":
        click.echo(json.dumps({**findings.facts, "problems": findings.problems}, indent=2))
    else:
        click.echo("\n".join(findings.lines))
    for problem in findings.problems:
        click.echo(f"Problem: {problem}", err=True)
    if findings.problems:
        click.echo(
            f"{len(findings.problems)} problem(s): fix them before the first sync.", err=True
        )
        sys.exit(1)
    click.echo("OK: every selected stream can sync for every shop.", err=True)
