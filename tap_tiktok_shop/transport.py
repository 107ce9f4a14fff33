"""Sending a request that carries credentials, and reading its answer, defensively.

Every call of the tap and the helper (signed API calls, token calls) goes through ``send``:

- redirects are never followed: requests re-sends custom headers (``x-tts-access-token``) to
  the redirect target and only strips ``Authorization``; a 3xx answer is one error line
  naming the status and the host it pointed to;
- the body is read in chunks and refused past ``MAX_BODY_BYTES``, so a hostile or broken
  server cannot make the tap hold gigabytes in memory;
- a header or URL the HTTP library refuses (a token with a newline: ``Invalid header value
  b'...'``) ends as a one-line error that does not quote it. Tokens are checked before they
  are used (untrusted.py); this is the last line of defence.

Network failures (``requests.RequestException`` other than the above) are raised unchanged:
callers retry them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from tap_tiktok_shop.errors import TikTokShopAPIError
from tap_tiktok_shop.untrusted import printable

#: The largest answer body read (a full page of 100 orders is about 1 MB).
MAX_BODY_BYTES = 64 * 1024 * 1024
_CHUNK_BYTES = 1024 * 1024


def send(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    *,
    timeout: float,
    where: str,
) -> requests.Response:
    """Send ``prepared`` without following redirects; return the answer with its body read.

    Args:
        session: The session to send on (its adapters, pool and TLS settings).
        prepared: The final request (signed, headers set).
        timeout: Seconds for connecting and for each read.
        where: What the call is (path and shop), for error lines; never a URL with a query.

    Raises:
        TikTokShopAPIError: on a redirect, a body over the cap, or a request the HTTP library
            refuses to send.
    """
    try:
        response = session.send(prepared, timeout=timeout, allow_redirects=False, stream=True)
    except ValueError:  # InvalidHeader, InvalidURL, http.client's "Invalid header value"
        # The library's message quotes the header or URL, which holds a token or the secret.
        msg = (
            f"{where}: the request could not be sent: a header or URL value holds characters "
            "HTTP does not allow (the value is not shown)"
        )
        raise TikTokShopAPIError(msg) from None
    try:
        refuse_redirect(response, where)
        read_capped(response, where)
    finally:
        response.close()
    return response


def refuse_redirect(response: requests.Response, where: str) -> None:
    """Raise if ``response`` is a redirect (3xx with or without a Location).

    Raises:
        TikTokShopAPIError: naming the status and the scheme and host of the Location.
    """
    if not 300 <= response.status_code < 400:
        return
    location = response.headers.get("Location") or ""
    try:
        parts = urlsplit(location)
        target = f"{parts.scheme}://{parts.hostname}" if parts.hostname else "the same host"
    except ValueError:
        target = "an unparsable Location"
    msg = (
        f"{where}: HTTP {response.status_code} redirect to {printable(target)}; redirects are "
        "not followed (the request carries credentials): check api_base_url/auth_base_url"
    )
    raise TikTokShopAPIError(msg)


def read_capped(response: requests.Response, where: str) -> bytes:
    """Read the whole body of a streamed ``response``, refusing one over ``MAX_BODY_BYTES``.

    The body is then available as ``response.content`` as usual.

    Raises:
        TikTokShopAPIError: if the body (announced or actual) is larger than the cap.
    """
    limit = MAX_BODY_BYTES
    announced = response.headers.get("Content-Length")
    if announced is not None and announced.strip().isdigit() and int(announced) > limit:
        raise TikTokShopAPIError(_too_large(where, limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise TikTokShopAPIError(_too_large(where, limit))
        chunks.append(chunk)
    body = b"".join(chunks)
    # What requests itself does once a body is read: ``content`` returns it from now on.
    response._content = body
    return body


def _too_large(where: str, limit: int) -> str:
    size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit} bytes"
    return f"{where}: the answer is larger than {size}; not reading it"
