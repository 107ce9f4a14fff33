"""Pipeline benchmark: what users run, ``meltano run`` into the real loaders, against the tap alone.

On the same emulator data (1 shop x 30,000 full-shape orders plus the other default streams'
records, no latency), side by side in each round: the tap alone into /dev/null (every default
stream, as meltano.yml selects), then ``meltano run tap-tiktok-shop target-postgres`` and
``meltano run tap-tiktok-shop target-duckdb`` on this repository's own meltano.yml, given only
connection settings (each run with a fresh Meltano system database, so each is a full sync).
The tap alone runs with the catalog Meltano hands it (``meltano invoke --dump=catalog``), so it
does the very work it does inside the pipeline. Each loader also runs alone, reading the tap's
recorded output from a file, with the configuration Meltano gives it (``--dump=config``): the
floor no pipeline through that loader can beat. Printed per row: median wall time, orders per
second, the ratio to the tap alone, and the peak RSS of the tap's and the loader's processes;
every run checks the loaded table holds every order once.

Candidates (``--candidates``) run the loaders with other settings too, to compare them with the
shipped defaults in the same run (README, "Performance": which one won and why).

Usage: python -m benchmarks.pipeline [--runs 3] [--orders 30000] [--candidates]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import typing as t
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import (
    REPO,
    emulator_config,
    expect,
    machine_info,
    median,
    run_measured,
)
from tiktok_shop_emulator import Emulator, EmulatorConfig

MELTANO = Path(sys.executable).with_name("meltano")
TAP = Path(sys.executable).with_name("tap-tiktok-shop")
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": os.environ.get("PGPORT", "5432"),
    "user": os.environ.get("PGUSER", "postgres"),
    "password": os.environ.get("PGPASSWORD") or "postgres",
    "database": os.environ.get("PGDATABASE", "test"),
}
PLUGINS = [
    ("extractors", "tap-tiktok-shop"),
    ("loaders", "target-postgres"),
    ("loaders", "target-duckdb"),
]


@dataclass
class Variant:
    """One way of running: a label, what runs, and the environment that makes it."""

    label: str
    loader: str | None  # None: the tap alone
    env: dict[str, str] = field(default_factory=dict)
    from_file: bool = False  # the loader alone, reading the tap's recorded output
    walls: list[float] = field(default_factory=list)
    tap_rss: list[float] = field(default_factory=list)
    loader_rss: list[float] = field(default_factory=list)


def variants(candidates: bool) -> list[Variant]:
    """The tap alone, the two shipped pipelines, each loader alone and, on request, candidates."""
    chosen = [
        Variant("tap alone > /dev/null", None),
        Variant("meltano run ... target-postgres", "target-postgres"),
        Variant("meltano run ... target-duckdb", "target-duckdb"),
        Variant(
            "  target-postgres alone, reading the tap's output", "target-postgres", from_file=True
        ),
        Variant("  target-duckdb alone, reading the tap's output", "target-duckdb", from_file=True),
    ]
    if candidates:
        chosen += [
            Variant(
                "  target-postgres, loader defaults (row validation, INSERT)",
                "target-postgres",
                {
                    "TARGET_POSTGRES_USE_COPY": "false",
                    "TARGET_POSTGRES_VALIDATE_RECORDS": "true",
                    "TAP_TIKTOK_SHOP__SCHEMA": "{}",
                },
            ),
            Variant(
                "  target-postgres, COPY, no validation, arrays as jsonb[]",
                "target-postgres",
                {"TAP_TIKTOK_SHOP__SCHEMA": "{}"},
            ),
            Variant(
                "  target-duckdb, batch_size_rows 100000 (its default)",
                "target-duckdb",
                {"TARGET_DUCKDB_BATCH_SIZE_ROWS": "100000"},
            ),
        ]
    return chosen


def _clean_env() -> dict[str, str]:
    """The caller's environment without settings that would leave the benchmark's bounds.

    PYTHONDONTWRITEBYTECODE is dropped so that every Python process starts from its bytecode
    cache, as on a user's machine (without it each start compiles its imports again).
    """
    prefixes = ("TAP_TIKTOK_SHOP_", "TARGET_", "MELTANO_", "DBT_", "PYTHONDONTWRITEBYTECODE")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


def tap_env(config: dict[str, t.Any]) -> dict[str, str]:
    """The tap's settings as TAP_TIKTOK_SHOP_* variables (what a scheduler would set)."""
    return {f"TAP_TIKTOK_SHOP_{key.upper()}": str(value) for key, value in config.items()}


def count_orders(variant: Variant, target: dict[str, str]) -> int:
    """Rows of the loaded orders table (every run must load each order exactly once)."""
    if variant.loader == "target-postgres":
        import psycopg  # noqa: PLC0415

        with psycopg.connect(
            **{k: PG[k] for k in ("host", "port", "user", "password")}, dbname=PG["database"]
        ) as conn:
            schema = target["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
            rows = conn.execute(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".orders')
            total, distinct = rows.fetchone()  # type: ignore[misc]
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        import duckdb  # noqa: PLC0415

        with duckdb.connect(target["TARGET_DUCKDB_FILEPATH"], read_only=True) as conn:
            total, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT id) FROM tiktok_shop.orders"
            ).fetchone()
    expect(total == distinct, f"{variant.label}: {total - distinct} duplicate orders")
    return int(total)


def _target_env(loader: str, run_dir: str) -> dict[str, str]:
    """Where a loader writes in one run: a new PostgreSQL schema, or a new DuckDB file."""
    if loader == "target-postgres":
        target = {f"TARGET_POSTGRES_{k.upper()}": v for k, v in PG.items()}
        target["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = f"bench_{uuid.uuid4().hex[:10]}"
        return target
    return {"TARGET_DUCKDB_FILEPATH": f"{run_dir}/warehouse.duckdb"}


def _dump(what: str, plugin: str, env: dict[str, str], path: str) -> str:
    """Write what Meltano hands a plugin (``catalog`` or ``config``) to ``path``."""
    done = subprocess.run(
        [str(MELTANO), "invoke", f"--dump={what}", plugin],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=False,
    )
    expect(done.returncode == 0, f"meltano invoke --dump={what} {plugin} failed")
    Path(path).write_bytes(done.stdout)
    return path


def run_once(variant: Variant, env: dict[str, str], tmp: str, orders: int) -> None:
    """One timed run of a variant; records its wall time and peak RSS figures."""
    env = {**env, **variant.env}
    recorded = f"{tmp}/tap-output.jsonl"
    if variant.loader is None:
        run = run_measured(
            [str(TAP), "--config", "ENV", "--catalog", f"{tmp}/catalog.json"], env=env, clean=True
        )
        expect(run.returncode == 0, "the tap failed")
        expect(
            run.stdout.count(b'"type":"RECORD","stream":"orders"') == orders,
            "the tap did not emit every order",
        )
        Path(recorded).write_bytes(run.stdout)
        variant.walls.append(run.wall)
        variant.tap_rss.append(run.peak_rss_mb)
        return
    run_dir = tempfile.mkdtemp(dir=tmp)
    target = {
        "MELTANO_DATABASE_URI": f"sqlite:///{run_dir}/meltano.db",
        **_target_env(variant.loader, run_dir),
    }
    if variant.from_file:
        config = _dump("config", variant.loader, {**env, **target}, f"{run_dir}/config.json")
        executable = Path(REPO) / ".meltano" / "loaders" / variant.loader / "venv" / "bin"
        run = run_measured(
            [str(executable / variant.loader), "--config", config],
            env=env,
            clean=True,
            stdin=recorded,
            roles={"loader": f"bin/{variant.loader}"},
        )
        run.role_rss_mb["loader"] = run.peak_rss_mb
    else:
        run = run_measured(
            [str(MELTANO), "run", "tap-tiktok-shop", variant.loader],
            env={**env, **target},
            clean=True,
            roles={"tap": "bin/tap-tiktok-shop", "loader": f"bin/{variant.loader}"},
        )
    if run.returncode != 0:
        raise SystemExit(
            f"benchmark invalid: {variant.label} failed:\n"
            f"{run.stderr.decode(errors='replace')[-3000:]}"
        )
    expect(count_orders(variant, target) == orders, f"{variant.label}: orders missing")
    variant.walls.append(run.wall)
    if "tap" in run.role_rss_mb:
        variant.tap_rss.append(run.role_rss_mb["tap"])
    variant.loader_rss.append(run.role_rss_mb.get("loader", 0.0))


def main() -> None:
    """Print the figures and the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=int, default=30_000)
    parser.add_argument(
        "--candidates",
        action="store_true",
        help="also run the loader settings the shipped ones were chosen over",
    )
    args = parser.parse_args()
    expect(MELTANO.exists(), f"{MELTANO} is missing: run `make setup`")
    if not all(
        (Path(REPO) / ".meltano" / kind / name / "venv").exists() for kind, name in PLUGINS
    ):  # `make bench` installed them already
        installed = subprocess.run(
            [str(MELTANO), "install"], cwd=REPO, env=_clean_env(), capture_output=True, check=False
        )
        expect(installed.returncode == 0, "meltano install failed")
    print(machine_info())
    chosen = variants(args.candidates)
    config = EmulatorConfig(
        shops=1, orders_per_shop=args.orders, order_cache_size=args.orders + 100
    )
    with Emulator(config) as emu, tempfile.TemporaryDirectory() as tmp:
        env = {**_clean_env(), **tap_env(emulator_config(emu))}
        _dump("catalog", "tap-tiktok-shop", env, f"{tmp}/catalog.json")
        for _ in range(args.runs):
            for variant in chosen:
                run_once(variant, env, tmp, args.orders)
                print(f"  run: {variant.label.strip()}: {variant.walls[-1]:.2f} s", flush=True)
    base = median(chosen[0].walls)
    print(
        f"1 shop x {args.orders} orders (and the other default streams), no latency, "
        f"{args.runs} runs each, side by side; medians:"
    )
    print(f"{'what':62} {'wall':>8} {'orders/s':>9} {'ratio':>6} {'tap RSS':>8} {'loader RSS':>10}")
    for variant in chosen:
        wall = median(variant.walls)
        loader = f"{median(variant.loader_rss):.0f} MB" if variant.loader_rss else "-"
        tap = f"{median(variant.tap_rss):.0f} MB" if variant.tap_rss else "-"
        print(
            f"{variant.label:62} {wall:7.2f}s {args.orders / wall:9.0f} {wall / base:5.2f}x "
            f"{tap:>8} {loader:>10}"
        )
    print(
        "target: each shipped pipeline within 2.0x of the tap alone (aim 1.5x); a pipeline "
        "cannot beat its loader alone"
    )


if __name__ == "__main__":
    main()
