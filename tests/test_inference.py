"""Tests for predict_proba's fast path (nablanet._inference) and its kernel (_fast.infer).

The reference is the checked path: ``Sequential.predict_proba`` with the fast path switched
off (``nablanet.model.fast_predict`` returning None), which walks the layers' own NumPy
``forward``. The two must agree to float tolerance for every input, NaN must raise the same
error, and the fast path must see weights changed after its first use.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import nablanet as nn
import nablanet.model as model_module
from nablanet import _fast, _inference
from nablanet.functional import sigmoid, softmax

# float32 outputs in (0, 1) or O(1): sums over 784 products in another order differ by a few
# float32 ulps of the partial sums; float64 by a few float64 ulps
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}
FAST = [
    pytest.param(True, marks=pytest.mark.skipif(not _fast.AVAILABLE, reason="needs numba")),
    False,
]


def _checked(model, X, **kwargs):
    """predict_proba by the checked path only (the code before the fast path existed)."""
    saved = model_module.fast_predict
    model_module.fast_predict = lambda *args: None
    try:
        return model.predict_proba(X, **kwargs)
    finally:
        model_module.fast_predict = saved


@pytest.fixture
def runs(monkeypatch):
    """Count the calls of Plan.run (the fast path taken)."""
    calls = []
    real = _inference.Plan.run

    def counting(self, X):
        calls.append(len(X))
        return real(self, X)

    monkeypatch.setattr(_inference.Plan, "run", counting)
    return calls


NETWORKS = {
    "relu-softmax": dict(activation="relu", output="softmax", loss="categorical_cross_entropy"),
    "link-softmax": dict(activation="relu", output="identity", loss="softmax_cross_entropy"),
    "tanh-sigmoid": dict(activation="tanh", output="sigmoid", loss="binary_cross_entropy"),
    "sigmoid-link": dict(activation="sigmoid", output="identity", loss="bce_with_logits"),
    "relu-identity": dict(activation="relu", output="identity", loss="mse"),
    "relu-exp": dict(activation="relu", output="identity", loss="exp_half_poisson_deviance"),
}


def _model(name, dtype, sizes=(13, 9, 7, 3), dropout=0.0):
    sizes = list(sizes)
    if name in ("tanh-sigmoid", "sigmoid-link"):
        sizes[-1] = 1
    return nn.Sequential.from_sizes(sizes, dropout=dropout, seed=3, dtype=dtype, **NETWORKS[name])


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("n", [1, 2, 3, 37, 300])
def test_fast_path_equals_checked_path(name, dtype, n, fast, runs, rng):
    model = _model(name, dtype)
    X = rng.normal(scale=2.0, size=(n, 13)).astype(dtype)
    with _fast.use_fast(fast):
        got = model.predict_proba(X)
        want = _checked(model, X)
    assert runs == [n]  # the fast path ran, once
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOL[dtype])


def test_fast_path_with_dropout_and_a_dense_without_activation(runs, rng):
    layers = [nn.Dense(8), nn.Dropout(0.5), nn.Dense(6), nn.ReLU(), nn.Dropout(0.2),
              nn.Dense(4), nn.Softmax()]  # fmt: skip
    model = nn.Sequential(layers, loss="categorical_cross_entropy", seed=0)
    model.build(5)
    for n in (1, 40):
        X = rng.normal(size=(n, 5)).astype(np.float32)
        np.testing.assert_allclose(model.predict_proba(X), _checked(model, X), **TOL[np.float32])
    assert runs == [1, 40]


@pytest.mark.parametrize(
    "X",
    [
        lambda X: np.asfortranarray(X),  # not C-contiguous
        lambda X: np.repeat(X, 2, axis=1)[:, ::2],  # a strided view
        lambda X: X.astype(np.float64),  # another dtype than the model's
        lambda X: X.tolist(),  # not an array
        lambda X: X.astype(np.float16),
    ],
    ids=["fortran", "strided", "float64", "list", "float16"],
)
def test_inputs_that_are_not_ready_take_the_checked_path_and_agree(X, runs, rng):
    model = _model("relu-softmax", np.float32)
    base = rng.normal(size=(5, 13)).astype(np.float32)
    got = model.predict_proba(X(base))
    assert runs == []
    np.testing.assert_allclose(got, _checked(model, X(base)), rtol=0, atol=0)  # the same path


@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("n", [1, 2, 50])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises_the_checked_paths_error(bad, n, fast, rng):
    model = _model("relu-softmax", np.float32)
    X = rng.normal(size=(n, 13)).astype(np.float32)
    X[n // 2, 4] = bad
    with _fast.use_fast(fast):
        with pytest.raises(ValueError) as fast_error:
            model.predict_proba(X)
        with pytest.raises(ValueError) as checked_error:
            _checked(model, X)
    assert str(fast_error.value) == str(checked_error.value)
    assert "NaN" in str(fast_error.value) or "inf" in str(fast_error.value)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("fast", FAST)
@pytest.mark.parametrize("n", [1, 20])
def test_finite_input_that_overflows_gives_the_checked_paths_output(n, fast):
    model = _model("relu-identity", np.float32)
    X = np.full((n, 13), 3e38, dtype=np.float32)  # finite; x @ W overflows to +-inf
    with _fast.use_fast(fast):
        got = model.predict_proba(X)
        want = _checked(model, X)
    assert not np.isfinite(want).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], **TOL[np.float32])


def test_the_plan_sees_new_weights_a_new_loss_and_a_copy(runs, rng):
    model = _model("relu-identity", np.float32)
    X = rng.normal(size=(1, 13)).astype(np.float32)
    before = model.predict_proba(X)
    model.set_weights([{k: 2 * v + 1 for k, v in w.items()} for w in model.get_weights()])
    after = model.predict_proba(X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, _checked(model, X), **TOL[np.float32])
    model.fit(rng.normal(size=(20, 13)), rng.normal(size=(20, 3)), epochs=1, batch_size=5)
    np.testing.assert_allclose(model.predict_proba(X), _checked(model, X), **TOL[np.float32])
    logits = model.predict_proba(X)
    model.compile(loss="exp_half_poisson_deviance")  # the link becomes exp
    np.testing.assert_allclose(model.predict_proba(X), np.exp(logits), **TOL[np.float32])
    np.testing.assert_allclose(model.predict_proba(X), _checked(model, X), **TOL[np.float32])
    twin = copy.deepcopy(model)
    np.testing.assert_allclose(twin.predict_proba(X), model.predict_proba(X), rtol=0, atol=0)
    assert len(runs) == 8


def test_networks_outside_the_plan_take_the_checked_path(runs, rng):
    leaky = nn.Sequential([nn.Dense(4), nn.LeakyReLU(), nn.Dense(2)], seed=0)
    leaky.build(3)
    double = nn.Sequential([nn.Dense(4), nn.Softmax()], loss="softmax_cross_entropy", seed=0)
    with pytest.warns(UserWarning, match="softmax"):
        double.build(3)  # a Softmax layer and a softmax link: the checked path composes them
    X = rng.normal(size=(2, 3)).astype(np.float32)
    for model in (leaky, double):
        np.testing.assert_allclose(model.predict_proba(X), _checked(model, X), rtol=0, atol=0)
        assert model._inference is False
    assert runs == []


def test_batches_larger_than_batch_size_take_the_checked_path(runs, rng):
    model = _model("relu-softmax", np.float32)
    X = rng.normal(size=(10, 13)).astype(np.float32)
    got = model.predict_proba(X, batch_size=3)
    np.testing.assert_allclose(got, _checked(model, X), **TOL[np.float32])
    assert runs == []


# -- the kernel itself, against NumPy ----------------------------------------------------------
needs_numba = pytest.mark.skipif(not _fast.AVAILABLE, reason="needs numba")
REFERENCE = {
    _inference.IDENTITY: lambda z: z,
    _inference.RELU: lambda z: np.maximum(z, 0),
    _inference.SIGMOID: sigmoid,
    _inference.TANH: np.tanh,
    _inference.SOFTMAX: lambda z: softmax(z, axis=1),
    _inference.EXP: np.exp,
}


@needs_numba
def test_activation_codes_agree_with_the_kernels():
    assert (_fast.infer.IDENTITY, _fast.infer.RELU, _fast.infer.SIGMOID, _fast.infer.TANH) == (
        _fast.dense.IDENTITY,
        _fast.dense.RELU,
        _fast.dense.SIGMOID,
        _fast.dense.TANH,
    )
    assert (_fast.infer.SOFTMAX, _fast.infer.EXP) == (_inference.SOFTMAX, _inference.EXP)
    assert _inference.TANH == _fast.dense.TANH


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("last", list(REFERENCE))
@pytest.mark.parametrize("n_in", [1, 4, 11])  # below, at and past the 4-row unrolling
def test_forward_rows_equals_numpy(last, dtype, n_in, rng):
    sizes = [n_in, 6, 5, 3]
    kinds = [_inference.TANH, _inference.RELU, last]
    parts, table, offset = [], [], 0
    for a, b, kind in zip(sizes[:-1], sizes[1:], kinds, strict=True):
        W, bias = rng.normal(size=(a, b)), rng.normal(size=b)
        parts += [W.ravel(), bias]
        table.append([a, b, offset, offset + W.size, kind])
        offset += W.size + b
    flat = np.concatenate(parts).astype(dtype)
    table = np.array(table, dtype=np.int64)
    x = rng.normal(size=(3, n_in)).astype(dtype)
    want = x
    for a, b, off_w, off_b, kind in table:
        want = REFERENCE[kind](
            want @ flat[off_w : off_w + a * b].reshape(a, b) + flat[off_b : off_b + b]
        )
    out = np.empty((3, 3), dtype=dtype)
    assert _fast.infer.forward_rows(x, flat, table, out) is True
    np.testing.assert_allclose(out, want, **TOL[dtype])
    x[1, 0] = np.nan
    assert _fast.infer.forward_rows(x, flat, table, out) is False


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kind", [_inference.IDENTITY, _inference.RELU, _inference.SIGMOID, _inference.TANH]
)
def test_bias_act_finite_equals_numpy_and_flags_non_finite_sums(kind, dtype, rng):
    z = rng.normal(scale=3.0, size=(7, 5)).astype(dtype)
    b = rng.normal(size=5).astype(dtype)
    want = REFERENCE[kind](z + b)
    got = z.copy()
    assert _fast.infer.bias_act_finite(got, b, kind) is True
    np.testing.assert_allclose(got, want, **TOL[dtype])
    for bad in (np.nan, np.inf, -np.inf):
        z_bad = z.copy()
        z_bad[3, 2] = bad  # ReLU would turn a NaN into 0: the check comes before it
        assert _fast.infer.bias_act_finite(z_bad, b, kind) is False


# -- the estimators ----------------------------------------------------------------------------
def _estimator_checked(est, X, method):
    """The estimator's method with the fast path off (the code before it)."""
    import nablanet.estimators._base as base

    saved = base.fast_predict
    base.fast_predict = lambda *args: None
    try:
        return getattr(est, method)(X)
    finally:
        base.fast_predict = saved


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regressor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimator_fast_path_equals_checked_path(kind, dtype, runs, rng):
    pytest.importorskip("sklearn")
    from nablanet.estimators import MLPClassifier, MLPRegressor

    X = rng.normal(size=(60, 6)).astype(dtype)
    if kind == "regressor":
        est, y, methods = MLPRegressor(max_iter=3), X[:, 0] + X[:, 1], ["predict"]
    else:
        est = MLPClassifier(max_iter=3)
        y, methods = (
            (X[:, 0] > 0).astype(int) + (kind == "multiclass") * (X[:, 1] > 0),
            [
                "predict",
                "predict_proba",
            ],
        )
    est.set_params(hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    assert est.model_.dtype == dtype
    for n in (1, 2, 25):
        for method in methods:
            got = getattr(est, method)(X[:n])
            want = _estimator_checked(est, X[:n], method)
            np.testing.assert_allclose(got, want, **TOL[dtype])
    assert len(runs) == 3 * len(methods)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n", [1, 30])
def test_estimator_nan_and_other_inputs_take_the_checked_path(n, runs, rng):
    pytest.importorskip("sklearn")
    from nablanet.estimators import MLPClassifier

    X = rng.normal(size=(40, 4)).astype(np.float32)
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    est.fit(X, (X[:, 0] > 0).astype(int))
    bad = X[:n].copy()
    bad[-1, 2] = np.nan
    with pytest.raises(ValueError) as fast_error:
        est.predict_proba(bad)
    with pytest.raises(ValueError) as checked_error:
        _estimator_checked(est, bad, "predict_proba")
    assert str(fast_error.value) == str(checked_error.value)
    assert "NaN" in str(fast_error.value)
    with pytest.raises(ValueError, match="features"):
        est.predict_proba(X[:n, :3])  # scikit-learn's message about the width
    np.testing.assert_allclose(  # float64 into a float32 network: the checked path
        est.predict_proba(X[:n].astype(np.float64)), est.predict_proba(X[:n]), **TOL[np.float32]
    )
    assert runs == [n, n]  # the NaN batch tried the fast path, then the float32 call used it


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_softmax_equals_numpy(dtype, rng):
    z = rng.normal(scale=30.0, size=(9, 4)).astype(dtype)  # large: the shift matters
    b = rng.normal(size=4).astype(dtype)
    want = softmax(z + b, axis=1)
    got = _fast.infer.bias_softmax(z.copy(), b)
    # the same operations in the same order (NumPy's exp and row sums): equal to the last bit,
    # as the checked path's Dense + Softmax (tests/test_training.py compares them exactly)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, **TOL[dtype])
