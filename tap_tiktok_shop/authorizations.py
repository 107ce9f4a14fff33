"""The sellers' authorizations of a run: each with its own tokens, signer and shops.

An agency's app is authorized once by each seller; each authorization has its own refresh
token and covers that seller's shops. The setting ``authorizations`` lists them (the single
``refresh_token`` setting is one more, first, named ``refresh_token``). Every request is signed
with the tokens of the authorization its shop was discovered with (``ShopDirectory`` keeps the
owner of each shop); the shop list itself is read with each authorization in turn.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from tap_tiktok_shop.auth import TikTokShopAuthenticator
from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.token_store import entry_key, store_from_config
from tap_tiktok_shop.tokens import TokenClient, TokenManager
from tap_tiktok_shop.untrusted import check_secret

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import requests

#: The context key the shops stream reads an authorization's shop list under.
AUTHORIZATION_KEY = "authorization"
#: The name of the authorization the single ``refresh_token`` setting makes.
SINGLE_NAME = "refresh_token"
#: ``open_id`` is written by ``tap-tiktok-shop-auth login --add`` to recognize the seller.
_KEYS = frozenset({"name", "refresh_token", "shop_ids", "open_id"})
#: Names appear in log lines and the helper's .env: printable, no quotes or backslashes.
NAME_CHARACTERS = "A-Za-z0-9 ._@+-"
NAME_LENGTH = 80
_NAME = re.compile(f"[{NAME_CHARACTERS}]{{1,{NAME_LENGTH}}}")


@dataclass(frozen=True)
class AuthorizationSettings:
    """One authorization as configured."""

    name: str
    refresh_token: str | None
    access_token: str | None = None
    shop_ids: tuple[str, ...] | None = None


def configured_authorizations(config: Mapping[str, t.Any]) -> list[AuthorizationSettings]:
    """The authorizations of the settings, in order, checked.

    Raises:
        ConfigurationError: naming the item and field at fault (never a token's value).
    """
    found: list[AuthorizationSettings] = []
    if config.get("refresh_token") or config.get("access_token"):
        found.append(
            AuthorizationSettings(
                SINGLE_NAME, config.get("refresh_token"), config.get("access_token")
            )
        )
    items = config.get("authorizations") or []
    if not isinstance(items, list):
        msg = "authorizations: must be a list of objects"
        raise ConfigurationError(msg)
    for position, item in enumerate(items, start=1):
        found.append(_one(item, position))
    if not found:
        msg = "refresh_token: required (or set authorizations, or access_token)"
        raise ConfigurationError(msg)
    _check_distinct(found)
    return found


def _one(item: object, position: int) -> AuthorizationSettings:
    where = f"authorizations[{position}]"
    if not isinstance(item, dict):
        msg = f"{where}: must be an object with a refresh_token"
        raise ConfigurationError(msg)
    unknown = sorted(str(key) for key in set(item) - _KEYS)
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})"
        raise ConfigurationError(msg)
    if not item.get("refresh_token"):
        msg = f"{where}.refresh_token: required"
        raise ConfigurationError(msg)
    check_secret(f"{where}.refresh_token", item["refresh_token"])
    name = item.get("name", f"authorization {position}")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        msg = f"{where}.name: 1-{NAME_LENGTH} letters, digits, spaces or . _ @ + -"
        raise ConfigurationError(msg)
    shop_ids = item.get("shop_ids")
    if shop_ids is not None and not (
        isinstance(shop_ids, list) and all(isinstance(s, str) and s for s in shop_ids)
    ):
        msg = f"{where}.shop_ids: must be a list of shop ids (strings)"
        raise ConfigurationError(msg)
    return AuthorizationSettings(
        name, str(item["refresh_token"]), shop_ids=tuple(shop_ids) if shop_ids else None
    )


def _check_distinct(found: list[AuthorizationSettings]) -> None:
    names: set[str] = set()
    tokens: dict[str, str] = {}
    for each in found:
        if each.name in names:
            msg = f"authorizations: two authorizations are named '{each.name}'"
            raise ConfigurationError(msg)
        names.add(each.name)
        if each.refresh_token and each.refresh_token in tokens:
            msg = (
                f"authorizations: '{each.name}' has the same refresh_token as "
                f"'{tokens[each.refresh_token]}'"
            )
            raise ConfigurationError(msg)
        if each.refresh_token:
            tokens[each.refresh_token] = each.name


@dataclass(frozen=True)
class Authorization:
    """One seller's authorization at run time: its settings, tokens and request signer."""

    settings: AuthorizationSettings
    signer: TikTokShopAuthenticator

    @property
    def name(self) -> str:
        """The name for log lines."""
        return self.settings.name

    @property
    def tokens(self) -> TokenManager:
        """The authorization's token manager."""
        return self.signer.tokens


class Authorizations:
    """Every authorization of the run, and which one signs a given request."""

    def __init__(self, config: Mapping[str, t.Any], owner_of: Callable[[str], str | None]) -> None:
        """Build each authorization's token manager and signer (no request is made yet).

        ``owner_of``: the name of the authorization a shop id was discovered with.
        """
        store = store_from_config(config)
        client = TokenClient(
            app_key=config["app_key"],
            app_secret=config["app_secret"],
            auth_base_url=config["auth_base_url"],
            timeout=config["request_timeout"],
        )
        self._by_name: dict[str, Authorization] = {}
        for settings in configured_authorizations(config):
            tokens = TokenManager(
                client,
                refresh_token=settings.refresh_token,
                access_token=settings.access_token,
                store=store if settings.refresh_token else None,
                store_key=entry_key(config["app_key"], settings.refresh_token or ""),
            )
            signer = TikTokShopAuthenticator(
                app_key=config["app_key"], app_secret=config["app_secret"], tokens=tokens
            )
            self._by_name[settings.name] = Authorization(settings, signer)
        self._owner_of = owner_of

    def __iter__(self) -> Iterator[Authorization]:
        """The authorizations in configured order."""
        return iter(self._by_name.values())

    def __len__(self) -> int:
        """How many authorizations the run has."""
        return len(self._by_name)

    def for_context(self, context: Mapping[str, t.Any] | None) -> Authorization:
        """The authorization that signs a read: its shop's owner, or the one named.

        Raises:
            ConfigurationError: for a shop no authorization covers (a bug if it happens).
        """
        context = context or {}
        name = context.get(AUTHORIZATION_KEY)
        if name is None and "shop_id" in context:
            name = self._owner_of(str(context["shop_id"]))
            if name is None:
                msg = f"shop {context['shop_id']} is not among the authorized shops"
                raise ConfigurationError(msg)
        if name is None:
            return next(iter(self._by_name.values()))
        return self._by_name[str(name)]

    def reject_token_of(self, response: requests.Response) -> None:
        """Report a refused access token to the authorization whose token it was."""
        for authorization in self:
            authorization.signer.reject_token_of(response)

    def granted_scopes(self) -> list[str] | None:
        """The scopes any authorization's token lists (None while no token is known)."""
        known = [a.tokens.current.granted_scopes for a in self if a.tokens.current]
        lists = [scopes for scopes in known if scopes is not None]
        if not lists:
            return None
        return sorted({scope for scopes in lists for scope in scopes})

    def lacking(self, context: Mapping[str, t.Any] | None, scope: str) -> str | None:
        """The name of the read's authorization if its token's granted scopes omit ``scope``.

        Sellers authorize the packages the app had at the time: one who authorized before a
        package was added lacks it until they authorize again, while the others have it.
        """
        if len(self) == 1:
            return None  # the scope gate covers the app as a whole
        authorization = self.for_context(context)
        current = authorization.tokens.current
        granted = current.granted_scopes if current else None
        return authorization.name if granted is not None and scope not in granted else None
