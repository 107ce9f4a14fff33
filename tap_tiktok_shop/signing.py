"""The v202309 request signature, as a pure function so it can be checked byte for byte.

TikTok Shop signs every business call with HMAC-SHA256 over the request path, the sorted
query parameters (except ``sign`` and ``access_token``) and the exact body bytes sent. Nothing
here does I/O or logging: the canonical string contains the app secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

#: Query parameters that never take part in the signature.
UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


def canonical_string(
    path: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str | None,
    *,
    content_type: str = "application/json",
) -> str:
    """Build the string the API expects to be signed (before wrapping with the secret).

    Args:
        path: Request path without host or query, e.g. ``/order/202309/orders/search``.
        params: Query parameters with raw (not URL-encoded) values.
        body: The request body exactly as sent, or None.
        content_type: The request content type; multipart bodies are not signed.

    Returns:
        Path + sorted ``key value`` pairs + body.
    """
    items = params.items() if isinstance(params, Mapping) else params
    pairs = sorted((key, value) for key, value in items if key not in UNSIGNED_PARAMS)
    text = path + "".join(f"{key}{value}" for key, value in pairs)
    if body and not content_type.lower().startswith("multipart/form-data"):
        text += body.decode("utf-8") if isinstance(body, bytes) else body
    return text


def sign(
    app_secret: str,
    path: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str | None,
    *,
    content_type: str = "application/json",
) -> str:
    """Return the lowercase hex HMAC-SHA256 signature of a request.

    Args:
        app_secret: The app secret (the HMAC key, also wrapped around the message).
        path: Request path without host or query.
        params: Query parameters with raw values.
        body: The request body exactly as sent, or None.
        content_type: The request content type.

    Returns:
        The ``sign`` query parameter value.
    """
    message = app_secret + canonical_string(path, params, body, content_type=content_type)
    message += app_secret
    return hmac.new(app_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
