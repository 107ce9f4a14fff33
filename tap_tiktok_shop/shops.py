"""The authorized shops of this run: their ciphers, and the ``shop_ids`` and ``shard`` filters.

State and records are keyed by the stable shop id; requests need the shop's opaque cipher.
The directory maps one to the other so that partition contexts carry only ``shop_id``.
"""

from __future__ import annotations

import threading
import typing as t

from tap_tiktok_shop.errors import ConfigurationError, TikTokShopAPIError

if t.TYPE_CHECKING:
    from tap_tiktok_shop.sharding import Shard

#: Where the shops come from, for error lines.
SHOPS_PATH = "/authorization/202309/shops"


def check_shops(shops: object) -> list[dict[str, t.Any]]:
    """Return the authorized shops of an answer, each with a string ``id`` and ``cipher``.

    Both are used as keys and sent back as query values: a missing or non-string one (a
    broken or hostile answer) must stop the run in one line rather than in a KeyError.

    Raises:
        TikTokShopAPIError: naming the path and the shop's position in the list.
    """
    if not isinstance(shops, list):
        msg = f"{SHOPS_PATH}: data.shops in the answer is not a list"
        raise TikTokShopAPIError(msg)
    for position, shop in enumerate(shops):
        fields = ("id", "cipher")
        if not isinstance(shop, dict) or not all(
            isinstance(shop.get(field), str) and shop[field] for field in fields
        ):
            msg = f"{SHOPS_PATH}: shop #{position + 1} of the answer has no string id and cipher"
            raise TikTokShopAPIError(msg)
    return shops


class ShopDirectory:
    """Shop id → cipher for the shops this run syncs."""

    def __init__(self, wanted: list[str] | None, shard: Shard | None = None) -> None:
        """Remember the ``shop_ids`` and ``shard`` filters (None: every authorized shop)."""
        self._wanted = [str(shop_id) for shop_id in wanted] if wanted else None
        self.shard = shard
        self._ciphers: dict[str, str] = {}
        self._by_cipher: dict[str, str] = {}
        self._lock = threading.Lock()

    def select(self, shops: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        """Register the authorized shops and return those this run syncs, in API order.

        Every authorized shop is registered, whichever shard holds it: ``cipher`` and the
        ``shop_ids`` check see the whole authorization.

        Raises:
            ConfigurationError: if ``shop_ids`` names a shop the authorization does not cover.
            TikTokShopAPIError: if a shop of the answer lacks a string id or cipher.
        """
        check_shops(shops)
        with self._lock:
            for shop in shops:
                self._ciphers[str(shop["id"])] = str(shop["cipher"])
                self._by_cipher[str(shop["cipher"])] = str(shop["id"])
        if self._wanted is None:
            return self._in_shard(shops)
        unknown = [shop_id for shop_id in self._wanted if shop_id not in self._ciphers]
        if unknown:
            authorized = ", ".join(sorted(self._ciphers)) or "none"
            msg = (
                f"shop_ids: {', '.join(unknown)} not among the shops this authorization "
                f"covers (authorized: {authorized})"
            )
            raise ConfigurationError(msg)
        return self._in_shard([shop for shop in shops if str(shop["id"]) in self._wanted])

    def _in_shard(self, shops: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        """The shops of the ``shard`` setting (every one, when unset), in the given order."""
        if self.shard is None:
            return shops
        return [shop for shop in shops if self.shard.holds(str(shop["id"]))]

    def cipher(self, shop_id: str) -> str:
        """Return the cipher to send as ``shop_cipher`` for a shop."""
        try:
            return self._ciphers[shop_id]
        except KeyError:
            msg = f"shop {shop_id} is not among the authorized shops"
            raise ConfigurationError(msg) from None

    def shop_id_for_cipher(self, cipher: str) -> str | None:
        """Return the shop id of a cipher (for error messages)."""
        return self._by_cipher.get(cipher)
