"""Access-token lifecycle: obtain from the refresh token, refresh ahead of expiry or on rejection.

TikTok's token calls are unsigned GETs on the auth host with the tokens under ``data`` and
absolute expiry timestamps, which the SDK's OAuth authenticator does not model. One manager,
guarded by a lock, is shared by every stream and thread of one authorization. With a token
store (token_store.py) each token set obtained is also written there, and a later run, or a
shard running beside this one, starts from it: from its access token while it is valid, else
from the latest refresh token TikTok gave (the refresh token may rotate on any refresh).

Those GETs carry the app secret and the refresh token in their query string, so they never
follow a redirect (transport.py); urllib3 logs request URLs at DEBUG level: a filter on its
logger masks those values before any handler sees them, so even a DEBUG run leaks nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t
from dataclasses import dataclass

import backoff
import orjson
import requests
from typing_extensions import override

from tap_tiktok_shop.errors import (
    REFRESH_TOKEN_DEAD,
    AuthorizationError,
    RefreshedTokenRefusedError,
    TikTokShopAPIError,
)
from tap_tiktok_shop.token_store import StoredTokens
from tap_tiktok_shop.transport import send
from tap_tiktok_shop.untrusted import is_token_like, printable, secret_problem

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_tiktok_shop.token_store import TokenStore

LOGGER = logging.getLogger("tap-tiktok-shop")

REFRESH_PATH = "/api/v2/token/refresh"
EXCHANGE_PATH = "/api/v2/token/get"
#: What the user can do about a token error, by API code (codes seen in the wild, not listed
#: in the official docs).
#: Hints for failed code exchanges (refresh failures get theirs from REFRESH_TOKEN_DEAD).
TOKEN_ERROR_HINTS = {
    36004005: "authorization codes work once and expire 30 minutes after consent; authorize again",
    36004001: (
        "the seller's authorization has ended or was revoked; authorize again with "
        "`tap-tiktok-shop-auth login`"
    ),
}

#: A secret query value in a logged URL (the token calls send these as GET parameters).
_SECRET_QUERY_VALUE = re.compile(r"\b(app_secret|refresh_token|access_token|auth_code)=[^&\s\"']*")
#: The logger that writes request URLs (urllib3's connection pool, at DEBUG level).
URL_LOGGER = "urllib3.connectionpool"


def mask_secret_query_values(text: str) -> str:
    """Replace the values of secret query parameters in ``text`` with ``***``."""
    return _SECRET_QUERY_VALUE.sub(r"\1=***", text)


class SecretQueryFilter(logging.Filter):
    """Masks secret query values in log records before any handler formats them."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message if it holds a secret query value; always keep it."""
        message = record.getMessage()
        masked = mask_secret_query_values(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def mask_secrets_in_url_logs() -> None:
    """Install the filter on urllib3's URL logger once per process."""
    url_logger = logging.getLogger(URL_LOGGER)
    if not any(isinstance(existing, SecretQueryFilter) for existing in url_logger.filters):
        url_logger.addFilter(SecretQueryFilter())


class _TransientTokenError(Exception):
    """A token call failed in a way worth retrying (network, 5xx, throttling)."""


@dataclass
class TokenSet:
    """The tokens and facts one token call returns."""

    access_token: str
    access_token_expire_in: int | None
    refresh_token: str | None = None
    refresh_token_expire_in: int | None = None
    #: The API packages the seller granted; None when unknown (a configured access token).
    granted_scopes: list[str] | None = None
    seller_name: str = ""
    seller_base_region: str = ""
    open_id: str = ""

    @classmethod
    def from_api(cls, data: dict[str, t.Any]) -> TokenSet:
        """Build from the ``data`` of a token answer, refusing malformed tokens.

        The tokens go into a header and maybe a ``.env`` file, so each must be a plain token
        (untrusted.py); an expiry that is no plausible unix time counts as unknown.

        Raises:
            AuthorizationError: naming the malformed token, never quoting it.
        """
        refresh_token = data.get("refresh_token") or None
        for name, value in (
            ("access_token", data.get("access_token")),
            ("refresh_token", refresh_token),
        ):
            if (value is not None or name == "access_token") and not is_token_like(value):
                raise AuthorizationError(f"the token answer's {secret_problem(name)}")
        return cls(
            access_token=str(data["access_token"]),
            access_token_expire_in=_int_or_none(data.get("access_token_expire_in")),
            refresh_token=refresh_token,
            refresh_token_expire_in=_int_or_none(data.get("refresh_token_expire_in")),
            granted_scopes=_scopes_or_none(data.get("granted_scopes")),
            seller_name=str(data.get("seller_name") or ""),
            seller_base_region=str(data.get("seller_base_region") or ""),
            open_id=str(data.get("open_id") or ""),
        )


def _scopes_or_none(value: object) -> list[str] | None:
    return [str(scope) for scope in value] if isinstance(value, list) else None


#: Expiries past this (9999-12-31) are not unix times any clock or date library can show.
_LATEST_TIMESTAMP = 253402300799


def _int_or_none(value: object) -> int | None:
    """A unix time from a token answer, or None if absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value) if isinstance(value, str) or 0 <= value <= _LATEST_TIMESTAMP else ""
    if not text.isdigit() or len(text) > len(str(_LATEST_TIMESTAMP)):
        return None
    number = int(text)
    return number if number <= _LATEST_TIMESTAMP else None


class TokenClient:
    """Calls the auth host's token endpoints (exchange and refresh) on its own session."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        auth_base_url: str,
        timeout: float = 60.0,
        max_tries: int = 5,
    ) -> None:
        """Keep the app credentials; a separate session so the API signer never sees these."""
        self._app_key = app_key
        self._app_secret = app_secret
        self._base = auth_base_url.rstrip("/")
        self._timeout = timeout
        self._max_tries = max_tries
        self._session = requests.Session()
        mask_secrets_in_url_logs()

    def refresh(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token for a new access token."""
        params = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        return self._call(REFRESH_PATH, params, "Refreshing the access token")

    def exchange(self, auth_code: str) -> TokenSet:
        """Trade an authorization code for an access token and a refresh token."""
        params = {"auth_code": auth_code, "grant_type": "authorized_code"}
        return self._call(EXCHANGE_PATH, params, "Exchanging the authorization code")

    def _call(self, path: str, extra: dict[str, str], what: str) -> TokenSet:
        params = {"app_key": self._app_key, "app_secret": self._app_secret, **extra}
        retrying = backoff.on_exception(
            backoff.expo,
            _TransientTokenError,
            max_tries=self._max_tries,
            jitter=backoff.full_jitter,
            logger=None,
        )(self._attempt)
        try:
            return retrying(path, params, what)
        except _TransientTokenError as exc:
            raise AuthorizationError(f"{what} failed: {exc}") from None

    def _attempt(self, path: str, params: dict[str, str], what: str) -> TokenSet:
        request = requests.Request("GET", self._base + path, params=params)
        try:
            response = send(
                self._session,
                self._session.prepare_request(request),
                timeout=self._timeout,
                where=path,
            )
        except TikTokShopAPIError as exc:  # a redirect or an oversized answer: not retried
            raise AuthorizationError(f"{what} failed: {exc}") from None
        except requests.RequestException as exc:
            # The URL holds the app secret: never let the library's message through.
            reason = type(exc).__name__
            raise _TransientTokenError(f"{reason} while calling {self._base}{path}") from None
        try:
            envelope = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            envelope = None
        if response.status_code == 429 or response.status_code >= 500:
            raise _TransientTokenError(f"HTTP {response.status_code} from {path}")
        if not isinstance(envelope, dict):
            raise _TransientTokenError(f"HTTP {response.status_code} with a non-JSON body")
        code = envelope.get("code")
        if code != 0 or not isinstance(envelope.get("data"), dict):
            message = printable(str(envelope.get("message") or "")[:200])
            request_id = printable(str(envelope.get("request_id") or "")[:100])
            text = f"{what} failed: API code {code}: {message} (request_id {request_id})"
            if path == REFRESH_PATH and code in REFRESH_TOKEN_DEAD:
                text += (
                    "; the refresh_token has expired or the seller revoked the authorization: "
                    "the seller must authorize the app again (`tap-tiktok-shop-auth login`)"
                )
            elif isinstance(code, int) and code in TOKEN_ERROR_HINTS:
                text += f"; {TOKEN_ERROR_HINTS[code]}"
            raise AuthorizationError(text)
        try:
            return TokenSet.from_api(envelope["data"])
        except AuthorizationError as exc:
            raise AuthorizationError(f"{what} failed: {exc}") from None


class TokenManager:
    """Hands out a valid access token, refreshing it ahead of expiry or after a rejection."""

    RETRY_WINDOW_SECONDS = 300.0

    def __init__(
        self,
        client: TokenClient,
        *,
        refresh_token: str | None,
        access_token: str | None = None,
        refresh_ahead_seconds: int = 600,
        clock: Callable[[], float] = time.time,
        store: TokenStore | None = None,
        store_key: str = "",
    ) -> None:
        """Start from the configured tokens; nothing is fetched until a token is needed.

        ``store`` and ``store_key``: where this authorization's latest token set is kept
        between runs (``token_store.entry_key``); None keeps tokens in memory only.
        """
        if not refresh_token and not access_token:
            msg = "either refresh_token or access_token must be set"
            raise AuthorizationError(msg)
        self._client = client
        self._refresh_token = refresh_token
        self._clock = clock
        self._ahead = refresh_ahead_seconds
        self._store = store
        self._store_key = store_key
        self._lock = threading.Lock()
        self._current: TokenSet | None = (
            TokenSet(access_token=access_token, access_token_expire_in=None)
            if access_token
            else None
        )
        # The token a rejection-driven refresh produced, and when: refused again soon after,
        # refreshing does not help (revoked authorization, wrong app).
        self._forced: tuple[str, float] | None = None
        self.refresh_count = 0

    @property
    def current(self) -> TokenSet | None:
        """The token set in use (None before the first call)."""
        return self._current

    def access_token(self) -> str:
        """Return a token valid for at least ``refresh_ahead_seconds`` (refreshing if needed)."""
        with self._lock:
            if self._current is None or self._expires_soon(self._current):
                self._refresh_locked()
            assert self._current is not None
            return self._current.access_token

    def reject(self, token: str) -> None:
        """Record that the API refused ``token``; the next ``access_token()`` refreshes.

        A token that a rejection-driven refresh produced and that is refused again within
        ``RETRY_WINDOW_SECONDS`` means refreshing does not help: that raises instead of looping.
        """
        with self._lock:
            if self._current is None or self._current.access_token != token:
                return  # another thread already replaced it
            forced = self._forced
            recent = forced is not None and self._clock() - forced[1] < self.RETRY_WINDOW_SECONDS
            if forced and forced[0] == token and recent:
                msg = "the API refused a freshly refreshed access token; re-authorize the app"
                raise RefreshedTokenRefusedError(msg)
            if self._refresh_locked(rejected=token):
                assert self._current is not None
                self._forced = (self._current.access_token, self._clock())
            # A token adopted from the store was not refreshed for this rejection: refused
            # too, it is refreshed then (the store's entry is then the rejected token).

    def _expires_soon(self, tokens: TokenSet) -> bool:
        return self._expiring(tokens.access_token_expire_in)

    def _expiring(self, expiry: int | None) -> bool:
        return expiry is not None and expiry - self._ahead <= self._clock()

    def _refresh_locked(self, rejected: str | None = None) -> bool:
        """Replace the current token set (the caller holds ``_lock``); True if refreshed.

        With a store, under its file lock: a stored access token that is still valid (and is
        not the one the API just refused) is used as it is, since another run or an earlier
        one obtained it; otherwise the stored refresh token (the latest TikTok gave) is
        traded and the answer stored before the lock is released.
        """
        if self._store is None:
            self._current = self._trade(self._refresh_token)
            return True
        with self._store.locked(self._store_key) as entry:
            stored = entry.stored
            if (
                stored
                and stored.access_token != rejected
                and not self._expiring(stored.access_token_expire_in)
            ):
                self._current = stored_token_set(stored)
                self._refresh_token = stored.refresh_token
                return False
            tokens = self._trade(stored.refresh_token if stored else self._refresh_token)
            assert self._refresh_token is not None  # _trade refuses to run without one
            entry.replace(StoredTokens.of(tokens, self._refresh_token))
            self._current = tokens
            return True

    def _trade(self, refresh_token: str | None) -> TokenSet:
        """Refresh with ``refresh_token``; from then on use the refresh token of the answer."""
        if not refresh_token:
            msg = "the access token expired and no refresh_token is configured"
            raise AuthorizationError(msg)
        tokens = self._client.refresh(refresh_token)
        self.refresh_count += 1
        latest = tokens.refresh_token or refresh_token
        if latest != refresh_token and self._store is None:
            LOGGER.warning(
                "TikTok returned a new refresh token; this run uses it, but with "
                "token_store_enabled false it is not kept: store the new one with "
                "`tap-tiktok-shop-auth refresh` before the old one stops working."
            )
        self._refresh_token = latest
        return tokens


def stored_token_set(stored: StoredTokens) -> TokenSet:
    """The token set of a store entry."""
    return TokenSet(
        access_token=stored.access_token,
        access_token_expire_in=stored.access_token_expire_in,
        refresh_token=stored.refresh_token,
        refresh_token_expire_in=stored.refresh_token_expire_in,
        granted_scopes=stored.granted_scopes,
        seller_name=stored.seller_name,
        open_id=stored.open_id,
    )
