"""``shops``: the shops each authorization covers, listed with the tap's own calls.

With one authorization (``refresh_token``) the output is one table; with several
(``authorizations``, and maybe ``refresh_token`` besides) one table per authorization, named as
in the tap's log lines. Each refresh is made here rather than inside the token manager, to see
(and warn about) a replaced refresh token that this command does not save.
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.authorizations import SINGLE_NAME
from tap_tiktok_shop.authorize import api, report
from tap_tiktok_shop.tokens import TokenClient, TokenManager

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_tiktok_shop.authorize.sources import Settings


def every_authorization(
    settings: Settings, warn: Callable[[str], None]
) -> tuple[list[str], dict[str, t.Any]]:
    """The report lines and JSON facts of every authorization's shops."""
    client = api.token_client(settings)
    listed = settings.authorizations
    per_authorization: list[tuple[str, list[dict[str, t.Any]]]] = []
    if settings.get("refresh_token") or settings.get("access_token") or not listed:
        found = shops_of(
            settings, client, settings.get("refresh_token"), settings.get("access_token"), warn
        )
        if not listed:
            rows = report.shop_rows(found, api.SHOP_FIELDS)
            text = report.shops_table(found, api.SHOP_FIELDS) if found else "No authorized shops."
            return [text], {"shops": rows}
        per_authorization.append((SINGLE_NAME, found))
    for each in listed:
        found = shops_of(settings, client, each.refresh_token, None, warn)
        per_authorization.append((each.name, found))
    return report.shops_per_authorization(per_authorization, api.SHOP_FIELDS)


def shops_of(
    settings: Settings,
    client: TokenClient,
    refresh_token: str | None,
    access_token: str | None,
    warn: Callable[[str], None],
) -> list[dict[str, t.Any]]:
    """The shops one authorization covers."""
    if not access_token:
        refresh_token = refresh_token or settings.require("refresh_token")
        tokens = client.refresh(refresh_token)
        access_token = tokens.access_token
        if tokens.refresh_token and tokens.refresh_token != refresh_token:
            warn(
                "Warning: TikTok issued a new refresh token, which `shops` does not save; "
                "if the old one stops working, authorize again with `login`"
            )
            refresh_token = tokens.refresh_token
    manager = TokenManager(client, refresh_token=refresh_token, access_token=access_token)
    return api.authorized_shops(settings.require("api_base_url"), api.signer(settings, manager))
