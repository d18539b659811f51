"""Whole system through README.md: every ```python block runs, in order, in one namespace."""

# As a reader would paste them into one session, in a scratch directory.

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 6


def test_every_python_block_runs(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(BLOCKS):
        try:
            exec(compile(block, f"README.md block {i}", "exec"), namespace)
        except Exception as exc:  # name the block that failed
            raise AssertionError(f"README python block {i} failed:\n{block}") from exc
    # spot checks of what the blocks claim in their comments
    ns = namespace
    assert (ns["labels"] == ns["digits"].y_test).mean() > 0.9  # the reloaded digits model
    assert ns["search"].score(ns["X_test"], ns["y_test"]) > 0.95  # "about 0.98"
    assert (tmp_path / "model.nbnet").exists() and (tmp_path / "digits.onnx").exists()
    assert ns["drop_in"].n_iter_ == 22  # "22 0.9393433500278241, as scikit-learn"
    assert ns["drop_in"].score(ns["X_digits"], ns["y_digits"]) == pytest.approx(0.93934335)
    assert (tmp_path / "network.png").exists()  # the plotting block's plot_network(path=)
    # the playground block's unit, after its 300 steps ("session" is rebound by the ONNX block)
    assert ns["unit"]["quantities"]["z"]["numbers"].endswith("= -6.677")
