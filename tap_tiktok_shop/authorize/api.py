"""The helper's calls to TikTok, made with the tap's own token client, signer and classifier.

Token calls go through ``tokens.TokenClient``; the authorized-shops call is signed by
``auth.TikTokShopAuthenticator`` on a small session and judged by ``errors.classify``, exactly
as the tap's ``shops`` stream does, sent by ``transport.send`` (no redirects, capped body) and
checked by ``shops.check_shops``. Nothing here signs, refreshes or classifies by itself.
"""

from __future__ import annotations

import typing as t

import backoff
import requests

from tap_tiktok_shop.auth import TikTokShopAuthenticator
from tap_tiktok_shop.errors import (
    Action,
    TikTokShopAPIError,
    TransientAPIError,
    classify,
    raise_for_verdict,
)
from tap_tiktok_shop.shop_directory import check_shops
from tap_tiktok_shop.streams.shops import ShopsStream
from tap_tiktok_shop.tokens import TokenClient, TokenManager
from tap_tiktok_shop.transport import send

if t.TYPE_CHECKING:
    from tap_tiktok_shop.authorize.sources import Settings
    from tap_tiktok_shop.tokens import TokenSet

#: Seconds to wait for one answer.
REQUEST_TIMEOUT = 30.0
#: Attempts per call: a person is waiting, so fail fast on a host that is down.
MAX_TRIES = 3
#: The shop fields the helper shows, in this order.
SHOP_FIELDS = ("id", "name", "region", "seller_type", "cipher")


def token_client(settings: Settings) -> TokenClient:
    """The tap's token client for the configured auth host."""
    return TokenClient(
        app_key=settings.require("app_key"),
        app_secret=settings.require("app_secret"),
        auth_base_url=settings.require("auth_base_url"),
        timeout=REQUEST_TIMEOUT,
        max_tries=MAX_TRIES,
    )


def signer(settings: Settings, tokens: TokenManager) -> TikTokShopAuthenticator:
    """The tap's request signer, using ``tokens`` for the access token."""
    return TikTokShopAuthenticator(
        app_key=settings.require("app_key"),
        app_secret=settings.require("app_secret"),
        tokens=tokens,
    )


def signer_for(
    settings: Settings, client: TokenClient, tokens: TokenSet
) -> TikTokShopAuthenticator:
    """A signer that starts from a token set just obtained (no refresh needed)."""
    manager = TokenManager(
        client, refresh_token=tokens.refresh_token, access_token=tokens.access_token
    )
    return signer(settings, manager)


def authorized_shops(
    api_base_url: str, authenticator: TikTokShopAuthenticator
) -> list[dict[str, t.Any]]:
    """List the shops the access token covers (GET /authorization/202309/shops).

    A throttled or transient answer is retried; a rejected access token is refreshed once.

    Raises:
        TikTokShopAPIError: on any other error answer, or when the host cannot be reached.
    """
    url = api_base_url.rstrip("/") + ShopsStream.path
    with requests.Session() as session:
        session.auth = authenticator
        call = backoff.on_exception(
            backoff.expo,
            (TransientAPIError, requests.ConnectionError, requests.Timeout),
            max_tries=MAX_TRIES,
            jitter=backoff.full_jitter,
            logger=None,
        )(_shops_once)
        try:
            shops: list[dict[str, t.Any]] = call(session, url, authenticator)
        except (TransientAPIError, requests.RequestException) as exc:
            reason = str(exc) if isinstance(exc, TransientAPIError) else type(exc).__name__
            msg = f"Listing the authorized shops failed: {reason} (calling {api_base_url})"
            raise TikTokShopAPIError(msg) from None
    return shops


def _shops_once(
    session: requests.Session, url: str, authenticator: TikTokShopAuthenticator
) -> list[dict[str, t.Any]]:
    prepared = session.prepare_request(requests.Request("GET", url))
    response = send(session, prepared, timeout=REQUEST_TIMEOUT, where=ShopsStream.path)
    verdict = classify(response.status_code, response.content, response.headers)
    if verdict.action is Action.REFRESH_TOKEN:
        authenticator.reject_token_of(response)
    raise_for_verdict(verdict, ShopsStream.path, response)
    data = (verdict.payload or {}).get("data")
    return check_shops(data.get("shops") if isinstance(data, dict) else None)
