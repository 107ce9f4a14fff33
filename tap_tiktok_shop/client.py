"""The base stream: every request policy of the TikTok Shop API lives here.

Streams declare a path, a method, the list key inside ``data`` and their own query/body;
this class adds the shop cipher and page token, serializes the body once (the signature covers
those exact bytes), classifies every answer through ``errors.classify`` and retries with
jittered exponential backoff that honours ``Retry-After``. When the retry budget runs out, the
last failure becomes one ``RetriesExhaustedError`` line saying how long the tap tried.
"""

from __future__ import annotations

import functools
import logging
import random
import sys
import typing as t
from urllib.parse import parse_qs, urlsplit

import backoff
import orjson
import requests
from requests.adapters import HTTPAdapter
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_tiktok_shop.errors import (
    RATE_LIMITED,
    REPORTED_ERRORS,
    AccessTokenRejectedError,
    Action,
    AuthorizationError,
    RefreshedTokenRefusedError,
    RetriesExhaustedError,
    SellerAuthorizationError,
    TransientAPIError,
    classify,
    raise_for_verdict,
    refused_after_refresh,
)
from tap_tiktok_shop.pagination import (
    ENVELOPE_ATTR,
    CursorPaginator,
    Page,
    data_of,
    records_in,
)
from tap_tiktok_shop.progress import EmittedCounter
from tap_tiktok_shop.records import RecordFitter
from tap_tiktok_shop.transport import send

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers.types import Context, RequestFunc

    from tap_tiktok_shop.ratelimit import RateLimiter
    from tap_tiktok_shop.tap import TapTikTokShop

JSON_HEADERS = {"Content-Type": "application/json"}

#: Failures worth another attempt: throttling, transient API answers, network trouble.
RETRIED_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

#: What the SDK logs at ERROR when a stream's sync raises. For a failure the tap reports itself
#: in one line (REPORTED_ERRORS), it would be a second, vaguer error line, once per stream level.
SDK_UNHANDLED_ERROR_LOG = "An unhandled error occurred while syncing '%s'"


class TikTokShopStream(RESTStream[str | None]):
    """Base class for every TikTok Shop stream."""

    #: API path, e.g. ``/order/202309/orders/search``.
    path: str
    #: HTTP method of the endpoint.
    method: t.ClassVar[str] = "GET"
    #: Key of the record list inside the answer's ``data``.
    records_key: t.ClassVar[str]
    #: Whether the endpoint needs ``shop_cipher`` (everything but /authorization and /seller).
    shop_scoped: t.ClassVar[bool] = True
    #: The page sizes the endpoint accepts; ``page_size`` is clamped into this range.
    page_size_range: t.ClassVar[tuple[int, int]] = (1, 100)

    #: Retry policy: attempts, total time, and the exponential base and cap (seconds).
    retry_max_tries: t.ClassVar[int] = 8
    retry_max_seconds: t.ClassVar[float] = 600.0
    retry_base_seconds: t.ClassVar[float] = 1.0
    retry_cap_seconds: t.ClassVar[float] = 60.0

    #: A redirect would carry the access-token header to another host (see transport.py).
    allow_redirects = False
    payload_as_json = False  # the body is serialized once, here, and signed as sent
    # Records are fitted to the schema by ``post_process`` (see records.py) instead of the
    # SDK's generic per-field conformance, which costs most of the tap's CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: SDK hooks this base never calls, and the hook of ours that replaces each: a subclass
    #: defining one would be silently ignored, so defining it is an error at import time.
    REPLACED_SDK_HOOKS: t.ClassVar[dict[str, str]] = {
        "get_url_params": "query_params",
        "prepare_request_payload": "request_body",
        "rest_method": "method",
        "request_records": "iter_pages",
    }

    @override
    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        """Refuse a stream that defines an SDK hook the base replaces (see REPLACED_SDK_HOOKS)."""
        super().__init_subclass__(**kwargs)
        for sdk_hook, ours in TikTokShopStream.REPLACED_SDK_HOOKS.items():
            if sdk_hook in vars(cls):
                msg = (
                    f"{cls.__qualname__}.{sdk_hook}: the base stream never calls the SDK's "
                    f"{sdk_hook}; define {ours} instead"
                )
                raise TypeError(msg)

    @property
    def tiktok_tap(self) -> TapTikTokShop:
        """The tap, with its authorizations and shop directory."""
        return t.cast("TapTikTokShop", self._tap)

    @property
    @override
    def url_base(self) -> str:
        """The API host (settable so the tap can run against the emulator)."""
        return str(self.config["api_base_url"]).rstrip("/")

    def __init__(self, tap: TapTikTokShop) -> None:
        """Create the stream with its endpoint's HTTP method."""
        super().__init__(tap=tap, http_method=self.method)
        self._fitter = RecordFitter(self.schema)
        # One pooled connection per concurrent reader (prefetch workers + the main thread).
        adapter = HTTPAdapter(pool_maxsize=int(self.config["parallel_reads"]) + 2)
        self.requests_session.mount("http://", adapter)
        self.requests_session.mount("https://", adapter)

    def start_read_ahead(self, context: Context, order: int) -> None:
        """Begin fetching this stream's records for one partition ahead of the SDK.

        ``order``: the position the SDK will consume this read at (earlier reads go first).

        The base stream does not read ahead; shop-partitioned streams override this.
        """

    @override
    def get_record_counter(self, **kwargs: t.Any) -> EmittedCounter:
        """The SDK's record counter, counting for the progress lines and summary too."""
        return self.tiktok_tap.progress.counter(super().get_record_counter(**kwargs))

    @override
    def post_process(
        self,
        row: dict[str, t.Any],
        context: Context | None = None,
    ) -> dict[str, t.Any] | None:
        """Drop properties the schema does not declare; name new API fields once."""
        new_fields = self._fitter.fit(row)
        if new_fields:
            self.log(
                "The API returned fields %s's schema does not declare (dropped): %s",
                self.name,
                ", ".join(sorted(new_fields)),
                level=logging.WARNING,
            )
        return row

    @override
    def build_prepared_request(self, *args: t.Any, **kwargs: t.Any) -> requests.PreparedRequest:
        """Prepare a request unsigned: ``_send`` signs each attempt for the read's seller.

        The SDK's version signs here with ``self.authenticator``, but which authorization
        signs depends on the read's shop (``Authorizations.for_context``), known in ``_send``.
        """
        request = requests.Request(*args, **kwargs)
        request.headers.setdefault("User-Agent", self.user_agent)
        return self.requests_session.prepare_request(request)

    @property
    @override
    def timeout(self) -> int:
        """Per-request timeout in seconds, from ``request_timeout``."""
        return int(self.config["request_timeout"])

    @property
    def page_size(self) -> int:
        """The ``page_size`` setting, clamped into the range this endpoint accepts."""
        low, high = self.page_size_range
        return min(max(int(self.config["page_size"]), low), high)

    def query_params(self, context: Context | None) -> dict[str, str]:
        """Endpoint-specific query parameters (page size, sort...)."""
        return {}

    def request_body(self, context: Context | None) -> dict[str, t.Any] | None:
        """Endpoint-specific JSON body, or None for bodiless requests."""
        return None

    def iter_pages(self, context: Context | None) -> Generator[Page, None, None]:
        """Every page of one read, following ``next_page_token`` (the one pagination loop)."""
        paginator = self.get_new_paginator() or SinglePagePaginator()
        send = self.request_decorator(self._send)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            while not paginator.finished:
                page: PageContext[str | None] = PageContext(
                    stream_context=context, next_page_token=paginator.current_value
                )
                http = self.get_http_request(page=page)
                prepared = self.build_prepared_request(
                    method=http.method,
                    url=http.url,
                    params=http.encode_params(),
                    headers=http.headers,
                    data=http.data,
                )
                response = send(prepared, context)
                counter.increment()
                total = data_of(response).get("total_count")
                yield Page(
                    response.content,
                    total if isinstance(total, int) else None,
                    functools.partial(self._records_of, response),
                )
                paginator.advance(response)

    @override
    def request_records(self, context: Context | None) -> Iterator[dict[str, t.Any]]:
        """The records of one read, page after page."""
        for page in self.iter_pages(context):
            yield from page.records

    def _records_of(self, response: requests.Response) -> list[dict[str, t.Any]]:
        return list(self.parse_response(response))

    def records_of_raw_page(self, raw: bytes) -> list[dict[str, t.Any]]:
        """The records of a page body (its envelope already validated; see ``records_in``).

        Every page passes here, fetched in place or read back from the read-ahead's spool, so
        checks of a whole page (``check_page``) hold for both.
        """
        envelope = orjson.loads(raw)
        self.check_page(envelope)
        return records_in(envelope, self.records_key, self.path)

    def check_page(self, envelope: dict[str, t.Any]) -> None:
        """Refuse a page before its records are emitted (the base accepts every page)."""

    def _send(
        self, prepared: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One attempt: sign (fresh timestamp), send (no redirects, capped body), classify."""
        authorizations = self.tiktok_tap.authorizations
        authorization = authorizations.for_context(context)
        try:
            signed = authorization.signer(prepared)
            response = send(
                self.requests_session,
                signed,
                timeout=self.timeout,
                where=self.describe_url(signed.url),
            )
            self.validate_response(response)  # may refresh the token, which may fail
        except AuthorizationError as exc:
            if len(authorizations) == 1 or not self.shop_scoped:
                raise  # the only seller's, or the shop listing's (see shop_discovery.py)
            msg = f"authorization '{authorization.name}': {exc}"
            raise SellerAuthorizationError(msg) from None
        return response

    @override
    def get_http_request(self, *, page: PageContext[str | None]) -> HTTPRequest:
        """Build one request from the partition context and the page token alone."""
        context = page.stream_context
        params: dict[str, t.Any] = {}
        if self.shop_scoped:
            params["shop_cipher"] = self.tiktok_tap.shops.cipher(str((context or {})["shop_id"]))
        params.update(self.query_params(context))
        if page.next_page_token:
            params["page_token"] = page.next_page_token
        body = self.request_body(context)
        return HTTPRequest(
            url=self.get_url(context),
            method=self.http_method,
            params=params,
            headers=dict(JSON_HEADERS),
            data=orjson.dumps(body) if body is not None else None,
        )

    @override
    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:
        """Log like the SDK, minus its generic error line for failures reported in one line."""
        if message == SDK_UNHANDLED_ERROR_LOG and isinstance(sys.exc_info()[1], REPORTED_ERRORS):
            return
        super().log(message, *args, level=level, **kwargs)

    @override
    def get_new_paginator(self) -> CursorPaginator:
        """Page tokens come in ``data.next_page_token``."""
        return CursorPaginator(describe=self.describe_request)

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Classify the answer; keep the parsed envelope for parsing and pagination."""
        verdict = classify(response.status_code, response.content, response.headers, records=False)
        if verdict.action is Action.OK:
            setattr(response, ENVELOPE_ATTR, verdict.payload)
            return
        where = self.describe_request(response)
        if verdict.action is Action.REFRESH_TOKEN:
            try:
                self.tiktok_tap.authorizations.reject_token_of(response)
            except RefreshedTokenRefusedError:
                raise refused_after_refresh(verdict, where, shop_scoped=self.shop_scoped) from None
        raise_for_verdict(verdict, where, response)

    def describe_request(self, response: requests.Response) -> str:
        """Path and shop of a request, for error lines."""
        url = (response.request.url if response.request else None) or response.url or ""
        return self.describe_url(url)

    def describe_url(self, url: str | None) -> str:
        """Path and shop of a request URL (never the query: it holds the signature)."""
        ciphers = parse_qs(urlsplit(url or "").query).get("shop_cipher")
        shop_id = self.tiktok_tap.shops.shop_id_for_cipher(ciphers[0]) if ciphers else None
        return f"{self.path} (shop {shop_id})" if shop_id else self.path

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        """Yield the records of one page."""
        yield from self.records_of_raw_page(response.content)

    @property
    def pacer(self) -> RateLimiter:
        """The limiter that paces this stream's requests (``requests_per_second``)."""
        return self.tiktok_tap.rate_limiter

    def pace_key(self, context: Context | None) -> tuple[t.Any, ...]:
        """The lane a request is paced in: its shop and endpoint."""
        return ((context or {}).get("shop_id"), self.path)

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        """Pace every attempt; retry transient failures with jittered, bounded backoff.

        When the budget runs out, the last failure is raised again as one line that says what
        failed, where, and how long the tap kept trying.
        """
        limiter = self.pacer
        reads = self.tiktok_tap.prefetcher
        counts = self.tiktok_tap.run_summary.requests  # the run summary's figures

        def paced(prepared_request: requests.PreparedRequest, context: Context | None) -> t.Any:
            reads.check_open()  # a run stopping (e.g. the API is down) sends no more attempts
            key = self.pace_key(context)
            limiter.acquire(key)
            counts.add(self.name, "requests")
            try:
                response = func(prepared_request, context)
            except TransientAPIError as exc:
                if exc.verdict.status == 429 or exc.verdict.code == RATE_LIMITED:
                    counts.add(self.name, "throttled")
                    limiter.throttled(key)
                raise
            limiter.succeeded(key)
            return response

        gave_up: dict[str, t.Any] = {}
        retrying: RequestFunc = backoff.on_exception(
            self._wait_generator,
            RETRIED_EXCEPTIONS,
            max_tries=self.retry_max_tries,
            max_time=self.retry_max_seconds,
            jitter=None,
            on_backoff=self.backoff_handler,
            on_giveup=gave_up.update,
            logger=None,
        )(paced)

        @functools.wraps(func)
        def request(*args: t.Any, **kwargs: t.Any) -> requests.Response:
            try:
                return retrying(*args, **kwargs)
            except RETRIED_EXCEPTIONS as exc:
                budget = (
                    f"gave up after {gave_up.get('tries', '?')} attempts in "
                    f"{gave_up.get('elapsed') or 0.0:.0f} s"
                )
                raise RetriesExhaustedError(
                    f"{self._failure(exc)}; {budget}", getattr(exc, "verdict", None)
                ) from exc

        return t.cast("RequestFunc", request)

    def _failure(self, exc: BaseException) -> str:
        """One line for a failed attempt: the API's verdict, or where and which network error."""
        if isinstance(exc, TransientAPIError):
            return str(exc)
        request = getattr(exc, "request", None)
        where = self.describe_url(getattr(request, "url", None))
        return f"{where}: {type(exc).__name__}"

    def _wait_generator(self) -> Generator[float, BaseException | None, None]:
        """Exponential backoff with full jitter; a server's Retry-After wins; no wait to refresh."""
        attempt = 0
        exc = yield 0.0
        while True:
            attempt += 1
            verdict = getattr(exc, "verdict", None)
            if isinstance(exc, AccessTokenRejectedError):
                wait = 0.0
            elif verdict is not None and verdict.retry_after is not None:
                wait = min(verdict.retry_after, self.retry_cap_seconds)
            else:
                ceiling = min(self.retry_cap_seconds, self.retry_base_seconds * 2**attempt)
                wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto
            exc = yield wait

    @override
    def backoff_handler(self, details: Details) -> None:
        """Log one line per retry, without URLs (they carry signatures) or secrets."""
        exc = details.get("exception")
        self.tiktok_tap.run_summary.requests.add(self.name, "retries")
        self.log(
            "Retrying in %.1f s after attempt %d: %s",
            details.get("wait") or 0.0,
            details.get("tries"),
            self._failure(exc) if exc is not None else "unknown failure",
            level=logging.WARNING,
        )
