"""The emulated sellers: who authorized the app, with which refresh token, for which shops.

An agency's app is authorized by many sellers, each authorization with its own refresh token
and its own shops; a shop may even be authorized by two sellers. The emulator models that by
splitting its shops (in shop order) into ``config.sellers`` contiguous groups, so tests of a
multi-seller tap can check that every seller's shops are read, and read once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tiktok_shop_emulator.config import EmulatorConfig


@dataclass(frozen=True)
class Seller:
    """One seller's authorization: its number (1-based), identity and the shops it lists."""

    number: int
    name: str
    open_id: str
    #: The refresh token configured for this seller (it may have rotated or been revoked since).
    refresh_token: str
    #: The shops this authorization covers, in shop order (shared shops first).
    shop_ids: tuple[str, ...]
    #: seller_base_region of the token answers: the region of the seller's first own shop.
    region: str


def split_counts(shops: int, sellers: int) -> list[int]:
    """How many shops of its own each seller gets: equal shares, the remainder to the first.

    10 shops over 3 sellers give [4, 3, 3]; every seller gets at least one shop whenever
    there are at least as many shops as sellers.
    """
    share, extra = divmod(shops, sellers)
    return [share + (1 if number < extra else 0) for number in range(sellers)]


def validate(config: EmulatorConfig) -> None:
    """Raise ValueError naming the bad knob when ``sellers``/``shared_shops`` cannot be met."""
    if (
        isinstance(config.sellers, bool)
        or not isinstance(config.sellers, int)
        or config.sellers < 1
    ):
        raise ValueError(f"sellers must be an integer >= 1, not {config.sellers!r}")
    shared = config.shared_shops
    if isinstance(shared, bool) or not isinstance(shared, int) or shared < 0:
        raise ValueError(f"shared_shops must be an integer >= 0, not {shared!r}")
    if shared and config.sellers < 2:
        raise ValueError(
            "shared_shops needs sellers >= 2 (a shop is shared with the previous seller)"
        )
    fewest = min(split_counts(config.shops, config.sellers)[:-1], default=0)
    if shared > fewest:
        raise ValueError(
            f"shared_shops ({shared}) exceeds the {fewest} shop(s) of the "
            f"smallest seller it would share from ({config.shops} shops over "
            f"{config.sellers} sellers)"
        )


def _open_ids(seed: int, count: int) -> list[str]:
    """Seeded, distinct open_ids; seller 1's is the one the single-seller emulator always had."""
    found: list[str] = []
    for number in range(1, count + 1):
        salt = f"open_id:{seed}" if number == 1 else f"open_id:{seed}:{number}"
        rng = random.Random(salt)  # noqa: S311 (fake data)
        open_id = f"{rng.getrandbits(60):x}"
        while open_id in found:
            open_id = f"{rng.getrandbits(60):x}"
        found.append(open_id)
    return found


class Sellers:
    """The sellers of one emulator and which shops each authorization covers."""

    def __init__(self, config: EmulatorConfig, shops: Sequence[tuple[str, str]]) -> None:
        """Split ``shops`` ((id, region) pairs in shop order) as config.sellers/shared_shops say.

        Seller 1 keeps config.refresh_token and config.seller_name; seller i >= 2 gets
        f"{refresh_token}_{i}" and f"{seller_name} {i}".
        """
        validate(config)
        counts = split_counts(len(shops), config.sellers)
        open_ids = _open_ids(config.seed, config.sellers)
        fallback_region = shops[0][1] if shops else "US"
        sellers: list[Seller] = []
        start = 0
        for number, count in enumerate(counts, start=1):
            own = [shop_id for shop_id, _ in shops[start : start + count]]
            shared = (
                [shop_id for shop_id, _ in shops[max(0, start - config.shared_shops) : start]]
                if number > 1
                else []
            )
            region = shops[start][1] if count else fallback_region
            suffix = "" if number == 1 else f"_{number}"
            name = config.seller_name if number == 1 else f"{config.seller_name} {number}"
            sellers.append(
                Seller(
                    number,
                    name,
                    open_ids[number - 1],
                    config.refresh_token + suffix,
                    tuple(shared + own),
                    region,
                )
            )
            start += count
        self._sellers = sellers
        self._covers = {seller.number: frozenset(seller.shop_ids) for seller in sellers}

    def __iter__(self) -> Iterator[Seller]:
        """The sellers, seller 1 first."""
        return iter(self._sellers)

    def __len__(self) -> int:
        """How many sellers there are."""
        return len(self._sellers)

    def get(self, number: int) -> Seller:
        """Seller ``number`` (1-based), or ValueError naming the valid range."""
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= len(self._sellers)
        ):
            raise ValueError(
                f"seller must be an integer from 1 to {len(self._sellers)}, not {number!r}"
            )
        return self._sellers[number - 1]

    def covers(self, number: int | None, shop_id: str) -> bool:
        """Whether seller ``number``'s authorization lists the shop (None: no seller, no)."""
        return number is not None and shop_id in self._covers.get(number, frozenset())

    def of_shop(self, shop_id: str) -> list[int]:
        """The sellers whose authorization lists the shop, in seller order."""
        return [seller.number for seller in self._sellers if shop_id in self._covers[seller.number]]
