"""Shared fixtures: a live emulator on loopback, the Meltano project, recorded retry waits,
a token store of its own per test, a check on every test that no secret reaches captured
output, and each test's layer as a marker (its folder: unit, sync, emulator, pipeline)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import backoff._sync
import pytest

from tests.support.meltano_project import PLUGIN_CACHE, MeltanoProject
from tests.support.tap_runs import assert_no_secret_captured
from tiktok_shop_emulator import Emulator, EmulatorConfig


@pytest.fixture(autouse=True)
def _no_secret_in_captured_output(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> t.Iterator[None]:
    """After every test: no secret in its captured stdout, stderr or log records."""
    capture = request.getfixturevalue("capsys" if "capsys" in request.fixturenames else "capfd")
    yield
    out, err = capture.readouterr()
    sys.stdout.write(out)  # hand the output back to pytest's report
    sys.stderr.write(err)
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert_no_secret_captured(out, err, records)


def pytest_configure(config: pytest.Config) -> None:
    """Point the user cache directory away from the developer's for the whole session.

    Tests that run the tap at collection or in class-scoped fixtures (the SDK's built-in
    tests) start before any function fixture; ``_own_token_store`` narrows it per test.
    """
    del config
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="tap-tiktok-shop-test-cache-")


@pytest.fixture(autouse=True)
def _own_token_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own user cache directory, so its token store starts empty.

    The tap keeps tokens in the user's cache directory by default: without this, tests (and
    the processes they start) would share the developer's real store, and a token stored by
    one test's emulator would be offered to the next one.
    """
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def emulator_factory() -> t.Iterator[t.Callable[..., Emulator]]:
    """Start emulators with the given knobs; all are stopped after the test."""
    started: list[Emulator] = []

    def start(**knobs: t.Any) -> Emulator:
        emu = Emulator(EmulatorConfig(**knobs))
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    """A small default emulator: 2 shops x 120 orders."""
    return emulator_factory(shops=2, orders_per_shop=120)


@pytest.fixture(scope="module")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> MeltanoProject:
    """This repo's meltano.yml: plugins cached in .meltano-test/, a system database per module."""
    PLUGIN_CACHE.mkdir(exist_ok=True)
    return MeltanoProject(PLUGIN_CACHE, tmp_path_factory.mktemp("meltano") / "meltano.db")


class _NoSleep:
    """Stands in for the ``time`` module inside backoff: records each wait instead of sleeping."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    def sleep(self, seconds: float) -> None:
        self._waits.append(seconds)

    def __getattr__(self, name: str) -> t.Any:
        return getattr(time, name)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry waits of in-process runs, recorded instead of slept (production policy kept).

    backoff sleeps through ``time.sleep`` as seen by its ``backoff._sync`` module; only that
    module's view of ``time`` is replaced, so the emulator's own waits stay real.
    """
    recorded: list[float] = []
    monkeypatch.setattr(backoff._sync, "time", _NoSleep(recorded))
    return recorded


#: Test folders, each a marker: `make test-fast` runs the unit and sync layers.
LAYERS = ("unit", "sync", "emulator", "pipeline")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its layer, the folder it sits in under tests/."""
    root = Path(__file__).resolve().parent
    for item in items:
        layer = item.path.resolve().relative_to(root).parts[0]
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))
