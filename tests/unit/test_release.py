"""What a release publishes: one version everywhere, the wheel's files, the dev tools kept out.

The file-list and version checks of scripts/release_check.py are tested on made-up lists
(fast); one test runs the whole ``make release-check`` (build, twine, install, --about).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from packaging.requirements import Requirement

from tap_tiktok_shop import __version__
from tap_tiktok_shop.tap import TapTikTokShop
from tests.support.meltano_project import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

sys.path.insert(0, str(REPO / "scripts"))

import release_check

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DIST_INFO = f"tap_tiktok_shop-{__version__}.dist-info/"


def _good_wheel() -> list[str]:
    """The file list a correct wheel has: every module and schema, and the dist-info."""
    names = [
        f"tap_tiktok_shop/{path.relative_to(REPO / 'tap_tiktok_shop').as_posix()}"
        for path in (REPO / "tap_tiktok_shop").rglob("*")
        if path.is_file() and path.suffix in {".py", ".json"} and "__pycache__" not in path.parts
    ]
    return names + [
        DIST_INFO + name
        for name in ("METADATA", "WHEEL", "RECORD", "entry_points.txt", "licenses/LICENSE")
    ]


def test_the_version_has_one_source():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "tap_tiktok_shop/__init__.py"
    assert release_check.source_version() == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert TapTikTokShop.plugin_version == __version__


def test_about_and_version_report_the_source_version():
    about = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_shop", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert json.loads(about)["version"] == __version__
    version = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_shop", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert f"v{__version__}," in version


def test_the_changelog_s_newest_entry_is_the_version():
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert release_check.changelog_problems(changelog, __version__) == []
    older = "## [0.0.9] - 2026-01-01\n\n[0.0.9]: https://example.com\n"
    assert release_check.changelog_problems(older, "0.1.0") == [
        "CHANGELOG.md: newest entry is 0.0.9, __version__ is 0.1.0"
    ]
    assert release_check.changelog_problems("## [0.1.0] - Unreleased\n", "0.1.0") == [
        "CHANGELOG.md: no link for [0.1.0]"
    ]


def test_metadata_version_reads_the_version_field():
    text = "Metadata-Version: 2.4\nName: tap-tiktok-shop\nVersion: 1.2.3\n\nREADME body"
    assert release_check.metadata_version(text) == "1.2.3"


def test_a_correct_wheel_list_passes():
    assert release_check.wheel_problems(_good_wheel(), __version__) == []


def test_the_wheel_check_catches_the_emulator_a_missing_schema_and_secrets():
    names = [name for name in _good_wheel() if name != "tap_tiktok_shop/schemas/orders.json"]
    names += [
        "tiktok_shop_emulator/__init__.py",
        "tap_tiktok_shop/.env",
        "tap_tiktok_shop/__pycache__/tap.cpython-311.pyc",
    ]
    problems = release_check.wheel_problems(names, __version__)
    assert "wheel: unexpected file tiktok_shop_emulator/__init__.py" in problems
    assert "wheel: missing tap_tiktok_shop/schemas/orders.json" in problems
    assert "wheel: must not ship tap_tiktok_shop/.env" in problems
    assert "wheel: must not ship tap_tiktok_shop/__pycache__/tap.cpython-311.pyc" in problems
    no_license = [name for name in _good_wheel() if not name.endswith("LICENSE")]
    assert release_check.wheel_problems(no_license, __version__) == [
        f"wheel: missing {DIST_INFO}licenses/LICENSE"
    ]


def test_the_sdist_check_wants_the_emulator_and_no_local_files():
    root = f"tap_tiktok_shop-{__version__}/"
    good = [root + name for name in (*release_check.SDIST_REQUIRED, "PKG-INFO")]
    assert release_check.sdist_problems(good, __version__) == []
    bad = [name for name in good if "tiktok_shop_emulator" not in name]
    bad += [root + ".secrets/tap.env", root + "output/demo/warehouse.duckdb"]
    assert release_check.sdist_problems(bad, __version__) == [
        "sdist: missing tiktok_shop_emulator/__init__.py",
        "sdist: must not ship .secrets/tap.env",
        "sdist: must not ship output/demo/warehouse.duckdb",
    ]


def test_entry_points_name_both_executables():
    text = (
        "[console_scripts]\ntap-tiktok-shop = tap_tiktok_shop.tap:TapTikTokShop.cli\n"
        "tap-tiktok-shop-auth = tap_tiktok_shop.authorize.cli:cli\n"
    )
    assert release_check.entry_point_problems(text) == []
    assert release_check.entry_point_problems(text.splitlines()[1]) == [
        "wheel: no console script tap-tiktok-shop-auth"
    ]


def test_dev_tools_are_a_dependency_group_not_a_published_extra():
    assert "optional-dependencies" not in PYPROJECT["project"]
    dev = {
        Requirement(spec).name: Requirement(spec) for spec in PYPROJECT["dependency-groups"]["dev"]
    }
    tools = {"pytest", "meltano", "ruff", "mypy", "build", "twine", "duckdb", "psycopg"}
    assert tools <= set(dev)
    for tool in ("build", "twine"):
        assert str(dev[tool].specifier).startswith("=="), tool
    published = {Requirement(spec).name for spec in PYPROJECT["project"]["dependencies"]}
    assert not published & tools
    makefile = (REPO / "Makefile").read_text()
    assert "--group dev" in makefile
    assert "--group pyproject.toml:dev" in makefile
    assert "make release-check" in (REPO / ".ci" / "run").read_text()


def test_release_check_builds_checks_installs_and_runs_about(tmp_path):
    """The whole ``make release-check``: sdist and wheel, twine, file lists, a clean venv."""
    kept = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "scripts/release_check.py", "--keep", str(kept)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "twine check --strict: passed" in done.stdout
    assert sorted(path.name for path in kept.iterdir()) == [
        f"tap_tiktok_shop-{__version__}-py3-none-any.whl",
        f"tap_tiktok_shop-{__version__}.tar.gz",
    ]
