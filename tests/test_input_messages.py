"""Messages that named the wrong problem (issue 17, item 8), and data the readers refused
although an equivalent file was accepted. Each test states the input and the message expected.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest

from nablanet import Sequential
from nablanet._validation import check_array
from nablanet.cli import main
from nablanet.datasets import load_csv, load_mnist, load_npz
from nablanet.layers import Dense

pd = pytest.importorskip("pandas")


# -- a finite value past float32 ----------------------------------------------------------------
def test_a_finite_value_past_float32_is_named_as_an_overflow() -> None:
    X = np.zeros((4, 2))
    X[2, 1] = 1e39
    with pytest.raises(ValueError) as info:
        check_array(X, dtype=np.float32)
    message = str(info.value)
    assert "1e+39" in message and "(2, 1)" in message and "float32" in message
    assert "NaN" not in message and "3.40282e+38" in message
    assert check_array(X, dtype=np.float64)[2, 1] == 1e39  # float64 holds it


def test_a_float32_model_names_the_overflowing_input() -> None:
    model = Sequential([Dense(1)], loss="mse", dtype="float32")
    X = np.random.default_rng(0).normal(size=(6, 2))
    model.fit(X, X.sum(axis=1), epochs=1, batch_size=6)
    X[3, 0] = -1e39
    with pytest.raises(ValueError, match=r"X has -1e\+39 at index \(3, 0\), beyond the range"):
        model.predict(X)


def test_nan_and_infinity_keep_their_message() -> None:
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="contains NaN or infinity"):
            check_array(np.array([[1.0, bad]]), dtype=np.float32)


def test_python_ints_past_int64_are_numbers() -> None:
    """NumPy stores them as objects; they are numbers all the same (a float past float64 is
    named as such)."""
    np.testing.assert_array_equal(check_array([[2**70, 1]], dtype=np.float64), [[2.0**70, 1]])
    with pytest.raises(ValueError, match=r"X has 2\*\*1328 at index \(0, 1\), beyond .*float64"):
        check_array([[1, 10**400]])
    with pytest.raises(TypeError, match="must contain numbers"):
        check_array(np.array([["1", 2]], dtype=object))  # text stays refused


# -- pandas nullable columns --------------------------------------------------------------------
def test_a_pandas_nullable_int64_frame_is_numeric() -> None:
    frame = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"),
                          "b": pd.array([0.5, 1.5, 2.5], dtype="Float64"),
                          "c": pd.array([True, False, True], dtype="boolean")})  # fmt: skip
    X = check_array(frame, dtype=np.float64)
    np.testing.assert_array_equal(X, [[1, 0.5, 1], [2, 1.5, 0], [3, 2.5, 1]])
    model = Sequential([Dense(1)], loss="mse")
    model.fit(frame, pd.Series(pd.array([1, 2, 3], dtype="Int64")), epochs=1)
    assert len(model.predict(frame)) == 3


@pytest.mark.parametrize("single_column", [False, True])
def test_pd_na_is_refused_by_name(single_column: bool) -> None:
    columns = {"a": pd.array([1, None, 3], dtype="Int64")}
    if not single_column:  # alone, the column comes out of NumPy as float NaN
        columns["b"] = pd.array([4, 5, 6], dtype="Int64")
    frame = pd.DataFrame(columns, index=["r0", "r1", "r2"])
    with pytest.raises(ValueError) as info:
        check_array(frame)
    message = str(info.value)
    assert "pd.NA" in message and "'a'" in message and "row 1" in message and "'r1'" in message
    with pytest.raises(ValueError, match=r"pd\.NA"):
        Sequential([Dense(1)], loss="mse").fit(frame, [1.0, 2.0, 3.0], epochs=1)


def test_pd_na_in_y_is_refused_by_name() -> None:
    """A nullable label column's pd.NA is named as a missing value, not as "NaN"."""
    X = np.zeros((3, 2), dtype=np.float32)
    y = pd.Series(pd.array([0, None, 1], dtype="Int64"), index=["r0", "r1", "r2"], name="label")
    model = Sequential([Dense(1)], loss="bce")
    with pytest.raises(ValueError) as info:
        model.fit(X, y, epochs=1)
    message = str(info.value)
    assert "pd.NA" in message and "row 1" in message and "'r1'" in message
    assert "column" not in message  # a Series has no column to name
    assert not model.built  # refused before anything was built
    from nablanet import Perceptron

    with pytest.raises(ValueError, match=r"pd\.NA.*row 1"):
        Perceptron().fit(X, y)


def test_a_nan_is_shown_as_nan_not_as_a_numpy_repr() -> None:
    X = np.array([[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match=r"index \(1, 0\): nan\)$"):
        check_array(X)
    with pytest.raises(ValueError, match=r"index \(1,\): inf\)$"):
        Sequential([Dense(1)], loss="mse").fit(np.zeros((2, 1)), [0.0, np.inf], epochs=1)


# -- .npz labels read as CSV labels are ---------------------------------------------------------
def _xy(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(np.int64)


def test_whole_number_float_labels_in_npz_read_as_in_csv(tmp_path: Path) -> None:
    X, y = _xy(6)
    np.savez(tmp_path / "d.npz", X=X, y=y.astype(np.float64))
    with open(tmp_path / "d.csv", "w") as f:
        f.writelines(
            f"{a},{b},{float(label)}\n"
            for (a, b), label in zip(X.tolist(), y.tolist(), strict=True)
        )
    _, y_npz = load_npz(tmp_path / "d.npz")
    _, y_csv, _ = load_csv(tmp_path / "d.csv")
    assert y_npz.dtype == y_csv.dtype == np.int64
    np.testing.assert_array_equal(y_npz, y_csv)
    np.savez(tmp_path / "big.npz", X=X, y=np.where(y > 0, 1e20, 0.0))  # past int64: exact text
    big = load_npz(tmp_path / "big.npz")[1]
    assert big.dtype.kind == "U" and set(big.tolist()) == {"0", "100000000000000000000"}


def test_npz_labels_that_are_not_finite_are_named(tmp_path: Path) -> None:
    X, _ = _xy(5)
    np.savez(tmp_path / "d.npz", X=X, y=np.where(np.arange(5) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match=r"'y'\]: label 3 is nan"):
        load_npz(tmp_path / "d.npz")


def test_cli_trains_on_whole_number_float_labels(tmp_path: Path, capsys) -> None:
    X, y = _xy()
    np.savez(tmp_path / "d.npz", X=X, y=y.astype(np.float64))
    out = tmp_path / "m.nbnet"
    args = ["train", "--data", str(tmp_path / "d.npz"), "--epochs", "2", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    assert out.is_file()
    np.savez(tmp_path / "f.npz", X=X, y=y + 0.25)  # truly fractional: refused, a value named
    assert main(["train", "--data", str(tmp_path / "f.npz"), "--epochs", "2"]) == 2
    assert re.search(r"fractional numbers \(e\.g\. [01]\.25\)", capsys.readouterr().err)


def test_cli_bytes_labels_are_text_labels(tmp_path: Path, capsys) -> None:
    """Decided: bytes labels are decoded as UTF-8 text, before training, so the model file
    stores them as the text labels a CSV file would give."""
    X, y = _xy()
    np.savez(tmp_path / "b.npz", X=X, y=np.where(y > 0, b"yes", b"no"))
    _, labels = load_npz(tmp_path / "b.npz")
    assert labels.dtype.kind == "U" and set(labels.tolist()) == {"yes", "no"}
    out = tmp_path / "m.nbnet"
    args = ["train", "--data", str(tmp_path / "b.npz"), "--epochs", "2", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    np.savetxt(tmp_path / "new.csv", X[:3], delimiter=",")
    assert main(["predict", str(out), str(tmp_path / "new.csv")]) == 0
    assert set(capsys.readouterr().out.split()[1:]) <= {"yes", "no"}


def test_bytes_labels_that_are_not_utf8_fail_before_training(tmp_path: Path, capsys) -> None:
    X, y = _xy()
    np.savez(tmp_path / "b.npz", X=X, y=np.where(y > 0, b"\xff", b"no"))
    assert main(["train", "--data", str(tmp_path / "b.npz"), "--epochs", "2"]) == 2
    captured = capsys.readouterr()
    assert "not UTF-8 text" in captured.err and "b'\\xff'" in captured.err
    assert "epoch" not in captured.out  # refused before any training


# -- an empty IDX file ------------------------------------------------------------------------
def _idx(path: Path, dims: tuple[int, ...], data: bytes = b"") -> None:
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(header + data)


def test_an_empty_idx_file_is_named(tmp_path: Path, capsys) -> None:
    _idx(tmp_path / "train-images-idx3-ubyte", (0, 28, 28))
    _idx(tmp_path / "train-labels-idx1-ubyte", (0,))
    _idx(tmp_path / "t10k-images-idx3-ubyte", (1, 28, 28), bytes(784))
    _idx(tmp_path / "t10k-labels-idx1-ubyte", (1,), b"\x00")
    with pytest.raises(ValueError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "holds no pixels" in message
    assert "(0, 28, 28)" in message and "reshape" not in message
    assert main(["train", "--idx-dir", str(tmp_path), "--epochs", "1"]) == 2
    assert "holds no pixels" in capsys.readouterr().err


# -- the --header hint --------------------------------------------------------------------------
def test_no_header_hint_when_the_header_was_found(tmp_path: Path, capsys) -> None:
    (tmp_path / "h.csv").write_text("a,b,label\n1,x,0\n2,3,1\n")
    assert main(["train", "--data", str(tmp_path / "h.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 1 ('b'): 'x' is not a number" in err
    assert "--header" not in err and "read as data" not in err
    (tmp_path / "n.csv").write_text("1,x,0\n2,3,1\n")  # no header found: the hint is right
    assert main(["train", "--data", str(tmp_path / "n.csv")]) == 2
    assert "--header" in capsys.readouterr().err


# -- gradcheck: targets each loss is defined on, and outputs it can take ----------------------
@pytest.mark.parametrize("output", ["exp", "sigmoid", "softmax"])
def test_gradcheck_poisson_passes_with_count_targets(output: str, capsys) -> None:
    """Before: standard normal targets, where the deviance's y log(y / mu) term is dropped for
    y < 0 but its gradient 1 - y / mu is not, so a correct backward read as FAILED."""
    args = ["gradcheck", "--layers", "3-4-2", "--loss", "half_poisson_deviance", "--output", output]
    assert main(args) == 0, capsys.readouterr()
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("loss", "output", "needs"),
    [("half_poisson_deviance", "identity", "positive means"),
     ("half_poisson_deviance", "relu", "positive means"),
     ("binary_cross_entropy", "identity", "probabilities"),
     ("categorical_cross_entropy", "tanh", "probabilities")],
)  # fmt: skip
def test_gradcheck_refuses_an_output_outside_the_loss(loss, output, needs, capsys) -> None:
    """Before: NumPy's "zero-size array to reduction operation maximum" (the loss was NaN, so
    every finite difference was NaN and none was compared), or a false FAILED (clipped logs)."""
    assert main(["gradcheck", "--layers", "3-4-2", "--loss", loss, "--output", output]) == 2
    err = capsys.readouterr().err
    assert f"--loss {loss} needs {needs}" in err and f"--output-activation {output}" in err
    assert "zero-size" not in err


def test_train_refuses_poisson_on_an_identity_output(tmp_path: Path, capsys) -> None:
    """Before: "training diverged ... Try a smaller --lr" at the first batch."""
    X, _ = _xy()
    counts = np.random.default_rng(1).poisson(2.0, size=len(X)).astype(np.float64)
    np.savez(tmp_path / "c.npz", X=X, y=counts)
    base = ["train", "--data", str(tmp_path / "c.npz"), "--regression", "--epochs", "2"]
    assert main([*base, "--loss", "half_poisson_deviance", "--output", "identity"]) == 2
    err = capsys.readouterr().err
    assert "needs positive means" in err and "smaller --lr" not in err
    out = tmp_path / "m.nbnet"
    assert (
        main([*base, "--loss", "half_poisson_deviance", "--output", "sigmoid", "--out", str(out)])
        == 0
    )
    assert out.is_file()


def test_gradcheck_names_a_loss_that_is_nan_at_the_start() -> None:
    from nablanet.gradcheck import gradcheck

    model = Sequential.from_sizes([3, 4, 1], ["tanh", "identity"], loss="half_poisson_deviance")
    X = np.random.default_rng(0).normal(size=(8, 3))
    with pytest.raises(ValueError, match="half_poisson_deviance is nan at these weights"):
        gradcheck(model, X, np.ones((8, 1)))


# -- synthetic data sets: sizes past memory, noise past float64 ----------------------------------
@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [("make_moons", {"noise": 1e308}, r"noise=1e\+308 is too large: a coordinate overflowed"),
     ("make_circles", {"noise": 1e308}, r"noise=1e\+308 is too large"),
     ("make_spirals", {"noise": 1e308}, r"noise=1e\+308 is too large"),
     ("make_blobs", {"cluster_std": 1e308}, r"cluster_std=1e\+308 is too large"),
     ("make_blobs", {"n_samples": 10**13}, r"make_blobs\(n_samples=10000000000000, 2 features\) "
                                           r"needs about .*TiB"),
     ("make_blobs", {"n_samples": 10, "n_features": 10**12}, r"10+ features\) needs about"),
     ("make_moons", {"n_samples": 10**13}, r"make_moons\(n_samples=10000000000000\) needs")],
)  # fmt: skip
def test_synthetic_data_refuses_what_it_cannot_make(make: str, kwargs: dict, message: str) -> None:
    """Before: infinite coordinates returned silently, or NumPy's MemoryError."""
    import warnings

    from nablanet import datasets

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning on the way to the message
        with pytest.raises(ValueError, match=message):
            getattr(datasets, make)(seed=0, **kwargs)
