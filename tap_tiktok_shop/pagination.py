"""Cursor pagination over ``data.next_page_token``, with loop detection across all pages.

The SDK's paginator only notices a token that repeats on consecutive pages; an API that cycles
(A, B, A, ...) would loop forever, so every token seen in one chain is remembered. A ``Page``
is one answer of such a chain, as the readers hand it on (raw, its records parsed lazily).
"""

from __future__ import annotations

import json
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_tiktok_shop.errors import TikTokShopAPIError

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

ENVELOPE_ATTR = "_tiktok_envelope"


def envelope_of(response: requests.Response) -> dict[str, t.Any]:
    """Return the envelope parsed once by the stream's response validation."""
    envelope: dict[str, t.Any] = getattr(response, ENVELOPE_ATTR)
    return envelope


def data_of(response: requests.Response) -> dict[str, t.Any]:
    """Return the ``data`` object of a successful answer (empty if the API sent null)."""
    data = envelope_of(response).get("data")
    return data if isinstance(data, dict) else {}


def records_in(envelope: dict[str, t.Any], key: str, where: str) -> list[dict[str, t.Any]]:
    """The records under ``data[key]`` of a successful envelope (none if ``data`` lacks them).

    Raises:
        TikTokShopAPIError: if ``data`` is not an object or the records are not a list of
            objects (a hostile or broken answer), naming the path.
    """
    data = envelope.get("data") or {}
    records = data.get(key) if isinstance(data, dict) else None
    if records is None and isinstance(data, dict):
        return []
    if not isinstance(records, list) or not all(isinstance(row, dict) for row in records):
        msg = f"{where}: data.{key} in the answer is not a list of objects"
        raise TikTokShopAPIError(msg)
    return records


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Follows ``next_page_token`` until it is empty; fails on a token seen before."""

    def __init__(self, describe: Callable[[requests.Response], str] | None = None) -> None:
        """Start on the first page (no token).

        Args:
            describe: Names the request (path and shop) in the loop error; default: the path.
        """
        super().__init__(None)
        self._seen: set[str] = set()
        self._describe = describe or _path_of

    @override
    def get_next(self, response: requests.Response) -> str | None:
        """Return the next page token, or None on the last page."""
        token = data_of(response).get("next_page_token") or None
        if token is not None:
            token = str(token)
            if token in self._seen:
                msg = (
                    f"{self._describe(response)}: the API returned a next_page_token it had "
                    f"already returned, after {len(self._seen) + 1} pages; stopping instead of "
                    "looping (the shop's bookmark is left where it was)"
                )
                raise TikTokShopAPIError(msg)
            self._seen.add(token)
        return token


def parse_exact(raw: bytes) -> t.Any:
    """Parse JSON with every integer exact.

    orjson turns an integer beyond 64 bits into a float (digits lost); the standard library
    keeps integers of any size. The pages that need it (analytics) are small: its cost does
    not matter.
    """
    return json.loads(raw)


def _path_of(response: requests.Response) -> str:
    return response.request.path_url.split("?", 1)[0] if response.request else ""


class Page:
    """One answer: its raw body, the API's total count, and its records parsed on first use.

    The records are parsed by whoever emits them (not by the worker that fetched the page),
    and a page spooled by the prefetcher is never parsed before it is read back.
    """

    __slots__ = ("_parse", "_records", "raw", "total_count")

    def __init__(
        self, raw: bytes, total_count: int | None, parse: t.Callable[[], list[dict[str, t.Any]]]
    ) -> None:
        """Keep the body; ``parse`` builds the records when they are first asked for."""
        self.raw = raw
        self.total_count = total_count
        self._parse: t.Callable[[], list[dict[str, t.Any]]] | None = parse
        self._records: list[dict[str, t.Any]] | None = None

    @property
    def records(self) -> list[dict[str, t.Any]]:
        """The page's records."""
        if self._records is None:
            assert self._parse is not None
            self._records, self._parse = self._parse(), None
        return self._records
