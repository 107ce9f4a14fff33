"""Per-shop record tables for the endpoints beyond orders: compact rows, time indexes, pages.

Returns, cancellations, products and finance records are kept as compact rows (id, seed,
status, a few times and links) and only turned into full-shape objects when served, so a shop
with tens of thousands of products costs little until it is read. Pages are keyset pages over a
sorted (time, id) index; the opaque page token also carries how many results were served
before it, which is what the products search cap counts.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_TOKEN = struct.Struct(">BIqQ8s")  # version, results served before, sort value, id, fingerprint
_TOKEN_VERSION = 2


class PageError(Exception):
    """A request the endpoint rejects with this API code and message."""

    def __init__(self, code: int, message: str) -> None:
        """Keep the API code and message for the error envelope."""
        super().__init__(message)
        self.code = code
        self.message = message


class Row:
    """The compact core of one record; full objects are built from it when served."""

    __slots__ = ("id", "links", "seed", "status", "times")

    def __init__(
        self,
        record_id: str,
        seed: int,
        status: str,
        times: dict[str, int],
        links: dict[str, str] | None = None,
    ) -> None:
        """Store the row; `times` holds every indexed time field of the record."""
        self.id = record_id
        self.seed = seed
        self.status = status
        self.times = times
        self.links = links or {}

    def compact(self) -> dict[str, Any]:
        """Return the fields tests need to compute expected result sets."""
        return {"id": self.id, "status": self.status, **self.times, **self.links}


@dataclass(frozen=True)
class PageQuery:
    """One validated page request against a table."""

    sort_field: str
    descending: bool
    low: int | None  # inclusive bound on sort_field
    high: int | None  # exclusive bound on sort_field
    page_size: int
    page_token: str | None
    fingerprint: bytes
    check: Callable[[Row], bool] | None = None
    cap: int | None = None  # no page may reach past this many results
    cap_code: int = 0
    cap_message: str = ""


@dataclass(frozen=True)
class Page:
    """The rows of one page, the next page token ("" when done) and the match count."""

    rows: list[Row]
    next_page_token: str
    total_count: int


def encode_token(fingerprint: bytes, served: int, value: int, record_id: str) -> str:
    """Encode a page token (standard base64, so it can hold '+', '/' and '=')."""
    raw = _TOKEN.pack(_TOKEN_VERSION, served, value, int(record_id), fingerprint)
    return base64.b64encode(raw).decode("ascii")


def decode_token(token: str, fingerprint: bytes) -> tuple[int, int, str]:
    """Decode a page token into (results served before, last sort value, last id)."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        version, served, value, record_id, token_fp = _TOKEN.unpack(raw)
    except (binascii.Error, ValueError, UnicodeEncodeError, struct.error) as exc:
        raise PageError(36009004, "Invalid page_token") from exc
    if version != _TOKEN_VERSION or token_fp != fingerprint:
        raise PageError(36009004, "Invalid page_token")
    return served, value, str(record_id)


class Table:
    """One shop's records of one kind, with a sorted (time, id) index per time field."""

    def __init__(self, rows: Iterable[Row], time_fields: tuple[str, ...]) -> None:
        """Index the rows on every time field."""
        self.rows: dict[str, Row] = {row.id: row for row in rows}
        self.indexes: dict[str, list[tuple[int, str]]] = {
            name: sorted((row.times[name], row.id) for row in self.rows.values())
            for name in time_fields
        }
        self.lock = threading.RLock()

    def set_time(self, row: Row, name: str, value: int) -> None:
        """Change one time of a row and keep that field's index sorted."""
        with self.lock:
            index = self.indexes.get(name)
            if index is not None:
                old = (row.times[name], row.id)
                pos = bisect.bisect_left(index, old)
                if pos < len(index) and index[pos] == old:
                    del index[pos]
                bisect.insort(index, (value, row.id))
            row.times[name] = value

    def compact(self, order_by: str) -> list[dict[str, Any]]:
        """Every row's compact form, ascending by one time field."""
        with self.lock:
            return [self.rows[record_id].compact() for _, record_id in self.indexes[order_by]]

    def page(self, query: PageQuery) -> Page:
        """Serve one keyset page: rows strictly after the token's (sort value, id)."""
        with self.lock:
            index = self.indexes[query.sort_field]
            served, cursor = 0, None
            if query.page_token:
                served, value, record_id = decode_token(query.page_token, query.fingerprint)
                cursor = (value, record_id)
            lo_i = bisect.bisect_left(index, (query.low, "")) if query.low is not None else 0
            hi_i = (
                bisect.bisect_left(index, (query.high, ""))
                if query.high is not None
                else len(index)
            )
            lo_i = min(lo_i, hi_i)
            if query.descending:
                end = hi_i if cursor is None else min(hi_i, bisect.bisect_left(index, cursor))
                positions: range = range(end - 1, lo_i - 1, -1)
            else:
                begin = lo_i if cursor is None else max(lo_i, bisect.bisect_right(index, cursor))
                positions = range(begin, hi_i)
            rows: list[Row] = []
            last: tuple[int, str] | None = None
            more = False
            for pos in positions:
                row = self.rows[index[pos][1]]
                if query.check is not None and not query.check(row):
                    continue
                if len(rows) == query.page_size:
                    more = True
                    break
                rows.append(row)
                last = index[pos]
            check = query.check
            total = (
                hi_i - lo_i
                if check is None
                else sum(1 for pos in range(lo_i, hi_i) if check(self.rows[index[pos][1]]))
            )
        if query.cap is not None and served + len(rows) > query.cap:
            raise PageError(query.cap_code, query.cap_message)
        token = ""
        if more and last is not None:
            token = encode_token(query.fingerprint, served + len(rows), last[0], last[1])
        return Page(rows, token, total)


def list_page(
    items: list[Any], *, page_size: int, page_token: str | None, fingerprint: bytes, owner_id: str
) -> tuple[list[Any], str]:
    """Page through a fixed, already ordered list (e.g. one statement's transactions)."""
    start = 0
    if page_token:
        start, _, record_id = decode_token(page_token, fingerprint)
        if record_id != owner_id:
            raise PageError(36009004, "Invalid page_token")
    chunk = items[start : start + page_size]
    end = start + len(chunk)
    token = encode_token(fingerprint, end, 0, owner_id) if end < len(items) else ""
    return chunk, token
