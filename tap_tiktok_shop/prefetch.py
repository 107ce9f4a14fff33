"""Fetching several reads at once while records are still emitted one read after another.

The SDK syncs partitions (shops, and windows within a shop) one after another, so a tap that
waits for each page spends most of its time idle on network latency. Reads are handed, in the
order the SDK will consume them, to a bounded pool of daemon worker threads. The read being
consumed receives its pages through a small bounded queue of parsed records; a read that is not
being consumed yet spools its raw page bodies to a temporary file (in memory up to a few MB),
so memory stays bounded however far ahead the workers get. Records, bookmarks and STATE are
exactly those of a sequential run, and an error of a later read surfaces only when the SDK
reaches it, after everything before it was emitted and bookmarked.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    from tap_tiktok_shop.client import Page

Records = list[dict[str, t.Any]]
#: Raw page bytes kept in memory per read before the spool moves to disk.
SPOOL_MEMORY_BYTES = 4 * 2**20
#: How long new reads wait for a failed read to be consumed before starting anyway.
FAILURE_PAUSE_SECONDS = 10.0


class _Done:
    """Marks the end of a read."""


class _Failed:
    """Carries a worker's exception to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Read:
    """One read's hand-over between its worker and the consumer."""

    def __init__(self, produce: Callable[[], Iterable[Page]], parse: Callable[[bytes], Records],
                 live_pages: int) -> None:
        self.produce = produce
        self.parse = parse
        self.lock = threading.Lock()
        self.active = False
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        self.sizes: list[int] = []
        self.end: _Done | _Failed | None = None
        self.live: queue.Queue[Records | _Done | _Failed] = queue.Queue(maxsize=live_pages)


class Prefetcher:
    """A bounded pool of workers reading ahead, one hand-over per submitted read."""

    def __init__(self, workers: int, live_pages: int = 2) -> None:
        """``workers`` reads run at once; a consumed read buffers ``live_pages`` parsed pages."""
        self._workers = workers
        self._started = 0
        self._live_pages = live_pages
        self._reads: dict[Hashable, _Read] = {}
        self._tasks: queue.Queue[_Read] = queue.Queue()
        self._cancelled = threading.Event()
        # Cleared while a failed read waits to be consumed: the failure may end the run, so no
        # further read starts (and sends requests) until the consumer has seen it.
        self._running = threading.Event()
        self._running.set()

    def submit(
        self,
        key: Hashable,
        produce: Callable[[], Iterable[Page]],
        parse: Callable[[bytes], Records],
    ) -> None:
        """Start reading ``key`` ahead (reads start in submission order as workers free up)."""
        read = _Read(produce, parse, self._live_pages)
        self._reads[key] = read
        self._tasks.put(read)
        if self._started < self._workers:
            self._started += 1
            threading.Thread(target=self._work, name="prefetch", daemon=True).start()

    def has(self, key: Hashable) -> bool:
        """Whether ``key`` was submitted and not consumed yet."""
        return key in self._reads

    def consume(self, key: Hashable) -> Iterator[dict[str, t.Any]]:
        """Yield the records of ``key`` in order; re-raise its worker's error, if any."""
        read = self._reads.pop(key)
        with read.lock:
            read.active = True
            sizes, end = list(read.sizes), read.end
        try:
            read.spool.seek(0)
            for size in sizes:
                yield from read.parse(read.spool.read(size))
        finally:
            read.spool.close()
        item: Records | _Done | _Failed = end if end is not None else read.live.get()
        while not isinstance(item, _Done):
            if isinstance(item, _Failed):
                self._running.set()  # the consumer decides now: stop the run, or carry on
                raise item.error
            yield from item
            item = read.live.get()

    def close(self) -> None:
        """Stop every worker (each notices before its next page)."""
        self._cancelled.set()

    def _work(self) -> None:
        while not self._cancelled.is_set():
            read = self._tasks.get()
            # Bounded: a failure nobody consumes (its stream was skipped) must not stall reads.
            self._running.wait(timeout=FAILURE_PAUSE_SECONDS)
            self._run(read)

    def _run(self, read: _Read) -> None:
        try:
            for page in read.produce():
                with read.lock:
                    if not read.active:
                        read.spool.write(page.raw)
                        read.sizes.append(len(page.raw))
                        continue
                if not self._put(read, page.records):
                    return
        except BaseException as error:
            self._finish(read, _Failed(error))
            return
        self._finish(read, _Done())

    def _finish(self, read: _Read, end: _Done | _Failed) -> None:
        with read.lock:
            if not read.active:
                read.end = end
                return
        self._put(read, end)

    def _put(self, read: _Read, item: Records | _Done | _Failed) -> bool:
        while not self._cancelled.is_set():
            try:
                read.live.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False
