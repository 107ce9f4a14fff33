"""Cursor pagination over ``data.next_page_token``, with loop detection across all pages.

The SDK's paginator only notices a token that repeats on consecutive pages; an API that cycles
(A, B, A, ...) would loop forever, so every token seen in one chain is remembered.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator

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

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Keep going past an empty page when the API still offers a next token."""
        return bool(data_of(response).get("next_page_token"))


def _path_of(response: requests.Response) -> str:
    return response.request.path_url.split("?", 1)[0] if response.request else ""
