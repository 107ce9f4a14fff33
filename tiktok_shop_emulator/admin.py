"""HTTP admin endpoints, so a standalone emulator process can be steered like the Python API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from tiktok_shop_emulator.config import FIXED_KNOBS, RUNTIME_KNOBS
from tiktok_shop_emulator.http_types import Request, Response, plain_json

if TYPE_CHECKING:
    from tiktok_shop_emulator.server import Emulator


class AdminError(Exception):
    """A bad admin request; answered with HTTP 400 and the message."""


def _body(req: Request) -> dict[str, Any]:
    """Parse an admin JSON body (empty means {})."""
    if not req.body.strip():
        return {}
    try:
        data = orjson.loads(req.body)
    except orjson.JSONDecodeError as exc:
        raise AdminError("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise AdminError("body must be a JSON object")
    return data


def _shop_id(data: dict[str, Any]) -> str:
    """Return the shop_id argument, required."""
    shop_id = data.get("shop_id")
    if not isinstance(shop_id, str) or not shop_id:
        raise AdminError("shop_id (string) is required")
    return shop_id


def _seller(emu: Emulator, data: dict[str, Any]) -> int | None:
    """Return the optional "seller" argument (1-based, None if absent), checked as valid."""
    seller = data.get("seller")
    if seller is None:
        return None
    try:
        return emu.sellers.get(seller).number
    except ValueError as exc:
        raise AdminError(str(exc)) from exc


def _revoke(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/revoke_refresh_token {"seller"?, "deauthorize_access_tokens"?}.

    Without "seller", every seller's refresh tokens stop working.
    """
    data = _body(req)
    deauthorize = data.get("deauthorize_access_tokens", False)
    if not isinstance(deauthorize, bool):
        raise AdminError("deauthorize_access_tokens must be true or false")
    emu.revoke_refresh_token(_seller(emu, data), deauthorize_access_tokens=deauthorize)
    return {"ok": True}


def _expire(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/expire_access_tokens {"seller"?}: of that seller, or of every seller."""
    emu.expire_access_tokens(_seller(emu, _body(req)))
    return {"ok": True}


def _auth_code(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/auth_code {"seller"?} -> {"auth_code"} of that seller (default 1)."""
    return {"auth_code": emu.issue_auth_code(_seller(emu, _body(req)) or 1)}


def _access_token(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/access_token {"seller"?} -> {"access_token"} of that seller (default 1)."""
    token = emu.issue_access_token(seller=_seller(emu, _body(req)) or 1)
    return {"access_token": token}


def _update_orders(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/update_orders {"shop_id", "count", "seed"?} -> {"ids": [...]}."""
    data = _body(req)
    count = data.get("count", 1)
    seed = data.get("seed")
    if not isinstance(count, int) or count < 0:
        raise AdminError("count must be a non-negative integer")
    if seed is not None and not isinstance(seed, int):
        raise AdminError("seed must be an integer")
    return {"ids": emu.update_orders(_shop_id(data), count, seed=seed)}


def _update_records(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/update_records {"kind", "shop_id", "count", "seed"?} -> {"ids": [...]}.

    kind: returns | cancellations | products | payments (PROCESSING -> PAID).
    """
    data = _body(req)
    kind, count, seed = data.get("kind"), data.get("count", 1), data.get("seed")
    if not isinstance(kind, str):
        raise AdminError("kind (string) is required")
    if not isinstance(count, int) or count < 0:
        raise AdminError("count must be a non-negative integer")
    if seed is not None and not isinstance(seed, int):
        raise AdminError("seed must be an integer")
    return {"ids": emu.update_records(kind, _shop_id(data), count, seed=seed)}


def _records(emu: Emulator, req: Request) -> Any:
    """GET /__admin__/records?kind=...&shop_id=... -> compact rows of one kind of one shop."""
    kind = req.query.get("kind", "")
    return {kind: emu.records(kind, _shop_id(dict(req.query)))}


def _faults(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/faults {"kind", "count"?, "path_prefix"?, "skip"?, ...opts}."""
    data = _body(req)
    kind = data.pop("kind", None)
    if not isinstance(kind, str):
        raise AdminError("kind (string) is required")
    count = data.pop("count", 1)
    prefix = data.pop("path_prefix", "/")
    skip = data.pop("skip", 0)
    try:
        emu.faults.add(kind, int(count), str(prefix), skip=int(skip), **data)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc
    return {"ok": True}


def _config(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/config {knob: value, ...} changes runtime knobs; GET shows them.

    The answer also shows FIXED_KNOBS (sellers, shared_shops), set only when it starts.
    """
    if req.method == "POST":
        for key, value in _body(req).items():
            if key not in RUNTIME_KNOBS:
                raise AdminError(f"{key} is not a runtime knob; allowed: {sorted(RUNTIME_KNOBS)}")
            setattr(emu.config, key, list(value) if key == "granted_scopes" else value)
    return {key: getattr(emu.config, key) for key in sorted(RUNTIME_KNOBS | FIXED_KNOBS)}


def _orders(emu: Emulator, req: Request) -> Any:
    """GET /__admin__/orders?shop_id=... -> compact rows of one shop."""
    return {"orders": emu.orders_for_shop(_shop_id(dict(req.query)))}


def _analytics(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/analytics {"shop_id", "revise_days"?, "advance_days"?}.

    Revises the shop's last ``revise_days`` days, then makes ``advance_days`` new days
    available; answers the revised days and the shop's latest_available_date.
    """
    data = _body(req)
    shop_id = _shop_id(data)
    revise, advance = data.get("revise_days", 0), data.get("advance_days", 0)
    if not isinstance(revise, int) or not isinstance(advance, int) or min(revise, advance) < 0:
        raise AdminError("revise_days and advance_days must be non-negative integers")
    revised = emu.analytics.revise_recent(shop_id, revise) if revise else []
    if advance:
        emu.analytics.advance_day(shop_id, advance)
    return {"revised": revised, "latest_available_date": emu.analytics.latest_date(shop_id)}


def _simple(action: Callable[[Emulator], Any]) -> Callable[[Emulator, Request], Any]:
    """Wrap an argument-free emulator action as an admin handler."""
    return lambda emu, req: action(emu)


def _ok(action: Callable[[], None]) -> dict[str, bool]:
    """Run an action that returns nothing and answer {"ok": true}."""
    action()
    return {"ok": True}


def _deauthorize(emu: Emulator, req: Request) -> Any:
    """POST /__admin__/deauthorize_shop {"shop_id"}."""
    emu.deauthorize_shop(_shop_id(_body(req)))
    return {"ok": True}


_ROUTES: dict[tuple[str, str], Callable[[Emulator, Request], Any]] = {
    ("GET", "/__admin__/stats"): _simple(lambda emu: emu.stats.to_json()),
    ("POST", "/__admin__/reset_stats"): _simple(lambda emu: _ok(emu.stats.reset)),
    ("GET", "/__admin__/shops"): _simple(lambda emu: {"shops": emu.shops()}),
    ("GET", "/__admin__/orders"): _orders,
    ("POST", "/__admin__/update_orders"): _update_orders,
    ("GET", "/__admin__/records"): _records,
    ("POST", "/__admin__/update_records"): _update_records,
    ("POST", "/__admin__/faults"): _faults,
    ("GET", "/__admin__/config"): _config,
    ("POST", "/__admin__/config"): _config,
    ("POST", "/__admin__/deauthorize_shop"): _deauthorize,
    ("POST", "/__admin__/analytics"): _analytics,
    ("POST", "/__admin__/revoke_refresh_token"): _revoke,
    ("GET", "/__admin__/refresh_tokens"): _simple(lambda emu: {"sellers": emu.refresh_tokens()}),
    ("POST", "/__admin__/expire_access_tokens"): _expire,
    ("POST", "/__admin__/auth_code"): _auth_code,
    ("POST", "/__admin__/access_token"): _access_token,
}


def handle_admin(emu: Emulator, req: Request) -> Response:
    """Answer an /__admin__/ request with bare JSON (400 on bad input, 404 if unknown)."""
    handler = _ROUTES.get((req.method, req.path))
    if handler is None:
        return plain_json({"error": f"no admin endpoint {req.method} {req.path}"}, 404)
    try:
        return plain_json(handler(emu, req))
    except (AdminError, KeyError) as exc:
        message = str(exc) if isinstance(exc, AdminError) else f"unknown {exc}"
        return plain_json({"error": message}, 400)
