"""Shared fixtures: a live emulator on loopback, and runners for the tap (subprocess or
in-process), plus a check on every test that no secret reaches captured output."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import backoff._sync
import orjson
import pytest

from tap_tiktok_shop.outcome import STOP_SIGNALS, one_line_failures
from tap_tiktok_shop.stdout_pipe import drain_all
from tap_tiktok_shop.tap import TapTikTokShop
from tests.pipeline import PLUGIN_CACHE, MeltanoProject
from tiktok_shop_emulator import Emulator, EmulatorConfig
from tiktok_shop_emulator.tokens import secrets_issued_in_process

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
        # The emulator's analytics cover its last 14 days: read a little more than that, at
        # the emulator's speed (the defaults, 90 days at 1 request/s, are for the real API).
        "analytics_history_days": 16,
        "analytics_requests_per_second": 0,
    }
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def secret_values(emu: Emulator, config: dict[str, t.Any]) -> list[str]:
    """Every secret a run could leak: configured ones and every token the emulator issued."""
    values = [
        str(config[key])
        for key in ("app_secret", "refresh_token", "access_token")
        if config.get(key)
    ]
    values += [str(item.get("refresh_token")) for item in config.get("authorizations") or []]
    values += emu.issued_secrets()
    return [value for value in values if len(value) >= 6]


def assert_no_secrets(text: str, secrets: list[str]) -> None:
    leaked = [secret[:4] + "..." for secret in secrets if secret in text]
    assert not leaked, f"secret values leaked into output: {leaked}"


def assert_no_secret_captured(out: str, err: str, records: list[logging.LogRecord]) -> None:
    """No secret any emulator of this process issued (nor the demo ones) is in the output.

    Log records are formatted with their exception text, so a secret inside an exception
    message or traceback counts too.
    """
    defaults = EmulatorConfig()
    known = [defaults.app_secret, defaults.refresh_token, *secrets_issued_in_process()]
    formatter = logging.Formatter()
    logged = [formatter.format(record) for record in records]
    assert_no_secrets("\n".join([out, err, *logged]), [v for v in known if len(v) >= 6])


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


#: The streams the fault matrix is about (other streams would also consume injected faults).
ORDER_STREAMS = ("shops", "orders")


def catalog_selecting(streams: t.Iterable[str]) -> dict[str, t.Any]:
    """The tap's catalog with only ``streams`` selected."""
    wanted = set(streams)
    tap = TapTikTokShop(
        config={"app_key": "k", "app_secret": "s", "refresh_token": "r"},
        parse_env_config=False,
    )
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def run_in_process(
    emu: Emulator,
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
) -> TapRun:
    """Run the tap in this process, as the CLI would after parsing its arguments.

    Much faster than a subprocess, and lets a test patch the retry waits. stdout is captured as
    Singer messages; every log record (DEBUG and up, urllib3's request lines included) becomes
    the run's stderr. Failures end as they do on the command line: one line and SystemExit.
    Without a catalog only ``ORDER_STREAMS`` are selected.
    """
    if catalog is None:
        catalog = catalog_selecting(ORDER_STREAMS)
    stdout, stderr = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s | %(message)s"))
    root = logging.getLogger()
    saved_level = root.level
    saved_signals = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    returncode = 0
    try:
        with contextlib.redirect_stdout(stdout), one_line_failures(TapTikTokShop.logger):
            tap = TapTikTokShop(config=config, state=state, catalog=catalog, parse_env_config=False)
            tap.sync_all()
    except SystemExit as exc:
        returncode = int(exc.code or 0)
    finally:
        drain_all()  # what the CLI's exit does: every message emitted reaches stdout
        root.removeHandler(handler)
        root.setLevel(saved_level)
        for signum, previous in saved_signals.items():
            signal.signal(signum, previous)
    messages = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert_no_secrets(stdout.getvalue() + stderr.getvalue(), secret_values(emu, config))
    return TapRun(returncode, stdout.getvalue(), stderr.getvalue(), messages)


class RunningTap:
    """A tap process whose stdout and stderr are drained by threads (so it never blocks)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        self._chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [
            threading.Thread(target=self._drain, args=(name,), daemon=True) for name in self._chunks
        ]
        for reader in self._readers:
            reader.start()

    def _drain(self, name: str) -> None:
        stream = getattr(self.process, name)
        for line in stream:
            self._chunks[name].append(line)

    def poll(self) -> int | None:
        return self.process.poll()

    def stdout_so_far(self) -> str:
        """What the tap wrote to stdout until now (whole lines)."""
        return "".join(list(self._chunks["stdout"]))

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the end (killing the process on timeout) and return code and output."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            for reader in self._readers:
                reader.join(timeout=10)
        return (
            self.process.returncode,
            "".join(self._chunks["stdout"]),
            "".join(self._chunks["stderr"]),
        )


def spawn_tap(
    tmp_path: Path,
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    args: list[str] | None = None,
) -> RunningTap:
    """Start ``python -m tap_tiktok_shop`` with these inputs written to files (config 0600)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config_file = tmp_path / "config.json"
    config_file.touch(mode=0o600)
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
    return RunningTap(command, env)


def finish_tap(
    tap: RunningTap,
    emu: Emulator,
    config: dict[str, t.Any],
    *,
    timeout: float = 180,
) -> TapRun:
    """Wait for a tap process; parse its stdout as Singer messages, check it leaked nothing."""
    returncode, stdout, stderr = tap.wait(timeout)
    messages = []
    for line in stdout.splitlines():
        messages.append(orjson.loads(line))  # stdout must hold Singer messages only
    assert_no_secrets(stdout + stderr, secret_values(emu, config))
    return TapRun(returncode, stdout, stderr, messages)


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
    """Run ``python -m tap_tiktok_shop`` to the end and parse its stdout as Singer messages."""
    process = spawn_tap(tmp_path, config, state=state, catalog=catalog, args=args)
    return finish_tap(process, emu, config, timeout=timeout)


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
