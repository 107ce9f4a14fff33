"""The seller's consent: the authorization URL, the redirect it ends in, a loopback listener.

TikTok sends the seller's browser to the app's registered redirect URL with ``code`` and the
``state`` the authorization URL carried. ``state`` is random per login and must come back
unchanged: a redirect with another state may be forged to slip someone else's code in.
Nothing here logs a request line or echoes a code: a code is a credential for 30 minutes.
"""

from __future__ import annotations

import re
import secrets
import time
import typing as t
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from typing_extensions import override

from tap_tiktok_shop.errors import AuthorizationError, ConfigurationError
from tap_tiktok_shop.untrusted import check_base_url

#: The seller authorization page of US shops, and of every other region.
US_AUTHORIZE_BASE_URL = "https://services.us.tiktokshop.com"
GLOBAL_AUTHORIZE_BASE_URL = "https://services.tiktokshop.com"
AUTHORIZE_PATH = "/open/authorize"
#: Redirect hosts the helper can listen on, and the address it binds for each.
LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}
#: The longest one connection may take to send its request (a browser's idle pre-connection,
#: a slow or hostile client); never longer than the time the login has left.
CONNECTION_TIMEOUT = 10.0
_REGION = re.compile(r"[A-Za-z]{2}")
_PRINTABLE = re.compile(r"[^A-Za-z0-9_.\-]")


class ConsentError(AuthorizationError):
    """The consent step failed: denied, forged or incomplete redirect, no listener."""


@dataclass(frozen=True)
class Redirect:
    """What a redirect (or a pasted code) carried."""

    code: str
    state: str | None
    #: False when the user pasted a bare code: there is no state to check then.
    from_url: bool = True


def new_state() -> str:
    """Return a fresh, unguessable ``state`` for one authorization."""
    return secrets.token_urlsafe(24)


def authorization_url(
    *, service_id: str | None, state: str, region: str | None, base_url: str | None = None
) -> str:
    """Build the seller authorization URL.

    Args:
        service_id: The app's service id (Partner Center, app page); may come with ``base_url``.
        state: The anti-forgery value the redirect must echo.
        region: Two-letter market of the shops: ``US`` uses the US host, others the global one.
        base_url: Another authorization host, or a whole link copied from Partner Center.

    Raises:
        ConsentError: if the region or service id is missing or malformed.
    """
    if base_url is None:
        if region is None or not _REGION.fullmatch(region.strip()):
            msg = "--region: give the shops' two-letter market code, e.g. US or GB"
            raise ConsentError(msg)
        us = region.strip().upper() == "US"
        base_url = US_AUTHORIZE_BASE_URL if us else GLOBAL_AUTHORIZE_BASE_URL
    try:
        checked = check_base_url("--authorize-base-url", base_url)
    except ConfigurationError as exc:
        raise ConsentError(str(exc)) from None
    scheme, netloc, path, query, _ = urlsplit(checked)
    params = dict(parse_qsl(query))
    if service_id and service_id.strip():
        params["service_id"] = service_id.strip()
    if not params.get("service_id"):
        msg = "--service-id: required (the service id on your app's Partner Center page)"
        raise ConsentError(msg)
    params["state"] = state
    path = path.rstrip("/")
    if not path.endswith(AUTHORIZE_PATH):
        path += AUTHORIZE_PATH
    return urlunsplit((scheme, netloc, path, urlencode(params), ""))


def parse_redirect(text: str) -> Redirect:
    """Read a pasted redirect URL, its query string, or a bare authorization code.

    Raises:
        ConsentError: if nothing was given, the seller declined, or there is no code.
    """
    text = text.strip()
    if not text:
        msg = "no redirect URL or code was given"
        raise ConsentError(msg)
    if "?" in text or "://" in text:
        return redirect_from_query(urlsplit(text).query)
    if "=" in text:
        return redirect_from_query(text)
    return Redirect(code=text, state=None, from_url=False)


def redirect_from_query(query: str) -> Redirect:
    """Read ``code`` and ``state`` from a redirect's query string.

    Raises:
        ConsentError: if the seller declined (``error=...``) or the query has no code.
    """
    params = {key: values[0] for key, values in parse_qs(query).items()}
    error = params.get("error")
    if error:
        # The value comes from whoever sent the redirect: quote only harmless characters.
        shown = _PRINTABLE.sub("", error)[:60] or "unknown"
        msg = f"the seller did not authorize the app (error={shown})"
        raise ConsentError(msg)
    code = params.get("code", "").strip()
    if not code or code == "null":
        msg = "the redirect URL has no code: paste the whole URL the browser reached"
        raise ConsentError(msg)
    return Redirect(code=code, state=params.get("state"))


def check_state(redirect: Redirect, expected: str) -> None:
    """Reject a redirect whose ``state`` is not the one this authorization sent.

    Raises:
        ConsentError: on a missing or different state.
    """
    if redirect.from_url and not secrets.compare_digest(redirect.state or "", expected):
        msg = (
            "state mismatch: this redirect does not belong to this authorization "
            "(forged or from an older attempt); start again"
        )
        raise ConsentError(msg)


def loopback_target(redirect_uri: str | None) -> tuple[str, int, str] | None:
    """Return (bind address, port, path) if the redirect URL points at this machine."""
    if not redirect_uri:
        return None
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host not in LOOPBACK_HOSTS:
        return None
    return LOOPBACK_HOSTS[host], parts.port or 80, parts.path or "/"


_DONE_PAGE = (
    "<!doctype html><title>tap-tiktok-shop-auth</title><h1>{}</h1><p>{}</p>"
    "<p>You can close this tab and return to the terminal.</p>"
)


class _CallbackServer(HTTPServer):
    """Serves the redirect path until the redirect with this login's state arrives.

    The outcome is kept for the waiting thread; ``deadline`` (monotonic) bounds every
    connection, so a client that connects and sends nothing cannot hold the login past it.
    """

    def __init__(self, address: tuple[str, int], path: str, expected_state: str) -> None:
        super().__init__(address, _CallbackHandler)
        self.callback_path = path
        self.expected_state = expected_state
        self.outcome: Redirect | ConsentError | None = None
        self.deadline = time.monotonic() + CONNECTION_TIMEOUT


class _CallbackHandler(BaseHTTPRequestHandler):
    """Answers the browser; any other path (favicon, probes) gets a 404.

    A request to the redirect path is this login's answer only if it carries this login's
    ``state``: anything else (another state, none: a forged redirect or a stray request from
    another program) is answered 400 and ignored, so it cannot end the login, not even with
    ``error=``; the login goes on waiting for the real redirect.
    """

    server: _CallbackServer

    @override
    def setup(self) -> None:
        """Bound this connection's reads by min(10 s, the time the login has left)."""
        left = self.server.deadline - time.monotonic()
        self.timeout = max(0.05, min(CONNECTION_TIMEOUT, left))  # type: ignore[misc]
        super().setup()

    def do_GET(self) -> None:
        """Take the first request to the redirect path with the right state as the answer."""
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path or self.server.outcome is not None:
            self._reply(404, "Not found", "This is not the authorization redirect.")
            return
        state = parse_qs(parts.query).get("state", [""])[0]
        if not secrets.compare_digest(state.encode(), self.server.expected_state.encode()):
            self._reply(
                400,
                "Authorization failed",
                "This redirect does not belong to the "
                "authorization in progress (wrong or missing state); ignored.",
            )
            return
        try:
            redirect = redirect_from_query(parts.query)
        except ConsentError as exc:
            self.server.outcome = exc
            self._reply(400, "Authorization failed", str(exc))
            return
        self.server.outcome = redirect
        self._reply(200, "Authorization received", "tap-tiktok-shop-auth is finishing up.")

    def _reply(self, status: int, title: str, text: str) -> None:
        body = _DONE_PAGE.format(title, text.replace("<", "&lt;")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @override
    def log_message(self, format: str, *args: t.Any) -> None:
        """Stay silent: the request line holds the authorization code."""


class LoopbackListener:
    """Listens on the redirect URL's loopback port for the browser's redirect."""

    def __init__(self, redirect_uri: str, expected_state: str) -> None:
        """Bind at once, so the port is ready before the seller can possibly be redirected.

        Raises:
            ConsentError: if the redirect URL is not on loopback or the port cannot be bound.
        """
        target = loopback_target(redirect_uri)
        if target is None:
            msg = f"--redirect-uri: {redirect_uri} is not an http URL on 127.0.0.1 or localhost"
            raise ConsentError(msg)
        host, port, path = target
        self.redirect_uri = redirect_uri
        try:
            self._server = _CallbackServer((host, port), path, expected_state)
        except OSError as exc:
            msg = (
                f"cannot listen on {host}:{port} for the redirect ({exc.strerror or exc}); "
                "free the port, or use --paste"
            )
            raise ConsentError(msg) from None

    def wait(self, timeout: float) -> Redirect:
        """Serve requests until the redirect arrives; return it (state already checked).

        Raises:
            ConsentError: on a declined or incomplete redirect carrying this login's state,
                or after ``timeout`` (requests with another state are ignored).
        """
        deadline = time.monotonic() + timeout
        self._server.deadline = deadline
        while self._server.outcome is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = f"no redirect reached {self.redirect_uri} within {timeout:g} s"
                raise ConsentError(msg)
            self._server.timeout = min(remaining, 1.0)
            self._server.handle_request()
        outcome = self._server.outcome
        if isinstance(outcome, ConsentError):
            raise outcome
        return outcome

    def close(self) -> None:
        """Release the port."""
        self._server.server_close()

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
