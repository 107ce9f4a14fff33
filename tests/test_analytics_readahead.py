"""The analytics streams read shops at once (issue 15): their pace is per shop, not per app.

A read in place asks the analytics endpoints one request after another, so it never has two in
flight; read ahead, requests of different shops overlap (the emulator records when it received
and answered each one), within ``parallel_reads``, while records still come shop by shop, in
the shops' order, each exactly as the emulator holds it, and every shop's bookmark is exact.
"""

from __future__ import annotations

import typing as t

from tests.conftest import run_tap, tap_config
from tests.test_analytics_sync import ANALYTICS, STREAMS, _bookmarks, _emitted, _expected

if t.TYPE_CHECKING:
    from tiktok_shop_emulator import Emulator
    from tiktok_shop_emulator.stats import RequestRecord

PARALLEL_READS = 3


def _peak_overlap(records: list[RequestRecord]) -> tuple[int, int]:
    """The most requests in flight at once, and the most distinct shops among them."""
    events = sorted(
        [(r.started, 1, r.query.get("shop_cipher")) for r in records]
        + [(r.at, -1, r.query.get("shop_cipher")) for r in records],
        key=lambda event: (event[0], event[1]),
    )  # an answer before a new request
    in_flight: dict[str | None, int] = {}
    peak = peak_shops = 0
    for _, change, cipher in events:
        in_flight[cipher] = in_flight.get(cipher, 0) + change
        if not in_flight[cipher]:
            del in_flight[cipher]
        peak = max(peak, sum(in_flight.values()))
        peak_shops = max(peak_shops, len(in_flight))
    return peak, peak_shops


def _shop_blocks(shop_ids: list[str]) -> list[str]:
    """The shops in the order their records came, one entry per run of the same shop."""
    return [
        shop for index, shop in enumerate(shop_ids) if index == 0 or shop_ids[index - 1] != shop
    ]


def test_shops_are_read_at_once_and_emitted_shop_by_shop(emulator_factory, tmp_path):
    emu: Emulator = emulator_factory(
        shops=4, orders_per_shop=5, products_per_shop=30, seed=5, analytics_days=6, latency_ms=30
    )
    shops = [shop["id"] for shop in emu.shops()]
    config = tap_config(emu, analytics_history_days=8, parallel_reads=PARALLEL_READS)
    run = run_tap(tmp_path, emu, config, catalog=ANALYTICS)
    assert run.returncode == 0, run.stderr

    analytics = [r for r in emu.stats.records() if r.path.startswith("/analytics/")]
    peak, peak_shops = _peak_overlap(analytics)
    assert peak_shops >= 2, "analytics requests of different shops never overlapped"
    assert peak <= PARALLEL_READS + 1  # the workers, and the read the tap waits for
    for stream in STREAMS:
        emitted_shops = [record["shop_id"] for record in run.records(stream)]
        assert _shop_blocks(emitted_shops) == shops, f"{stream}: not shop by shop, in order"
        expected = {key: rec for shop in shops for key, rec in _expected(emu, stream, shop).items()}
        assert _emitted(run, stream) == expected, stream
        latest = {shop: emu.analytics.latest_date(shop) for shop in shops}
        assert _bookmarks(run.last_state, stream) == latest, stream
