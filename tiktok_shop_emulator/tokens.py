"""App credentials, auth codes and access/refresh tokens of the one emulated authorization."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tiktok_shop_emulator.config import EmulatorConfig

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


@dataclass(frozen=True)
class TokenResult:
    """The envelope parts of a token endpoint answer (code 0 means success)."""

    code: int
    message: str
    data: dict[str, Any] | None


class TokenStore:
    """Issues and checks tokens against the server clock; thread-safe."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float], open_id: str,
                 seller_base_region: str) -> None:
        """Register the configured refresh token as a valid, year-long authorization."""
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._open_id = open_id
        self._region = seller_base_region
        self._refresh: dict[str, float] = {
            config.refresh_token: clock() + config.refresh_token_lifetime}
        self._access: dict[str, float] = {}
        # The scope keys each access token was granted (the app's packages when it was issued).
        self._scopes: dict[str, tuple[str, ...]] = {}
        self._codes: dict[str, float] = {}
        self._issued: list[str] = [config.refresh_token]
        _remember(config.app_secret, config.refresh_token)

    def issue_auth_code(self) -> str:
        """Mint a single-use authorization code, as the seller consent page would."""
        code = "TTP_" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = self._clock() + self._config.auth_code_lifetime
            self._issued.append(code)
        _remember(code)
        return code

    def issue_access_token(self, scopes: list[str] | None = None) -> str:
        """Mint an access token directly (for tests configured with a ready token).

        ``scopes`` narrows what the token was granted (default: the app's current scopes).
        """
        with self._lock:
            return self._new_access(self._clock(), scopes)

    def _new_access(self, now: float, scopes: list[str] | None = None) -> str:
        """Create an access token valid for config.token_lifetime; caller holds the lock."""
        token = "ROW_" + secrets.token_urlsafe(32)
        self._access[token] = now + self._config.token_lifetime
        granted = self._config.granted_scopes if scopes is None else scopes
        self._scopes[token] = tuple(granted)
        self._issued.append(token)
        _remember(token)
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
        """Classify an access token as valid, unknown (or missing) or expired."""
        if not token:
            return AccessState.UNKNOWN
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return AccessState.UNKNOWN
        return AccessState.VALID if self._clock() < expires else AccessState.EXPIRED

    def expire_access_tokens(self) -> None:
        """Mark every access token issued so far as expired."""
        with self._lock:
            for token in self._access:
                self._access[token] = 0.0

    def revoke_refresh_token(self) -> None:
        """Invalidate every refresh token, as if the seller revoked the authorization."""
        with self._lock:
            self._refresh.clear()

    def issued(self) -> list[str]:
        """Every token and auth code issued or configured so far, expired or not."""
        with self._lock:
            return [*self._issued]

    def current_refresh_token(self) -> str | None:
        """Return the refresh token that currently works, if any."""
        now = self._clock()
        with self._lock:
            valid = [token for token, expires in self._refresh.items() if now < expires]
        return valid[-1] if valid else None

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
        """Build the token data block; caller holds the lock."""
        access = self._new_access(now)
        return {
            "access_token": access,
            "access_token_expire_in": int(self._access[access]),
            "refresh_token": refresh_token,
            "refresh_token_expire_in": int(self._refresh[refresh_token]),
            "open_id": self._open_id,
            "seller_name": self._config.seller_name,
            "seller_base_region": self._region,
            "user_type": 0,
            "granted_scopes": list(self._scopes[access]),
        }

    def exchange(self, params: Mapping[str, str]) -> TokenResult:
        """Answer GET /api/v2/token/get: swap a fresh auth code for a token set."""
        error = self._app_error(params, "authorized_code")
        if error:
            return error
        now = self._clock()
        with self._lock:
            expires = self._codes.pop(params.get("auth_code", ""), None)
            if expires is None or now >= expires:
                return TokenResult(ERR_AUTH_CODE, "can not find related auth record", None)
            live = [token for token, until in self._refresh.items() if now < until]
            if live:
                refresh = live[-1]
            else:  # a new consent starts a new authorization period
                refresh = "ROW_" + secrets.token_urlsafe(32)
                self._refresh[refresh] = now + self._config.refresh_token_lifetime
                self._issued.append(refresh)
                _remember(refresh)
            return TokenResult(0, "Success", self._grant(now, refresh))

    def refresh(self, params: Mapping[str, str]) -> TokenResult:
        """Answer GET /api/v2/token/refresh, rotating the refresh token if configured."""
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
                token = "ROW_" + secrets.token_urlsafe(32)
                self._refresh[token] = expires
                self._issued.append(token)
                _remember(token)
            return TokenResult(0, "Success", self._grant(now, token))
