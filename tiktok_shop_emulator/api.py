"""Routing and the API's own rules: auth host, common checks of business calls, endpoints."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import orjson

from tiktok_shop_emulator import affiliate, analytics, messages, signing
from tiktok_shop_emulator.admin import handle_admin
from tiktok_shop_emulator.data import Shop, update_orders
from tiktok_shop_emulator.domains import (
    LISTINGS,
    TRANSACTIONS_PATH,
    listing_handler,
    statement_transactions,
)
from tiktok_shop_emulator.faults import Fault
from tiktok_shop_emulator.http_types import (
    HTML,
    HTML_200,
    HTML_502,
    HTML_504,
    JSON,
    Request,
    Response,
    envelope,
    request_id,
)
from tiktok_shop_emulator.search import SearchError, parse_search, run_search
from tiktok_shop_emulator.tokens import AccessState, TokenResult

if TYPE_CHECKING:
    from tiktok_shop_emulator.server import Emulator

TOO_MANY = 36009002
INTERNAL = 36009003
PARAM = 36009004
BAD_PATH = 36009009
BAD_METHOD = 36009010
BAD_CONTENT_TYPE = 36009022
SHOP_MISMATCH = 101000
TOKEN_EXPIRED = 105002
TOKEN_DEAUTHORIZED = 105001
SELLER_INACTIVE = 12052700
PAGE_TOKEN = 36009001
NO_SCOPE = 105005
BAD_SIGN = 106001
NO_CIPHER = 106013
INVALID_VERSION = 36009014
CAP_EXCEEDED = 12052180
_TIMESTAMP = re.compile(r"\d{10}")
_TOKEN_PATHS = {"/api/v2/token/get": "exchange", "/api/v2/token/refresh": "refresh"}
_TOO_MANY_MSG = messages.TOO_MANY


@dataclass(frozen=True)
class Route:
    """A business endpoint: method, scope key, whether it needs shop_cipher, and its handler."""

    method: str
    scope: str
    shop_scoped: bool
    handler: Callable[[Api, Request, Shop | None, bool], Response]


class Api:
    """Turns a Request into a Response using the emulator's data, tokens, faults and limits."""

    def __init__(self, emulator: Emulator) -> None:
        """Bind to one emulator instance."""
        self.emu = emulator

    def handle(self, req: Request) -> Response:
        """Dispatch to the auth host, the consent page, admin, or the business API."""
        if req.path.startswith("/__admin__/"):
            return handle_admin(self.emu, req)
        if req.path in _TOKEN_PATHS:
            return self._token(getattr(self.emu.tokens, _TOKEN_PATHS[req.path]), req)
        if req.path == "/open/authorize":
            return self._authorize(req)
        route = self._route(req.path)
        if isinstance(route, Response):
            return route
        if req.method != route.method:
            return envelope(BAD_METHOD, "Invalid http method", status=405, now=self.emu.now())
        return self._business(req, route)

    def _route(self, path: str) -> Route | Response:
        """The business route of a path, or the answer to an unknown path or version."""
        route = ROUTES.get(path)
        versioned = TRANSACTIONS_PATH.fullmatch(path) if route is None else None
        if versioned is not None:
            route = VERSIONED_ROUTES.get((TRANSACTIONS_PATH.pattern, versioned[1]))
            if route is None:  # e.g. 202309, retired for statement transactions
                return envelope(
                    INVALID_VERSION,
                    "The version name is invalid, please check and retry.",
                    now=self.emu.now(),
                )
        if route is None:
            return envelope(BAD_PATH, "Invalid path", status=404, now=self.emu.now())
        return route

    def _token(self, operation: Callable[[dict[str, str]], TokenResult], req: Request) -> Response:
        """Answer a token call (unsigned GET) with the envelope, or a fault scripted for it."""
        fault = self.emu.faults.take(req.path, named_only=True)
        answer = self._fault(fault) if fault is not None else None
        if answer is not None:
            return answer
        if req.method != "GET":
            return envelope(BAD_METHOD, "Invalid http method", status=405, now=self.emu.now())
        result = operation(req.query)
        return envelope(result.code, result.message, result.data, now=self.emu.now())

    def _authorize(self, req: Request) -> Response:
        """Fake seller consent: redirect at once to the redirect URI with a fresh auth code.

        An optional ``seller`` query parameter (default 1) picks the seller who consents.
        """
        target = req.query.get("redirect_uri") or self.emu.config.redirect_uri
        try:  # "seller" is the emulator's own parameter: whose consent this is
            params = {"code": self.emu.issue_auth_code(int(req.query.get("seller", "1")))}
        except ValueError:
            text = f"seller must be an integer from 1 to {len(self.emu.sellers)}"
            return Response(400, text.encode(), "text/plain; charset=utf-8")
        if req.query.get("state"):
            params["state"] = req.query["state"]
        location = target + ("&" if "?" in target else "?") + urlencode(params)
        return Response(302, b"", HTML, headers=[("Location", location)])

    def _fault(self, fault: Fault) -> Response | None:
        """Turn a scripted fault into its response; None means "carry on normally"."""
        if fault.kind == "slow":  # cut short when the emulator stops
            self.emu.stopping.wait(float(fault.opts.get("seconds", 1.0)))
            return None
        if fault.kind == "expire_access_tokens":
            self.emu.expire_access_tokens()
            return None
        if fault.kind == "deauthorize_shop":
            self.emu.deauthorize_shop(str(fault.opts["shop_id"]))
            return None
        if fault.kind == "answer":
            return _scripted_answer(fault.opts)
        make = _FAULT_RESPONSES.get(fault.kind)
        if make is None:  # repeat_page_token: answer normally, the handler bends the token
            return None
        resp = make(self.emu.now())
        if fault.kind == "rate_limit" and "retry_after" in fault.opts:
            resp.headers.append(("Retry-After", str(fault.opts["retry_after"])))
        return resp

    def _business(self, req: Request, route: Route) -> Response:
        """Run the common checks in the API's order, then the endpoint handler."""
        emu, config = self.emu, self.emu.config
        if config.latency_ms > 0:
            time.sleep(config.latency_ms / 1000.0)
        target = emu.shop_by_cipher(req.query.get("shop_cipher") or "")
        fault = emu.faults.take(
            req.path,
            page_token=bool(req.query.get("page_token")),
            shop_id=target.id if target is not None else None,
        )
        if fault is None and config.fail_rate > 0 and emu.rng.random() < config.fail_rate:
            fault = Fault("http503", 1)
        if fault is not None:
            answer = self._fault(fault)
            if answer is not None:
                return answer
        now = emu.now()
        failed = self._check_caller(req, now) or self._check_token(req, route, now)
        if failed is not None:
            return failed
        shop, failed = self._check_shop(req, route, now)
        if failed is not None:
            return failed
        repeat = fault is not None and fault.kind == "repeat_page_token"
        return route.handler(self, req, shop, repeat)

    def _check_caller(self, req: Request, now: float) -> Response | None:  # noqa: PLR0911
        """Rate limit, app_key, timestamp window and signature, in that order."""
        config, query = self.emu.config, req.query
        key = (query.get("app_key", ""), query.get("shop_cipher", ""), req.path)
        if not self.emu.limiter.allow(key, config.qps_limit):
            return envelope(TOO_MANY, _TOO_MANY_MSG, status=429, now=now)
        if query.get("app_key") != config.app_key:
            return envelope(PARAM, messages.INVALID_APP_KEY, now=now)
        stamp = query.get("timestamp", "")
        if not _TIMESTAMP.fullmatch(stamp):
            return envelope(PARAM, messages.TIMESTAMP_NEGATIVE, now=now)
        if int(stamp) < now - 300:
            return envelope(PARAM, messages.TIMESTAMP_TOO_OLD, now=now)
        if int(stamp) > now + 30:
            return envelope(PARAM, messages.TIMESTAMP_IN_FUTURE, now=now)
        if "sign" not in query:
            return envelope(PARAM, messages.MISSING_SIGN, now=now)
        if not signing.verify(
            config.app_secret,
            req.path,
            req.pairs,
            req.body,
            content_type=req.headers.get("content-type"),
            signature=query["sign"],
        ):
            return envelope(BAD_SIGN, messages.INVALID_SIGN, status=401, now=now)
        return None

    def _check_token(self, req: Request, route: Route, now: float) -> Response | None:
        """Access token header (missing, unknown, expired) and the endpoint's scope."""
        state = self.emu.tokens.check_access(req.headers.get("x-tts-access-token"))
        if state is AccessState.UNKNOWN:
            return envelope(PARAM, messages.INVALID_ACCESS_TOKEN, status=401, now=now)
        if state is AccessState.EXPIRED:
            return envelope(TOKEN_EXPIRED, messages.EXPIRED_ACCESS_TOKEN, status=401, now=now)
        if state is AccessState.DEAUTHORIZED:
            return envelope(TOKEN_DEAUTHORIZED, messages.TOKEN_DEAUTHORIZED, status=401, now=now)
        if not self.emu.tokens.has_scope(req.headers.get("x-tts-access-token"), route.scope):
            return envelope(NO_SCOPE, messages.SCOPE_MISSING, now=now)
        return None

    def _check_shop(
        self, req: Request, route: Route, now: float
    ) -> tuple[Shop | None, Response | None]:
        """shop_cipher: forbidden on /authorization, required and authorized elsewhere.

        Authorized means: not de-authorized, and listed by the seller whose token this is.
        """
        cipher = req.query.get("shop_cipher")
        if not route.shop_scoped:
            if cipher is not None:
                return None, envelope(PARAM, messages.UNEXPECTED_CIPHER, now=now)
            return None, None
        if not cipher:
            return None, envelope(NO_CIPHER, messages.MISSING_CIPHER, now=now)
        shop = self.emu.shop_by_cipher(cipher)
        seller = self.emu.tokens.seller_of(req.headers.get("x-tts-access-token"))
        if shop is None or not shop.authorized or not self.emu.sellers.covers(seller, shop.id):
            return None, envelope(SHOP_MISMATCH, messages.SHOP_NOT_AUTHORIZED, now=now)
        return shop, None

    def shops(self, req: Request, shop: Shop | None, repeat: bool) -> Response:
        """GET /authorization/202309/shops: the shops the token's seller still authorizes."""
        seller = self.emu.tokens.seller_of(req.headers.get("x-tts-access-token"))
        shops = [s.public() for s in self.emu.seller_shops(seller) if s.authorized]
        return envelope(0, "Success", {"shops": shops}, now=self.emu.now())

    def search_orders(self, req: Request, shop: Shop | None, repeat: bool) -> Response:
        """POST /order/202309/orders/search: one keyset page of full orders."""
        emu, config = self.emu, self.emu.config
        now = emu.now()
        assert shop is not None
        content_type = (req.headers.get("content-type") or "").lower()
        if not content_type.startswith("application/json"):
            return envelope(
                BAD_CONTENT_TYPE, "Invalid content type: application/json is required", now=now
            )
        try:
            query = parse_search(shop.id, req.query, req.body)
            page = run_search(
                shop,
                query,
                int(now),
                rng=emu.rng,
                repeat_token=repeat,
                stale_probability=config.stale_update_time_probability,
            )
        except SearchError as exc:
            return envelope(PARAM, exc.message, now=now)
        orders = b",".join([emu.builder.body(shop, row) for row in page.rows])
        body = b"".join(
            (
                b'{"code":0,"message":"Success","request_id":"',
                request_id(now).encode(),
                b'","data":{"next_page_token":',
                orjson.dumps(page.next_page_token),
                b',"total_count":',
                str(page.total_count).encode(),
                b',"orders":[',
                orders,
                b"]}}",
            )
        )
        with shop.lock:
            shop.pages_served += 1
            every = config.mutate_every_n_pages
            if every > 0 and config.mutate_count > 0 and shop.pages_served % every == 0:
                update_orders(shop, config.mutate_count, int(emu.now()), emu.rng)
        return Response(200, body, JSON, code=0)


def _truncated(now: float) -> Response:
    """A success envelope that the server will cut short after promising its full length."""
    body = orjson.dumps(
        {
            "code": 0,
            "message": "Success",
            "request_id": request_id(now),
            "data": {"orders": [], "next_page_token": "", "total_count": 0},
        }
    )
    return Response(200, body, JSON, code=0, action="truncated")


def _scripted_answer(opts: dict[str, object]) -> Response:
    """The "answer" fault: `status` (default 200), `body` (text) and `headers` ([[k, v]...])."""
    status = opts.get("status", 200)
    body = str(opts.get("body", ""))
    raw_headers = opts.get("headers") or []
    headers = [(str(k), str(v)) for k, v in raw_headers] if isinstance(raw_headers, list) else []
    return Response(
        int(status) if isinstance(status, (int, str)) else 200,
        body.encode(),
        str(opts.get("content_type", JSON)),
        headers=headers,
    )


_INTERNAL_MSG = messages.INTERNAL
_FAULT_RESPONSES: dict[str, Callable[[float], Response]] = {
    "http500": lambda now: envelope(INTERNAL, _INTERNAL_MSG, status=500, now=now),
    "http502": lambda now: Response(502, HTML_502, HTML),
    "http503": lambda now: envelope(
        INTERNAL, "Service Unavailable, please retry later", status=503, now=now
    ),
    "http504": lambda now: Response(504, HTML_504, HTML),
    "rate_limit": lambda now: envelope(TOO_MANY, _TOO_MANY_MSG, status=429, now=now),
    "rate_limit_200": lambda now: envelope(TOO_MANY, _TOO_MANY_MSG, now=now),
    "internal_200": lambda now: envelope(INTERNAL, _INTERNAL_MSG, now=now),
    "reset": lambda now: Response(0, b"", action="reset"),
    "truncated": _truncated,
    "html_200": lambda now: Response(200, HTML_200, HTML),
    "expired_token": lambda now: envelope(
        TOKEN_EXPIRED, messages.EXPIRED_ACCESS_TOKEN, status=401, now=now
    ),
    "invalid_token": lambda now: envelope(
        PARAM, messages.INVALID_ACCESS_TOKEN, status=401, now=now
    ),
    "token_deauthorized": lambda now: envelope(
        TOKEN_DEAUTHORIZED, messages.TOKEN_DEAUTHORIZED, status=401, now=now
    ),
    "seller_inactive": lambda now: envelope(SELLER_INACTIVE, messages.SELLER_INACTIVE, now=now),
    "invalid_page_token": lambda now: envelope(PAGE_TOKEN, messages.INVALID_PAGE_TOKEN, now=now),
    "result_cap": lambda now: envelope(CAP_EXCEEDED, messages.RESULT_CAP, now=now),
    "scope_missing": lambda now: envelope(NO_SCOPE, messages.SCOPE_MISSING, now=now),
}

_RETURNS_SCOPE = "seller.return_refund.basic"
_FINANCE_SCOPE = "seller.finance.info"
ROUTES: dict[str, Route] = {
    "/authorization/202309/shops": Route("GET", "seller.authorization.info", False, Api.shops),
    "/order/202309/orders/search": Route("POST", "seller.order.info", True, Api.search_orders),
    "/return_refund/202309/returns/search": Route(
        "POST", _RETURNS_SCOPE, True, listing_handler(LISTINGS["returns"])
    ),
    "/return_refund/202309/cancellations/search": Route(
        "POST", _RETURNS_SCOPE, True, listing_handler(LISTINGS["cancellations"])
    ),
    "/product/202502/products/search": Route(
        "POST", "seller.product.basic", True, listing_handler(LISTINGS["products"])
    ),
    "/finance/202309/statements": Route(
        "GET", _FINANCE_SCOPE, True, listing_handler(LISTINGS["statements"])
    ),
    "/finance/202309/payments": Route(
        "GET", _FINANCE_SCOPE, True, listing_handler(LISTINGS["payments"])
    ),
    "/finance/202309/withdrawals": Route(
        "GET", _FINANCE_SCOPE, True, listing_handler(LISTINGS["withdrawals"])
    ),
}
ROUTES.update(
    {
        path: Route("GET", analytics.SCOPE, True, analytics.handler(path))
        for path in analytics.ENDPOINTS
    }
)
ROUTES[affiliate.PATH] = Route("POST", affiliate.SCOPE, True, affiliate.search)
#: Routes whose path carries an id: (path pattern, API version) -> route.
VERSIONED_ROUTES: dict[tuple[str, str], Route] = {
    (TRANSACTIONS_PATH.pattern, "202501"): Route(
        "GET", _FINANCE_SCOPE, True, statement_transactions
    ),
}
