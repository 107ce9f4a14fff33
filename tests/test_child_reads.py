"""Issue 20: statement transactions fetched ahead in parallel, emitted as a sequential run would.

Every test compares a parallel run with a ``parallel_reads: 1`` run of the same emulator: the
same RECORD messages in the same order (each statement's transactions with their statement,
shop after shop), the same STATE messages, the same exit code. Shops are small and statements
hold more transactions than a page, so paging within one statement's read is exercised too.
"""

from __future__ import annotations

import datetime
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.prefetch import LANE_READS, Prefetcher
from tap_tiktok_shop.streams import STREAM_TYPES
from tests.conftest import catalog_selecting, run_in_process, tap_config
from tests.faultkit import assert_one_error_line, shop_warnings
from tests.test_readahead import _open_temporary_files

if t.TYPE_CHECKING:
    from tests.conftest import TapRun
    from tiktok_shop_emulator import Emulator

ALL_STREAMS = [stream.name for stream in STREAM_TYPES]
TRANSACTIONS = "/finance/202501/statements/{}/statement_transactions"


@dataclass
class Shops:
    """An emulator, and the instant every run of one test ends at (so STATEs can be equal)."""

    emu: Emulator
    end_date: str

    def run(self, parallel: int) -> TapRun:
        config = tap_config(self.emu, parallel_reads=parallel, page_size=4, end_date=self.end_date)
        return run_in_process(self.emu, config, catalog=catalog_selecting(ALL_STREAMS))


def _shops(emulator_factory: t.Callable[..., Emulator]) -> Shops:
    # Four days of history: about 10 orders a day, so a statement holds several pages.
    emu = emulator_factory(
        shops=3,
        orders_per_shop=40,
        history_days=4,
        statement_days=4,
        returns_per_shop=6,
        cancellations_per_shop=6,
        products_per_shop=6,
        withdrawals_per_shop=6,
        latency_ms=2,
    )
    end = datetime.datetime.fromtimestamp(int(time.time()), tz=datetime.timezone.utc)
    return Shops(emu, end.isoformat())


def _sequence(run: TapRun) -> list[tuple[t.Any, ...]]:
    """Every record, in output order, as (stream, shop, statement, id)."""
    return [
        (
            m["stream"],
            m["record"].get("shop_id"),
            m["record"].get("statement_id"),
            m["record"].get("id") or m["record"].get("return_id") or m["record"].get("cancel_id"),
        )
        for m in run.messages
        if m["type"] == "RECORD"
    ]


def _assert_same_runs(parallel: TapRun, sequential: TapRun) -> None:
    assert parallel.returncode == sequential.returncode, parallel.stderr[-3000:]
    assert _sequence(parallel) == _sequence(sequential)
    assert parallel.states == sequential.states


def _statements(run: TapRun, shop_id: str) -> list[str]:
    return [r["id"] for r in run.records("statements") if r["shop_id"] == shop_id]


def test_parallel_run_emits_what_a_sequential_run_emits(emulator_factory, waits):
    shops = _shops(emulator_factory)
    emu = shops.emu
    sequential, parallel = shops.run(1), shops.run(8)
    assert sequential.returncode == 0, sequential.stderr[-3000:]
    _assert_same_runs(parallel, sequential)
    transactions = parallel.records("statement_transactions")
    expected = sum(
        len(emu.statement_transactions(s["shop_id"], s["id"]))
        for s in parallel.records("statements")
    )
    assert len(transactions) == expected
    assert (
        max(
            sum(1 for tr in transactions if tr["statement_id"] == s["id"])
            for s in parallel.records("statements")
        )
        > 4
    )  # more than one page


def test_a_failed_statement_read_surfaces_after_everything_before_it(emulator_factory, waits):
    shops = _shops(emulator_factory)
    emu = shops.emu
    clean = shops.run(1)
    first, second, third = (shop["id"] for shop in emu.shops())
    doomed = _statements(clean, second)[1]  # the second shop's second statement
    runs = []
    # Files open before (pytest's own capture files grow with the output) do not count.
    before = _open_temporary_files()
    for parallel in (1, 8):
        # Not a failure of one shop: the run stops where a sequential run stops.
        emu.faults.add("result_cap", path_prefix=TRANSACTIONS.format(doomed))
        runs.append(shops.run(parallel))
    left = {inode: size for inode, size in _open_temporary_files().items() if inode not in before}
    assert not left  # what was read ahead for nothing is gone
    sequential, parallel_run = runs
    assert_one_error_line(parallel_run, f"statement_transactions (shop {second})", "12052180")
    _assert_same_runs(parallel_run, sequential)
    emitted = _sequence(parallel_run)
    assert emitted == _sequence(clean)[: len(emitted)]  # a prefix of the whole run
    shops_seen = {shop for _, shop, _, _ in emitted}
    assert first in shops_seen
    assert third not in shops_seen
    # Everything of the first shop, and the second shop's first statement's transactions.
    done = _statements(clean, second)[0]
    assert ("statement_transactions", second, done) in {e[:3] for e in emitted}
    assert ("statement_transactions", second, doomed) not in {e[:3] for e in emitted}


def test_one_shop_failure_in_a_statement_read_isolates_that_read(emulator_factory, waits):
    shops = _shops(emulator_factory)
    emu = shops.emu
    clean = shops.run(1)
    second = emu.shops()[1]["id"]
    doomed = _statements(clean, second)[0]
    runs = []
    for parallel in (1, 8):
        emu.faults.add("seller_inactive", path_prefix=TRANSACTIONS.format(doomed))
        runs.append(shops.run(parallel))
    sequential, parallel_run = runs
    _assert_same_runs(parallel_run, sequential)
    assert parallel_run.returncode == 1  # fail_on_shop_errors: the summary at the end
    assert len(shop_warnings(parallel_run, second, "statement_transactions")) == 1
    # Only the doomed statement's transactions are missing.
    missing = set(_sequence(clean)) - set(_sequence(parallel_run))
    assert missing
    assert {(stream, statement) for stream, _, statement, _ in missing} == {
        ("statement_transactions", doomed)
    }


# --- the prefetcher's side: lanes and discarded reads ------------------------------------------


def _read(name: str, started: list[str], release: threading.Event | None = None):
    def produce():
        started.append(name)
        if release is not None:
            release.wait(10)
        yield Page(name.encode(), None, lambda: [{"read": name}])

    return produce


def _parse(raw: bytes) -> list[dict[str, t.Any]]:
    return [{"read": raw.decode()}]


def _wait_until(condition: t.Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_workers_skip_reads_of_a_busy_lane_while_other_reads_wait():
    started: list[str] = []
    release = threading.Event()
    workers = LANE_READS + 1
    prefetcher = Prefetcher(workers=workers)
    blockers = [threading.Event() for _ in range(workers)]
    for index, blocker in enumerate(blockers):  # every worker busy while the reads queue up
        prefetcher.submit(f"x{index}", (index,), _read(f"x{index}", started, blocker), _parse)
    _wait_until(lambda: len(started) == workers)
    names = [f"a{index}" for index in range(LANE_READS + 1)]
    for order, name in enumerate(names):  # one shop's reads, all on its pace lane
        prefetcher.submit(name, (10, order), _read(name, started, release), _parse, lane="a")
    prefetcher.submit("b", (11,), _read("b", started, release), _parse, lane="b")
    for index, blocker in enumerate(blockers):  # free the workers one by one
        blocker.set()
        _wait_until(lambda index=index: len(started) == workers + index + 1)
    # The lane's last read waits for its lane; b, later in order, went first.
    assert started[workers:] == [*names[:LANE_READS], "b"]
    release.set()
    for name in [*(f"x{index}" for index in range(workers)), *names, "b"]:
        assert [record["read"] for record in prefetcher.consume(name)] == [name]
    prefetcher.close()


def test_a_lone_busy_lane_still_gets_every_worker():
    started: list[str] = []
    release = threading.Event()
    prefetcher = Prefetcher(workers=LANE_READS + 2)
    for order in range(LANE_READS + 2):  # one big shop alone: its pace is the only limit
        prefetcher.submit(order, (order,), _read(str(order), started, release), _parse, lane="a")
    _wait_until(lambda: len(started) == LANE_READS + 2)
    assert len(started) == LANE_READS + 2
    release.set()
    prefetcher.close()


def test_discarded_reads_never_start_or_give_their_budget_back():
    started: list[str] = []
    release = threading.Event()
    prefetcher = Prefetcher(workers=1)
    prefetcher.submit("running", (0,), _read("running", started, release), _parse)
    prefetcher.submit("waiting", (1,), _read("waiting", started), _parse)
    _wait_until(lambda: started == ["running"])
    prefetcher.discard("waiting")  # not started: it never will be
    release.set()
    prefetcher.discard("running")  # under way: read to its end and dropped
    prefetcher.discard("running")  # gone already: nothing happens
    prefetcher.submit("after", (2,), _read("after", started), _parse)
    assert list(prefetcher.consume("after")) == [{"read": "after"}]
    assert started == ["running", "after"]
    assert prefetcher.budget.used == 0
    prefetcher.close()
