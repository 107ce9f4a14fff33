"""A Meltano system directory per shard, sharing the installed plugins and the system database.

``meltano run`` keeps what it hands a plugin in ``.meltano/run/<plugin>/``: the discovered
catalog (``tap.properties.json``), the state file it passes with ``--state`` (``state.json``),
the logging configs. Two runs of the same extractor in one project at the same time share those
files (Meltano 4.4): one run reads a catalog the other is still writing ("Invalid catalog"), or
hands its tap the other shard's state. So each shard runs with its own ``MELTANO_SYS_DIR_ROOT``
(``.meltano/shards/<shard>/``) whose plugin directories are links to the project's installed
ones, and with the project's system database named explicitly (``MELTANO_DATABASE_URI``), so
that every shard's state lands in the one database ``meltano state`` reads.

Plain Python (no Dagster): ``definitions.py`` and ``benchmarks/shards.py`` both use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The directories of installed plugins in a Meltano system directory (one per plugin type).
PLUGIN_DIRS = (
    "extractors",
    "loaders",
    "utilities",
    "mappers",
    "transformers",
    "orchestrators",
    "files",
)


def shard_environment(
    project_dir: str | os.PathLike[str], shard_name: str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables that give one shard's Meltano runs their own run directory.

    ``environ`` (default: this process's) tells where the project's system directory and
    database are, as Meltano would read them.
    """
    environ = os.environ if environ is None else environ
    main = Path(project_dir) / (environ.get("MELTANO_SYS_DIR_ROOT") or ".meltano")
    shard_dir = main / "shards" / shard_name
    shard_dir.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_DIRS:
        link, target = shard_dir / kind, main / kind
        if target.is_dir() and not link.is_symlink() and not link.exists():
            link.symlink_to(target.resolve(), target_is_directory=True)
    database = environ.get("MELTANO_DATABASE_URI") or f"sqlite:///{main.resolve() / 'meltano.db'}"
    return {"MELTANO_SYS_DIR_ROOT": str(shard_dir), "MELTANO_DATABASE_URI": database}
