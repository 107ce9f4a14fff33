"""App credentials, auth codes and access/refresh tokens of the emulated sellers' authorizations.

Every token and code belongs to one seller (sellers.py): the seller whose refresh token or auth
code produced it, so the API can tell which shops an access token may read, and a revocation
or a rotation touches one seller's authorization only.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tiktok_shop_emulator.config import EmulatorConfig
from tiktok_shop_emulator.sellers import Seller, Sellers

ERR_PARAM = 36009004
ERR_AUTH_CODE = 36004005
ERR_REFRESH = 36004001

# Every secret any TokenStore of this process configured or issued: tests scan all captured
# output for them, even after the emulator that issued them is gone.
_PROCESS_SECRETS: set[str] = set()
_PROCESS_SECRETS_LOCK = threading.Lock()


def secrets_issued_in_process() -> list[str]:
    """App secrets, refresh and access tokens and auth codes of every emulator of this process."""
    with _PROCESS_SECRETS_LOCK:
        return sorted(_PROCESS_SECRETS)


def _remember(*values: str) -> None:
    with _PROCESS_SECRETS_LOCK:
        _PROCESS_SECRETS.update(values)


class AccessState(Enum):
    """What the business API makes of an x-tts-access-token header."""

    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    #: The seller's authorization was revoked with deauthorize_access_tokens (answers 105001).
    DEAUTHORIZED = "deauthorized"


@dataclass(frozen=True)
class TokenResult:
    """The envelope parts of a token endpoint answer (code 0 means success)."""

    code: int
    message: str
    data: dict[str, Any] | None


class TokenStore:
    """Issues and checks every seller's tokens against the server clock; thread-safe."""

    def __init__(
        self, config: EmulatorConfig, clock: Callable[[], float], sellers: Sellers
    ) -> None:
        """Register each seller's configured refresh token as a valid, year-long authorization."""
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._sellers = sellers
        now = clock()
        self._refresh: dict[str, float] = {
            seller.refresh_token: now + config.refresh_token_lifetime for seller in sellers
        }
        self._access: dict[str, float] = {}
        # The scope keys each access token was granted (the app's packages when it was issued).
        self._scopes: dict[str, tuple[str, ...]] = {}
        self._codes: dict[str, float] = {}
        # The seller number of every refresh token, access token and auth code.
        self._owner: dict[str, int] = {seller.refresh_token: seller.number for seller in sellers}
        self._deauthorized: set[str] = set()
        self._issued: list[str] = [seller.refresh_token for seller in sellers]
        _remember(config.app_secret, *self._issued)

    def issue_auth_code(self, seller: int = 1) -> str:
        """Mint a single-use authorization code of ``seller``, as its consent page would."""
        self._sellers.get(seller)
        code = "TTP_" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = self._clock() + self._config.auth_code_lifetime
            self._own(code, seller)
        return code

    def issue_access_token(self, scopes: list[str] | None = None, seller: int = 1) -> str:
        """Mint an access token of ``seller`` directly (for tests configured with a ready token).

        ``scopes`` narrows what the token was granted (default: the app's current scopes).
        """
        self._sellers.get(seller)
        with self._lock:
            return self._new_access(self._clock(), seller, scopes)

    def _own(self, token: str, seller: int) -> None:
        """Record a new token or code of ``seller`` as issued; caller holds the lock."""
        self._owner[token] = seller
        self._issued.append(token)
        _remember(token)

    def _new_access(self, now: float, seller: int, scopes: list[str] | None = None) -> str:
        """Create an access token valid for config.token_lifetime; caller holds the lock."""
        token = "ROW_" + secrets.token_urlsafe(32)
        self._access[token] = now + self._config.token_lifetime
        granted = self._config.granted_scopes if scopes is None else scopes
        self._scopes[token] = tuple(granted)
        self._own(token, seller)
        return token

    def _new_refresh(self, seller: int, expires: float) -> str:
        """Create a refresh token of ``seller`` valid until ``expires``; caller holds the lock."""
        token = "ROW_" + secrets.token_urlsafe(32)
        self._refresh[token] = expires
        self._own(token, seller)
        return token

    def has_scope(self, token: str | None, scope: str) -> bool:
        """Whether a token may call an API of ``scope``.

        A token carries the scopes granted when it was issued; a package the app has since
        lost (config.granted_scopes) is refused too.
        """
        with self._lock:
            granted = self._scopes.get(token or "", ())
        return scope in granted and scope in self._config.granted_scopes

    def check_access(self, token: str | None) -> AccessState:
        """Classify an access token as valid, unknown (or missing), expired or deauthorized."""
        if not token:
            return AccessState.UNKNOWN
        with self._lock:
            expires = self._access.get(token)
            deauthorized = token in self._deauthorized
        if expires is None:
            return AccessState.UNKNOWN
        if deauthorized:
            return AccessState.DEAUTHORIZED
        return AccessState.VALID if self._clock() < expires else AccessState.EXPIRED

    def seller_of(self, token: str | None) -> int | None:
        """The seller an access token, refresh token or auth code belongs to (None: unknown)."""
        with self._lock:
            return self._owner.get(token or "")

    def _chosen(self, seller: int | None) -> set[int]:
        """The seller numbers an optional ``seller`` argument means (None: every seller)."""
        if seller is None:
            return {each.number for each in self._sellers}
        return {self._sellers.get(seller).number}

    def expire_access_tokens(self, seller: int | None = None) -> None:
        """Mark every access token issued so far (of ``seller``, or of all) as expired."""
        chosen = self._chosen(seller)
        with self._lock:
            for token in self._access:
                if self._owner[token] in chosen:
                    self._access[token] = 0.0

    def revoke_refresh_token(
        self, seller: int | None = None, *, deauthorize_access_tokens: bool = False
    ) -> None:
        """Invalidate the refresh tokens of ``seller`` (None: every seller), as a revocation.

        The docs do not say what a revoked seller authorization does to access tokens already
        issued, so by default they keep working until they expire. With
        ``deauthorize_access_tokens`` they answer 105001 "your token has been deauthorized"
        at once, the answer the partner docs give for a creator who removed all access.
        """
        chosen = self._chosen(seller)
        with self._lock:
            for token in [t for t in self._refresh if self._owner[t] in chosen]:
                del self._refresh[token]
            if deauthorize_access_tokens:
                self._deauthorized.update(t for t in self._access if self._owner[t] in chosen)

    def issued(self) -> list[str]:
        """Every token and auth code issued or configured so far, expired or not."""
        with self._lock:
            return [*self._issued]

    def _live_refresh(self, seller: int, now: float) -> list[str]:
        """The refresh tokens of ``seller`` that still work, oldest first; caller holds the lock."""
        return [
            token
            for token, until in self._refresh.items()
            if now < until and self._owner[token] == seller
        ]

    def current_refresh_token(self, seller: int = 1) -> str | None:
        """Return the refresh token of ``seller`` that currently works, if any."""
        self._sellers.get(seller)
        now = self._clock()
        with self._lock:
            valid = self._live_refresh(seller, now)
        return valid[-1] if valid else None

    def refresh_tokens(self) -> list[dict[str, Any]]:
        """Each seller's working refresh token (None when revoked) and open_id, for tests."""
        return [
            {
                "seller": seller.number,
                "refresh_token": self.current_refresh_token(seller.number),
                "open_id": seller.open_id,
            }
            for seller in self._sellers
        ]

    def _app_error(self, params: Mapping[str, str], grant_type: str) -> TokenResult | None:
        """Check app credentials and grant type; never echo what was sent."""
        key_ok = hmac.compare_digest(params.get("app_key", ""), self._config.app_key)
        secret_ok = hmac.compare_digest(params.get("app_secret", ""), self._config.app_secret)
        if not (key_ok and secret_ok):
            return TokenResult(ERR_PARAM, "Invalid app_key or app_secret", None)
        if params.get("grant_type") != grant_type:
            return TokenResult(ERR_PARAM, "Invalid grant_type", None)
        return None

    def _grant(self, now: float, refresh_token: str) -> dict[str, Any]:
        """Build the token data block of the refresh token's seller; caller holds the lock."""
        seller: Seller = self._sellers.get(self._owner[refresh_token])
        access = self._new_access(now, seller.number)
        return {
            "access_token": access,
            "access_token_expire_in": int(self._access[access]),
            "refresh_token": refresh_token,
            "refresh_token_expire_in": int(self._refresh[refresh_token]),
            "open_id": seller.open_id,
            "seller_name": seller.name,
            "seller_base_region": seller.region,
            "user_type": 0,
            "granted_scopes": list(self._scopes[access]),
        }

    def exchange(self, params: Mapping[str, str]) -> TokenResult:
        """Answer GET /api/v2/token/get: swap a fresh auth code for its seller's token set."""
        error = self._app_error(params, "authorized_code")
        if error:
            return error
        now = self._clock()
        with self._lock:
            code = params.get("auth_code", "")
            expires = self._codes.pop(code, None)
            if expires is None or now >= expires:
                return TokenResult(ERR_AUTH_CODE, "can not find related auth record", None)
            seller = self._owner[code]
            live = self._live_refresh(seller, now)
            if live:
                refresh = live[-1]
            else:  # a new consent starts a new authorization period
                refresh = self._new_refresh(seller, now + self._config.refresh_token_lifetime)
            return TokenResult(0, "Success", self._grant(now, refresh))

    def refresh(self, params: Mapping[str, str]) -> TokenResult:
        """Answer GET /api/v2/token/refresh, rotating that seller's refresh token if configured."""
        error = self._app_error(params, "refresh_token")
        if error:
            return error
        now = self._clock()
        with self._lock:
            token = params.get("refresh_token", "")
            expires = self._refresh.get(token)
            if expires is None or now >= expires:
                return TokenResult(ERR_REFRESH, "rt has expired", None)
            if self._config.rotate_refresh_token:
                del self._refresh[token]
                token = self._new_refresh(self._owner[token], expires)
            return TokenResult(0, "Success", self._grant(now, token))
