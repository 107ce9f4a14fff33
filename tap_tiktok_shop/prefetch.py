"""Fetching several reads at once while records are still emitted one read after another.

The SDK syncs partitions (shops) one after another, so a tap that waits for each page spends
most of its time idle on network latency. Reads (a shop, or one time window of a big shop) are
handed to a bounded pool of daemon worker threads, earliest first: each read has an order key
(shop index, then window index), so a shop's windows are fetched before later shops. The read
being consumed receives its pages through a small bounded queue of parsed records; a read not
consumed yet spools its raw page bodies to a temporary file (in memory up to 256 KB), and all
spooled pages together stay under the read-ahead budget (``readahead.py``): workers wait when it
is full, so memory and temporary files stay bounded however slow the consumer is. The read the
consumer waits for never waits for the budget, and starts at once on a thread of its own if no
worker took it yet, so a full budget can never stall the run. Records, bookmarks and STATE are those
of a sequential run, and an error of a later read surfaces only when the consumer reaches it,
after everything before it was emitted and bookmarked. A producer may also yield other objects
(a plan of sub-reads); they reach the consumer in order, as they are.

While the API may be down (``outage.py``), read-ahead is held: no new read starts on a worker,
only the read the consumer waits for runs, so an outage costs the retries of the reads already
going rather than of every shop. Once closed, no read starts and no request is sent, not even
the next attempt of a read retrying (``check_open``).

A read may name a ``lane``: the rate limiter's pace key its requests share (one shop's
statement transactions, one read per statement). Workers queued behind one lane's pace would
sit idle in the limiter while other shops' reads wait, so a worker takes the earliest read
whose lane runs fewer than ``LANE_READS`` reads; only when every waiting read it looks at is
on a busy lane does it take the earliest one anyway (one big shop alone still uses its pace).
"""

from __future__ import annotations

import heapq
import itertools
import queue
import tempfile
import threading
import typing as t

from tap_tiktok_shop.pagination import Page
from tap_tiktok_shop.readahead import ReadAheadBudget

if t.TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

Records = list[dict[str, t.Any]]
#: Raw page bytes kept in memory per read before the spool moves to disk (the OS page
#: cache keeps them fast; memory stays small however many windows are spooled).
SPOOL_MEMORY_BYTES = 256 * 2**10
#: How long new reads wait for a failed read to be consumed before starting anyway.
FAILURE_PAUSE_SECONDS = 10.0
#: Default read-ahead bound (the ``read_ahead_mb`` setting).
DEFAULT_BUDGET_BYTES = 64 * 2**20
#: Reads of one lane run at once while reads of other lanes wait (at 45 requests per second
#: and 100 ms or more per call, two reads keep a lane's pace busy without queueing in it).
LANE_READS = 2
#: How many waiting reads a worker looks at for one on a free lane.
LANE_LOOK_AHEAD = 64


class ReadsClosed(Exception):
    """The prefetcher was closed (the run is ending): a read still going sends nothing more."""


class _Done:
    """Marks the end of a read."""


class _Failed:
    """Carries a worker's exception to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


Item = Page | _Done | _Failed | object


class _Read:
    """One read's hand-over between its worker and the consumer."""

    def __init__(
        self,
        produce: Callable[[], Iterable[Page | object]],
        parse: Callable[[bytes], Records],
        live_pages: int,
        order: tuple[int, ...],
        lane: Hashable | None,
    ) -> None:
        self.produce = produce
        self.order = order
        self.parse = parse
        self.lane = lane
        self.lock = threading.Lock()
        self.active = False
        self.started = False  # taken by a worker (or by the consumer's own thread)
        # Both made only when needed: thousands of small reads (one per statement) may wait
        # for a worker at once, and an empty spool and queue weigh about 8 KB.
        self.spool: tempfile.SpooledTemporaryFile[bytes] | None = None  # once a page waits
        self.spooled: list[int | object] = []  # page sizes, and other items in their place
        self.end: _Done | _Failed | None = None
        self.live_pages = live_pages
        self.live: queue.Queue[Item] | None = None  # once the consumer is at this read


class Prefetcher:
    """A bounded pool of workers reading ahead, one hand-over per submitted read."""

    def __init__(
        self,
        workers: int,
        live_pages: int = 2,
        on_idle: Callable[[], None] | None = None,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        """``workers`` reads run at once; a consumed read buffers ``live_pages`` pages.

        ``on_idle`` runs when the consumer is about to wait for a page (the output writer
        flushes what it holds then, so a target sees records as soon as the tap is idle).
        ``budget_bytes`` bounds the pages fetched ahead and not consumed yet.
        """
        self.budget = ReadAheadBudget(budget_bytes)
        self._on_idle = on_idle
        self._workers = workers
        self._started = 0
        self._live_pages = live_pages
        self._reads: dict[Hashable, _Read] = {}
        self._lock = threading.Lock()
        self._tasks: list[tuple[tuple[int, ...], int, _Read]] = []  # a heap, earliest first
        self._tasks_changed = threading.Condition()
        self._lane_reads: dict[Hashable, int] = {}  # reads of each lane taken by a worker
        self._tie = itertools.count()
        self._cancelled = threading.Event()
        # Cleared while a failed read waits to be consumed: the failure may end the run, so no
        # further read starts (and sends requests) until the consumer has seen it.
        self._running = threading.Event()
        self._running.set()
        # Cleared while the API may be down (``hold``): unlike the pause above, not bounded in
        # time; the consumer, who alone decides, never waits for it (see ``consume``).
        self._released = threading.Event()
        self._released.set()

    def submit(
        self,
        key: Hashable,
        order: tuple[int, ...],
        produce: Callable[[], Iterable[Page | object]],
        parse: Callable[[bytes], Records],
        lane: Hashable | None = None,
    ) -> None:
        """Start reading ``key`` ahead; lower ``order`` keys start first. Thread-safe.

        ``lane``: the pace key the read's requests wait for (see the module docstring).
        """
        read = _Read(produce, parse, self._live_pages, order, lane)
        with self._lock:
            self._reads[key] = read
            start_worker = self._started < self._workers
            self._started += int(start_worker)
        with self._tasks_changed:
            heapq.heappush(self._tasks, (order, next(self._tie), read))
            self._tasks_changed.notify()
        if start_worker:
            threading.Thread(target=self._work, name="prefetch", daemon=True).start()

    def has(self, key: Hashable) -> bool:
        """Whether ``key`` was submitted and not consumed yet."""
        with self._lock:
            return key in self._reads

    def consume(self, key: Hashable) -> Iterator[dict[str, t.Any] | object]:
        """Yield the records (and other items) of ``key`` in order; re-raise its error, if any."""
        with self._lock:
            read = self._reads.pop(key)
        return self._consume(read)

    def discard(self, key: Hashable) -> None:
        """Drop a submitted read that will never be consumed, so it holds no budget.

        A read not started yet never starts; one under way is read to its end and thrown
        away (its error, if any, too). Nothing happens if ``key`` was consumed already.
        """
        with self._lock:
            read = self._reads.pop(key, None)
        if read is None:
            return
        with read.lock:
            taken, read.started = read.started, True
        if not taken:
            return
        try:
            for _ in self._consume(read):
                pass
        except Exception:  # nobody asked for this read: its failure is moot
            self.resume()

    def _consume(self, read: _Read) -> Iterator[dict[str, t.Any] | object]:
        with read.lock:
            read.live = queue.Queue(maxsize=read.live_pages)
            read.active = True
            spooled, end = list(read.spooled), read.end
            start_now = not read.started
            read.started = True
        self.budget.wake()  # its worker, if waiting for the budget, goes on
        if start_now:  # every worker is busy further ahead: this read must not wait for them
            threading.Thread(
                target=self._run, args=(read,), name="prefetch-now", daemon=True
            ).start()
        spool = read.spool  # no worker writes to it any more: the read is active
        try:
            if spool is not None:
                spool.seek(0)
            for entry in spooled:
                if isinstance(entry, int):
                    assert spool is not None
                    yield from read.parse(spool.read(entry))
                else:
                    yield entry
        finally:
            # Counted until the file is gone: it holds its pages until closed, read or not.
            if spool is not None:
                spool.close()
            self.budget.release(sum(entry for entry in spooled if isinstance(entry, int)))
        item: Item = end if end is not None else self._next(read)
        while not isinstance(item, _Done):
            if isinstance(item, _Failed):
                raise item.error  # ends the run, unless the consumer handles it and resumes
            if isinstance(item, Page):
                yield from item.records
            else:
                yield item
            item = self._next(read)

    def _next(self, read: _Read) -> Item:
        assert read.live is not None  # made when the read became active
        if read.live.empty() and self._on_idle is not None:
            self._on_idle()
        return read.live.get()

    def resume(self) -> None:
        """A failed read was handled (e.g. its stream skipped): let further reads start."""
        self._running.set()

    def hold(self) -> None:
        """The API may be down: start no further read ahead until ``release`` (thread-safe)."""
        self._released.clear()

    def release(self) -> None:
        """The API answers again: reads ahead go on."""
        self._released.set()

    def check_open(self) -> None:
        """Before each request attempt of a read: stop it if the run is ending.

        Raises:
            ReadsClosed: once the prefetcher was closed.
        """
        if self._cancelled.is_set():
            msg = "reads were closed: the run is ending"
            raise ReadsClosed(msg)

    def close(self) -> None:
        """Stop every worker (before its next page or request attempt); drop what nobody reads.

        A run that ends early (a failure) leaves reads fetched ahead: their temporary files
        are closed now, not whenever the last worker lets go of them.
        """
        self._cancelled.set()
        self._running.set()  # wake workers waiting to start a read: they exit
        self._released.set()
        with self._tasks_changed:
            self._tasks_changed.notify_all()
        with self._lock:
            left, self._reads = list(self._reads.values()), {}
        for read in left:
            with read.lock:
                if read.spool is not None:
                    read.spool.close()
                    read.spool = None

    def _work(self) -> None:
        while (read := self._take()) is not None:
            try:
                # Bounded: a failure nobody consumes (its stream was skipped) must not stall.
                self._running.wait(timeout=FAILURE_PAUSE_SECONDS)
                self._released.wait()  # the API may be down: only the consumer's read runs
                if self._cancelled.is_set():
                    return
                with read.lock:
                    taken, read.started = read.started, True
                if not taken:  # else the consumer's own thread runs it
                    self._run(read)
            finally:
                self._lane_done(read)

    def _take(self) -> _Read | None:
        """The earliest waiting read on a free lane (see the module docstring); None: closed."""
        with self._tasks_changed:
            while not self._tasks:
                if self._cancelled.is_set():
                    return None
                self._tasks_changed.wait()
            passed: list[tuple[tuple[int, ...], int, _Read]] = []
            chosen = None
            while self._tasks and len(passed) < LANE_LOOK_AHEAD:
                task = heapq.heappop(self._tasks)
                lane = task[2].lane
                if lane is None or self._lane_reads.get(lane, 0) < LANE_READS:
                    chosen = task
                    break
                passed.append(task)
            if chosen is None:  # every read looked at waits for a busy lane: the earliest
                chosen = passed.pop(0)
            for task in passed:
                heapq.heappush(self._tasks, task)
            read = chosen[2]
            if read.lane is not None:
                self._lane_reads[read.lane] = self._lane_reads.get(read.lane, 0) + 1
            return read

    def _lane_done(self, read: _Read) -> None:
        if read.lane is not None:
            with self._tasks_changed:
                left = self._lane_reads[read.lane] - 1
                if left:
                    self._lane_reads[read.lane] = left
                else:
                    del self._lane_reads[read.lane]

    def _run(self, read: _Read) -> None:
        pages = iter(read.produce())
        try:
            while not self._cancelled.is_set():
                reserved = self.budget.reserve(
                    read.order, lambda: read.active, self._cancelled.is_set
                )
                try:
                    produced = next(pages)
                except StopIteration:
                    self.budget.settle(reserved, 0, kept=False)
                    break
                size = len(produced.raw) if isinstance(produced, Page) else 0
                with read.lock:
                    if self._cancelled.is_set():
                        return  # closed: its spool may be gone
                    if not read.active:
                        if isinstance(produced, Page):
                            if read.spool is None:
                                read.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                                    max_size=SPOOL_MEMORY_BYTES
                                )
                            read.spool.write(produced.raw)
                            read.spooled.append(size)
                        else:
                            read.spooled.append(produced)
                        self.budget.settle(reserved, size, kept=isinstance(produced, Page))
                        continue
                self.budget.settle(reserved, size, kept=False)
                if not self._put(read, produced):  # a page is parsed by the consumer
                    return
            else:
                return  # cancelled
        except BaseException as error:
            self._running.clear()
            self._finish(read, _Failed(error))
            return
        self._finish(read, _Done())

    def _finish(self, read: _Read, end: _Done | _Failed) -> None:
        with read.lock:
            if not read.active:
                read.end = end
                return
        self._put(read, end)

    def _put(self, read: _Read, item: Item) -> bool:
        while not self._cancelled.is_set():
            try:
                assert read.live is not None  # only a read being consumed is handed live
                read.live.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False
