"""Handing Singer output to stdout on a thread of its own, at most a few megabytes ahead.

A loader reads stdin in bursts: while it writes a batch into its database it reads nothing, the
pipe between the two fills within milliseconds, and a tap writing stdout itself stops working
until the loader reads again, so the two take turns instead of running side by side. Here the
tap's main thread only queues its output chunks; one writer thread writes them, in order, with
a flush where a message asked for one (every STATE). The queue holds at most
``OUTPUT_AHEAD_BYTES``, so a slow loader costs a bounded amount of memory and then slows the
tap down as before. Nothing queued is lost: the process drains every queue at exit (``atexit``
runs while daemon threads still do; the SDK's command ends with ``sys.exit``), an interrupted
sync drains before it exits, and ``drain_all`` lets an in-process caller wait for the output.
A failed write (the loader exited) is raised in the main thread at its next write or drain.
Only a pipe gets a thread (``is_pipe``): into a file, a terminal or a caught text stream (tests,
the SDK's test runner) nothing waits for a reader, so writes stay synchronous there.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import stat
import threading
import typing as t
import weakref

#: Output bytes queued ahead of the writer thread at most (about 2,000 full-shape orders, what
#: a loader takes in one of its batches).
OUTPUT_AHEAD_BYTES = 16 * 2**20
#: Every writer of this process, for ``drain_all``.
_WRITERS: weakref.WeakSet[BackgroundStdout] = weakref.WeakSet()


class BackgroundStdout:
    """One writer thread per process; chunks are written in the order they were queued."""

    def __init__(self, limit: int = OUTPUT_AHEAD_BYTES) -> None:
        """Queue at most ``limit`` bytes (a single bigger chunk is let through alone)."""
        self._limit = limit
        self._chunks: collections.deque[tuple[t.Any, bytes, bool]] = collections.deque()
        self._queued = 0
        self._writing = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        _WRITERS.add(self)

    def write(self, stream: t.Any, data: bytes, *, flush: bool) -> None:
        """Queue ``data`` for ``stream`` (then flushed if ``flush``); waits while it is full."""
        with self._changed:
            self._raise_failure()
            while self._queued and self._queued + len(data) > self._limit:
                self._changed.wait()
                self._raise_failure()
            self._chunks.append((stream, data, flush))
            self._queued += len(data)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stdout", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def drain(self) -> None:
        """Wait until every queued chunk was written; raise a write's failure, if any."""
        with self._changed:
            while (self._chunks or self._writing) and self._error is None:
                self._changed.wait()
            self._raise_failure()

    def _raise_failure(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._chunks.clear()
            self._queued = 0
            raise error

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._chunks:
                    self._changed.wait()
                stream, data, flush = self._chunks.popleft()
                self._writing = True
            try:
                write_now(stream, data, flush=flush)
            except BaseException as error:  # handed to the main thread
                with self._changed:
                    self._error = error
            with self._changed:
                self._queued -= len(data)
                self._writing = False
                self._changed.notify_all()


def is_pipe(stream: t.Any) -> bool:
    """Whether ``stream`` writes into a pipe (a loader reading it, through Meltano or ``|``)."""
    try:
        return stat.S_ISFIFO(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # no descriptor: a text stream in memory
        return False


def drain_all() -> None:
    """Wait until every writer of this process wrote everything queued."""
    for writer in list(_WRITERS):
        writer.drain()


def _drain_at_exit() -> None:
    with contextlib.suppress(Exception):  # a failed write was reported already, or is moot
        drain_all()


atexit.register(_drain_at_exit)


def write_now(stream: t.Any, data: bytes | bytearray, *, flush: bool) -> None:
    """Write ``data`` to ``stream`` in the calling thread (the writer thread uses it too)."""
    out = getattr(stream, "buffer", None)
    if out is not None:
        out.write(data)
    else:  # a text stream without a byte buffer (e.g. captured output in tests)
        stream.write(data.decode())
    if flush:
        stream.flush()
