"""API packages (scopes): which streams an app may sync, and one warning per stream it may not.

An app is granted API packages; the token answer lists their keys in ``granted_scopes`` and a
call outside them answers ``105005`` (whose message names no package). A stream whose package
is missing is skipped for every shop with one WARNING line, so the other streams still sync;
the run fails with the same line only when no selected stream could sync at all.
"""

from __future__ import annotations

import threading
import typing as t

from tap_tiktok_shop.errors import SCOPE_MISSING, ScopeMissingError

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterable, Iterator

    from singer_sdk.streams import Stream

_Item = t.TypeVar("_Item")

#: Scope key -> the package name shown in Partner Center (from the API reference).
SCOPE_PACKAGES = {
    "seller.authorization.info": "Shop Authorized Information",
    "seller.order.info": "Order Information",
    "seller.return_refund.basic": "Return and refund",
    "seller.product.basic": "Product",
    "seller.finance.info": "Finance Information",
    "data.shop_analytics.public.read": "TikTok Shop Analytics",
    "seller.affiliate_collaboration.read": "Read Seller Affiliate Collaboration",
}

#: How an app gets a package that is not open to every app. Public packages (the default
#: advice) the app owner adds under Manage API; restricted ones need an application first.
PUBLIC_PACKAGE_ADVICE = (
    "Add the package to the app in Partner Center (Manage API) and have the seller authorize again."
)
RESTRICTED_PACKAGE_ADVICE = (
    "The package is restricted: apply for it through your Partner Center account or partner "
    "manager, then have the seller authorize again."
)
#: Scope keys of restricted packages (affiliate APIs, for example).
RESTRICTED_SCOPES: set[str] = {"seller.affiliate_collaboration.read"}


def package_of(scope: str) -> str:
    """The Partner Center name of a scope's API package."""
    return SCOPE_PACKAGES.get(scope, scope)


def advice_for(scope: str) -> str:
    """What to do so the app gets the package of ``scope``."""
    return RESTRICTED_PACKAGE_ADVICE if scope in RESTRICTED_SCOPES else PUBLIC_PACKAGE_ADVICE


class ScopeGate:
    """Tracks which scopes are missing, which streams were skipped and which synced."""

    def __init__(self, granted: Callable[[], list[str] | None], logger: logging.Logger) -> None:
        """``granted`` returns the token's scopes, or None while they are unknown."""
        self._granted = granted
        self._logger = logger
        self._refused: dict[str, str] = {}  # scope -> the answer that refused it
        #: stream name -> the warning line that skipped it
        self.skipped: dict[str, str] = {}
        #: names of streams that completed a read for at least one shop
        self.synced: set[str] = set()
        self._probes: dict[str, threading.Event] = {}
        #: (stream name, authorization name) skipped for that authorization's shops only
        self._skipped_for: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def claim_probe(self, scope: str) -> bool:
        """True for the first read of ``scope``: it finds out whether the app has it.

        Reads fetched ahead for other shops wait (``wait_settled``) until that first answer,
        so an app without a package costs one refused call, not one per shop.
        """
        with self._lock:
            if scope in self._probes:
                return False
            self._probes[scope] = threading.Event()
            return True

    def settle(self, scope: str) -> None:
        """The first read of ``scope`` got an answer (or ended): release the waiting reads."""
        with self._lock:
            probe = self._probes.setdefault(scope, threading.Event())
        probe.set()

    def wait_settled(self, scope: str) -> None:
        """Block until the first read of ``scope`` got an answer."""
        with self._lock:
            probe = self._probes.setdefault(scope, threading.Event())
        probe.wait()

    def gated(
        self, scope: str, items: Callable[[], Iterable[_Item]], *, prober: bool
    ) -> Iterator[_Item]:
        """A read fetched ahead; only the first read of a scope runs before it is known.

        ``prober``: this read claimed the scope's probe (``claim_probe``); the others wait
        until its first answer settled whether the app holds the package, and are not sent
        when it does not.
        """
        if not prober:
            self.wait_settled(scope)
        try:
            if self.missing(scope):
                return
            for item in items():
                if prober:
                    self.settle(scope)
                yield item
        except ScopeMissingError as exc:
            if prober and not self.granted_lists(scope):
                self.refuse(scope, refusal(exc))  # the first read of the scope: the app lacks it
            raise
        finally:
            if prober:
                self.settle(scope)

    def missing(self, scope: str) -> bool:
        """True when the app is known to lack ``scope`` (from the token or a 105005)."""
        if scope in self._refused:
            return True
        granted = self._granted()
        return granted is not None and scope not in granted

    def granted_lists(self, scope: str) -> bool:
        """True when the token's granted scopes are known and include ``scope``."""
        granted = self._granted()
        return granted is not None and scope in granted

    def refuse(self, scope: str, evidence: str) -> None:
        """Record that the API refused ``scope`` (``evidence``: how); no shop is asked again."""
        self._refused.setdefault(scope, evidence)

    def evidence(self, scope: str) -> str:
        """Why ``scope`` is missing: the answer that refused it, or the token's scopes."""
        return self._refused.get(scope, "not in the token's granted scopes")

    def skip(self, stream: Stream, scope: str, evidence: str) -> None:
        """Skip ``stream`` and its child streams, warning once for each selected one."""
        for each in _with_descendants(stream):
            if each.name in self.skipped or not each.selected:
                continue
            line = (
                f"Skipping stream '{each.name}': the app lacks the API package "
                f"'{package_of(scope)}' (scope {scope}; {evidence}). {advice_for(scope)}"
            )
            self.skipped[each.name] = line
            self._logger.warning("%s", line)

    def skip_for_authorization(self, stream: Stream, scope: str, authorization: str) -> None:
        """Skip ``stream`` for one authorization's shops, warning once per authorization."""
        with self._lock:
            first = (stream.name, authorization) not in self._skipped_for
            self._skipped_for.add((stream.name, authorization))
        if first and stream.selected:
            self._logger.warning(
                "Skipping stream '%s' for the shops of authorization '%s': its token lacks the "
                "API package '%s' (scope %s); the seller must authorize the app again.",
                stream.name,
                authorization,
                package_of(scope),
                scope,
            )

    def nothing_synced(self, selected: list[Stream]) -> str | None:
        """The failure line when streams were skipped and no selected stream synced."""
        if not self.skipped or any(stream.name in self.synced for stream in selected):
            return None
        return "No selected stream could sync. " + " ".join(self.skipped.values())


def _with_descendants(stream: Stream) -> list[Stream]:
    streams = [stream]
    for child in stream.child_streams:
        streams += _with_descendants(child)
    return streams


def refusal(error: ScopeMissingError) -> str:
    """The answer that refused a scope, for the skip warning (with its request id)."""
    verdict = error.verdict
    request_id = verdict.request_id if verdict else ""
    answer = "API code 105005"
    if verdict is not None and verdict.code != SCOPE_MISSING:
        answer = f"HTTP {verdict.status}"  # e.g. 403 before a package is approved
    return f"{answer}, request_id {request_id}"
