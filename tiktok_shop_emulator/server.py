"""The HTTP server (keep-alive, TCP_NODELAY, exact lengths) and the Emulator facade tests drive."""

from __future__ import annotations

import contextlib
import email.utils
import random
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from typing_extensions import override

from tiktok_shop_emulator.affiliate import AffiliateStore
from tiktok_shop_emulator.analytics_data import AnalyticsStore
from tiktok_shop_emulator.api import INTERNAL, Api
from tiktok_shop_emulator.config import EmulatorConfig
from tiktok_shop_emulator.data import Shop, build_shops, update_orders
from tiktok_shop_emulator.domains import LISTED_BY, Domains
from tiktok_shop_emulator.faults import FaultInjector
from tiktok_shop_emulator.http_types import Request, Response, envelope
from tiktok_shop_emulator.orders import OrderBuilder
from tiktok_shop_emulator.ratelimit import RateLimiter
from tiktok_shop_emulator.sellers import Sellers
from tiktok_shop_emulator.stats import RequestRecord, Stats
from tiktok_shop_emulator.tokens import TokenStore

_MAX_BODY = 16 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    """Threading server that sets TCP_NODELAY and can drop live keep-alive connections on stop."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: Api) -> None:
        """Bind and remember the API the handlers call."""
        self.api = api
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__(address, _Handler)

    @override
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hung up mid-connection; other errors keep their traceback.

        A tap refusing an oversized answer closes the connection on purpose.
        """
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @override
    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection with Nagle off, so small answers are not delayed ~40 ms."""
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._live_lock:
            self._live.add(conn)
        return conn, addr

    @override
    def shutdown_request(self, request: Any) -> None:
        """Forget a finished connection, then close it."""
        with self._live_lock:
            self._live.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every open client connection (used by Emulator.stop)."""
        with self._live_lock:
            live = list(self._live)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Parses a request, asks the Api for a Response, writes it in one send."""

    protocol_version = "HTTP/1.1"
    server: _Server

    @override
    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent: per-request logging would slow the emulator and clutter test output."""

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        """Read the request body by Content-Length, or chunked transfer coding."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, _MAX_BODY)) if length > 0 else b""

    def _dispatch(self) -> None:
        """Turn the raw request into a Request, answer it and record it in the stats."""
        api = self.server.api
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = {key.lower(): value for key, value in self.headers.items()}
        req = Request(self.command, split.path, pairs, dict(pairs), headers, body)
        started = time.time()
        try:
            resp = api.handle(req)
        except Exception:  # an emulator bug must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            resp = envelope(INTERNAL, "Internal error", status=500)
        if not req.path.startswith("/__admin__/"):  # before writing, so a client sees it at once
            query = {key: value for key, value in pairs if key != "sign"}
            api.emu.stats.record(
                RequestRecord(
                    req.method,
                    req.path,
                    query,
                    resp.status,
                    resp.code,
                    time.time(),
                    started,
                    req.body.decode("utf-8", "replace"),
                )
            )
        self._write(resp)

    def _write(self, resp: Response) -> None:
        """Send status line, headers and body in one write, honouring reset/truncated faults."""
        if resp.action == "reset":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = resp.body
        length = len(body)
        if resp.action == "truncated":
            body = body[: max(1, length // 2)]
            self.close_connection = True
        reason = self.responses.get(resp.status, ("",))[0]
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Date: {email.utils.formatdate(self.server.api.emu.now(), usegmt=True)}",
            f"Content-Type: {resp.content_type}",
            f"Content-Length: {length}",
        ]
        lines.extend(f"{key}: {value}" for key, value in resp.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
            if resp.action == "truncated":
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            self.close_connection = True


class Emulator:
    """A local TikTok Shop Open API (v202309): business and auth hosts on one HTTP server."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        """Generate the seeded shops and orders; call start() to serve them."""
        self.config = config or EmulatorConfig()
        self.started_at = self.now()
        data_until = self.config.data_until
        self._shops = build_shops(
            self.config, int(self.started_at if data_until is None else data_until)
        )
        self._by_id = {shop.id: shop for shop in self._shops}
        self._by_cipher = {shop.cipher: shop for shop in self._shops}
        self.builder: OrderBuilder = OrderBuilder(self.config.order_cache_size)
        #: Which seller's authorization lists which shops (config.sellers, shared_shops).
        self.sellers: Sellers = Sellers(
            self.config, [(shop.id, shop.region) for shop in self._shops]
        )
        self.tokens: TokenStore = TokenStore(self.config, self.now, self.sellers)
        self.faults: FaultInjector = FaultInjector()
        self.stats: Stats = Stats(self.config.stats_history)
        self.limiter: RateLimiter = RateLimiter()
        self.rng = random.Random(f"tts-emulator:{self.config.seed}:runtime")  # noqa: S311
        self.domains: Domains = Domains(self.config, int(self.started_at), self.builder)
        #: The shops' analytics (see analytics_data.py): tests read, revise and advance them.
        self.analytics = AnalyticsStore(
            self.config.seed,
            self.started_at if data_until is None else data_until,
            self.config.analytics_days,
            self._shop,
            product_ids=lambda shop: sorted(self.domains.table("products", shop).rows),
        )
        #: The shops' affiliate orders (see affiliate.py): tests read and settle them.
        self.affiliate = AffiliateStore(
            self.config.seed,
            int(self.started_at if data_until is None else data_until),
            self.config.affiliate_orders_per_shop,
            self.config.history_days,
            self.now,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: Set by stop(), so requests held by a "slow" fault end at once.
        self.stopping = threading.Event()

    def now(self) -> float:
        """Return the server clock: the real time plus config.clock_offset_seconds."""
        return time.time() + self.config.clock_offset_seconds

    def start(self) -> str:
        """Bind config.host:config.port (0 = any free port), serve in a daemon thread."""
        if self._server is None:
            self.stopping.clear()
            self._server = _Server((self.config.host, self.config.port), Api(self))
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="tiktok-shop-emulator",
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        server, self._server = self._server, None
        self.stopping.set()
        if server is not None:
            server.shutdown()
            server.drop_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        """Start on entering a with-block."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("emulator is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The URL to use as both the tap's api_base_url and auth_base_url."""
        return f"http://{self.config.host}:{self.port}"

    def shops(self) -> list[dict[str, Any]]:
        """All shops (public fields, "authorized", and the "sellers" that list them)."""
        return [
            {
                **shop.public(),
                "authorized": shop.authorized,
                "sellers": self.sellers.of_shop(shop.id),
            }
            for shop in self._shops
        ]

    def shop_objects(self) -> list[Shop]:
        """The internal shop objects, in shop order."""
        return list(self._shops)

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        """Find a shop by its shop_cipher."""
        return self._by_cipher.get(cipher)

    def seller_shops(self, seller: int | None) -> list[Shop]:
        """The shops seller ``seller``'s authorization lists (authorized or not), in shop order."""
        return [shop for shop in self._shops if self.sellers.covers(seller, shop.id)]

    def _shop(self, shop_id: str) -> Shop:
        """Find a shop by id, or raise KeyError."""
        try:
            return self._by_id[shop_id]
        except KeyError:
            raise KeyError(f"no shop {shop_id}") from None

    def orders_for_shop(self, shop_id: str) -> list[dict[str, Any]]:
        """Compact current rows (id, create_time, update_time, status) of one shop's orders."""
        shop = self._shop(shop_id)
        with shop.lock:
            return [shop.rows[order_id].compact() for _, order_id in shop.by_create]

    def order(self, shop_id: str, order_id: str) -> dict[str, Any]:
        """The full current order object, as the search API would serve it (a private copy)."""
        shop = self._shop(shop_id)
        result: dict[str, Any] = orjson.loads(self.builder.body(shop, shop.rows[order_id]))
        return result

    def update_orders(self, shop_id: str, count: int, *, seed: int | None = None) -> list[str]:
        """Change `count` random orders of a shop (update_time = now, maybe a new status)."""
        rng = random.Random(seed) if seed is not None else self.rng  # noqa: S311
        return update_orders(self._shop(shop_id), count, int(self.now()), rng)

    def records(self, kind: str, shop_id: str) -> list[dict[str, Any]]:
        """Compact current rows of one kind of record of a shop, oldest first.

        Kinds: returns, cancellations, products, statements, payments, withdrawals; ordered by
        the time a client syncs them on.
        """
        return self.domains.table(kind, self._shop(shop_id)).compact(LISTED_BY[kind])

    def record(self, kind: str, shop_id: str, record_id: str) -> dict[str, Any]:
        """The full current object of one record, as its endpoint would serve it."""
        shop = self._shop(shop_id)
        row = self.domains.table(kind, shop).rows[record_id]
        result: dict[str, Any] = orjson.loads(orjson.dumps(self.domains.render(kind, shop, row)))
        return result

    def statement_transactions(self, shop_id: str, statement_id: str) -> list[dict[str, Any]]:
        """Every transaction of one statement, as the 202501 endpoint serves them."""
        shop = self._shop(shop_id)
        statement = self.domains.table("statements", shop).rows[statement_id]
        return self.domains.transactions.build(shop, statement)

    def update_records(
        self, kind: str, shop_id: str, count: int, *, seed: int | None = None
    ) -> list[str]:
        """Change `count` records of a shop and return their ids.

        Returns and cancellations advance their status, products are edited (both with
        update_time = now); payments go from PROCESSING to PAID, with their statements.
        """
        rng = random.Random(seed) if seed is not None else self.rng  # noqa: S311
        return self.domains.update(kind, self._shop(shop_id), count, int(self.now()), rng)

    def update_returns(self, shop_id: str, count: int) -> list[str]:
        """Advance `count` returns of a shop to their next status (update_time = now)."""
        return self.update_records("returns", shop_id, count)

    def update_products(self, shop_id: str, count: int) -> list[str]:
        """Edit `count` products of a shop (price, stock, maybe status; update_time = now)."""
        return self.update_records("products", shop_id, count)

    def update_payments(self, shop_id: str, count: int) -> list[str]:
        """Pay up to `count` PROCESSING payments of a shop; their statements become PAID."""
        return self.update_records("payments", shop_id, count)

    def affiliate_lines(self, shop_id: str) -> list[dict[str, Any]]:
        """The shop's affiliate SKU lines as of now, with their figures as numbers."""
        return self.affiliate.expected(self._shop(shop_id), int(self.now()))

    def settle_affiliate(self, shop_id: str, count: int) -> list[str]:
        """Settle the shop's ``count`` oldest unsettled affiliate orders now; their ids."""
        return self.affiliate.settle(self._shop(shop_id), count)

    def deauthorize_shop(self, shop_id: str) -> None:
        """Remove a shop from the authorization(s): listed no more, its cipher answers 101000.

        A shop two sellers list leaves both authorizations.
        """
        self._shop(shop_id).authorized = False

    def authorize_shop(self, shop_id: str) -> None:
        """Put a de-authorized shop back into the authorization."""
        self._shop(shop_id).authorized = True

    def revoke_refresh_token(
        self, seller: int | None = None, *, deauthorize_access_tokens: bool = False
    ) -> None:
        """Make the refresh token(s) of ``seller`` (None: every seller) fail with 36004001.

        Access tokens keep working until they expire unless ``deauthorize_access_tokens``
        (then they answer 105001); see TokenStore.revoke_refresh_token.
        """
        self.tokens.revoke_refresh_token(
            seller, deauthorize_access_tokens=deauthorize_access_tokens
        )

    def expire_access_tokens(self, seller: int | None = None) -> None:
        """Make every access token issued so far (of ``seller``, or of all) answer 105002."""
        self.tokens.expire_access_tokens(seller)

    def issue_auth_code(self, seller: int = 1) -> str:
        """Mint a single-use auth code of ``seller``, valid for 30 minutes."""
        return self.tokens.issue_auth_code(seller)

    def issue_access_token(self, scopes: list[str] | None = None, seller: int = 1) -> str:
        """Mint a valid access token of ``seller`` without the token endpoints.

        ``scopes`` narrows what it was granted (default: the app's current scopes).
        """
        return self.tokens.issue_access_token(scopes, seller)

    def refresh_tokens(self) -> list[dict[str, Any]]:
        """Each seller's working refresh token (None once revoked) and open_id."""
        return self.tokens.refresh_tokens()

    def issued_secrets(self) -> list[str]:
        """Every secret known or issued (app secret, tokens, codes), for leak checks."""
        return [self.config.app_secret, *self.tokens.issued()]
