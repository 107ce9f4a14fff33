"""Token lifecycle: initial refresh, refresh ahead of expiry, refresh once on rejection."""

from __future__ import annotations

import pytest

from tap_tiktok_shop.errors import AuthorizationError
from tap_tiktok_shop.tokens import TokenManager, TokenSet


class FakeClient:
    def __init__(self, lifetime: int, clock: list[float], *, rotate: bool = False) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.clock = clock
        self.rotate = rotate

    def refresh(self, refresh_token: str) -> TokenSet:
        self.calls += 1
        return TokenSet(
            access_token=f"access-{self.calls}",
            access_token_expire_in=int(self.clock[0]) + self.lifetime,
            refresh_token=f"refresh-{self.calls}" if self.rotate else refresh_token,
        )


def _manager(client: FakeClient, clock: list[float], **kwargs):
    return TokenManager(
        client,  # type: ignore[arg-type]
        refresh_token="refresh-0",
        refresh_ahead_seconds=600,
        clock=lambda: clock[0],
        **kwargs,
    )


def test_first_use_refreshes_then_reuses_until_close_to_expiry():
    clock = [1_000_000.0]
    client = FakeClient(lifetime=7 * 86400, clock=clock)
    tokens = _manager(client, clock)
    assert tokens.access_token() == "access-1"
    assert tokens.access_token() == "access-1"
    clock[0] += 7 * 86400 - 601
    assert tokens.access_token() == "access-1"
    clock[0] += 2  # now inside the refresh-ahead margin
    assert tokens.access_token() == "access-2"
    assert client.calls == 2


def test_configured_access_token_is_used_without_a_refresh():
    clock = [1_000_000.0]
    client = FakeClient(lifetime=3600, clock=clock)
    tokens = _manager(client, clock, access_token="given")
    assert tokens.access_token() == "given"
    assert client.calls == 0


def test_rejected_token_is_refreshed_once_then_fails_if_rejected_again():
    clock = [1_000_000.0]
    client = FakeClient(lifetime=3600, clock=clock)
    tokens = _manager(client, clock, access_token="given")
    tokens.reject("given")
    assert tokens.access_token() == "access-1"
    tokens.reject("stale-token-of-another-thread")  # ignored: not the current token
    assert client.calls == 1
    with pytest.raises(AuthorizationError):
        tokens.reject("access-1")


def test_rotated_refresh_token_is_used_from_then_on(caplog):
    clock = [1_000_000.0]
    client = FakeClient(lifetime=10, clock=clock, rotate=True)
    tokens = _manager(client, clock)
    tokens.access_token()
    assert "new refresh token" in caplog.text
    assert "refresh-1" not in caplog.text  # the value itself is never logged
