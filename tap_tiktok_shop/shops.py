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
    """Shop id -> cipher and owning authorization, for the shops this run syncs."""

    def __init__(self, wanted: list[str] | None, shard: Shard | None = None) -> None:
        """Remember the ``shop_ids`` and ``shard`` filters (None: every authorized shop)."""
        self._wanted = [str(shop_id) for shop_id in wanted] if wanted else None
        self.shard = shard
        self._ciphers: dict[str, str] = {}
        self._by_cipher: dict[str, str] = {}
        self._owners: dict[str, str] = {}
        #: shop id -> names of the authorizations that list it
        self._listed: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def select(
        self,
        shops: list[dict[str, t.Any]],
        owner: str = "",
        wanted_here: t.Collection[str] | None = None,
    ) -> list[dict[str, t.Any]]:
        """Register the shops one authorization lists; return those it syncs, in API order.

        A shop that an earlier authorization already took is read once, with that one;
        ``wanted_here`` is the authorization's own ``shop_ids`` filter, applied with the
        run's. Filters naming unknown shops are checked by ``unknown_wanted`` once every
        authorization was read.

        Every listed shop is remembered, whichever shard holds it, so the ``shop_ids``
        checks see every authorization whole.

        Raises:
            TikTokShopAPIError: if a shop of the answer lacks a string id or cipher.
        """
        check_shops(shops)
        chosen = []
        with self._lock:
            for shop in shops:
                shop_id, cipher = str(shop["id"]), str(shop["cipher"])
                self._listed.setdefault(shop_id, []).append(owner)
                if shop_id in self._owners or not self._wanted_by(shop_id, wanted_here):
                    continue
                self._owners[shop_id] = owner
                self._ciphers[shop_id] = cipher
                self._by_cipher[cipher] = shop_id
                chosen.append(shop)
        return chosen

    def _wanted_by(self, shop_id: str, wanted_here: t.Collection[str] | None) -> bool:
        if wanted_here is not None and shop_id not in wanted_here:
            return False
        if self.shard is not None and not self.shard.holds(shop_id):
            return False
        return self._wanted is None or shop_id in self._wanted

    def listed_count(self) -> int:
        """How many distinct shops the authorizations listed (in any shard)."""
        with self._lock:
            return len(self._listed)

    def unknown_wanted(self, owner: str, wanted_here: t.Collection[str] | None) -> list[str]:
        """The shops of an authorization's ``shop_ids`` that it does not list."""
        return [s for s in wanted_here or () if owner not in self._listed.get(s, ())]

    def unknown_in_run_filter(self) -> list[str]:
        """The shops of the run's ``shop_ids`` that no authorization lists."""
        return [shop_id for shop_id in self._wanted or () if shop_id not in self._listed]

    def check_wanted(self, wanted_here: t.Collection[str] | None = None, owner: str = "") -> None:
        """Refuse ``shop_ids`` naming shops the (only) authorization does not cover.

        Raises:
            ConfigurationError: naming the unknown shops and the authorized ones.
        """
        unknown = list(
            dict.fromkeys(self.unknown_in_run_filter() + self.unknown_wanted(owner, wanted_here))
        )
        if unknown:
            authorized = ", ".join(sorted(self._listed)) or "none"
            msg = (
                f"shop_ids: {', '.join(unknown)} not among the shops this authorization "
                f"covers (authorized: {authorized})"
            )
            raise ConfigurationError(msg)

    def owner(self, shop_id: str) -> str | None:
        """The name of the authorization the shop is read with."""
        return self._owners.get(shop_id)

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
