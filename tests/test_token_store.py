"""The token store: private file, keyed by a hash, rotation kept, one refresh for two runs."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
import typing as t
from pathlib import Path

import pytest

from tap_tiktok_shop.errors import ConfigurationError
from tap_tiktok_shop.token_store import (
    TokenStore,
    default_store_path,
    entry_key,
    store_from_config,
)
from tap_tiktok_shop.tokens import TokenManager, TokenSet

DAY = 86400


class RotatingClient:
    """A token endpoint that rotates the refresh token and refuses superseded ones."""

    def __init__(self, clock: list[float], lifetime: int = 7 * DAY) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.valid = {"refresh-0"}
        self.calls = 0
        self.lock = threading.Lock()

    def refresh(self, refresh_token: str) -> TokenSet:
        with self.lock:
            if refresh_token not in self.valid:
                raise AssertionError(f"superseded refresh token used: {refresh_token}")
            self.calls += 1
            self.valid = {f"refresh-{self.calls}"}
            return TokenSet(
                access_token=f"access-{self.calls}",
                access_token_expire_in=int(self.clock[0]) + self.lifetime,
                refresh_token=f"refresh-{self.calls}",
                refresh_token_expire_in=int(self.clock[0]) + 365 * DAY,
                granted_scopes=["seller.order.info"],
                seller_name="Seller",
                open_id="open-1",
            )


def _manager(client: RotatingClient, store: TokenStore | None, clock: list[float]) -> TokenManager:
    return TokenManager(
        client,  # type: ignore[arg-type]
        refresh_token="refresh-0",
        clock=lambda: clock[0],
        store=store,
        store_key=entry_key("app", "refresh-0"),
    )


def test_the_store_file_is_private_and_names_no_token(tmp_path: Path):
    clock = [1_000_000.0]
    store = TokenStore(tmp_path / "cache" / "tokens.json")
    assert _manager(RotatingClient(clock), store, clock).access_token() == "access-1"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    document = json.loads(store.path.read_text())
    (key,) = document["entries"]
    assert key.startswith("app:")
    assert "refresh-0" not in key
    assert document["entries"][key]["refresh_token"] == "refresh-1"
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name != "tokens.json"]
    assert leftovers == [".tokens.json.lock"]


def test_next_run_uses_the_stored_access_token_without_refreshing(tmp_path: Path):
    clock = [1_000_000.0]
    client = RotatingClient(clock)
    store = TokenStore(tmp_path / "tokens.json")
    _manager(client, store, clock).access_token()
    second = _manager(client, store, clock)
    assert second.access_token() == "access-1"
    assert second.refresh_count == 0
    assert second.current is not None
    assert second.current.granted_scopes == ["seller.order.info"]


def test_rotated_refresh_tokens_keep_working_run_after_run(tmp_path: Path):
    clock = [1_000_000.0]
    client = RotatingClient(clock, lifetime=3600)
    store = TokenStore(tmp_path / "tokens.json")
    for run in range(1, 11):
        clock[0] += 2 * 3600  # each run finds the stored access token expired
        assert _manager(client, store, clock).access_token() == f"access-{run}"
    assert client.calls == 10


def test_without_a_store_the_second_run_uses_a_superseded_token():
    clock = [1_000_000.0]
    client = RotatingClient(clock)
    _manager(client, None, clock).access_token()
    with pytest.raises(AssertionError, match="superseded"):
        _manager(client, None, clock).access_token()


def test_a_refused_access_token_is_replaced_by_a_newer_stored_one(tmp_path: Path):
    clock = [1_000_000.0]
    client = RotatingClient(clock)
    store = TokenStore(tmp_path / "tokens.json")
    first, second = _manager(client, store, clock), _manager(client, store, clock)
    assert first.access_token() == second.access_token() == "access-1"
    first.reject("access-1")  # refreshes: access-2 is stored
    assert first.access_token() == "access-2"
    second.reject("access-1")  # another run already refreshed: adopt, do not refresh again
    assert second.access_token() == "access-2"
    assert client.calls == 2


def test_an_unreadable_entry_is_ignored_and_rewritten(tmp_path: Path):
    clock = [1_000_000.0]
    path = tmp_path / "tokens.json"
    key = entry_key("app", "refresh-0")
    path.write_text(json.dumps({"format": 1, "entries": {key: {"access_token": 5}}}))
    assert _manager(RotatingClient(clock), TokenStore(path), clock).access_token() == "access-1"
    assert json.loads(path.read_text())["entries"][key]["access_token"] == "access-1"


def test_a_symlinked_store_is_refused(tmp_path: Path):
    (tmp_path / "elsewhere").write_text("{}")
    (tmp_path / "tokens.json").symlink_to(tmp_path / "elsewhere")
    clock = [1_000_000.0]
    with pytest.raises(ConfigurationError, match="symlink"):
        _manager(RotatingClient(clock), TokenStore(tmp_path / "tokens.json"), clock).access_token()


def test_settings_choose_the_path_or_turn_the_store_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "tap-tiktok-shop" / "tokens.json"
    default = store_from_config({})
    assert default is not None
    assert default.path == default_store_path()
    chosen = store_from_config({"token_store_path": str(tmp_path / "t.json")})
    assert chosen is not None
    assert chosen.path == tmp_path / "t.json"
    assert store_from_config({"token_store_enabled": False}) is None


def _refresh_in_process(path: str, start: t.Any, results: t.Any) -> None:
    """One process's run: wait for the start signal, get a token through the shared store."""
    clock = [1_000_000.0]
    store = TokenStore(Path(path))
    tokens = TokenManager(
        _SharedRotatingClient(Path(path).parent / "issued"),  # type: ignore[arg-type]
        refresh_token="refresh-0",
        clock=lambda: clock[0],
        store=store,
        store_key=entry_key("app", "refresh-0"),
    )
    start.wait()
    try:
        results.put(tokens.access_token())
    except Exception as exc:
        results.put(f"failed: {exc}")


class _SharedRotatingClient:
    """A rotating token endpoint whose state is a file, so processes share it."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def refresh(self, refresh_token: str) -> TokenSet:
        issued = int(self.state.read_text()) if self.state.exists() else 0
        if refresh_token != f"refresh-{issued}":
            raise RuntimeError("superseded refresh token used")
        self.state.write_text(str(issued + 1))
        return TokenSet(
            access_token=f"access-{issued + 1}",
            access_token_expire_in=2_000_000_000,
            refresh_token=f"refresh-{issued + 1}",
        )


def test_runs_at_once_sharing_a_store_refresh_once_and_lose_no_token(tmp_path: Path):
    path = str(tmp_path / "tokens.json")
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=_refresh_in_process, args=(path, start, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    start.set()
    answers = sorted(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert answers == ["access-1"] * 4  # one refresh; the others used what it stored
    assert (tmp_path / "issued").read_text() == "1"
    entry = next(iter(json.loads(Path(path).read_text())["entries"].values()))
    assert entry["refresh_token"] == "refresh-1"
    assert os.stat(path).st_mode & 0o077 == 0
