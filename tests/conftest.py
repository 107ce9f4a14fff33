"""Shared fixtures: a live emulator on loopback and a runner for the tap as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from tests.pipeline import PLUGIN_CACHE, MeltanoProject
from tiktok_shop_emulator import Emulator, EmulatorConfig

REPO = Path(__file__).resolve().parent.parent


@dataclass
class TapRun:
    """What one tap process did: its exit code, Singer messages and log output."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, t.Any]] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, t.Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, t.Any]:
        return self.states[-1] if self.states else {}

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "ERROR" in line]


def tap_config(emu: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """A config pointing the tap at the emulator for both hosts."""
    config = {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.config.refresh_token,
        "api_base_url": emu.base_url,
        "auth_base_url": emu.base_url,
        "request_timeout": 10,
    }
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def secret_values(emu: Emulator, config: dict[str, t.Any]) -> list[str]:
    """Every secret a run could leak: configured ones and every token the emulator issued."""
    values = [str(config[key]) for key in ("app_secret", "refresh_token", "access_token")
              if config.get(key)]
    values += emu.issued_secrets()
    return [value for value in values if len(value) >= 6]


def assert_no_secrets(text: str, secrets: list[str]) -> None:
    leaked = [secret[:4] + "..." for secret in secrets if secret in text]
    assert not leaked, f"secret values leaked into output: {leaked}"


def run_tap(
    tmp_path: Path,
    emu: Emulator,
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    args: list[str] | None = None,
    timeout: float = 180,
) -> TapRun:
    """Run ``python -m tap_tiktok_shop`` and parse its stdout as Singer messages."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_tiktok_shop", "--config", str(config_file)]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        command += ["--state", str(tmp_path / "state.json")]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", str(tmp_path / "catalog.json")]
    command += args or []
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_SHOP_")}
    # Files, not pipes: the emulator serves from this process, and draining a pipe here would
    # compete with it for the GIL (a large sync took twice as long).
    out_path, err_path = tmp_path / "stdout.jsonl", tmp_path / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        done = subprocess.run(
            command, stdout=out, stderr=err, timeout=timeout, cwd=REPO, env=env, check=False
        )
    stdout = out_path.read_text(encoding="utf-8")
    stderr = err_path.read_text(encoding="utf-8")
    messages = []
    for line in stdout.splitlines():
        messages.append(orjson.loads(line))  # stdout must hold Singer messages only
    assert_no_secrets(stdout + stderr, secret_values(emu, config))
    return TapRun(done.returncode, stdout, stderr, messages)


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
