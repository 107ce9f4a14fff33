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
"""

from __future__ import annotations

import itertools
import queue
import tempfile
import threading
import typing as t

from tap_tiktok_shop.client import Page
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
    ) -> None:
        self.produce = produce
        self.order = order
        self.parse = parse
        self.lock = threading.Lock()
        self.active = False
        self.started = False  # taken by a worker (or by the consumer's own thread)
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        self.spooled: list[int | object] = []  # page sizes, and other items in their place
        self.end: _Done | _Failed | None = None
        self.live: queue.Queue[Item] = queue.Queue(maxsize=live_pages)


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
        self._tasks: queue.PriorityQueue[tuple[tuple[int, ...], int, _Read]] = (
            queue.PriorityQueue()
        )
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
    ) -> None:
        """Start reading ``key`` ahead; lower ``order`` keys start first. Thread-safe."""
        read = _Read(produce, parse, self._live_pages, order)
        with self._lock:
            self._reads[key] = read
            start_worker = self._started < self._workers
            self._started += int(start_worker)
        self._tasks.put((order, next(self._tie), read))
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
        with read.lock:
            read.active = True
            spooled, end = list(read.spooled), read.end
            start_now = not read.started
            read.started = True
        self.budget.wake()  # its worker, if waiting for the budget, goes on
        if start_now:  # every worker is busy further ahead: this read must not wait for them
            threading.Thread(target=self._run, args=(read,), name="prefetch-now",
                             daemon=True).start()
        try:
            read.spool.seek(0)
            for entry in spooled:
                if isinstance(entry, int):
                    yield from read.parse(read.spool.read(entry))
                else:
                    yield entry
        finally:
            # Counted until the file is gone: it holds its pages until closed, read or not.
            read.spool.close()
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
        """Stop every worker (each notices before its next page or request attempt)."""
        self._cancelled.set()
        self._running.set()  # wake workers waiting to start a read: they exit
        self._released.set()

    def _work(self) -> None:
        while not self._cancelled.is_set():
            _, _, read = self._tasks.get()
            # Bounded: a failure nobody consumes (its stream was skipped) must not stall reads.
            self._running.wait(timeout=FAILURE_PAUSE_SECONDS)
            self._released.wait()
            if self._cancelled.is_set():
                return
            with read.lock:
                taken, read.started = read.started, True
            if not taken:  # else the consumer's own thread runs it
                self._run(read)

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
                    if not read.active:
                        if isinstance(produced, Page):
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
                read.live.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False
