"""Run Meltano on this repository's meltano.yml in tests, with each plugin installed only once.

Plugin virtualenvs live in ``.meltano-test/`` (``MELTANO_SYS_DIR_ROOT``), apart from the ones
``make demo`` uses, and are reinstalled only when meltano.yml or pyproject.toml change. Each
test session gets a fresh Meltano system database, so no state leaks in from earlier runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from tiktok_shop_emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
MELTANO = Path(sys.executable).with_name("meltano")
PLUGIN_CACHE = REPO / ".meltano-test"
#: Settings of the caller's shell that must not reach a test run (it sets its own).
FOREIGN_PREFIXES = ("TAP_TIKTOK_SHOP_", "TARGET_", "MELTANO_", "TIKTOK_SHOP_EMULATOR_URL")


def _definition_hash() -> str:
    """Fingerprint of what an installed plugin depends on."""
    digest = hashlib.sha256()
    for name in ("meltano.yml", "pyproject.toml"):
        digest.update((REPO / name).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class MeltanoProject:
    """The repository's Meltano project with a given plugin cache and system database."""

    sys_dir: Path
    database: Path

    def env(self, extra: t.Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a Meltano run: ours, never the developer's settings."""
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_PREFIXES)
        }
        env["MELTANO_SYS_DIR_ROOT"] = str(self.sys_dir)
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{self.database}"
        env.update(extra or {})
        return env

    def meltano(
        self, *args: str, env: t.Mapping[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``meltano ARGS`` in the project directory (``pip_url: -e .`` is relative to it)."""
        if not MELTANO.exists():
            raise AssertionError(f"{MELTANO} is missing: run `make setup` (installs meltano)")
        return subprocess.run(
            [str(MELTANO), *args],
            cwd=REPO,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def install(self, plugin_type: str, name: str) -> None:
        """Install one plugin unless the cached one was built from the same definitions."""
        stamp = self.sys_dir / f".installed-{plugin_type}-{name}"
        fingerprint = _definition_hash()
        venv = self.sys_dir / f"{plugin_type}s" / name / "venv"
        if venv.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            return
        done = self.meltano("install", plugin_type, name)
        assert done.returncode == 0, f"meltano install {name} failed:\n{done.stderr[-3000:]}"
        stamp.write_text(fingerprint)

    def states(self) -> dict[str, dict[str, t.Any]]:
        """Every job's completed Singer state, by state id (one Meltano call: it starts slowly)."""
        done = self.meltano("state", "export")
        assert done.returncode == 0, done.stderr[-2000:]
        exported = json.loads(done.stdout)
        return {
            state_id: entry["completed"].get("singer_state", {})
            for state_id, entry in exported.items()
        }


def emulator_settings(emu: Emulator, **overrides: str) -> dict[str, str]:
    """The tap's settings for a pipeline on the emulator, as text (what Meltano reads).

    ``analytics_history_days`` covers the emulator's 14 days of analytics, not the real API's
    90-day default at 1 request/s per shop: Meltano cannot pass the decimal pace from the
    environment. A history shorter than the data would start where the shop's first answer
    says, which differs from run to run.
    """
    return {
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.config.refresh_token,
        "api_base_url": emu.base_url,
        "auth_base_url": emu.base_url,
        "analytics_history_days": "16",
        **overrides,
    }


def tap_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The tap's settings as the ``TAP_TIKTOK_SHOP_*`` variables a deployment exports."""
    return {f"TAP_TIKTOK_SHOP_{key.upper()}": value for key, value in settings.items()}
