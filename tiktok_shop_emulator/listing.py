"""Strict parameter rules and one generic handler for the list/search endpoints beyond orders.

Each endpoint differs in page-size range, which sort fields it offers (and whether one is
required), where its filters go (JSON body for POST searches, query string for finance GETs)
and whether its upper time bound is exclusive (``_lt``) or inclusive (``_le``). An
``Endpoint`` states those rules; anything it does not list is rejected, as the real API does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tiktok_shop_emulator.http_types import JSON, Response, request_id
from tiktok_shop_emulator.records import PageError, PageQuery, Row, Table

if TYPE_CHECKING:
    from tiktok_shop_emulator.data import Shop
    from tiktok_shop_emulator.http_types import Request

PARAM = 36009004
COMMON_QUERY = frozenset({"app_key", "timestamp", "sign", "shop_cipher", "page_token"})
_DIGITS = re.compile(r"\d{1,19}")

Validator = Callable[[Any], Any]


def unix_time(value: Any) -> int:
    """Validate a unix-seconds filter (an integer in a body, digits in a query string)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(value)


def one_of(*allowed: str) -> Validator:
    """Accept one of the given strings."""

    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(value)
        return str(value)

    return check


def list_of(*allowed: str, max_items: int = 100) -> Validator:
    """Accept a JSON list of strings (from `allowed`, when given)."""

    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or len(value) > max_items:
            raise ValueError(value)
        if not all(isinstance(item, str) and (not allowed or item in allowed) for item in value):
            raise ValueError(value)
        return list(value)

    return check


def comma_list(*allowed: str) -> Validator:
    """Accept a comma-separated query value whose items are all in `allowed`."""

    def check(value: Any) -> list[str]:
        items = str(value).split(",")
        if not value or any(item not in allowed for item in items):
            raise ValueError(value)
        return items

    return check


def text(value: Any) -> str:
    """Accept any string."""
    if not isinstance(value, str):
        raise ValueError(value)  # noqa: TRY004 - validators signal every rejection this way
    return value


@dataclass(frozen=True)
class Endpoint:
    """The parameter rules of one list endpoint."""

    page_sizes: tuple[int, int]
    default_page_size: int | None  # None: page_size is required
    sort_fields: tuple[str, ...] = ()  # () : the endpoint offers no sort parameters
    sort_required: bool = False
    query: Mapping[str, Validator] = field(default_factory=dict)  # endpoint-specific
    required_query: tuple[str, ...] = ()
    body: Mapping[str, Validator] | None = None  # None: a GET without body
    error_code: int = PARAM
    page_size_code: int | None = None


@dataclass(frozen=True)
class Parsed:
    """A validated request."""

    page_size: int
    sort_field: str | None
    descending: bool
    filters: dict[str, Any]
    page_token: str | None
    fingerprint: bytes


def _bad(endpoint: Endpoint, name: str, code: int | None = None) -> PageError:
    return PageError(code or endpoint.error_code, f"Invalid parameter: {name}")


def _page_size(endpoint: Endpoint, query: Mapping[str, str]) -> int:
    """Validate page_size against the endpoint's range."""
    raw_size = query.get("page_size")
    if raw_size is None and endpoint.default_page_size is None:
        raise PageError(
            endpoint.page_size_code or endpoint.error_code,
            "Invalid parameter: page_size is required",
        )
    size = (
        endpoint.default_page_size
        if raw_size is None
        else (int(raw_size) if raw_size.isdigit() else -1)
    )
    low, high = endpoint.page_sizes
    if size is None or not low <= size <= high:
        raise _bad(endpoint, "page_size", endpoint.page_size_code)
    return size


def parse(
    endpoint: Endpoint, fingerprint_key: str, query: Mapping[str, str], body: bytes
) -> Parsed:
    """Validate query and body against the endpoint's rules (unknown parameters are errors).

    ``fingerprint_key`` (endpoint and shop) and the filters bind page tokens to their query.
    """
    allowed = COMMON_QUERY | {"page_size"} | set(endpoint.query)
    if endpoint.sort_fields:
        allowed |= {"sort_field", "sort_order"}
    for name in query:
        if name not in allowed:
            raise _bad(endpoint, name)
    size = _page_size(endpoint, query)
    sort_field = query.get("sort_field")
    if endpoint.sort_fields:
        if sort_field is None and endpoint.sort_required:
            raise PageError(endpoint.error_code, "Invalid parameter: sort_field is required")
        if sort_field is not None and sort_field not in endpoint.sort_fields:
            raise _bad(endpoint, "sort_field")
        if query.get("sort_order", "ASC") not in ("ASC", "DESC"):
            raise _bad(endpoint, "sort_order")
    filters: dict[str, Any] = {}
    for name in endpoint.required_query:
        if not query.get(name):
            raise PageError(endpoint.error_code, f"Invalid parameter: {name} is required")
    for name, check in endpoint.query.items():
        if name in query:
            filters[name] = _checked(endpoint, name, check, query[name])
    filters.update(_body_filters(endpoint, body))
    canonical = orjson.dumps(
        [fingerprint_key, sort_field, query.get("sort_order"), filters], option=orjson.OPT_SORT_KEYS
    )
    return Parsed(
        size,
        sort_field,
        query.get("sort_order") == "DESC",
        filters,
        query.get("page_token") or None,
        hashlib.sha256(canonical).digest()[:8],
    )


def _checked(endpoint: Endpoint, name: str, check: Validator, value: Any) -> Any:
    try:
        return check(value)
    except ValueError:
        raise _bad(endpoint, name) from None


def _body_filters(endpoint: Endpoint, body: bytes) -> dict[str, Any]:
    """Validate the JSON body of a POST search (a GET must not have one)."""
    if endpoint.body is None:
        if body.strip():
            raise PageError(endpoint.error_code, "Invalid parameter: unexpected request body")
        return {}
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        raise PageError(endpoint.error_code, "Invalid parameter: body is not JSON") from None
    if not isinstance(data, dict):
        raise PageError(endpoint.error_code, "Invalid parameter: body must be an object")
    filters: dict[str, Any] = {}
    for name, value in data.items():
        check = endpoint.body.get(name)
        if check is None:
            raise _bad(endpoint, name)
        if value is not None:
            filters[name] = _checked(endpoint, name, check, value)
    return filters


def time_bounds(filters: Mapping[str, Any], name: str, now: int) -> tuple[int | None, int | None]:
    """The [low, high) range on one time field; ``_le`` is inclusive; a lone _ge ends now."""
    low = filters.get(f"{name}_ge")
    high = filters.get(f"{name}_lt")
    if f"{name}_le" in filters:
        high = filters[f"{name}_le"] + 1
    if low is not None and high is None:
        high = now + 1
    return low, high


@dataclass(frozen=True)
class Listing:
    """How one endpoint lists one kind of record from a shop's table."""

    kind: str
    records_key: str
    endpoint: Endpoint
    time_fields: tuple[str, ...]  # every time field the endpoint can filter on
    default_sort: str  # index used when no sort_field is sent (or offered)
    default_descending: bool = False
    sorts: Mapping[str, str] = field(default_factory=dict)  # sort_field value -> index
    predicates: Mapping[str, Callable[[Row, Any], bool]] = field(default_factory=dict)
    cap: int | None = None
    cap_code: int = 0
    cap_message: str = ""


def _query(listing: Listing, parsed: Parsed, now: int) -> PageQuery:
    """Turn a validated request into a page query.

    The sort index answers the range on its own field; other filters become a row check.
    """
    if parsed.sort_field is None:
        index, descending = listing.default_sort, listing.default_descending
    else:
        index, descending = listing.sorts[parsed.sort_field], parsed.descending
    ranges: list[tuple[str, int, int]] = []  # other time fields: (name, low, high)
    wanted: list[tuple[Callable[[Row, Any], bool], Any]] = []
    low = high = None
    for name in listing.time_fields:
        lo, hi = time_bounds(parsed.filters, name, now)
        if name == index:
            low, high = lo, hi
        elif lo is not None or hi is not None:
            ranges.append((name, -1 if lo is None else lo, 2**62 if hi is None else hi))
    for name, predicate in listing.predicates.items():
        if name in parsed.filters:
            wanted.append((predicate, parsed.filters[name]))

    def check(row: Row) -> bool:
        return all(lo <= row.times[name] < hi for name, lo, hi in ranges) and all(
            predicate(row, value) for predicate, value in wanted
        )

    return PageQuery(
        index,
        descending,
        low,
        high,
        parsed.page_size,
        parsed.page_token,
        parsed.fingerprint,
        check if ranges or wanted else None,
        listing.cap,
        listing.cap_code,
        listing.cap_message,
    )


def error(code: int, message: str, now: float) -> Response:
    """An error envelope with HTTP 200, as the business endpoints answer bad parameters."""
    body = orjson.dumps(
        {"code": code, "message": message, "request_id": request_id(now), "data": None}
    )
    return Response(200, body, JSON, code=code)


def page_body(
    records_key: str,
    records: list[bytes],
    next_page_token: str,
    total_count: int | None,
    now: float,
) -> bytes:
    """Assemble a success envelope from already-serialized records."""
    total = b"" if total_count is None else b',"total_count":' + str(total_count).encode()
    return b"".join(
        (
            b'{"code":0,"message":"Success","request_id":"',
            request_id(now).encode(),
            b'","data":{"next_page_token":',
            orjson.dumps(next_page_token),
            total,
            b',"',
            records_key.encode(),
            b'":[',
            b",".join(records),
            b"]}}",
        )
    )


def serve(
    listing: Listing,
    shop: Shop,
    table: Table,
    *,
    req: Request,
    now: float,
    render: Callable[[Row], bytes],
) -> Response:
    """Answer one list request: validate, page the table, render each row."""
    try:
        parsed = parse(listing.endpoint, f"{listing.kind}:{shop.id}", req.query, req.body)
        page = table.page(_query(listing, parsed, int(now)))
    except PageError as exc:
        return error(exc.code, exc.message, now)
    records = [render(row) for row in page.rows]
    data = page_body(listing.records_key, records, page.next_page_token, page.total_count, now)
    return Response(200, data, JSON, code=0)
