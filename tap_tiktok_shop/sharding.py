"""Stable shard assignment: which authorized shops a run with ``shard: "INDEX/COUNT"`` syncs.

A shop belongs to shard ``sha256(shop id) mod COUNT``. The hash is of the shop id alone, so
the answer never depends on the order the API lists shops in, on the other shops, or on the
process (Python's ``hash()`` is salted per process and must not be used): every authorized
shop is in exactly one shard of a given count, and a newly authorized shop lands in one
without any list to edit. Changing COUNT moves most shops to another shard; see
``scripts/reshard_state.py``, which carries their bookmarks over.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from typing_extensions import override

from tap_tiktok_shop.errors import ConfigurationError

#: ``INDEX/COUNT``: plain decimal numbers, no sign, no spaces.
SHARD_PATTERN = re.compile(r"(0|[1-9][0-9]{0,5})/([1-9][0-9]{0,5})")


def shard_of(shop_id: str, count: int) -> int:
    """Return the shard (0 .. count-1) that holds a shop, for any shard count."""
    digest = hashlib.sha256(str(shop_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """One shard of a given count: shards count from 0."""

    index: int
    count: int

    def holds(self, shop_id: str) -> bool:
        """Whether this shard syncs the shop."""
        return shard_of(shop_id, self.count) == self.index

    @property
    def state_id_suffix(self) -> str:
        """The ``meltano run --state-id-suffix`` of this shard (the count is part of it).

        With the count in the suffix, a run with another count never continues from
        bookmarks of shops it does not hold (see ``scripts/reshard_state.py``).
        """
        return f"shard-{self.index}-of-{self.count}"

    @override
    def __str__(self) -> str:
        """The setting's own spelling, ``INDEX/COUNT``."""
        return f"{self.index}/{self.count}"


def parse_shard(value: object) -> Shard | None:
    """Return the shard of the ``shard`` setting (None when unset: every shop).

    Raises:
        ConfigurationError: on anything but ``INDEX/COUNT`` with 0 <= INDEX < COUNT.
    """
    if value is None or value == "":
        return None
    match = SHARD_PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        shown = repr(value)[:40]
        msg = f"shard: must be INDEX/COUNT such as 2/8 (shards count from 0), not {shown}"
        raise ConfigurationError(msg)
    shard = Shard(index=int(match[1]), count=int(match[2]))
    if shard.index >= shard.count:
        msg = (
            f"shard: index {shard.index} is out of range for {shard.count} shards "
            f"(0 to {shard.count - 1})"
        )
        raise ConfigurationError(msg)
    return shard
