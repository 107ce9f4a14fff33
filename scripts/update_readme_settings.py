"""Regenerate the settings table in README.md from ``tap-tiktok-shop --about --format=markdown``.

The table between the ``settings:start`` / ``settings:end`` markers is generated, never
edited by hand; ``tests/unit/test_docs.py`` fails when it drifts from the code.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    """The settings table exactly as ``--about --format=markdown`` prints it."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_shop", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    section = about.split("## Settings", 1)[1]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def render(readme: str, table: str) -> str:
    """Return the README text with ``table`` between the markers."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> None:
    """Rewrite README.md in place."""
    path = REPO / "README.md"
    path.write_text(render(path.read_text(), settings_table()))


if __name__ == "__main__":
    main()
