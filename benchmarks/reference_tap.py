"""A minimal SDK tap that emits given orders from memory through the SDK's default record path.

The yardstick of the CPU benchmark: same records, same schema, no HTTP, the SDK's default
conformance and writer. Usage: python benchmarks/reference_tap.py ORDERS.jsonl
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

from singer_sdk import Stream, Tap

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "tap_tiktok_shop/schemas/orders.json").read_text()
)
ORDERS_FILE = sys.argv.pop(1)


class ReferenceOrders(Stream):
    """Orders read from a JSON-lines file."""

    name = "orders"
    schema = SCHEMA
    primary_keys = ("id",)

    def get_records(self, context: t.Any) -> t.Iterable[dict[str, t.Any]]:
        """Yield each order of the file."""
        with open(ORDERS_FILE) as handle:
            for line in handle:
                yield json.loads(line)


class ReferenceTap(Tap):
    """The SDK's default path, nothing else."""

    name = "reference-tap"
    config_jsonschema: t.ClassVar[dict[str, t.Any]] = {"type": "object", "properties": {}}

    def discover_streams(self) -> list[Stream]:
        """One stream."""
        return [ReferenceOrders(self)]


if __name__ == "__main__":
    ReferenceTap.cli()
