"""Helpers shared by the benchmarks: machine info, child CPU accounting, tap runs."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine_info() -> str:
    """One line describing the machine and software the figures come from."""
    from importlib.metadata import version  # noqa: PLC0415

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        cpu = f"{names[0]} x{len(names)}" if names else cpu
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"machine: {cpu}, {mem:.0f} GiB, Python {platform.python_version()}, "
        f"singer-sdk {version('singer-sdk')}, {os.cpu_count()} cores"
    )


@dataclass
class ChildRun:
    """Resource use of one finished child process."""

    wall: float
    cpu: float
    peak_rss_mb: float
    stdout: bytes
    returncode: int


def run_measured(command: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command and read its resource usage with wait4 (stdout collected)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as sink:
        proc = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.DEVNULL, cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        sink.seek(0)
        out = sink.read()
    return ChildRun(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out,
                    proc.returncode)


def tap_command(config: dict[str, t.Any], directory: str, name: str = "config.json") -> list[str]:
    """The command running the tap with ``config``."""
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        json.dump(config, handle)
    return [sys.executable, "-m", "tap_tiktok_shop", "--config", path]


def count_records(stdout: bytes, stream: str = "orders") -> int:
    """Number of RECORD messages of a stream in a tap's output."""
    needle = f'"type":"RECORD","stream":"{stream}"'.encode()
    return stdout.count(needle)


def expect(condition: bool, message: str) -> None:
    """Stop the benchmark when a run did not do the work it was timed for."""
    if not condition:
        raise SystemExit(f"benchmark invalid: {message}")


def median(values: list[float]) -> float:
    """The median of some figures."""
    return statistics.median(values)


__all__ = ["ChildRun", "count_records", "expect", "machine_info", "median", "run_measured",
           "tap_command"]
