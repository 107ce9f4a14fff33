"""Singer message output: orjson, a flush only with STATE, and each SCHEMA written once.

The SDK's default writer encodes with simplejson and flushes after every message; for
full-shape orders that is a large share of the tap's CPU. Records may sit in the buffer, but
every non-record message flushes, so a target never sees a STATE before the records it covers.
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

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


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
        line = self.format_message(message)
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            out.write(line)
        else:  # a text stream without a byte buffer (e.g. captured output in tests)
            sys.stdout.write(line.decode())
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
