"""Whole system: every script in examples/ runs to the end with --quick and writes its plots."""

# Each runs in a fresh Python process, as a learner would run it, with the plots sent to a
# temporary directory.

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nablanet.datasets.idx import FASHION_MNIST_DIR, FASHION_MNIST_ENV

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def fashion_mnist_installed() -> bool:
    directory = Path(os.environ.get(FASHION_MNIST_ENV) or FASHION_MNIST_DIR)
    return any(
        (directory / name).is_file()
        for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")
    )


# script -> (the plots it writes, a line its output must contain)
CASES = {
    "circles.py": (
        ["circles_loss.png", "circles_boundary.png", "circles_network.png"],
        "accuracy: train",
    ),
    "blobs_perceptron.py": (
        ["blobs_perceptron_boundary.png", "blobs_perceptron_mistakes.png"],
        "test accuracy:",
    ),
    "parity.py": (["parity_loss.png", "parity_weights.png"], "Network Accuracy: 1.0"),
    "xor.py": (["xor_loss.png", "xor_boundary.png", "xor_network.png"], "x = [1, 1, 1]"),
    "tutorial_seed000.py": (
        ["tutorial_seed000.png"],
        "Iteration 145 - loss value [[664.60120828]] accuracy 0.818",
    ),
    "tutorial_seed001.py": (["tutorial_seed001.png"], "Predicted: [1, 0, 1]"),
    "fashion_mnist.py": (
        ["fashion_loss.png", "fashion_confusion.png", "fashion_predictions.png"],
        "test accuracy:",
    ),
}


def run_example(script: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")} - {"dask_scale_out.py"}
    assert scripts == set(CASES)


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(name, marks=pytest.mark.slow) if name == "fashion_mnist.py" else name
        for name in CASES
    ],
)
def test_example_runs_and_saves_its_plots(script: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    if script == "fashion_mnist.py" and not fashion_mnist_installed():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    plots, expected_line = CASES[script]
    out = tmp_path / "plots"  # does not exist yet: the script must create it

    result = run_example(script, out)

    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    assert expected_line in result.stdout, result.stdout
    for name in plots:
        path = out / name
        assert path.is_file(), f"{script} did not write {name}"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG file"
