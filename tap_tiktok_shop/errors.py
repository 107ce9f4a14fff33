"""One place that decides what every API answer means: success, retry, refresh, or stop.

TikTok Shop reports errors in a JSON envelope whose ``code`` is non-zero even under HTTP 200,
and uses HTTP 429/401/5xx inconsistently, so both the status and the body are read here. Every
message carries the path, the shop, the API code and the ``request_id`` (never a secret).
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass

import orjson
import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_shop.envelope import control_fields
from tap_tiktok_shop.http_dates import clock_hint, retry_after

#: Throttling: back off and retry.
RATE_LIMITED = 36009002
#: Transient server-side failures worth retrying.
TRANSIENT_CODES = frozenset({36009003, 36009007, 10002014, 10002015, 10037002, 10037003, 10037004})
#: The access token has expired: refresh it and retry once.
TOKEN_EXPIRED = 105002
#: "access token is invalid; detail:your token has been deauthorized": refresh once; if it
#: comes back, only a new authorization by the seller helps.
TOKEN_DEAUTHORIZED = 105001
#: The catch-all code (bad token, timestamp, app_key, identifier, version...): the message
#: tells which, so only for this code is the message read (see ``_catch_all_kind``).
CATCH_ALL = 36009004
#: Token-call codes meaning the refresh token is dead (expired or revoked): only a new
#: authorization by the seller helps.
REFRESH_TOKEN_DEAD = frozenset({36004001, 36004005})
#: The app lacks the API package (scope) for this endpoint.
SCOPE_MISSING = 105005
#: The token is not valid for this shop (e.g. the seller de-authorized it).
SHOP_NOT_AUTHORIZED = 101000
#: Product search: "The seller is inactive." (the shop's seller account is deactivated).
SELLER_INACTIVE = 12052700
#: Product search refuses to page past its 10,000th result; narrow the time window.
RESULT_CAP = 12052180
#: Page-token refusals: the product APIs document 38023048 "Invalid page token"; an expired
#: or invalid cursor of the other searches comes as 36009001 (or the catch-all) naming it.
PAGE_TOKEN_INVALID = 38023048
PAGE_TOKEN_CODES_BY_MESSAGE = frozenset({36009001, CATCH_ALL})
#: Analytics: invalid request parameters (bad or reversed dates, a video range over 60 days,
#: other invalid values). A window before a shop has data can answer it too.
ANALYTICS_INVALID_PARAMS = 28001022
#: Analytics detail endpoints: no related data (e.g. the product is not found).
ANALYTICS_NO_DATA = 28001007
#: The API version in the path is not (or no longer) offered.
INVALID_VERSION = 36009014
#: How much of an API message is quoted in an error line.
MAX_MESSAGE_CHARS = 200


class Action(enum.Enum):
    """What the caller should do with an answer."""

    OK = "ok"
    RETRY = "retry"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - an action name, not a secret
    FAIL = "fail"


@dataclass(frozen=True)
class Verdict:
    """The classification of one HTTP answer."""

    action: Action
    status: int
    code: int | None = None
    message: str = ""
    request_id: str = ""
    retry_after: float | None = None
    payload: dict[str, t.Any] | None = None

    def describe(self, where: str) -> str:
        """Return the one-line description used in logs and errors."""
        code = f"API code {self.code}" if self.code is not None else f"HTTP {self.status}"
        text = f"{where}: {code}: {self.message or 'no message'}"
        if self.request_id:
            text += f" (request_id {self.request_id})"
        return text


class TikTokShopAPIError(FatalAPIError):
    """A non-retriable API answer; the run stops with its one-line message."""

    def __init__(self, message: str, verdict: Verdict | None = None) -> None:
        """Keep the verdict so callers can branch on the API code."""
        super().__init__(message)
        self.verdict = verdict


class ScopeMissingError(TikTokShopAPIError):
    """The app or the seller's authorization lacks the API package an endpoint needs."""


class ResultCapError(TikTokShopAPIError):
    """A search matched more results than the endpoint lets a client page through."""


class ShopError(TikTokShopAPIError):
    """A failure that concerns one shop only: that shop's read of the stream ends, others go on.

    The message says what happened and what to do; ``per_shop.py`` turns it into one WARNING
    line and leaves the shop's bookmark where it was.
    """


class ShopNotAuthorizedError(ShopError):
    """The access token is not valid for this shop (de-authorized or foreign shop)."""


class SellerInactiveError(ShopError):
    """The shop's seller account is inactive (deactivated or suspended)."""


class InvalidShopCipherError(ShopError):
    """The API refused the shop's cipher (or shop id) as an identifier."""


class PageTokenError(ShopError):
    """The API refused a ``page_token`` (expired or invalid) in the middle of a read."""


class InvalidRequestWindowError(ShopError):
    """The API refused a day window's parameters (``28001022``).

    On the oldest windows of a shop's read it means "no data here" (a window before the shop
    had data); later in a read it ends the shop's read like any shop failure (see day_reads).
    """


class NoRelatedDataError(ShopError):
    """The API has no data for the entity or window asked for (``28001007``): skip it."""


class RetriesExhaustedError(ShopError):
    """A request kept failing transiently until the retry budget (tries or time) ran out.

    On a shop's request it concerns that shop, unless shop after shop fails so (the API is
    down: ``outage.py``); on the shop listing it stops the run (the listing is not read per
    shop, so nothing catches it there).
    """


class SellerAuthorizationError(ShopError):
    """One seller's authorization failed mid-run (revoked, expired) while others work.

    With several authorizations this ends only the reads of that seller's shops.
    """


class TransientAPIError(RetriableAPIError):
    """Throttled or transient; retried with backoff (honouring Retry-After)."""

    def __init__(self, message: str, verdict: Verdict, response: requests.Response) -> None:
        """Keep the verdict for the wait generator."""
        super().__init__(message, response)
        self.verdict = verdict


class AccessTokenRejectedError(TransientAPIError):
    """The API rejected the access token; the token manager refreshes it before the retry."""


class ConfigurationError(Exception):
    """Invalid settings; reported as one line naming the setting."""


class AuthorizationError(Exception):
    """The token endpoints refused the credentials (wrong secret, revoked refresh token...)."""


class RefreshedTokenRefusedError(AuthorizationError):
    """The API refused an access token that was just refreshed: refreshing does not help."""


class ShopsFailedError(Exception):
    """Some shops could not be synced completely: the summary line, raised after the sync."""


class ApiDownError(Exception):
    """Several shops in a row failed as if the API were down (see ``outage.py``): stop."""


#: Failures that end a run with their own one-line message and exit code 1, no traceback.
#: Anything else is a bug and keeps its traceback.
REPORTED_ERRORS: tuple[type[Exception], ...] = (
    ConfigValidationError,
    ConfigurationError,
    AuthorizationError,
    ShopsFailedError,
    ApiDownError,
    FatalAPIError,
    RetriableAPIError,
    requests.RequestException,
)


def _words(message: str) -> str:
    """The message lowered, with ``-``, ``_`` and backticks read as spaces.

    The documented wordings spell the header `x-tts-access-token` and the parameter
    `access_token`: both then read "access token".
    """
    for mark in "-_`":
        message = message.replace(mark, " ")
    return " ".join(message.lower().split())


def _catch_all_kind(message: str) -> str:
    """What a ``36009004`` answer is about, told apart by its documented message.

    Documented wordings: "Invalid credentials. The `x-tts-access-token` header is invalid.",
    "... The `access_token` header is invalid.", "Invalid timestamp. ...", "Invalid
    credentials. Invalid `app_key` query parameter.", "Invalid identifier. The `shop_id`
    query parameter is invalid.", "Unexpected identifier. The `shop_cipher` query parameter
    is not required for this request.".
    """
    words = _words(message)
    if "page token" in words:
        return "page_token"
    if "access token" in words:
        return "token"
    if "timestamp" in words:
        return "timestamp"
    if "unexpected" not in words and ("shop cipher" in words or "shop id" in words):
        return "shop"
    return "other"


def classify(
    status: int, body: bytes, headers: t.Mapping[str, str], *, records: bool = True
) -> Verdict:
    """Classify one answer of the business API by its HTTP status and envelope.

    Args:
        status: HTTP status code.
        body: Raw response body.
        headers: Response headers.
        records: Whether ``payload`` needs all of ``data``; False keeps only the paging
            fields, read without building the records (see envelope.py).

    Returns:
        The verdict; ``payload`` holds the parsed envelope on success.
    """
    wait = retry_after(headers)
    envelope = None if records else control_fields(body)
    if envelope is None:
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError:
            envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), int):
        # An HTML error page or a truncated body: gateways produce these transiently.
        retriable = status in {200, 429} or status >= 500
        snippet = "response body is not a JSON envelope"
        action = Action.RETRY if retriable else Action.FAIL
        return Verdict(action, status, None, snippet, "", wait)

    code: int = envelope["code"]
    message = str(envelope.get("message") or "")[:MAX_MESSAGE_CHARS]
    request_id = str(envelope.get("request_id") or "")
    if code == 0 and status < 400:
        return Verdict(Action.OK, status, 0, message, request_id, None, envelope)
    if status == 429 or code == RATE_LIMITED or code in TRANSIENT_CODES or status >= 500:
        return Verdict(Action.RETRY, status, code, message, request_id, wait)
    # By code first; the message only breaks the tie of the catch-all code.
    if code in {TOKEN_EXPIRED, TOKEN_DEAUTHORIZED} or (
        code == CATCH_ALL and _catch_all_kind(message) == "token"
    ):
        return Verdict(Action.REFRESH_TOKEN, status, code, message, request_id)
    return Verdict(Action.FAIL, status, code, message, request_id)


#: What to do, appended to the one line of each per-shop failure.
REAUTHORIZE_SHOP = (
    "the seller may have removed this shop from the app's authorization: authorize it again, "
    "or leave it out of shop_ids"
)
SELLER_INACTIVE_HINT = (
    "the shop's seller account is inactive (deactivated or suspended): the seller must "
    "reactivate it in Seller Center, or leave the shop out of shop_ids"
)
INVALID_CIPHER_HINT = (
    "the API refused this shop's cipher: authorize the shop again, or leave it out of shop_ids"
)
SELLER_MUST_AUTHORIZE = (
    "refreshing the token did not help: the seller de-authorized the app and must authorize "
    "it again (tap-tiktok-shop-auth login)"
)


RETIRED_VERSION_HINT = (
    "the API no longer offers the version this tap pins for the endpoint: upgrade the tap"
)


def _catch_all_error(verdict: Verdict, text: str, response: requests.Response) -> Exception:
    kind = _catch_all_kind(verdict.message)
    if kind == "timestamp":
        return TikTokShopAPIError(f"{text}; {clock_hint(response.headers)}", verdict)
    if kind == "shop":
        return InvalidShopCipherError(f"{text}; {INVALID_CIPHER_HINT}", verdict)
    return TikTokShopAPIError(text, verdict)


def raise_for_verdict(verdict: Verdict, where: str, response: requests.Response) -> None:
    """Raise the exception that makes the SDK retry, refresh or stop, or return on success.

    Args:
        verdict: The classification of the answer.
        where: Path and shop, for the message.
        response: The response (kept on retriable errors for the backoff handler).

    Raises:
        TransientAPIError: on throttling and transient failures.
        AccessTokenRejectedError: when the token must be refreshed.
        ScopeMissingError: when the app lacks the endpoint's scope.
        ShopError: when the failure concerns this shop only (not authorized, seller inactive,
            cipher refused, page token refused, an analytics window refused or empty).
        ResultCapError: when a search matched more results than can be paged through.
        TikTokShopAPIError: on every other error.
    """
    if verdict.action is Action.OK:
        return
    text = verdict.describe(where)
    if verdict.action is Action.RETRY:
        raise TransientAPIError(text, verdict, response)
    if verdict.action is Action.REFRESH_TOKEN:
        raise AccessTokenRejectedError(text, verdict, response)
    code = verdict.code
    if code == SCOPE_MISSING:
        raise ScopeMissingError(text, verdict)
    if code == SHOP_NOT_AUTHORIZED:
        raise ShopNotAuthorizedError(f"{text}; {REAUTHORIZE_SHOP}", verdict)
    if code == SELLER_INACTIVE:
        raise SellerInactiveError(f"{text}; {SELLER_INACTIVE_HINT}", verdict)
    if code == RESULT_CAP:
        raise ResultCapError(text, verdict)
    if code == ANALYTICS_INVALID_PARAMS:
        raise InvalidRequestWindowError(text, verdict)
    if code == ANALYTICS_NO_DATA:
        raise NoRelatedDataError(text, verdict)
    if code == INVALID_VERSION:
        raise TikTokShopAPIError(f"{text}; {RETIRED_VERSION_HINT}", verdict)
    if code == PAGE_TOKEN_INVALID or (
        code in PAGE_TOKEN_CODES_BY_MESSAGE and "page token" in _words(verdict.message)
    ):
        raise PageTokenError(text, verdict)
    if code == CATCH_ALL:
        raise _catch_all_error(verdict, text, response)
    raise TikTokShopAPIError(text, verdict)


def refused_after_refresh(verdict: Verdict, where: str, *, shop_scoped: bool) -> Exception:
    """The error for a token refused again right after a refresh: one line, what to do.

    ``105001`` (the token was de-authorized) on a shop's request concerns that shop (the
    seller removed it); on the shop listing, and any other refusal, it concerns every shop.
    """
    text = verdict.describe(where)
    if verdict.code == TOKEN_DEAUTHORIZED:
        if shop_scoped:
            return ShopNotAuthorizedError(f"{text}; {SELLER_MUST_AUTHORIZE}", verdict)
        return AuthorizationError(f"{text}; {SELLER_MUST_AUTHORIZE}")
    return AuthorizationError(
        f"{text}; the API refused a freshly refreshed access token: re-authorize the app"
    )
