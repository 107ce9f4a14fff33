"""Singer message output: orjson, a flush only with STATE, and each SCHEMA written once.

The SDK's default writer encodes with simplejson and flushes after every message; for
full-shape orders that is a large share of the tap's CPU. Records are written in chunks of about
a megabyte, and every other message writes and flushes what is pending, so a target never sees
a STATE before the records it covers (the SDK writes a STATE at the end of every run). The
prefetcher also flushes whenever the tap waits for a page, and a failing sync on its way out.
The SDK also writes a stream's SCHEMA each time it syncs a partition (once per shop, and once
per statement for ``statement_transactions``); an identical repeat carries no information.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import typing as t

import orjson
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage, SchemaMessage

from tap_tiktok_shop.stdout_pipe import BackgroundStdout, is_pipe, write_now

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
        self._schemas: dict[str, dict[str, t.Any]] = {}
        self._pending = bytearray()
        self._out = BackgroundStdout()
        self._unflushed = False  # chunks were handed over since the last flush

    def serialize_message(self, message: Message) -> bytes:
        """Encode one message as a JSON line."""
        return orjson.dumps(message.to_dict(), default=_default, option=_OPTIONS)

    def write_message(self, message: Message) -> None:
        """Write one message (a repeated identical SCHEMA is skipped); flush unless a record."""
        if isinstance(message, SchemaMessage):
            current = message.to_dict()
            if self._schemas.get(message.stream) == current:
                return
            self._schemas[message.stream] = current
        self._pending += self.format_message(message)
        is_record = isinstance(message, RecordMessage)
        if is_record and len(self._pending) < WRITE_CHUNK_BYTES:
            return
        self.flush_pending(flush=not is_record)

    def flush_pending(self, *, flush: bool = True) -> None:
        """Write out the records gathered so far (also when a sync fails: they were emitted)."""
        if self._pending or (flush and self._unflushed):
            if is_pipe(sys.stdout):
                self._out.write(sys.stdout, bytes(self._pending), flush=flush)
            else:
                self._out.drain()  # (empty unless stdout stopped being a pipe)
                write_now(sys.stdout, self._pending, flush=flush)
            self._unflushed = not flush
        self._pending.clear()

    def drain(self) -> None:
        """Write out everything emitted so far, and wait until it is written."""
        self.flush_pending()
        self._out.drain()
