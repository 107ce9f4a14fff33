"""One place that decides what every API answer means: success, retry, refresh, or stop.

TikTok Shop reports errors in a JSON envelope whose ``code`` is non-zero even under HTTP 200,
and uses HTTP 429/401/5xx inconsistently, so both the status and the body are read here. Every
message carries the path, the shop, the API code and the ``request_id`` (never a secret).
"""

from __future__ import annotations

import email.utils
import enum
import time
import typing as t
from dataclasses import dataclass

import orjson
import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_tiktok_shop.envelope import control_fields

if t.TYPE_CHECKING:
    from collections.abc import Callable

#: Throttling: back off and retry.
RATE_LIMITED = 36009002
#: Transient server-side failures worth retrying.
TRANSIENT_CODES = frozenset({36009003, 36009007, 10002014, 10002015, 10037002, 10037003, 10037004})
#: The access token has expired: refresh it and retry once.
TOKEN_EXPIRED = 105002
#: The catch-all code; an invalid access token is told apart by its message.
CATCH_ALL = 36009004
#: Token-call codes meaning the refresh token is dead (expired or revoked): only a new
#: authorization by the seller helps.
REFRESH_TOKEN_DEAD = frozenset({36004001, 36004005})
#: The app lacks the API package (scope) for this endpoint.
SCOPE_MISSING = 105005
#: The token is not valid for this shop (e.g. the seller de-authorized it).
SHOP_NOT_AUTHORIZED = 101000
#: Product search refuses to page past its 10,000th result; narrow the time window.
RESULT_CAP = 12052180
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


class ShopNotAuthorizedError(TikTokShopAPIError):
    """The access token is not valid for this shop (de-authorized or foreign shop)."""


class RetriesExhaustedError(TikTokShopAPIError):
    """A request kept failing transiently until the retry budget (tries or time) ran out."""


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


class SyncInterrupted(BaseException):
    """SIGTERM or SIGINT arrived: unwind the sync at once, then write state and exit non-zero.

    A ``BaseException`` so that no ``except Exception`` on the way (the SDK's, the HTTP
    library's) swallows it or logs it as a failure of its own.
    """

    def __init__(self, signum: int, finish: Callable[[], None] | None = None) -> None:
        """Remember the signal (the exit code is 128 + its number) and what to do before exit.

        Args:
            signum: The signal number.
            finish: Called once the sync has unwound, outside the signal handler (writing
                state from inside the handler could interleave with a half-written message).
        """
        super().__init__(signum)
        self.signum = signum
        self.finish = finish


#: Failures that end a run with their own one-line message and exit code 1, no traceback.
#: Anything else is a bug and keeps its traceback.
REPORTED_ERRORS: tuple[type[Exception], ...] = (
    ConfigValidationError,
    ConfigurationError,
    AuthorizationError,
    FatalAPIError,
    RetriableAPIError,
    requests.RequestException,
)


def _server_time(value: str | None) -> float | None:
    """Parse an HTTP date (``Date``, ``Retry-After``) to unix seconds."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _retry_after(headers: t.Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After``: delta-seconds or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = _server_time(value)
        return None if when is None else max(0.0, when - time.time())


def clock_hint(headers: t.Mapping[str, str]) -> str:
    """Tell the user to fix the clock, with the skew measured from the answer's ``Date``."""
    server_now = _server_time(headers.get("Date"))
    advice = (
        "fix this machine's clock (NTP): the API accepts request timestamps from 5 minutes "
        "before to 30 seconds after its own time"
    )
    if server_now is None:
        return advice
    skew = time.time() - server_now
    side = "ahead of" if skew > 0 else "behind"
    return f"this machine's clock is about {abs(skew):.0f} s {side} the API's: {advice}"


def _is_invalid_token(message: str) -> bool:
    lowered = message.lower()
    return "access token" in lowered or "access_token" in lowered


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
    retry_after = _retry_after(headers)
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
        return Verdict(action, status, None, snippet, "", retry_after)

    code: int = envelope["code"]
    message = str(envelope.get("message") or "")[:MAX_MESSAGE_CHARS]
    request_id = str(envelope.get("request_id") or "")
    if code == 0 and status < 400:
        return Verdict(Action.OK, status, 0, message, request_id, None, envelope)
    if status == 429 or code == RATE_LIMITED or code in TRANSIENT_CODES or status >= 500:
        return Verdict(Action.RETRY, status, code, message, request_id, retry_after)
    if code == TOKEN_EXPIRED or (code == CATCH_ALL and _is_invalid_token(message)):
        return Verdict(Action.REFRESH_TOKEN, status, code, message, request_id)
    return Verdict(Action.FAIL, status, code, message, request_id)


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
        ShopNotAuthorizedError: when the token does not cover the shop.
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
    if verdict.code == SCOPE_MISSING:
        raise ScopeMissingError(text, verdict)
    if verdict.code == SHOP_NOT_AUTHORIZED:
        text += (
            "; the seller may have removed this shop from the app's authorization: authorize "
            "it again, or leave it out of shop_ids"
        )
        raise ShopNotAuthorizedError(text, verdict)
    if verdict.code == RESULT_CAP:
        raise ResultCapError(text, verdict)
    if verdict.code == CATCH_ALL and "timestamp" in verdict.message.lower():
        text += "; " + clock_hint(response.headers)
    raise TikTokShopAPIError(text, verdict)
