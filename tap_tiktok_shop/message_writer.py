"""Singer message output: orjson, a flush only with STATE, and each SCHEMA written once.

The SDK's default writer encodes with simplejson and flushes after every message; for
full-shape orders that is a large share of the tap's CPU. Records are written in chunks of about
a megabyte, and every other message writes and flushes what is pending, so a target never sees
a STATE before the records it covers (the SDK writes a STATE at the end of every run). The
prefetcher also flushes whenever the tap waits for a page, and a failing sync on its way out.
The SDK also writes a stream's SCHEMA each time it syncs a partition (once per shop, and once
per statement for ``statement_transactions``); an identical repeat carries no information.
Into a pipe (a loader), the chunks are written by a thread of their own (``stdout_pipe.py``),
so the tap goes on working while the loader loads a batch and reads nothing.

STATE holds a bookmark per shop and stream, and the SDK writes it whole after every stream of
every shop: with hundreds of shops that is thousands of messages, each of them larger, so
anything done per STATE in Python (the SDK deep-copies it to compare with the last one, and
``dataclasses.asdict`` copies it again to encode it) grows with the square of the shop count and
was most of the run's CPU. Here a STATE is encoded once, by orjson, and compared as bytes.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import sys
import typing as t

import orjson
from singer_sdk.helpers._state import StateWriter
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import (
    Message,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)
from typing_extensions import override

from tap_tiktok_shop.stdout_pipe import BackgroundStdout, is_pipe, write_now

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.helpers.types import TapState

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
#: Records are gathered up to this many bytes per write: a full-shape order is larger than
#: stdout's own 8 KB buffer, which would otherwise cost one system call per record.
WRITE_CHUNK_BYTES = 1 << 20


def _default(value: t.Any) -> t.Any:
    """Encode what orjson does not know natively, as the SDK's writer would."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class OrjsonSingerWriter(GenericSingerWriter[bytes, Message]):
    """Writes Singer messages to stdout as JSON lines."""

    def __init__(self) -> None:
        """Start with no schema written."""
        super().__init__()
        self._schemas: dict[str, SchemaMessage] = {}
        self._pending = bytearray()
        self._out = BackgroundStdout()
        self._unflushed = False  # chunks were handed over since the last flush
        self._pipe: tuple[int, bool] | None = None  # (id of sys.stdout, whether a pipe)

    @override
    def serialize_message(self, message: Message) -> bytes:
        """Encode one message as a JSON line (a STATE without copying it first)."""
        if isinstance(message, StateMessage):
            return encode_state(message.value)
        return orjson.dumps(message.to_dict(), default=_default, option=_OPTIONS)

    @override
    def write_message(self, message: Message) -> None:
        """Write one message (a repeated identical SCHEMA is skipped); flush unless a record."""
        if isinstance(message, SchemaMessage):
            # Compared as messages (field by field, in C), not encoded: no copy per partition.
            if self._schemas.get(message.stream) == message:
                return
            self._schemas[message.stream] = copy.deepcopy(message)  # only when written
        self.write_line(self.format_message(message), is_record=isinstance(message, RecordMessage))

    def write_line(self, line: bytes, *, is_record: bool = False) -> None:
        """Write one encoded message; every message but a record flushes what is pending."""
        self._pending += line
        if is_record and len(self._pending) < WRITE_CHUNK_BYTES:
            return
        self.flush_pending(flush=not is_record)

    def flush_pending(self, *, flush: bool = True) -> None:
        """Write out the records gathered so far (also when a sync fails: they were emitted)."""
        if self._pending or (flush and self._unflushed):
            if self._into_pipe():
                self._out.write(sys.stdout, bytes(self._pending), flush=flush)
            else:
                self._out.drain()  # (empty unless stdout stopped being a pipe)
                write_now(sys.stdout, self._pending, flush=flush)
            self._unflushed = not flush
        self._pending.clear()

    def _into_pipe(self) -> bool:
        """Whether stdout is a pipe, looked up once per stdout object (not per chunk)."""
        if self._pipe is None or self._pipe[0] != id(sys.stdout):
            self._pipe = (id(sys.stdout), is_pipe(sys.stdout))
        return self._pipe[1]

    def drain(self) -> None:
        """Write out everything emitted so far, and wait until it is written."""
        self.flush_pending()
        self._out.drain()


def encode_state(state: Mapping[str, t.Any]) -> bytes:
    """A STATE message as a JSON line, encoded straight from the state (no copy)."""
    return orjson.dumps({"type": "STATE", "value": state}, default=_default, option=_OPTIONS)


class EncodedStateWriter(StateWriter):
    """The SDK's state writer (a STATE only when the state changed), comparing encoded bytes.

    The SDK's version keeps a deep copy of the last state to compare with; encoding is needed
    anyway, and two encodings of the same state are the same bytes (key order included), so
    the last encoding is what is kept.
    """

    def __init__(self, message_writer: OrjsonSingerWriter) -> None:
        """Write through ``message_writer``; nothing written yet."""
        super().__init__(message_writer)
        self._writer = message_writer
        self._last: bytes | None = None

    @override
    def write_state(self, state: TapState) -> None:
        """Write a STATE message if the state changed since the last one."""
        encoded = encode_state(state)
        if encoded != self._last:
            self._writer.write_line(encoded)
            self._last = encoded
