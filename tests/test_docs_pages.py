"""Whole system through the documentation: every ```python block of README.md and of every
docs/**/*.md page runs, page by page.

A page's blocks run in order in one namespace, as a reader would paste them into one session,
in a scratch directory; each page starts afresh. A page whose code needs an optional
dependency that is not installed (scikit-learn, onnxruntime, matplotlib, ...) is skipped, by
name. What the blocks claim in their comments is spot-checked per page (CHECKS).
Blocks tagged ``console`` (shell sessions) are not run here: the commands they show are tested in
tests/test_cli*.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES = [p for p in PAGES if "_build" not in p.parts]


def blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


WITH_CODE = [p for p in PAGES if blocks(p)]


# ---- spot checks of what the blocks claim, per page: check(namespace, scratch directory)
def _readme(ns: dict, tmp: Path) -> None:
    assert ns["model"].evaluate(ns["X_test"], ns["y_test"])["accuracy"] >= 0.97  # "0.996"


def _save_and_load(ns: dict, tmp: Path) -> None:
    assert (ns["labels"] == ns["digits"].y_test).mean() > 0.9  # the reloaded digits model
    assert (tmp / "model.nbnet").exists()


def _scikit_learn(ns: dict, tmp: Path) -> None:
    # "0.9733 (438 of 450)": another CPU's last bits may move a borderline image or two
    assert ns["search"].score(ns["X_test"], ns["y_test"]) == pytest.approx(438 / 450, abs=2 / 450)
    assert ns["drop_in"].n_iter_ == 22  # "22 0.9393433500278241, as scikit-learn"
    assert ns["drop_in"].score(ns["X_digits"], ns["y_digits"]) == pytest.approx(0.93934335)
    assert (tmp / "digits.nbnet").exists()


def _onnx(ns: dict, tmp: Path) -> None:
    assert (tmp / "digits.onnx").exists()
    assert (ns["label"] == ns["clf"].predict(ns["X_test"] / 16)).all()


def _plots(ns: dict, tmp: Path) -> None:
    assert (tmp / "network.png").exists()  # the plotting block's plot_network(path=)


def _playground(ns: dict, tmp: Path) -> None:
    assert ns["unit"]["quantities"]["z"]["numbers"].endswith("= -6.677")


def _engine(ns: dict, tmp: Path) -> None:
    assert ns["net"].predict(ns["X_xor"]).tolist() == [0, 1, 1, 0]  # "0.001 [0 1 1 0]"


def _seed000(ns: dict, tmp: Path) -> None:
    assert ns["model"].evaluate(ns["X_test"], ns["y_test"])["accuracy"] >= 0.97  # "0.996"


def _seed001(ns: dict, tmp: Path) -> None:
    assert ns["clf"].score(ns["X_test"], ns["y_test"]) == pytest.approx(0.84)  # "as in the seed"


def _seed004(ns: dict, tmp: Path) -> None:
    # the seed's "+" line and W2 - lr * dL/dW2 are one update (same BLAS call, sign flipped)
    np.testing.assert_allclose(ns["seed_update"], ns["descent"], rtol=1e-12, atol=0)


CHECKS: dict[str, Callable[[dict, Path], None]] = {
    "README.md": _readme,
    "docs/howto/save-and-load.md": _save_and_load,
    "docs/howto/scikit-learn.md": _scikit_learn,
    "docs/howto/onnx.md": _onnx,
    "docs/howto/plots.md": _plots,
    "docs/howto/playground-session.md": _playground,
    "docs/explanation/engine.md": _engine,
    "docs/tutorials/seed000.md": _seed000,
    "docs/tutorials/seed001.md": _seed001,
    "docs/tutorials/seed004.md": _seed004,
}


def test_every_checked_page_has_python_blocks() -> None:
    """A page named in CHECKS that moved or lost its code fails here, not silently."""
    assert {name(p) for p in WITH_CODE} >= set(CHECKS)
    assert sum(len(blocks(p)) for p in WITH_CODE) >= 12


def missing_module(exc: BaseException | None) -> str | None:
    """The optional module whose absence caused ``exc`` (directly, or wrapped by nablanet's
    ``ImportError("... pip install 'nablanet[extra]'")``), or None for any other error."""
    while exc is not None:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return None if exc.name.split(".")[0] == "nablanet" else exc.name
        exc = exc.__cause__ or exc.__context__
    return None


def run_blocks(code: list[str], label: str) -> dict:
    """Run ``code`` in order in one fresh namespace; skip the test if an optional module is
    missing, and name the block that failed otherwise."""
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(code):
        try:
            exec(compile(block, f"{label} python block {i}", "exec"), namespace)
        except Exception as exc:
            missing = missing_module(exc)
            if missing is not None:
                pytest.skip(f"{label} needs {missing}, which is not installed")
            raise AssertionError(f"{label} python block {i} failed:\n{block}") from exc
    return namespace


@pytest.mark.parametrize("page", WITH_CODE, ids=name)
def test_every_python_block_runs(page: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = run_blocks(blocks(page), name(page))
    check = CHECKS.get(name(page))
    if check is not None:
        check(namespace, tmp_path)


def test_a_page_is_skipped_only_for_a_missing_optional_module(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if scikit-learn were not installed
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    needs_sklearn = "from nablanet.datasets import load_dataset\nload_dataset('digits')\n"
    with pytest.raises(pytest.skip.Exception, match="needs sklearn"):
        run_blocks([needs_sklearn], "page.md")
    with pytest.raises(pytest.skip.Exception, match="needs onnxruntime_"):
        run_blocks(["import onnxruntime_not_installed\n"], "page.md")
    # a broken nablanet import or any other error fails, naming the block
    with pytest.raises(AssertionError, match=r"page\.md python block 1 failed"):
        run_blocks(["x = 1\n", "from nablanet import no_such_name\n"], "page.md")
    with pytest.raises(AssertionError, match=r"page\.md python block 0 failed"):
        run_blocks(["import nablanet.no_such_module\n"], "page.md")
