"""The emulator's own v202309 request signature, so it can verify what a client signed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

EXCLUDED_PARAMS: frozenset[str] = frozenset({"sign", "access_token"})

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def _pairs(params: Params) -> list[tuple[str, str]]:
    """Return the query parameters as (key, value) pairs, whatever container they came in."""
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def _body_bytes(body: bytes | str | None, content_type: str | None) -> bytes:
    """Return the body part of the signed string: nothing for multipart uploads."""
    if not body:
        return b""
    if content_type and content_type.lower().startswith("multipart/form-data"):
        return b""
    return body.encode("utf-8") if isinstance(body, str) else body


def string_to_sign(
    app_secret: str,
    path: str,
    params: Params,
    body: bytes | str | None = None,
    content_type: str | None = "application/json",
) -> bytes:
    """Build the wrapped canonical string: secret, path, sorted key+value pairs, body, secret."""
    pairs = sorted(
        (kv for kv in _pairs(params) if kv[0] not in EXCLUDED_PARAMS), key=lambda kv: kv[0]
    )
    secret = app_secret.encode("utf-8")
    parts = [secret, path.encode("utf-8")]
    parts.extend((k + v).encode("utf-8") for k, v in pairs)
    parts.append(_body_bytes(body, content_type))
    parts.append(secret)
    return b"".join(parts)


def sign(
    app_secret: str,
    path: str,
    params: Params,
    body: bytes | str | None = None,
    content_type: str | None = "application/json",
) -> str:
    """Compute the lowercase hex HMAC-SHA256 `sign` of a request, keyed with the app secret."""
    message = string_to_sign(app_secret, path, params, body, content_type)
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    app_secret: str,
    path: str,
    params: Params,
    body: bytes | str | None,
    *,
    content_type: str | None,
    signature: str,
) -> bool:
    """Tell whether `signature` is the correct sign of the request, in constant time."""
    expected = sign(app_secret, path, params, body, content_type)
    return hmac.compare_digest(expected, signature)
