"""What the helper prints: token facts, expiries and shop tables, as text or JSON.

Token values appear only when the user asked for them (``--show-secrets``); everything else
printed here (seller, region, scopes, expiries, shop ids and ciphers) is not a secret. Text
from the API (names, regions) reaches a terminal escaped (``untrusted.printable``): a shop
name holding escape sequences must not rewrite the screen. JSON output escapes it by itself.
"""

from __future__ import annotations

import json
import time
import typing as t
from datetime import datetime, timezone

from tap_tiktok_shop.untrusted import printable

if t.TYPE_CHECKING:
    from tap_tiktok_shop.tokens import TokenSet

#: The API package the orders stream needs; without it every order search answers 105005.
ORDERS_SCOPE = "seller.order.info"
_DAY = 86400


def expiry(timestamp: int | None) -> str | None:
    """An absolute expiry (unix seconds) as ISO-8601 UTC, or None if unknown."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry_text(timestamp: int | None, now: float | None = None) -> str:
    """An expiry for people: ``2025-12-02 21:19 UTC (in 7 days)``."""
    if timestamp is None:
        return "at an unknown time"
    moment = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    left = timestamp - (time.time() if now is None else now)
    if left <= 0:
        return f"{moment} (expired)"
    if left >= 2 * _DAY:
        return f"{moment} (in {round(left / _DAY)} days)"
    return f"{moment} (in {max(1, round(left / 3600))} hours)"


def token_facts(tokens: TokenSet, *, show_secrets: bool) -> dict[str, t.Any]:
    """The facts of a token answer; the token values only if ``show_secrets``."""
    facts: dict[str, t.Any] = {
        "seller_name": tokens.seller_name,
        "seller_base_region": tokens.seller_base_region,
        "granted_scopes": tokens.granted_scopes,
        "access_token_expires_at": expiry(tokens.access_token_expire_in),
        "refresh_token_expires_at": expiry(tokens.refresh_token_expire_in),
    }
    if show_secrets:
        facts["access_token"] = tokens.access_token
        facts["refresh_token"] = tokens.refresh_token
    return facts


def token_lines(tokens: TokenSet, *, show_secrets: bool) -> list[str]:
    """The text form of ``token_facts``."""
    lines = []
    if tokens.seller_name or tokens.seller_base_region:
        seller = f"Seller: {tokens.seller_name} (region {tokens.seller_base_region})"
        lines.append(printable(seller))
    if tokens.granted_scopes:
        lines.append(printable(f"Granted scopes: {', '.join(tokens.granted_scopes)}"))
    lines.append(f"Access token expires {expiry_text(tokens.access_token_expire_in)}")
    lines.append(f"Refresh token expires {expiry_text(tokens.refresh_token_expire_in)}")
    if show_secrets:
        lines.append(f"access_token: {tokens.access_token}")
        lines.append(f"refresh_token: {tokens.refresh_token}")
    return lines


def scope_warning(tokens: TokenSet) -> str | None:
    """A warning when the authorization cannot read orders (None when it can, or is unknown)."""
    if not tokens.granted_scopes or ORDERS_SCOPE in tokens.granted_scopes:
        return None
    return (
        f"Warning: this authorization does not grant {ORDERS_SCOPE}: the orders stream will fail "
        "until the app has the Order Information package and the seller authorizes again"
    )


def shop_rows(shops: list[dict[str, t.Any]], fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The shown fields of each shop, as strings."""
    return [{field: str(shop.get(field) or "") for field in fields} for shop in shops]


def shops_table(shops: list[dict[str, t.Any]], fields: tuple[str, ...]) -> str:
    """Shops as an aligned text table with a header row."""
    rows = [
        {field: printable(value) for field, value in row.items()}
        for row in shop_rows(shops, fields)
    ]
    header = {field: field.replace("_", " ").upper() for field in fields}
    widths = {field: max(len(row[field]) for row in [header, *rows]) for field in fields}
    lines = [
        "  ".join(row[field].ljust(widths[field]) for field in fields).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def shops_per_authorization(
    listed: list[tuple[str, list[dict[str, t.Any]]]], fields: tuple[str, ...]
) -> tuple[list[str], dict[str, t.Any]]:
    """Lines and JSON facts for the shops of several authorizations (name, shops)."""
    lines: list[str] = []
    rows: list[dict[str, str]] = []
    for name, shops in listed:
        lines.append(f"Authorization '{name}' ({len(shops)} shop(s)):")
        lines.append(shops_table(shops, fields) if shops else "No authorized shops.")
        rows += [{**row, "authorization": name} for row in shop_rows(shops, fields)]
    facts = {
        "authorizations": [
            {"name": name, "shop_ids": [str(s.get("id")) for s in shops]} for name, shops in listed
        ],
        "shops": rows,
    }
    return lines, facts


def as_json(value: t.Any) -> str:
    """Pretty JSON for ``--format json``."""
    return json.dumps(value, indent=2)
