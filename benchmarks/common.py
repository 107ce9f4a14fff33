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
from dataclasses import dataclass, field

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
    stderr: bytes = b""
    #: Peak RSS of descendant processes, by role (see ``run_measured``).
    role_rss_mb: dict[str, float] = field(default_factory=dict)
    #: CPU seconds (user + system) of descendant processes, by role.
    role_cpu: dict[str, float] = field(default_factory=dict)


def _peak_rss_mb(pid: int) -> float:
    """The process's own high-water RSS (VmHWM) in MB, or 0 once it has exited.

    Read from /proc rather than from wait4's ru_maxrss: a child started by a big parent
    inherits the parent's high-water mark across fork and exec, so ru_maxrss would report the
    benchmark's own memory (its in-process emulator, earlier outputs), not the tap's.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _descendants(root: int) -> list[int]:
    """Every live process below ``root`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name (field 2) may hold spaces; the parent id follows its ")".
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_measured(
    command: list[str],
    env: dict[str, str] | None = None,
    *,
    clean: bool = False,
    roles: dict[str, str] | None = None,
    stdin: str | None = None,
) -> ChildRun:
    """Run a command; measure wall time, CPU (user+sys, via wait4) and its own peak RSS.

    ``env`` is added to this process's environment, or replaces it with ``clean``. ``roles``
    maps a role name to a text of the command line of descendant processes (the tap and the
    loader that ``meltano run`` starts): the peak RSS of each role's processes is reported.
    ``stdin`` names a file to read standard input from.
    """
    start = time.monotonic()
    role_rss: dict[str, float] = {}
    cpu_of: dict[int, tuple[str, float]] = {}  # last CPU reading of each role's processes
    with (
        tempfile.TemporaryFile() as sink,
        tempfile.TemporaryFile() as errors,
        open(stdin or os.devnull, "rb") as source,
    ):
        proc = subprocess.Popen(
            command,
            stdin=source,
            stdout=sink,
            stderr=errors if roles is not None else subprocess.DEVNULL,
            cwd=REPO,
            env=env if clean else {**os.environ, **(env or {})},
        )
        peak = 0.0
        while True:
            finished, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if finished:
                break
            peak = max(peak, _peak_rss_mb(proc.pid))
            for pid in _descendants(proc.pid) if roles else ():
                # Read each time: a child is a copy of its parent until it execs.
                line = _command_line(pid)
                role = next((role for role, text in roles.items() if text in line), None)
                if role is not None:
                    role_rss[role] = max(role_rss.get(role, 0.0), _peak_rss_mb(pid))
                    cpu_of[pid] = (role, max(_cpu_seconds(pid), cpu_of.get(pid, ("", 0))[1]))
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        sink.seek(0)
        out = sink.read()
        errors.seek(0)
        err = errors.read()
    role_cpu: dict[str, float] = {}
    for role, seconds in cpu_of.values():
        role_cpu[role] = role_cpu.get(role, 0.0) + seconds
    return ChildRun(
        wall, usage.ru_utime + usage.ru_stime, peak, out, proc.returncode, err, role_rss, role_cpu
    )


def emulator_config(emu: t.Any, **settings: t.Any) -> dict[str, t.Any]:
    """Tap settings pointing both hosts at an emulator, with its demo credentials."""
    return {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.config.refresh_token,
        "api_base_url": emu.base_url,
        "auth_base_url": emu.base_url,
        # Every benchmark starts new emulators: a stored token of the last one would be refused.
        "token_store_enabled": False,
        **settings,
    }


def tap_command(config: dict[str, t.Any], directory: str, name: str = "config.json") -> list[str]:
    """The command running the tap with ``config``, selecting the shops and orders streams.

    The benchmarks measure orders; the other streams are left out so they do not blur it.
    """
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        json.dump(config, handle)
    catalog_path = os.path.join(directory, "catalog.json")
    if not os.path.exists(catalog_path):
        discovered = subprocess.run(
            [sys.executable, "-m", "tap_tiktok_shop", "--config", path, "--discover"],
            capture_output=True,
            check=True,
            cwd=REPO,
        ).stdout
        catalog = json.loads(discovered)
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if not item["breadcrumb"]:
                    item["metadata"]["selected"] = entry["tap_stream_id"] in {"shops", "orders"}
        with open(catalog_path, "w") as handle:
            json.dump(catalog, handle)
    return [sys.executable, "-m", "tap_tiktok_shop", "--config", path, "--catalog", catalog_path]


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


__all__ = [
    "ChildRun",
    "count_records",
    "expect",
    "machine_info",
    "median",
    "run_measured",
    "tap_command",
]
