"""Which shops a run syncs: every authorization's shop list, merged by shop id.

Each authorization lists the shops its seller authorized (one request each). A shop listed by
two authorizations is read once, with the first that lists it; the run's ``shop_ids`` and each
authorization's own ``shop_ids`` filter the result. With one authorization a failure to list
its shops, or a filter naming a shop it does not cover, stops the run in one line as before;
with several, that authorization's shops are skipped (one WARNING line, counted by the exit
code rule of ``fail_on_shop_errors``) and the others sync, unless every one failed.
"""

from __future__ import annotations

import typing as t

from tap_tiktok_shop.authorizations import AUTHORIZATION_KEY
from tap_tiktok_shop.errors import AuthorizationError, ConfigurationError, TikTokShopAPIError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tap_tiktok_shop.authorizations import Authorizations
    from tap_tiktok_shop.shop_failures import ShopFailures
    from tap_tiktok_shop.shops import ShopDirectory


def discover_shops(
    list_shops: Callable[[dict[str, str]], Iterable[dict[str, t.Any]]],
    authorizations: Authorizations,
    directory: ShopDirectory,
    failures: ShopFailures,
) -> list[dict[str, t.Any]]:
    """The shops this run syncs, in authorization order, then in the API's order.

    Raises:
        AuthorizationError, TikTokShopAPIError: the failure of the only authorization, or
            of the first one when every authorization failed.
        ConfigurationError: a ``shop_ids`` naming shops the only authorization lacks.
    """
    several = len(authorizations) > 1
    chosen: list[dict[str, t.Any]] = []
    errors: list[Exception] = []
    for authorization in authorizations:
        try:
            listed = list(list_shops({AUTHORIZATION_KEY: authorization.name}))
        except (AuthorizationError, TikTokShopAPIError) as exc:
            if not several:
                raise
            failures.record_authorization(authorization.name, exc)
            errors.append(exc)
            continue
        chosen += directory.select(listed, authorization.name, authorization.settings.shop_ids)
    if errors and len(errors) == len(authorizations):
        raise errors[0]
    if not several:
        only = next(iter(authorizations))
        directory.check_wanted(only.settings.shop_ids, only.name)
        return chosen
    for authorization in authorizations:
        for shop_id in directory.unknown_wanted(
            authorization.name, authorization.settings.shop_ids
        ):
            problem = ConfigurationError(
                f"shop_ids: not among the shops authorization '{authorization.name}' covers"
            )
            failures.record(shop_id, "shops", problem)
    if not errors:  # with a failed authorization, its shops are unknown, not missing
        for shop_id in directory.unknown_in_run_filter():
            problem = ConfigurationError("shop_ids: no authorization covers this shop")
            failures.record(shop_id, "shops", problem)
    return chosen
