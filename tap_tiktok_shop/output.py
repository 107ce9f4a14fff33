"""The Singer message writer: like the SDK's, but a stream's unchanged SCHEMA is written once.

The SDK writes a stream's SCHEMA each time the stream syncs a partition: once per shop for
shop streams, and once per statement for ``statement_transactions`` (hundreds a year per shop,
each a large schema). Repeating an identical SCHEMA carries no information for a target.
"""

from __future__ import annotations

import typing as t

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import SchemaMessage

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


class SchemaOnceWriter(SingerWriter):
    """Skips a SCHEMA message identical to the last one written for its stream."""

    def __init__(self) -> None:
        """Start with no schema written."""
        super().__init__()
        self._written: dict[str, dict[str, t.Any]] = {}

    def write_message(self, message: Message) -> None:
        """Write the message unless it repeats the stream's current schema."""
        if isinstance(message, SchemaMessage):
            current = message.to_dict()
            if self._written.get(message.stream) == current:
                return
            self._written[message.stream] = current
        super().write_message(message)
