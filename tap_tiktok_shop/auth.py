"""The SDK authenticator: signs the final prepared request and attaches the access token.

The SDK calls the authenticator on every attempt (retries included), so each attempt gets a
fresh ``timestamp`` and ``sign``. Parameters are replaced, never appended, and the query is
rebuilt without dropping blank values, so the server sees exactly what was signed.
"""

from __future__ import annotations

import time
import typing as t
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from singer_sdk.authenticators import APIAuthenticatorBase
from typing_extensions import override

from tap_tiktok_shop.signing import sign

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_tiktok_shop.tokens import TokenManager

ACCESS_TOKEN_HEADER = "x-tts-access-token"  # noqa: S105 - a header name
_MANAGED_PARAMS = frozenset({"app_key", "timestamp", "sign", "access_token"})


class TikTokShopAuthenticator(APIAuthenticatorBase):
    """Adds ``app_key``, ``timestamp``, ``sign`` and the access-token header to a request."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        tokens: TokenManager,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the credentials; one instance is shared by all streams."""
        super().__init__()
        self._app_key = app_key
        self._app_secret = app_secret
        self.tokens = tokens
        self._clock = clock

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign the exact path, query and body of ``request`` (idempotent, fresh timestamp)."""
        scheme, netloc, path, query, fragment = urlsplit(request.url or "")
        params = [
            (key, value)
            for key, value in parse_qsl(query, keep_blank_values=True)
            if key not in _MANAGED_PARAMS
        ]
        params += [("app_key", self._app_key), ("timestamp", str(int(self._clock())))]
        content_type = str(request.headers.get("Content-Type", "application/json"))
        body = request.body if isinstance(request.body, (bytes, str)) else None
        signature = sign(self._app_secret, path, params, body, content_type=content_type)
        params.append(("sign", signature))
        request.url = urlunsplit((scheme, netloc, path, urlencode(params), fragment))
        request.headers[ACCESS_TOKEN_HEADER] = self.tokens.access_token()
        return request

    def reject_token_of(self, response: requests.Response) -> None:
        """Report that the API refused the access token the request of ``response`` carried."""
        sent = response.request.headers.get(ACCESS_TOKEN_HEADER) if response.request else None
        self.tokens.reject(str(sent or ""))
