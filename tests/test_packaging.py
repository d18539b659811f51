"""The adoption files: LICENSE and CHANGELOG.md exist, ship in the sdist, and the version has
one home (pyproject.toml), read by ``nablanet.__version__`` and ``nablanet --version``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_the_mit_licence_pyproject_declares() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert re.search(r"Copyright \(c\) \d{4} the nablanet developers", text)
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "https://keepachangelog.com/en/1.1.0/" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert versions[0] == "Unreleased"
    assert PYPROJECT["project"]["version"] in versions  # the current version has an entry
    for section in re.findall(r"^### (.+)$", text, flags=re.MULTILINE):
        assert section in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_contributing_holds_the_release_checklist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "## Releasing" in text
    assert "CHANGELOG.md" in text and "pyproject.toml" in text


def test_the_version_has_one_home() -> None:
    import nablanet

    version = PYPROJECT["project"]["version"]
    assert nablanet.__version__ == version
    out = subprocess.run(
        [sys.executable, "-m", "nablanet", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["nablanet", version]
    literal = re.compile(f"=\\s*[\"']{re.escape(version)}[\"']")  # assigned, not quoted in a doc
    written = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*.py")
        if literal.search(path.read_text(encoding="utf-8"))
    ]
    assert written == [], "the version written again besides pyproject.toml"


@pytest.mark.slow
def test_sdist_and_wheel_ship_license_and_changelog(tmp_path: Path) -> None:
    """Builds both with setuptools' PEP 517 hooks, offline, from a copy of the tree."""
    pytest.importorskip("setuptools")
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copy(ROOT / "MANIFEST.in", tree / "MANIFEST.in")
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    generated = ("_build", "gallery", "generated", "__pycache__")
    shutil.copytree(ROOT / "docs", tree / "docs", ignore=shutil.ignore_patterns(*generated))
    code = (
        "import sys; from setuptools import build_meta as b; "
        "names = b.build_sdist('dist'), b.build_wheel('dist'); print('BUILT', *names)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True
    )
    built = [line.split()[1:] for line in out.stdout.splitlines() if line.startswith("BUILT ")]
    sdist, wheel = built[-1]
    with tarfile.open(tree / "dist" / sdist) as archive:
        top = sdist.removesuffix(".tar.gz")
        names = set(archive.getnames())
    for name in ("LICENSE", "CHANGELOG.md", "README.md", "src/nablanet/__init__.py"):
        assert f"{top}/{name}" in names
    # the docs' sources ship too: the README links to their pages
    for name in ("docs/conf.py", "docs/index.md", "docs/tutorials/seed000.md"):
        assert f"{top}/{name}" in names
    import zipfile

    with zipfile.ZipFile(tree / "dist" / wheel) as archive:
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        assert "License-Expression: MIT" in archive.read(metadata).decode()
