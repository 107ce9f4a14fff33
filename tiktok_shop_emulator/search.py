"""Order search: request validation, opaque keyset page tokens and the indexed query itself."""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import random
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from tiktok_shop_emulator.data import STATUSES, OrderRow, Shop

TIME_KEYS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")
BODY_KEYS = frozenset(
    {
        *TIME_KEYS,
        "order_status",
        "shipping_type",
        "buyer_user_id",
        "is_buyer_request_cancel",
        "warehouse_ids",
    }
)
SORT_FIELDS = frozenset({"create_time", "update_time"})
SORT_ORDERS = frozenset({"ASC", "DESC"})
_PAGE_SIZE = re.compile(r"\d{1,3}")
_TOKEN = struct.Struct(">BcqQ8sH")  # version, kind, sort value, order id, fingerprint, salt
_TOKEN_VERSION = 1
_KEYSET, _START = b"K", b"S"
_COUNT_CACHE_LIMIT = 256


class SearchError(Exception):
    """A request the API would reject with code 36009004 and this message."""

    def __init__(self, message: str) -> None:
        """Keep the API message for the error envelope."""
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SearchQuery:
    """A validated order search request for one shop."""

    page_size: int
    sort_field: str
    descending: bool
    filters: dict[str, Any]
    page_token: str | None
    fingerprint: bytes


@dataclass(frozen=True)
class SearchPage:
    """The rows of one page, the token for the next one ("" when done) and the match count."""

    rows: list[OrderRow]
    next_page_token: str
    total_count: int


def _invalid(name: str) -> SearchError:
    """Build the API's error for a bad parameter."""
    return SearchError(f"Invalid parameter: {name}")


def _check_filters(body: Any) -> dict[str, Any]:
    """Validate the JSON body filters and return them without null values."""
    if not isinstance(body, dict):
        raise _invalid("request body must be a JSON object")
    filters: dict[str, Any] = {}
    for key, value in body.items():
        if key not in BODY_KEYS:
            raise _invalid(str(key))
        if value is None:
            continue
        ok: bool
        if key in TIME_KEYS:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif key == "order_status":
            ok = value in STATUSES
        elif key == "shipping_type":
            ok = value in ("TIKTOK", "SELLER")
        elif key == "buyer_user_id":
            ok = isinstance(value, str)
        elif key == "is_buyer_request_cancel":
            ok = isinstance(value, bool)
        else:  # warehouse_ids
            ok = (
                isinstance(value, list)
                and len(value) <= 100
                and all(isinstance(item, str) for item in value)
            )
        if not ok:
            raise _invalid(key)
        filters[key] = value
    return filters


def parse_search(shop_id: str, params: Mapping[str, str], body: bytes) -> SearchQuery:
    """Validate query parameters and JSON body of POST /order/202309/orders/search."""
    page_size = params.get("page_size", "")
    if not _PAGE_SIZE.fullmatch(page_size) or not 1 <= int(page_size) <= 100:
        raise _invalid("page_size")
    sort_field = params.get("sort_field") or "create_time"
    if sort_field not in SORT_FIELDS:
        raise _invalid("sort_field")
    sort_order = params.get("sort_order") or "DESC"
    if sort_order not in SORT_ORDERS:
        raise _invalid("sort_order")
    try:
        parsed = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise _invalid("request body is not valid JSON") from exc
    filters = _check_filters(parsed)
    canonical = orjson.dumps(
        [shop_id, sort_field, sort_order, filters], option=orjson.OPT_SORT_KEYS
    )
    fingerprint = hashlib.sha256(canonical).digest()[:8]
    return SearchQuery(
        int(page_size),
        sort_field,
        sort_order == "DESC",
        filters,
        params.get("page_token") or None,
        fingerprint,
    )


def encode_token(fingerprint: bytes, value: int, order_id: str, *, start: bool = False) -> str:
    """Encode a page token; a salt makes it hold '+' and '/' (and it always ends in '==')."""
    kind = _START if start else _KEYSET
    oid = 0 if start else int(order_id)
    token = ""
    for salt in range(4096):
        token = base64.b64encode(
            _TOKEN.pack(_TOKEN_VERSION, kind, value, oid, fingerprint, salt)
        ).decode("ascii")
        if "+" in token and "/" in token:
            break
    return token


def decode_token(token: str, fingerprint: bytes) -> tuple[int, str] | None:
    """Decode a page token into the last served (sort value, id), or None for a first page."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        version, kind, value, oid, token_fp, _salt = _TOKEN.unpack(raw)
    except (binascii.Error, ValueError, UnicodeEncodeError, struct.error) as exc:
        raise SearchError("Invalid page_token") from exc
    if version != _TOKEN_VERSION or kind not in (_KEYSET, _START) or token_fp != fingerprint:
        raise SearchError("Invalid page_token")
    if kind == _START:
        return None
    return value, f"{oid:018d}"


def _bounds(filters: Mapping[str, Any], field: str, now: int) -> tuple[int | None, int | None]:
    """Return the [ge, lt) range on one time field; a lone _ge runs up to now (inclusive)."""
    low = filters.get(f"{field}_ge")
    high = filters.get(f"{field}_lt")
    if low is not None and high is None:
        high = now + 1
    return low, high


def _predicate(query: SearchQuery, now: int) -> Callable[[OrderRow], bool] | None:
    """Build the check for every filter that the sort index cannot answer, or None."""
    filters = query.filters
    checks: list[Callable[[OrderRow], bool]] = []
    other = "create_time" if query.sort_field == "update_time" else "update_time"
    low, high = _bounds(filters, other, now)
    if low is not None:
        checks.append(lambda r: getattr(r, other) >= low)
    if high is not None:
        checks.append(lambda r: getattr(r, other) < high)
    if "order_status" in filters:
        status = filters["order_status"]
        checks.append(lambda r: r.status == status)
    if "shipping_type" in filters:
        shipping = filters["shipping_type"]
        checks.append(lambda r: r.shipping_type == shipping)
    if "buyer_user_id" in filters:
        buyer = filters["buyer_user_id"]
        checks.append(lambda r: r.user_id == buyer)
    if "is_buyer_request_cancel" in filters:
        flag = filters["is_buyer_request_cancel"]
        checks.append(lambda r: r.buyer_cancel == flag)
    if "warehouse_ids" in filters:
        warehouses = frozenset(filters["warehouse_ids"])
        checks.append(lambda r: r.warehouse_id in warehouses)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda r: all(check(r) for check in checks)


def run_search(
    shop: Shop,
    query: SearchQuery,
    now: int,
    *,
    stale_probability: float = 0.0,
    rng: random.Random | None = None,
    repeat_token: bool = False,
) -> SearchPage:
    """Serve one page: orders strictly after the token's (sort value, id), in sort order."""
    with shop.lock:
        index = shop.by_update if query.sort_field == "update_time" else shop.by_create
        cursor = decode_token(query.page_token, query.fingerprint) if query.page_token else None
        low, high = _bounds(query.filters, query.sort_field, now)
        lo_i = bisect.bisect_left(index, (low, "")) if low is not None else 0
        hi_i = bisect.bisect_left(index, (high, "")) if high is not None else len(index)
        lo_i = min(lo_i, hi_i)
        check = _predicate(query, now)
        if query.descending:
            end = hi_i if cursor is None else min(hi_i, bisect.bisect_left(index, cursor))
            positions = range(end - 1, lo_i - 1, -1)
        else:
            begin = lo_i if cursor is None else max(lo_i, bisect.bisect_right(index, cursor))
            positions = range(begin, hi_i)
        rows: list[OrderRow] = []
        last: tuple[int, str] | None = None
        more = False
        for pos in positions:
            row = shop.rows[index[pos][1]]
            if check is not None and not check(row):
                continue
            if len(rows) == query.page_size:
                more = True
                break
            rows.append(row)
            last = index[pos]
        other = "create_time" if query.sort_field == "update_time" else "update_time"
        count_key = (
            query.fingerprint,
            lo_i,
            hi_i,
            _bounds(query.filters, other, now),
            shop.version,
        )
        total = _total(shop, count_key, index, lo_i=lo_i, hi_i=hi_i, check=check)
        if stale_probability > 0 and rng is not None:
            for row in rows:
                if rng.random() < stale_probability:  # refreshed "while the search ran"
                    shop.set_update_time(row, max(now, row.update_time))
    if repeat_token:
        token = query.page_token or encode_token(query.fingerprint, 0, "0", start=True)
    elif more and last is not None:
        token = encode_token(query.fingerprint, last[0], last[1])
    else:
        token = ""
    return SearchPage(rows, token, total)


def _total(
    shop: Shop,
    key: tuple[Any, ...],
    index: list[tuple[int, str]],
    *,
    lo_i: int,
    hi_i: int,
    check: Callable[[OrderRow], bool] | None,
) -> int:
    """Count all matches of the filter (not only those after the cursor), cached per version."""
    if check is None:
        return hi_i - lo_i
    cached = shop.count_cache.get(key)
    if cached is None:
        rows = shop.rows
        cached = sum(1 for pos in range(lo_i, hi_i) if check(rows[index[pos][1]]))
        if len(shop.count_cache) >= _COUNT_CACHE_LIMIT:
            shop.count_cache.clear()
        shop.count_cache[key] = cached
    return cached
