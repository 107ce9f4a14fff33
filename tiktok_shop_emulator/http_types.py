"""Transport-neutral request/response values and envelope helpers shared by the API and server."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

_COUNTER = itertools.count(1)
_NODE = secrets.token_hex(3).upper()

HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
HTML_504 = b"<html><body><h1>504 Gateway Time-out</h1></body></html>"
HTML_200 = (
    b"<html><head><title>TikTok Shop</title></head><body><p>Something went wrong. "
    b"Please try again later.</p></body></html>"
)
JSON = "application/json"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request: the query keeps blank values and duplicates in `pairs`."""

    method: str
    path: str
    pairs: list[tuple[str, str]]
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Response:
    """What to send back; `action` "reset" drops the connection, "truncated" cuts the body short."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    code: int | None = None
    action: str | None = None


def request_id(now: float) -> str:
    """Return a fresh request id shaped like the API's (UTC time, then an opaque suffix)."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    return f"{stamp}0101890{next(_COUNTER) % 10**5:05d}{_NODE}{secrets.token_hex(1).upper()}"


def envelope(
    code: int, message: str, data: Any = None, *, status: int = 200, now: float | None = None
) -> Response:
    """Build the API envelope {code, message, request_id, data} as a response."""
    body = orjson.dumps(
        {
            "code": code,
            "message": message,
            "request_id": request_id(time.time() if now is None else now),
            "data": data,
        }
    )
    return Response(status, body, JSON, code=code)


def success(data: Any, now: float | None = None) -> Response:
    """Build a code-0 "Success" envelope."""
    return envelope(0, "Success", data, now=now)


def plain_json(data: Any, status: int = 200) -> Response:
    """Build a bare JSON answer (admin endpoints use no envelope)."""
    return Response(status, orjson.dumps(data), JSON)
