"""What a run did, told once at its end: a compact table in the log, and JSON for monitoring.

A scheduled run fails at 3 a.m.; the operator wants to read, at the end of the log, what it
synced: per stream the records emitted, the shops synced, skipped (and why) and failed, the
span of the new bookmarks, the API requests made, the retries and the 429 answers, and the
wall time. The table is logged when the run ends whichever way it ends (finished, failed,
interrupted), before the line that gives the exit reason; with ``run_summary_file`` the same
facts are also written there as JSON (replaced atomically, so a monitor never reads half).

This is the one place that reports the run. The shops that failed come from ``ShopFailures``
(their WARNING lines name what to do); its one line listing them stays the run's last line
(an ERROR and exit 1 with ``fail_on_shop_errors``, else a WARNING), written here right after
the table. Record counts are ``progress.py``'s (what the SDK emitted); request counts are
taken by the base stream's request loop (``client.py``), per stream.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import tempfile
import threading
import time
import typing as t
from collections import Counter
from pathlib import Path

from tap_tiktok_shop.errors import REPORTED_ERRORS
from tap_tiktok_shop.outcome import SyncInterrupted
from tap_tiktok_shop.scopes import package_of

if t.TYPE_CHECKING:
    from tap_tiktok_shop.progress import Tally
    from tap_tiktok_shop.tap import TapTikTokShop

#: What the request loop counts per stream: attempts sent, retries, answers 429 (or 36009002).
REQUEST_FIGURES = ("requests", "retries", "throttled")
#: Columns of the logged table.
_COLUMNS = (
    "stream",
    "records",
    "shops synced/skipped/failed",
    "new bookmarks (UTC)",
    "requests",
    "retries",
    "429s",
)


class RequestCounts:
    """Requests, retries and 429 answers per stream (thread-safe: prefetch workers count)."""

    def __init__(self) -> None:
        """Nothing counted yet."""
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, stream: str, figure: str) -> None:
        """Count one of ``REQUEST_FIGURES`` for ``stream``."""
        with self._lock:
            self._counts[stream, figure] += 1

    def of(self, stream: str) -> dict[str, int]:
        """The figures of one stream."""
        with self._lock:
            return {figure: self._counts[stream, figure] for figure in REQUEST_FIGURES}


def _utc(value: int) -> str:
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


class RunSummary:
    """Collects a run's figures and reports them once, at its end (see the module docstring)."""

    def __init__(self, tap: TapTikTokShop) -> None:
        """Start the wall clock now (the tap is being set up)."""
        self._tap = tap
        self._started = time.monotonic()
        self._started_at = int(time.time())
        self.requests = RequestCounts()
        #: The shops this run syncs, in order (set by the ``shops`` stream).
        self.shops: list[str] = []
        self.facts: dict[str, t.Any] | None = None

    def sync_ended(self, error: BaseException | None) -> None:
        """The sync of the shops and their streams ended: report now if it failed.

        A sync that completed is reported by ``sync_finished``, after its final STATE.
        """
        if error is None:
            return
        if isinstance(error, SyncInterrupted):
            self.finish("interrupted", f"interrupted by {signal.Signals(error.signum).name}")
        else:
            known = isinstance(error, REPORTED_ERRORS)
            self.finish("failed", str(error) if known else type(error).__name__)

    def sync_finished(self) -> None:
        """Every stream synced and its STATE was written: the summary, then the failure line.

        Raises:
            ShopsFailedError: when shops failed and ``fail_on_shop_errors`` is true.
        """
        failures = self._tap.shop_failures
        line = failures.summary()
        if line is None:
            self.finish("succeeded", None)
        else:
            self.finish("failed" if failures.fails_run else "partial", line)
        failures.finish()

    def finish(self, status: str, reason: str | None) -> None:
        """Log the table and write the JSON file, once; never raises (runs on the way out)."""
        if self.facts is not None:
            return
        logger = self._tap.logger
        try:
            self.facts = self._facts(status, reason)
            for line in table(self.facts):
                logger.info("%s", line)
        except Exception as exc:  # a fault here must not hide how the run ended
            logger.warning("Run summary: could not be made (%s)", type(exc).__name__)
            return
        path = self._tap.config.get("run_summary_file")
        if path:
            try:
                write_json(Path(path), self.facts)
            except OSError as exc:
                logger.warning(
                    "run_summary_file: cannot write %s: %s",
                    path,
                    exc.strerror or type(exc).__name__,
                )

    def _facts(self, status: str, reason: str | None) -> dict[str, t.Any]:
        tap = self._tap
        tallies: dict[tuple[str, str | None], Tally] = {
            (tally.stream, tally.shop_id): tally for tally in tap.progress.tallies()
        }
        failed: dict[str, dict[str, str]] = {}
        for failure in tap.shop_failures.failures:
            failed.setdefault(failure.stream, {})[failure.shop_id] = (
                f"{failure.code}: {failure.reason}" if failure.reason else failure.code
            )
        streams: dict[str, dict[str, t.Any]] = {}
        for stream in tap.streams.values():
            if not stream.selected:
                continue
            name = stream.name
            records = sum(tally.emitted for key, tally in tallies.items() if key[0] == name)
            figures: dict[str, t.Any] = {"records": records}
            if stream.parent_stream_type is not None:
                figures.update(self._shops_of(name, tallies, failed.get(name, {}), status))
                figures["bookmarks"] = self._span(name, figures["shops_synced"])
            figures.update(self.requests.of(name))
            streams[name] = figures
        return {
            "status": status,
            "reason": reason,
            "started_at": _utc(self._started_at),
            "wall_seconds": round(time.monotonic() - self._started, 3),
            "shops": list(self.shops),
            "streams": streams,
        }

    def _shops_of(
        self,
        name: str,
        tallies: dict[tuple[str, str | None], Tally],
        failed: dict[str, str],
        status: str,
    ) -> dict[str, t.Any]:
        """Which shops synced the stream, which failed (and why), which were skipped (why)."""
        synced: list[str] = []
        skipped: dict[str, str] = {}
        for shop_id in self.shops:
            tally = tallies.get((name, shop_id))
            if shop_id in failed:
                continue
            if tally is not None and tally.synced:
                synced.append(shop_id)
            else:
                skipped[shop_id] = self._skip_reason(name, status)
        return {"shops_synced": synced, "shops_skipped": skipped, "shops_failed": failed}

    def _skip_reason(self, name: str, status: str) -> str:
        stream = self._tap.streams[name]
        if name in self._tap.scopes.skipped:
            scope = str(getattr(stream, "required_scope", ""))
            return f"the app lacks the API package '{package_of(scope)}' (scope {scope})"
        if status not in {"succeeded", "partial"}:
            return "not read: the run stopped first"
        parent = next(
            (each for each in self._tap.streams.values() if stream in each.child_streams), None
        )
        if parent is not None and parent.parent_stream_type is not None:
            return f"no {parent.name} record to read it for"
        return "not read"

    def _span(self, name: str, shops: list[str]) -> dict[str, str] | None:
        """Earliest and latest bookmark of the shops that synced ``name`` (UTC), or None."""
        stream_state = (self._tap.state.get("bookmarks") or {}).get(name) or {}
        values = [
            partition["replication_key_value"]
            for partition in stream_state.get("partitions") or []
            if str((partition.get("context") or {}).get("shop_id")) in shops
            and isinstance(partition.get("replication_key_value"), int)
        ]
        if not values:
            return None
        return {"earliest": _utc(min(values)), "latest": _utc(max(values))}


def table(facts: dict[str, t.Any]) -> list[str]:
    """The summary as log lines: a headline, an aligned table, the reasons for skipped shops."""
    streams: dict[str, dict[str, t.Any]] = facts["streams"]
    rows = [list(_COLUMNS)]
    reasons: list[str] = []
    for name, figures in streams.items():
        shops = "-"
        if "shops_synced" in figures:
            skipped: dict[str, str] = figures["shops_skipped"]
            shops = f"{len(figures['shops_synced'])}/{len(skipped)}/{len(figures['shops_failed'])}"
            for why, count in Counter(skipped.values()).items():
                reasons.append(f"Run summary: {name}: {count} shop(s) skipped: {why}")
        span = figures.get("bookmarks")
        rows.append(
            [
                name,
                f"{figures['records']:,}",
                shops,
                f"{span['earliest']} .. {span['latest']}" if span else "-",
                f"{figures['requests']:,}",
                f"{figures['retries']:,}",
                f"{figures['throttled']:,}",
            ]
        )
    widths = [max(len(row[index]) for row in rows) for index in range(len(_COLUMNS))]
    lines = [
        f"Run summary: {facts['status']} after {facts['wall_seconds']:.1f} s, "
        f"{len(facts['shops'])} shop(s), "
        f"{sum(figures['records'] for figures in streams.values()):,} records, "
        f"{sum(figures['requests'] for figures in streams.values()):,} API requests"
    ]
    for row in rows:
        cells = [
            cell.ljust(width) if index in {0, 2, 3} else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("Run summary: " + "  ".join(cells).rstrip())
    return lines + reasons


def write_json(path: Path, facts: dict[str, t.Any]) -> None:
    """Replace ``path`` with the facts as JSON, atomically (a temporary file renamed)."""
    directory = path.parent if str(path.parent) else Path()
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(facts, file, indent=2)
            file.write("\n")
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
