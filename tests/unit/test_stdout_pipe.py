"""Output written on its own thread (issue 13): in order, bounded, failures not lost."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest

from tap_tiktok_shop.stdout_pipe import BackgroundStdout, is_pipe


class SlowStream:
    """A binary stdout whose reader takes its time (a loader busy loading)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.buffer = io.BytesIO()
        self.delay = delay
        self.flushes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def flush(self) -> None:
        self.flushes.append(len(self.buffer.getvalue()))


class _Buffer(io.BytesIO):
    def __init__(self, owner: SlowStream) -> None:
        super().__init__()
        self.owner = owner

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.owner.gate.wait()
        time.sleep(self.owner.delay)
        return super().write(data)


def _stream(delay: float = 0.0) -> SlowStream:
    stream = SlowStream(delay)
    stream.buffer = _Buffer(stream)
    return stream


def test_chunks_are_written_in_order_with_their_flushes():
    stream = _stream()
    out = BackgroundStdout(limit=1000)
    for index in range(50):
        out.write(stream, f"{index}\n".encode(), flush=index % 10 == 9)
    out.drain()
    assert stream.buffer.getvalue().decode().split() == [str(i) for i in range(50)]
    assert len(stream.flushes) == 5
    assert stream.flushes[-1] == len(stream.buffer.getvalue())


def test_a_stalled_reader_holds_back_at_most_the_limit():
    stream = _stream()
    stream.gate.clear()  # the loader reads nothing for now
    out = BackgroundStdout(limit=10_000)
    written = []

    def produce():
        for index in range(100):
            out.write(stream, bytes(1000), flush=False)
            written.append(index)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    time.sleep(0.3)
    assert 9 <= len(written) <= 12  # the queue is full: the tap waits
    stream.gate.set()
    producer.join(10)
    out.drain()
    assert len(written) == 100
    assert len(stream.buffer.getvalue()) == 100_000


def test_a_failed_write_is_raised_in_the_writing_thread():
    class Broken:
        class buffer:
            @staticmethod
            def write(data: bytes) -> int:
                raise BrokenPipeError("the loader exited")

        @staticmethod
        def flush() -> None:
            pass

    out = BackgroundStdout(limit=1000)
    out.write(Broken, b"x", flush=True)
    with pytest.raises(BrokenPipeError, match="loader exited"):
        out.drain()


def test_drain_returns_only_once_everything_is_written():
    stream = _stream(delay=0.05)
    out = BackgroundStdout(limit=1 << 20)
    for _ in range(5):
        out.write(stream, b"abc", flush=False)
    out.drain()
    assert stream.buffer.getvalue() == b"abc" * 5


def test_only_a_pipe_gets_the_writer_thread(tmp_path):
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(write_end, "wb", closefd=False) as pipe_out:
            assert is_pipe(pipe_out)
    finally:
        os.close(read_end)
        os.close(write_end)
    with open(tmp_path / "out.jsonl", "wb") as file_out:
        assert not is_pipe(file_out)  # a file never blocks: written in place
    assert not is_pipe(io.StringIO())  # a caught text stream (tests, the SDK's test runner)
