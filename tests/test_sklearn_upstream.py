"""scikit-learn's own MLP and Perceptron tests, run against nablanet.estimators (issue 11).

Each upstream file runs in a subprocess through tests/sklearn_upstream.py, which copies it from
the installed scikit-learn and swaps only the import. The test fails if any upstream test fails
that is not on the file's xfail list, or if a listed one starts passing (strict xfail).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sklearn = pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).parent))
import sklearn_upstream  # noqa: E402

RUNNER = Path(__file__).parent / "sklearn_upstream.py"

pytestmark = pytest.mark.skipif(
    not sklearn.__version__.startswith(sklearn_upstream.SKLEARN_SERIES + "."),
    reason=(
        f"the xfail lists were written against scikit-learn {sklearn_upstream.SKLEARN_SERIES}.x's "
        f"test files; scikit-learn {sklearn.__version__} is installed"
    ),
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(sklearn_upstream.UPSTREAM))
def test_upstream_file_passes(name: str) -> None:
    """Every upstream test passes, or fails as listed (with its reason) in XFAIL[name]."""
    result = _run(name)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert " passed" in result.stdout
    assert "FAILED" not in result.stdout


def test_every_xfail_entry_has_a_reason() -> None:
    for name, entries in sklearn_upstream.XFAIL.items():
        assert name in sklearn_upstream.UPSTREAM
        for test, reason in entries.items():
            assert test.startswith("test_"), test
            assert len(reason.split()) >= 4, f"{name}: {test} needs a reason, got {reason!r}"


@pytest.mark.parametrize("name", sorted(sklearn_upstream.UPSTREAM))
def test_prepare_swaps_only_the_import(name: str, tmp_path: Path) -> None:
    """The copy equals the installed file except for the one import line."""
    spec = sklearn_upstream.UPSTREAM[name]
    original = (sklearn_upstream.sklearn_dir() / spec.path).read_text().splitlines()
    copy = sklearn_upstream.prepare(name, tmp_path).read_text().splitlines()
    assert len(copy) == len(original)
    changed = [(a, b) for a, b in zip(original, copy, strict=True) if a != b]
    assert changed == [(spec.original_import, spec.nablanet_import)]
    assert json.loads((tmp_path / "xfail.json").read_text()) == sklearn_upstream.XFAIL[name]


def _perceptron_copy_with(
    tmp_path: Path, xfail: dict[str, str], *pytest_args: str
) -> subprocess.CompletedProcess[str]:
    """Run the prepared copy of test_perceptron.py with ``xfail`` as its expected failures."""
    workdir = tmp_path / "perceptron"
    workdir.mkdir()
    path = sklearn_upstream.prepare("perceptron", workdir)
    (workdir / "xfail.json").write_text(json.dumps(xfail))
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(path), "-c", str(workdir / "pytest.ini"),
         "-p", "no:cacheprovider", *pytest_args],
        capture_output=True, text=True, cwd=workdir, check=False,
    )  # fmt: skip


def test_a_passing_xfail_entry_fails_the_run(tmp_path: Path) -> None:
    """Strict: an expected failure that passes is reported as XPASS(strict) and fails the run."""
    entry = {"test_undefined_methods": "a test reason"}
    result = _perceptron_copy_with(tmp_path, entry, "-k", "test_undefined_methods", "-rX")
    assert result.returncode == 1, result.stdout
    assert "XPASS(strict)" in result.stdout


def test_a_stale_xfail_entry_is_an_error(tmp_path: Path) -> None:
    entry = {"test_no_such_test": "a test reason"}
    result = _perceptron_copy_with(tmp_path, entry, "--collect-only", "-q")
    assert result.returncode != 0
    assert "test_no_such_test" in result.stdout + result.stderr


def test_unknown_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown upstream file 'svm'"):
        sklearn_upstream.prepare("svm", tmp_path)
