"""One window's read, made robust: a refused page token restarts it once, records come once.

A long read can meet an expired or rejected ``page_token`` halfway (the cursor's lifetime is
undocumented). Re-reading the window from its first page is safe, since the window's bounds
are fixed, so the pages are fetched again once (``pages_restarting_once``); the consumer then
drops the records it already emitted from that window (``once_per_window``), so the window's
output holds each record version once. A second refusal ends the shop's read (a ``ShopError``).

Failures that concern one shop travel from a prefetch worker to the consumer as a
``ShopFailed`` item in the read's order, rather than as a failed read: a failed read pauses
every other read (it might end the run), which one shop's failure does not (only retries
exhausted, which may mean the API is down, hold read-ahead: see ``outage.py``).
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.errors import PageTokenError
from tap_tiktok_shop.pagination import Page

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator


class Restart:
    """Marks, in a window's items, where the window is read again from its first page."""


RESTART = Restart()


class ShopFailed:
    """Carries a failure that concerns one shop to the consumer, in the read's order."""

    def __init__(self, error: Exception) -> None:
        """Keep the error; the consumer raises it where the shop's records stop."""
        self.error = error


def pages_restarting_once(
    fetch: Callable[[], Iterator[Page]], on_restart: Callable[[PageTokenError], None]
) -> Generator[Page | Restart, None, None]:
    """The pages of one window; after a refused page token, ``RESTART`` and the pages again.

    Only a refusal after the first page restarts the window (the first page sends no token).
    A second refusal is raised: it ends the shop's read.
    """
    served = False
    try:
        for page in fetch():
            served = True
            yield page
    except PageTokenError as error:
        if not served:
            raise
        on_restart(error)
    else:
        return
    yield RESTART
    yield from fetch()


def once_per_window(
    items: Iterable[Page | dict[str, t.Any] | object],
    identity: Callable[[dict[str, t.Any]], t.Hashable],
) -> Iterator[dict[str, t.Any] | object]:
    """Records of one window (pages are unpacked), each version once across a restart.

    Records are identified by ``identity`` (primary key and replication value), so a record
    that changed since it was emitted is emitted again (a target merges it on its key), but
    the same version never twice. Other items pass through as they are.
    """
    seen: set[t.Hashable] = set()
    replaying = False

    def fresh(record: dict[str, t.Any]) -> bool:
        key = identity(record)
        if replaying and key in seen:
            return False
        seen.add(key)
        return True

    for item in items:
        if isinstance(item, dict):
            if fresh(item):
                yield item
        elif isinstance(item, Page):
            yield from (record for record in item.records if fresh(record))
        elif isinstance(item, Restart):
            replaying = True
        else:
            yield item
