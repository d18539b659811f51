"""Tests for the input checks of nablanet's public API (nablanet._validation and its callers)."""

# Bad input gets a ValueError or TypeError that names the problem and quotes the value received.
# Never a NumPy error from deep inside: every error must be raised by nablanet's own code (the
# innermost traceback frame is in the nablanet package), before any weight is touched.
#
# One file rather than one per module: each table is a single contract checked the same way over
# every entry point (constructors, compile, fit, predict, evaluate, set_weights, the registries),
# and its cases share one data set and one set of model factories. Checks that belong to one
# module only live with that module's tests (e.g. test_optimizers.py, test_callbacks.py).

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nablanet as nn
from _helpers import softmax_net, three_class_data
from nablanet import Sequential

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 3))
Y = (X[:, 0] > 0).astype(int)
ROW = np.arange(20)


def binary() -> Sequential:
    return Sequential.from_sizes([3, 4, 1], "relu", "sigmoid", loss="bce", seed=0)


def three_class() -> Sequential:
    return Sequential.from_sizes([3, 4, 3], "relu", "softmax", loss="cross_entropy", seed=0)


def fitted() -> Sequential:
    model = binary()
    model.fit(X, Y, epochs=2)
    return model


def unbuilt() -> Sequential:
    return Sequential([nn.Dense(4), nn.ReLU(), nn.Dense(1), nn.Sigmoid()], loss="bce")


def with_value(a: np.ndarray, flat_index: int, value: float) -> np.ndarray:
    out = np.array(a, dtype=float)
    out.flat[flat_index] = value
    return out


def weights_3_4_1(W0_shape=(3, 4), b0_shape=(4,)) -> list[dict[str, np.ndarray]]:
    return [
        {"W": np.zeros(W0_shape), "b": np.zeros(b0_shape)},
        {},
        {"W": np.zeros((4, 1)), "b": np.zeros(1)},
        {},
    ]


CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # (case, call, error type, regex the message must match: problem and received value)
    (
        "wrong feature count at predict",
        lambda: fitted().predict(X[:, :2]),
        ValueError,
        r"X has 2 features, but the model expects 3.*\(20, 2\)",
    ),
    (
        "X/y length mismatch",
        lambda: binary().fit(X, Y[:-1]),
        ValueError,
        r"different numbers of samples: 20 and 19",
    ),
    (
        "NaN in X",
        lambda: binary().fit(with_value(X, 7, np.nan), Y),
        ValueError,
        r"X contains NaN or infinity \(first at index \(2, 1\): .*nan",
    ),
    (
        "inf in X",
        lambda: binary().fit(with_value(X, 7, -np.inf), Y),
        ValueError,
        r"X contains NaN or infinity \(first at index \(2, 1\): .*-inf",
    ),
    (
        "NaN in X at predict",
        lambda: fitted().predict(with_value(X[:2], 0, np.nan)),
        ValueError,
        r"X contains NaN or infinity .*nan",
    ),
    (
        "NaN in y",
        lambda: binary().fit(X, with_value(Y, 3, np.nan)),
        ValueError,
        r"y contains NaN or infinity \(first at index \(3,\): .*nan",
    ),
    (
        "empty X",
        lambda: binary().fit(np.empty((0, 3)), np.empty(0)),
        ValueError,
        r"X is empty \(shape \(0, 3\)\)",
    ),
    (
        "1-D X",
        lambda: binary().fit(X[:, 0], Y),
        ValueError,
        r"X must be a 2-D array, got 1-D array of shape \(20,\).*reshape",
    ),
    (
        "1-D X at predict",
        lambda: fitted().predict(X[0]),
        ValueError,
        r"2-D array, got 1-D array of shape \(3,\)",
    ),
    (
        "label 3 for 3 outputs",
        lambda: three_class().fit(X, np.where(ROW == 4, 3, Y)),
        ValueError,
        r"class labels must be in \[0, 2\] .*3 outputs, got label 3",
    ),
    (
        "label -1",
        lambda: three_class().fit(X, np.where(ROW == 4, -1, Y)),
        ValueError,
        r"class labels must be in \[0, 2\] .*got label -1",
    ),
    (
        "label 2 for a binary model",
        lambda: binary().fit(X, np.where(ROW == 4, 2, Y)),
        ValueError,
        r"binary targets must lie in \[0, 1\], got .*2\.0",
    ),
    (
        "fractional class label",
        lambda: three_class().fit(X, np.where(ROW == 4, 1.5, Y)),
        ValueError,
        r"class labels must be whole numbers, got .*1\.5",
    ),
    (
        "string X",
        lambda: binary().fit(np.array([["a", "b", "c"]] * 20), Y),
        TypeError,
        r"X must contain numbers, got an array of dtype <U1 \(first value .*'a'\)",
    ),
    (
        "string y",
        lambda: binary().fit(X, np.array(["cat", "dog"] * 10)),
        TypeError,
        r"y must contain numbers, got dtype <U3 \(first value .*'cat'\)",
    ),
    (
        "None as X",
        lambda: binary().fit(None, Y),
        TypeError,
        r"X must be a numeric array, got None",
    ),
    (
        "ragged X",
        lambda: binary().fit([[1.0, 2.0, 3.0], [1.0, 2.0]], [0, 1]),
        ValueError,
        r"X .*\[\[1\.0, 2\.0, 3\.0\], \[1\.0, 2\.0\]\]",
    ),
    (
        "unknown activation",
        lambda: Sequential.from_sizes([3, 4, 1], "relux"),
        ValueError,
        r"unknown activation 'relux'; expected one of \[.*'relu'",
    ),
    (
        "unknown loss",
        lambda: Sequential.from_sizes([3, 4, 1], loss="msee"),
        ValueError,
        r"unknown loss 'msee'; expected one of \[.*'mse'",
    ),
    (
        "unknown optimizer",
        lambda: Sequential.from_sizes([3, 4, 1], optimizer="adamx"),
        ValueError,
        r"unknown optimizer 'adamx'; expected one of \[.*'adam'",
    ),
    (
        "unknown initializer",
        lambda: Sequential.from_sizes([3, 4, 1], kernel_initializer="hee"),
        ValueError,
        r"unknown initializer 'hee'; expected one of \[.*'he_uniform'",
    ),
    (
        "unknown bias initializer",
        lambda: Sequential.from_sizes([3, 4, 1], bias_initializer="ones!"),
        ValueError,
        r"unknown initializer 'ones!'",
    ),
    (
        "batch_size 0",
        lambda: binary().fit(X, Y, batch_size=0),
        ValueError,
        r"batch_size must be an integer >= 1, got 0",
    ),
    (
        "batch_size -1",
        lambda: binary().fit(X, Y, batch_size=-1),
        ValueError,
        r"batch_size must be an integer >= 1, got -1",
    ),
    (
        "batch_size 2.5",
        lambda: binary().fit(X, Y, batch_size=2.5),
        TypeError,
        r"batch_size must be an integer >= 1, got 2\.5",
    ),
    (
        "lr 0",
        lambda: Sequential.from_sizes([3, 4, 1], lr=0),
        ValueError,
        r"lr must be a finite number > 0, got 0",
    ),
    (
        "lr -0.1",
        lambda: Sequential.from_sizes([3, 4, 1], lr=-0.1),
        ValueError,
        r"lr must be a finite number > 0, got -0\.1",
    ),
    (
        "lr nan",
        lambda: Sequential.from_sizes([3, 4, 1], lr=float("nan")),
        ValueError,
        r"lr must be a finite number > 0, got nan",
    ),
    (
        "lr 0 in compile",
        lambda: binary().compile(optimizer="adam", lr=0.0),
        ValueError,
        r"lr must be a finite number > 0, got 0\.0",
    ),
    (
        "lr -0.1 to an optimizer",
        lambda: nn.SGD(lr=-0.1),
        ValueError,
        r"lr must be a finite number > 0, got -0\.1",
    ),
    (
        "lr as a string",
        lambda: Sequential.from_sizes([3, 4, 1], lr="0.1"),
        TypeError,
        r"lr must be a number, got '0\.1'",
    ),
    (
        "epochs 0",
        lambda: binary().fit(X, Y, epochs=0),
        ValueError,
        r"epochs must be an integer >= 1, got 0",
    ),
    (
        "epochs -3",
        lambda: binary().fit(X, Y, epochs=-3),
        ValueError,
        r"epochs must be an integer >= 1, got -3",
    ),
    (
        "layer size 0",
        lambda: Sequential.from_sizes([2, 0, 1]),
        ValueError,
        r"layer size must be an integer >= 1, got 0",
    ),
    (
        "step activation",
        lambda: Sequential.from_sizes([2, 3, 1], "step"),
        ValueError,
        r"step activation .*Perceptron",
    ),
    (
        "step output",
        lambda: Sequential.from_sizes([2, 3, 1], "relu", "step"),
        ValueError,
        r"step activation .*Perceptron",
    ),
    (
        "validation_split 1.5",
        lambda: binary().fit(X, Y, validation_split=1.5),
        ValueError,
        r"validation_split must be in \[0, 1\), got 1\.5",
    ),
    (
        "validation_split 1.0",
        lambda: binary().fit(X, Y, validation_split=1.0),
        ValueError,
        r"validation_split must be in \[0, 1\), got 1\.0",
    ),
    (
        "validation_split -0.1",
        lambda: binary().fit(X, Y, validation_split=-0.1),
        ValueError,
        r"validation_split must be in \[0, 1\), got -0\.1",
    ),
    (
        "validation_split leaving no validation sample",
        lambda: binary().fit(X, Y, validation_split=0.01),
        ValueError,
        r"validation_split=0\.01 leaves 0 of 20 samples",
    ),
    (
        "wrong initial weights shape",
        lambda: Sequential.from_sizes(
            [3, 4, 1], weights=[(np.zeros((4, 3)), np.zeros(4)), (np.zeros((4, 1)), np.zeros(1))]
        ),
        ValueError,
        r"initial weights must have shape \(3, 4\), got \(4, 3\)",
    ),
    (
        "wrong initial bias shape",
        lambda: Sequential.from_sizes(
            [3, 4, 1], weights=[(np.zeros((3, 4)), np.zeros(3)), (np.zeros((4, 1)), np.zeros(1))]
        ),
        ValueError,
        r"initial bias must have shape \(4,\), got \(3,\)",
    ),
    (
        "wrong number of initial (W, b) pairs",
        lambda: Sequential.from_sizes([3, 4, 1], weights=[(np.zeros((3, 4)), np.zeros(4))]),
        ValueError,
        r"weights must hold 2 \(W, b\) pairs, got 1",
    ),
    (
        "predict before fit",
        lambda: unbuilt().predict(X),
        ValueError,
        r"not built yet: call fit\(X, y\)",
    ),
    (
        "predict_proba before fit",
        lambda: unbuilt().predict_proba(X),
        ValueError,
        r"not built yet",
    ),
    (
        "evaluate before fit",
        lambda: unbuilt().evaluate(X, Y),
        ValueError,
        r"not built yet",
    ),
    (
        "set_weights with a wrong W shape",
        lambda: binary().set_weights(weights_3_4_1(W0_shape=(3, 5))),
        ValueError,
        r"layer 0 W has shape \(3, 4\), got \(3, 5\)",
    ),
    (
        "set_weights with a wrong b shape",
        lambda: binary().set_weights(weights_3_4_1(b0_shape=(2,))),
        ValueError,
        r"layer 0 b has shape \(4,\), got \(2,\)",
    ),
    (
        "set_weights for too few layers",
        lambda: binary().set_weights(weights_3_4_1()[:1]),
        ValueError,
        r"expected weights for 4 layers, got 1",
    ),
    (
        "y with the wrong number of columns",
        lambda: binary().fit(X, np.zeros((20, 2))),
        ValueError,
        r"y has 2 columns but the network has 1 outputs \(y shape \(20, 2\)\)",
    ),
    (
        "negative seed",
        lambda: binary().fit(X, Y, seed=-1),
        ValueError,
        r"seed must be a non-negative integer, got -1",
    ),
    (
        "integer dtype for the model",
        lambda: Sequential.from_sizes([3, 4, 1], dtype="int32"),
        ValueError,
        r"dtype must be float32 or float64, got int32",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [pytest.param(call, error, pattern, id=case) for case, call, error, pattern in CASES],
)
def test_bad_input_is_named_with_its_value(
    call: Callable[[], Any], error: type[Exception], pattern: str
):
    with pytest.raises(error, match=pattern) as excinfo:
        call()
    assert type(excinfo.value) is error  # not a NumPy subclass of ValueError/TypeError
    innermost = Path(str(excinfo.traceback[-1].path))
    assert "nablanet" in innermost.parts, f"raised from {innermost}, not by nablanet"


# -- the cases of the audit of issue 2 (60 samples, 4 features, 3 classes) -------------------------
def fitted_softmax():
    X, y = three_class_data()
    model = softmax_net()
    model.fit(X, y, epochs=1)
    return model


X60, Y60 = three_class_data()
X60_NAN = X60.copy()
X60_NAN[3, 1] = np.nan
Y60_INF = np.where(np.arange(60) == 5, np.inf, 1.0)

BAD_INPUT = {
    "wrong feature count at predict": (
        lambda: fitted_softmax().predict(X60[:, :3]), ValueError, r"3 features.*expects 4"),
    "X/y length mismatch": (
        lambda: softmax_net().fit(X60, Y60[:-1]), ValueError, r"60 and 59"),
    "NaN in X": (lambda: softmax_net().fit(X60_NAN, Y60), ValueError, r"NaN.*\(3, 1\)"),
    "inf in y": (
        lambda: nn.Sequential.from_sizes([4, 1]).fit(X60, Y60_INF), ValueError, r"infinity.*inf"),
    "NaN in X at predict": (lambda: fitted_softmax().predict(X60_NAN), ValueError, r"NaN"),
    "empty X": (
        lambda: softmax_net().fit(np.empty((0, 4)), np.empty(0)), ValueError, r"empty.*\(0, 4\)"),
    "1-D X": (lambda: softmax_net().fit(X60[:, 0], Y60), ValueError, r"2-D.*shape \(60,\)"),
    "1-D X at predict": (lambda: fitted_softmax().predict(X60[0]), ValueError, r"reshape\(1, -1\)"),
    "3-D X": (lambda: softmax_net().fit(X60.reshape(60, 2, 2), Y60), ValueError, r"3-D"),
    "label above range": (lambda: softmax_net().fit(X60, Y60 + 1), ValueError, r"got label 3"),
    "negative label": (lambda: softmax_net().fit(X60, Y60 - 1), ValueError, r"got label -1"),
    "fractional label": (lambda: softmax_net().fit(X60, Y60 + 0.5), ValueError, r"whole"),
    "binary label 2": (
        lambda: nn.Sequential.from_sizes([4, 1], output="sigmoid", loss="bce").fit(X60, Y60),
        ValueError, r"\[0, 1\].*2"),
    "string X": (
        lambda: softmax_net().fit(np.full((60, 4), "a"), Y60), TypeError, r"numbers.*'a'"),
    "string y": (
        lambda: softmax_net().fit(X60, np.array(["a", "b", "c"] * 20)), TypeError, r"'a'"),
    "y is None": (lambda: softmax_net().fit(X60, None), TypeError, r"None"),
    "unknown activation": (
        lambda: nn.Sequential.from_sizes([2, 2, 1], "relux"), ValueError, r"'relux'.*'relu'"),
    "unknown loss": (lambda: nn.Sequential(loss="msee"), ValueError, r"'msee'.*'mse'"),
    "unknown optimizer": (lambda: nn.Sequential(optimizer="adamx"), ValueError, r"'adamx'"),
    "unknown initializer": (
        lambda: nn.Dense(3, kernel_initializer="glorot"), ValueError, r"'glorot'"),
    "batch_size 0": (lambda: softmax_net().fit(X60, Y60, batch_size=0), ValueError, r"got 0"),
    "batch_size -4": (lambda: softmax_net().fit(X60, Y60, batch_size=-4), ValueError, r"-4"),
    "batch_size 2.5": (lambda: softmax_net().fit(X60, Y60, batch_size=2.5), TypeError, r"2\.5"),
    "lr 0": (lambda: nn.Sequential(lr=0), ValueError, r"lr.*got 0"),
    "lr -0.1 on an optimizer": (lambda: nn.SGD(lr=-0.1), ValueError, r"-0\.1"),
    "lr nan": (lambda: nn.Adam(lr=float("nan")), ValueError, r"nan"),
    "epochs 0": (lambda: softmax_net().fit(X60, Y60, epochs=0), ValueError, r"epochs.*got 0"),
    "epochs 1.5": (lambda: softmax_net().fit(X60, Y60, epochs=1.5), TypeError, r"1\.5"),
    "layer size 0": (lambda: nn.Sequential.from_sizes([2, 0, 1]), ValueError, r"got 0"),
    "units 0": (lambda: nn.Dense(0), ValueError, r"units.*got 0"),
    "one layer size": (lambda: nn.Sequential.from_sizes([2]), ValueError, r"\[2\]"),
    "predict batch_size 0": (
        lambda: fitted_softmax().predict(X60, batch_size=0), ValueError, r"batch_size.*0"),
    "evaluate batch_size 0": (
        lambda: fitted_softmax().evaluate(X60, Y60, batch_size=0), ValueError, r"batch_size.*0"),
    "callback that is a function": (
        lambda: softmax_net().fit(X60, Y60, callbacks=[print]), TypeError, r"Callback.*print"),
    "explicit weights of strings": (
        lambda: nn.Dense(2, weights=[["a", "b"]]), TypeError, r"weights.*'a'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_a_clear_error(case):
    make, error, match = BAD_INPUT[case]
    with pytest.raises(error, match=match):
        make()


# -- a refused input changes nothing ---------------------------------------------------------------
@pytest.mark.parametrize(
    "bad_y",
    [
        pytest.param(np.where(ROW == 4, 3, Y), id="label out of range"),
        pytest.param(with_value(Y, 2, np.nan), id="NaN label"),
        pytest.param(np.array(["a", "b"] * 10), id="string labels"),
        pytest.param(Y[:-1], id="too few labels"),
    ],
)
def test_failed_fit_leaves_the_model_untouched(bad_y: np.ndarray):
    model = three_class()
    model.fit(X, Y, epochs=3, batch_size=5, seed=1)
    before = model.get_weights()
    iterations = model.optimizer.iterations
    state = {k: v.copy() for k, v in model.optimizer.get_state().items()}
    proba = model.predict_proba(X)

    with pytest.raises((ValueError, TypeError)):
        model.fit(X, bad_y, epochs=2)

    for old, new in zip(before, model.get_weights(), strict=True):
        assert old.keys() == new.keys()
        for key in old:
            np.testing.assert_array_equal(new[key], old[key])
    assert model.optimizer.iterations == iterations
    for key, value in model.optimizer.get_state().items():
        np.testing.assert_array_equal(value, state[key])
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    assert model.task == "multiclass"


def test_failed_set_weights_changes_nothing():
    """set_weights checks every layer before copying any (layer 0 fine, layer 2 wrong)."""
    model = binary()
    before = model.get_weights()
    new = weights_3_4_1()
    new[0]["W"] = np.ones((3, 4))
    new[2]["W"] = np.ones((5, 1))
    with pytest.raises(ValueError, match=r"layer 2 W has shape \(4, 1\), got \(5, 1\)"):
        model.set_weights(new)
    np.testing.assert_array_equal(model.layers[0].params["W"], before[0]["W"])


def test_a_failed_fit_leaves_the_trained_weights_alone():
    model = fitted_softmax()
    before = model.get_weights()
    with pytest.raises(ValueError):
        model.fit(X60, Y60 + 5)
    with pytest.raises(ValueError):
        model.fit(X60[:, :3], Y60)
    for old, new in zip(before, model.get_weights(), strict=True):
        for key in old:
            np.testing.assert_array_equal(old[key], new[key])


def test_set_weights_is_all_or_nothing():
    model = fitted_softmax()
    before = model.get_weights()
    bad = [{k: np.zeros_like(v) for k, v in layer.items()} for layer in before]
    bad[2]["W"] = np.zeros((9, 3))  # the second Dense's W has the wrong shape
    with pytest.raises(ValueError, match=r"layer 2 W has shape \(8, 3\), got \(9, 3\)"):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.layers[0].params["W"], before[0]["W"])  # not zeroed
    bad[2]["W"] = np.full((8, 3), np.nan)
    with pytest.raises(ValueError, match=r"NaN"):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.layers[0].params["W"], before[0]["W"])


# -- issue 10, class 4: sizes are bounded by the memory they need, checked before allocating ----
HUGE = 10**12
SIZE_BOUND = {
    "from_sizes 3-1e12-2": (lambda: Sequential.from_sizes([3, HUGE, 2]), r"\[3, 1000000000000, 2\]"),
    "from_sizes 1e30 units": (lambda: Sequential.from_sizes([3, 10**30, 2]), r"\[3, 1e\+30, 2\]"),
    "built Dense(1e12)": (
        lambda: nn.Dense(HUGE).build(3, np.random.default_rng(0)), r"Dense\(1000000000000\)"),
    "Sequential of Dense(1e12)": (
        lambda: Sequential([nn.Dense(HUGE), nn.ReLU(), nn.Dense(2)]).fit(X, Y, epochs=1),
        r"\[3, 1000000000000, 2\]"),
    "1e12 inputs": (lambda: Sequential.from_sizes([HUGE, 2]), r"\[1000000000000, 2\]"),
    "clone of a huge config": (
        lambda: Sequential.from_config(
            {**binary().get_config(), "input_dim": HUGE}), r"\[1000000000000, 4, 1\]"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SIZE_BOUND))
def test_sizes_beyond_the_available_memory_are_refused_with_the_numbers(case):
    make, match = SIZE_BOUND[case]
    with pytest.raises(ValueError, match=match) as excinfo:
        make()
    assert type(excinfo.value) is ValueError
    assert re.search(
        r"needs about [\d.e+]+ \w+ .*; this machine has [\d.]+ \w+ available", str(excinfo.value)
    )
    innermost = Path(str(excinfo.traceback[-1].path))
    assert "nablanet" in innermost.parts, f"raised from {innermost}, not by nablanet"


def _cli(argv: list[str], capsys: Any) -> tuple[int, str]:
    from nablanet import cli

    status = cli.main(argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["gradcheck", "--layers", "2-99999999999-1"], r"the network \[2, 99999999999, 1\]"),
        (["gradcheck", "--samples", str(10**30)], rf"gradcheck with --samples={10**30} needs"),
        (["gradcheck", "--samples", "100000000000000"], r"--samples=100000000000000 needs"),
    ],
)
def test_cli_gradcheck_refuses_sizes_beyond_the_available_memory(argv, match, capsys):
    status, err = _cli(argv, capsys)
    assert status == 2
    assert re.search(match, err), err
    assert "available" in err and "Traceback" not in err


def test_cli_gradcheck_counts_the_samples_before_drawing_them(monkeypatch, capsys):
    import nablanet._validation as validation
    from nablanet.gradcheck import gradcheck_memory

    model = Sequential.from_sizes([4, 8, 3], "tanh", "softmax", loss="cross_entropy")
    monkeypatch.setattr(validation, "available_memory", lambda: gradcheck_memory(model, 1000))
    status, err = _cli(["gradcheck", "--samples", "1001"], capsys)
    assert status == 2 and "gradcheck with --samples=1001 needs about" in err
    assert _cli(["gradcheck", "--samples", "1000"], capsys)[0] == 0


def test_cli_train_refuses_layers_beyond_the_available_memory(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data.csv"
    rows = ["a,b,c,label"]
    rows += [",".join([*(repr(float(v)) for v in x), str(y)]) for x, y in zip(X, Y, strict=True)]
    data.write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    status, err = _cli(
        ["train", "--data", "data.csv", "--label-column", "label", "--layers=99999999999-2",
         "--out", "m.nbnet"], capsys)  # fmt: skip
    assert status == 2, err
    assert "the network [3, 99999999999, 2]" in err and "available" in err
    assert not (tmp_path / "m.nbnet").exists()
