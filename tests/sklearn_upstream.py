"""Run scikit-learn's own tests against nablanet's estimators, changing only the import.

scikit-learn ships its tests inside the wheel. This script copies one of its test files from the
INSTALLED scikit-learn into a temporary directory, swaps the one import line that brings in the
classes under test for ``from nablanet.estimators import ...`` (nothing else in the file is
touched), and runs it with pytest, printing one line per test. No scikit-learn test text is
stored in this repository.

Usage (from the repository root)::

    python tests/sklearn_upstream.py mlp                 # sklearn/neural_network/tests/test_mlp.py
    python tests/sklearn_upstream.py perceptron          # sklearn/linear_model/tests/test_perceptron.py
    python tests/sklearn_upstream.py all
    python tests/sklearn_upstream.py mlp --no-xfail      # raw outcomes, ignoring the xfail lists
    python tests/sklearn_upstream.py mlp --original      # scikit-learn's own classes (import kept)
    python tests/sklearn_upstream.py mlp -- -k warm_start --durations=10   # extra pytest args

The expected failures live in one list per upstream file (``XFAIL`` below), each with the reason.
They are applied as ``xfail(strict=True)``: an expected failure that starts passing is reported
as a failure (XPASS(strict)) so the list cannot go stale, and an entry that names no collected
test is an error. The exit code is pytest's: 0 when every test passed or failed as listed.
``tests/test_sklearn_upstream.py`` runs this in CI.

scikit-learn's own ``sklearn/conftest.py`` is loaded as a plugin, so fixtures such as
``global_random_seed`` behave exactly as in scikit-learn's test suite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The scikit-learn release whose test files the xfail lists were written against.
SKLEARN_SERIES = "1.9"


@dataclass(frozen=True)
class Upstream:
    """One scikit-learn test file and the single import line swapped to nablanet."""

    path: str  # relative to the installed sklearn package
    original_import: str
    nablanet_import: str


UPSTREAM: dict[str, Upstream] = {
    "mlp": Upstream(
        "neural_network/tests/test_mlp.py",
        "from sklearn.neural_network import MLPClassifier, MLPRegressor",
        "from nablanet.estimators import MLPClassifier, MLPRegressor",
    ),
    "perceptron": Upstream(
        "linear_model/tests/test_perceptron.py",
        "from sklearn.linear_model import Perceptron",
        "from nablanet.estimators import Perceptron",
    ),
}

# Expected failures, one list per upstream file: {test name: reason}. A name without brackets
# covers every parametrisation of that test; "test_x[param-id]" covers one. Every reason must
# be one a scikit-learn maintainer would accept (typically: the test reads or writes
# scikit-learn's private internals, which a drop-in has no reason to reproduce).
XFAIL: dict[str, dict[str, str]] = {
    # ---- sklearn/neural_network/tests/test_mlp.py ----
    "mlp": {
        "test_fit": (
            "builds a fitted model by hand, assigning scikit-learn's private state (_coef_grads, "
            "_intercept_grads, _coef_velocity, _intercept_velocity, _no_improvement_count) and "
            "coefs_ before any fit; nablanet's coefs_ are views of its trained network, which "
            "exists only after fit. The same worked SGD step is asserted on nablanet's own "
            "network in tests/test_estimators.py::test_one_sgd_step_worked_out_by_hand"
        ),
        "test_gradient": (
            "calls scikit-learn's private _loss_grad_lbfgs(packed, X, Y, None, activations, "
            "deltas, coef_grads, intercept_grads); nablanet's gradients are checked against "
            "finite differences in tests/test_gradcheck.py and against scikit-learn's "
            "steps in tests/test_estimators.py"
        ),
        "test_learning_rate_warmstart": (
            "reads the private _optimizer.learning_rate of scikit-learn's SGDOptimizer; the "
            "same invscaling rate is asserted through model_.optimizer.lr in "
            "tests/test_estimators.py::test_invscaling_and_adaptive_learning_rates"
        ),
        "test_adaptive_learning_rate": (
            "reads the private _optimizer.learning_rate of scikit-learn's SGDOptimizer; the "
            "adaptive rate is asserted through model_.optimizer.lr in "
            "tests/test_estimators.py::test_invscaling_and_adaptive_learning_rates"
        ),
    },
    # ---- sklearn/linear_model/tests/test_perceptron.py: every test passes ----
    "perceptron": {},
}


def sklearn_dir() -> Path:
    """The directory of the installed scikit-learn package."""
    import sklearn

    return Path(sklearn.__file__).resolve().parent


def prepare(name: str, workdir: Path, *, swap: bool = True, xfail: bool = True) -> Path:
    """Copy upstream file ``name`` into ``workdir`` with its import swapped; return the copy.

    Also writes a conftest.py that loads scikit-learn's conftest as a plugin and marks the
    listed tests xfail(strict=True), and an empty pytest.ini so this repository's pytest
    configuration does not apply. Raises ValueError if the import line is not in the file
    (the upstream file changed and the swap must be revisited).
    """
    if name not in UPSTREAM:
        raise ValueError(f"unknown upstream file {name!r}; expected one of {sorted(UPSTREAM)}")
    spec = UPSTREAM[name]
    source_path = sklearn_dir() / spec.path
    text = source_path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == spec.original_import]
    if len(hits) != 1:
        raise ValueError(
            f"{source_path}: expected the line {spec.original_import!r} exactly once, "
            f"found it {len(hits)} times; the upstream file changed"
        )
    if swap:
        lines[hits[0]] = spec.nablanet_import + "\n"
    target = workdir / Path(spec.path).name
    target.write_text("".join(lines), encoding="utf-8")
    (workdir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (workdir / "xfail.json").write_text(
        json.dumps(XFAIL[name] if xfail else {}, indent=1), encoding="utf-8"
    )
    (workdir / "conftest.py").write_text(_CONFTEST, encoding="utf-8")
    return target


# The conftest written next to the copied file: scikit-learn's conftest as a plugin, plus the
# strict xfail marks read from xfail.json.
_CONFTEST = """\
import json
from pathlib import Path

import pytest

pytest_plugins = ["sklearn.conftest"]

_XFAIL = json.loads((Path(__file__).parent / "xfail.json").read_text(encoding="utf-8"))


def pytest_collection_modifyitems(config, items):
    used = set()
    for item in items:
        for key in (item.name, getattr(item, "originalname", item.name)):
            if key in _XFAIL:
                used.add(key)
                item.add_marker(pytest.mark.xfail(reason=_XFAIL[key], strict=True))
                break
    unused = sorted(set(_XFAIL) - used)
    if unused:
        raise pytest.UsageError(f"xfail entries that name no collected test: {unused}")
"""


def run(
    names: list[str], *, swap: bool = True, xfail: bool = True, pytest_args: list[str] | None = None
) -> int:
    """Run the named upstream files (each in its own temporary directory); return pytest's code.

    Prints pytest's verbose output: one PASSED / FAILED / XFAIL / XPASS line per test, and a
    summary with the reason of every xfail.
    """
    with tempfile.TemporaryDirectory(prefix="nablanet-sklearn-upstream-") as tmp:
        codes = []
        for name in names:
            workdir = Path(tmp) / name
            workdir.mkdir()
            path = prepare(name, workdir, swap=swap, xfail=xfail)
            # A fresh interpreter per file: two in-process pytest sessions would share
            # sys.modules (both copies import a top-level "conftest").
            command = [
                sys.executable,
                "-m",
                "pytest",
                str(path),
                "-v",
                "-rfExX",
                "-p",
                "no:cacheprovider",
                "-c",
                str(workdir / "pytest.ini"),
                "--rootdir",
                str(workdir),
                *(pytest_args or []),
            ]
            print(
                f"== scikit-learn's {UPSTREAM[name].path} ({'nablanet' if swap else 'scikit-learn'})"
            )
            sys.stdout.flush()
            codes.append(subprocess.run(command, cwd=workdir, check=False).returncode)
        return max(codes)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=[*UPSTREAM, "all"])
    parser.add_argument(
        "--no-xfail", action="store_true", help="ignore the xfail list (raw outcomes)"
    )
    parser.add_argument(
        "--original",
        action="store_true",
        help="keep scikit-learn's import: run the copy against scikit-learn itself",
    )
    ns, pytest_args = parser.parse_known_args(argv)
    pytest_args = [arg for arg in pytest_args if arg != "--"]  # the rest goes to pytest
    names = list(UPSTREAM) if ns.which == "all" else [ns.which]
    return run(
        names,
        swap=not ns.original,
        xfail=not (ns.no_xfail or ns.original),
        pytest_args=pytest_args,
    )


if __name__ == "__main__":
    sys.exit(main())
