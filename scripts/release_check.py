"""Check what a release would publish, before it is published (``make release-check``).

Builds the sdist and the wheel into a temporary directory (the wheel from the sdist, as
``python -m build`` does, so a file missing from the sdist breaks the wheel too), runs
``twine check --strict`` on both, checks their file lists against what is shipped on purpose
(the wheel is ``tap_tiktok_shop`` alone; the emulator, tests and tooling only ride in the
sdist), checks that every place a version is written (metadata, file names, the newest CHANGELOG.md
entry) agrees with ``__version__``, then
installs the wheel into a fresh virtualenv and runs ``tap-tiktok-shop --about --format=json``
there, away from this checkout. Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import email.parser
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import typing as t
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "tap_tiktok_shop"
DIST_NAME = "tap-tiktok-shop"
EXECUTABLES = ("tap-tiktok-shop", "tap-tiktok-shop-auth")
#: Top-level entries the sdist must hold: the package, the emulator the tests need, the docs.
SDIST_REQUIRED = (
    "tap_tiktok_shop/__init__.py",
    "tiktok_shop_emulator/__init__.py",
    "tests/conftest.py",
    "LICENSE",
    "README.md",
    "docs/development.md",
    "CHANGELOG.md",
    "pyproject.toml",
    "requirements-lock.txt",
    "hub/extractors/tap-tiktok-shop.yml",
)
#: What must never be in either artifact: local secrets, environments, outputs, caches.
NEVER_SHIPPED = re.compile(
    r"(^|/)(\.env|\.secrets|\.venv[^/]*|\.meltano[^/]*|\.dagster|output|__pycache__|\.git)(/|$)"
    r"|\.duckdb(\.wal)?$|\.pyc$|(^|/)(config|state)\.json$"
)


def source_version() -> str:
    """``__version__`` as written in ``tap_tiktok_shop/__init__.py`` (read, not imported)."""
    text = (REPO / PACKAGE / "__init__.py").read_text()
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if not found:
        raise SystemExit(f"release check: no __version__ in {PACKAGE}/__init__.py")
    return found.group(1)


def metadata_version(metadata: str) -> str:
    """The ``Version`` field of a METADATA or PKG-INFO file's text."""
    return str(email.parser.Parser().parsestr(metadata, headersonly=True)["Version"])


def wheel_problems(names: t.Iterable[str], version: str) -> list[str]:
    """What is wrong with a wheel's file list: anything but the package and its dist-info.

    The package's schema files must all be there (the tap reads them at start-up), and
    so must the license and both console scripts' entry points.
    """
    names = list(names)
    dist_info = f"{PACKAGE}-{version}.dist-info/"
    problems = [
        f"wheel: unexpected file {name}"
        for name in names
        if not name.startswith((f"{PACKAGE}/", dist_info))
    ]
    problems += [f"wheel: must not ship {name}" for name in names if NEVER_SHIPPED.search(name)]
    expected = {
        f"{PACKAGE}/{path.relative_to(REPO / PACKAGE).as_posix()}"
        for path in (REPO / PACKAGE).rglob("*")
        if path.is_file() and path.suffix in {".py", ".json"} and "__pycache__" not in path.parts
    }
    problems += [f"wheel: missing {name}" for name in sorted(expected - set(names))]
    for required in ("METADATA", "entry_points.txt", "licenses/LICENSE"):
        if dist_info + required not in names:
            problems.append(f"wheel: missing {dist_info}{required}")
    return problems


def sdist_problems(names: t.Iterable[str], version: str) -> list[str]:
    """What is wrong with an sdist's file list (its paths start with ``NAME-VERSION/``)."""
    root = f"{PACKAGE}-{version}/"
    names = list(names)
    problems = [f"sdist: outside {root}: {name}" for name in names if not name.startswith(root)]
    inside = {name[len(root) :] for name in names if name.startswith(root)}
    problems += [f"sdist: missing {name}" for name in SDIST_REQUIRED if name not in inside]
    problems += [
        f"sdist: must not ship {name}" for name in sorted(inside) if NEVER_SHIPPED.search(name)
    ]
    return problems


def entry_point_problems(entry_points: str) -> list[str]:
    """Both executables are declared as console scripts of the wheel."""
    return [
        f"wheel: no console script {name}"
        for name in EXECUTABLES
        if not re.search(rf"^{re.escape(name)} = ", entry_points, re.MULTILINE)
    ]


def changelog_problems(changelog: str, version: str) -> list[str]:
    """Check that the newest CHANGELOG.md entry is ``version``, with its link.

    Keep a Changelog headings are ``## [VERSION] - DATE``: a release never ships without
    its notes.
    """
    found = re.search(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    newest = found.group(1) if found else None
    if newest != version:
        return [f"CHANGELOG.md: newest entry is {newest}, __version__ is {version}"]
    if not re.search(rf"^\[{re.escape(version)}\]: https://", changelog, re.MULTILINE):
        return [f"CHANGELOG.md: no link for [{version}]"]
    return []


def _run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(  # noqa: S603 (this venv's tools and the artifacts it built)
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise SystemExit(
            "release check: {} failed:\n{}".format(
                " ".join(str(arg) for arg in args[:4]), "\n".join(tail)
            )
        )
    return done


def _uv() -> str:
    """The uv next to this interpreter (``make setup`` installs it), else one on PATH."""
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise SystemExit("release check: uv not found (run `make setup`)")
    return found


def build(outdir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from it, into ``outdir``; return (sdist, wheel)."""
    # uv builds the isolated build environment (hatchling) from its cache: seconds, not pip's.
    _run(sys.executable, "-m", "build", "--installer=uv", "--outdir", outdir, REPO)
    sdists, wheels = sorted(outdir.glob("*.tar.gz")), sorted(outdir.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise SystemExit(f"release check: expected one sdist and one wheel in {outdir}")
    return sdists[0], wheels[0]


def artifact_problems(sdist: Path, wheel: Path, version: str) -> list[str]:
    """File lists and versions of both artifacts, checked against ``version``."""
    expected_wheel = f"{PACKAGE}-{version}-py3-none-any.whl"
    problems = [] if wheel.name == expected_wheel else [f"wheel: named {wheel.name}"]
    if sdist.name != f"{PACKAGE}-{version}.tar.gz":
        problems.append(f"sdist: named {sdist.name}")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        problems += wheel_problems(names, version)
        dist_info = f"{PACKAGE}-{version}.dist-info/"
        if f"{dist_info}METADATA" in names:
            found = metadata_version(archive.read(f"{dist_info}METADATA").decode())
            if found != version:
                problems.append(f"wheel: METADATA says version {found}, __version__ {version}")
        if f"{dist_info}entry_points.txt" in names:
            problems += entry_point_problems(archive.read(f"{dist_info}entry_points.txt").decode())
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
        problems += sdist_problems(members, version)
        info = archive.extractfile(f"{PACKAGE}-{version}/PKG-INFO")
        found = metadata_version(info.read().decode()) if info else "(no PKG-INFO)"
        if found != version:
            problems.append(f"sdist: PKG-INFO says version {found}, __version__ {version}")
    return problems


def installed_problems(wheel: Path, workdir: Path, version: str) -> list[str]:
    """Install the wheel alone into a new venv; its ``--about`` must report ``version``."""
    venv = workdir / "venv"
    uv = _uv()
    _run(uv, "venv", "-q", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    # The lock as constraints: the versions that were tested, and uv's cache makes it fast.
    _run(
        uv, "pip", "install", "-q", "--python", python, "-c", REPO / "requirements-lock.txt", wheel
    )
    about = json.loads(
        _run(venv / "bin" / "tap-tiktok-shop", "--about", "--format=json", cwd=workdir).stdout
    )
    problems = []
    if about.get("name") != DIST_NAME or about.get("version") != version:
        problems.append(
            f"installed wheel: --about says {about.get('name')} "
            f"{about.get('version')}, expected {DIST_NAME} {version}"
        )
    if not about.get("settings", {}).get("properties"):
        problems.append("installed wheel: --about lists no settings")
    _run(venv / "bin" / "tap-tiktok-shop-auth", "--help", cwd=workdir)
    shipped = subprocess.run(  # noqa: S603 (the venv this check created, a fixed import)
        [str(python), "-c", "import tiktok_shop_emulator"],
        cwd=workdir,
        capture_output=True,
        check=False,
    )
    if shipped.returncode == 0:
        problems.append("installed wheel: tiktok_shop_emulator is importable (not shipped)")
    return problems


def twine_check(sdist: Path, wheel: Path) -> None:
    """``twine check --strict``: the metadata and README render as PyPI would take them."""
    _run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)


def main(argv: list[str] | None = None) -> int:
    """Run every check; print each problem on one line; 0 when there is none."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="copy the built sdist and wheel here")
    args = parser.parse_args(argv)
    version = source_version()
    with tempfile.TemporaryDirectory(prefix="tap-tiktok-shop-release-") as tmp:
        workdir = Path(tmp)
        sdist, wheel = build(workdir / "dist")
        print(f"built {sdist.name} and {wheel.name}")
        twine_check(sdist, wheel)
        print("twine check --strict: passed")
        problems = changelog_problems((REPO / "CHANGELOG.md").read_text(), version)
        problems += artifact_problems(sdist, wheel, version)
        problems += installed_problems(wheel, workdir, version)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for artifact in (sdist, wheel):
                shutil.copy2(artifact, args.keep / artifact.name)
    for problem in problems:
        print(f"release check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"release check: {DIST_NAME} {version} is ready (sdist, wheel, twine, --about)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
