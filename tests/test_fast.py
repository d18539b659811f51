"""Tests for nablanet._fast: every compiled kernel against the NumPy reference it replaces."""

# The NumPy code (optimizers.py, layers/, losses.py, the loop's X[rows]) is the reference; each
# kernel must give the same numbers to float tolerance, in float32 and float64, in its
# single-threaded and its multi-threaded (numba prange) form. Training with and without the
# kernels must end at the same weights.

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nn
from nablanet import _fast

pytestmark = pytest.mark.skipif(not _fast.AVAILABLE, reason="numba is not installed")

TOL = {np.float32: {"rtol": 2e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}
DTYPES = [np.float32, np.float64]


@pytest.fixture(params=["serial", "parallel"])
def form(request, monkeypatch):
    """Run the kernels in their single-threaded or multi-threaded form, whatever the size."""
    parallel = request.param == "parallel"
    for module in ("update", "dense", "gather"):
        monkeypatch.setattr(getattr(_fast, module), "use_parallel", lambda size: parallel)
    return request.param


OPTIMIZERS = {
    "sgd": lambda: nn.SGD(lr=0.1),
    "momentum": lambda: nn.SGD(lr=0.1, momentum=0.9),
    "nesterov": lambda: nn.SGD(lr=0.05, momentum=0.7, nesterov=True),
    "adam": lambda: nn.Adam(lr=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
    "adamw": lambda: nn.Adam(lr=0.01, weight_decay=0.3),
    "rmsprop": lambda: nn.RMSProp(lr=0.01, rho=0.7, epsilon=1e-6),
    "sklearn-adam": lambda: _scikit_adam(lr=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
}


def _scikit_adam(**kwargs):
    """The estimators' scikit-learn Adam rule (its package needs scikit-learn)."""
    pytest.importorskip("sklearn")
    from nablanet.estimators._optimizers import ScikitAdam

    return ScikitAdam(**kwargs)


def _updated(name: str, dtype, fast: bool, steps: int = 4) -> tuple[np.ndarray, dict]:
    """A flat buffer of 1000 parameters after ``steps`` updates with changing gradients."""
    rng = np.random.default_rng(7)
    W = rng.normal(size=(40, 20)).astype(dtype)
    b = rng.normal(size=200).astype(dtype)
    flat_p = np.concatenate([W.ravel(), b])
    flat_g = np.zeros_like(flat_p)
    slots = [("layers.0.W", flat_p[:800].reshape(40, 20), flat_g[:800].reshape(40, 20)),
             ("layers.0.b", flat_p[800:], flat_g[800:])]  # fmt: skip
    optimizer = OPTIMIZERS[name]()
    optimizer.build(slots, (flat_p, flat_g))
    with _fast.use_fast(fast):
        for _ in range(steps):
            flat_g[...] = rng.normal(size=flat_g.size)
            optimizer.step()
    return flat_p, optimizer.get_state()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_kernel_equals_numpy(name, dtype, form):
    if form == "parallel" and dtype is np.float64:
        pytest.skip("the multi-threaded form is checked in float32 (compile time)")
    p_ref, state_ref = _updated(name, dtype, fast=False)
    p_fast, state_fast = _updated(name, dtype, fast=True)
    assert p_fast.dtype == dtype
    assert not np.array_equal(p_ref, _updated(name, dtype, fast=False, steps=0)[0])  # it moved
    np.testing.assert_allclose(p_fast, p_ref, **TOL[dtype])
    for key in state_ref:
        np.testing.assert_allclose(state_fast[key], state_ref[key], **TOL[dtype])


def test_non_contiguous_parameters_take_the_numpy_path():
    # a parameter bound as a transposed view cannot be flattened in place: NumPy updates it
    W = np.arange(6, dtype=np.float64).reshape(2, 3)
    results = []
    for fast in (False, True):
        p, g = W.copy().T, np.ones((3, 2))
        optimizer = nn.SGD(lr=0.5, momentum=0.5)
        optimizer.build([("layers.0.W", p, g)])
        with _fast.use_fast(fast):
            optimizer.step()
            optimizer.step()
        results.append(p.copy())
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], W.T - 0.5 * 1.0 - 0.5 * 1.5)  # v: 1, then 1.5


ACTIVATIONS = {"identity": 0, "relu": 1, "sigmoid": 2, "tanh": 3}


def _dense_pair(activation: str, dtype, rng) -> tuple[nn.layers.Dense, nn.layers.Layer]:
    dense = nn.layers.Dense(33)
    dense.build(17, rng, dtype)
    dense.params["b"][...] = rng.normal(size=33)
    return dense, nn.layers.get_activation(activation)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_bias_activation_forward_and_backward_equal_numpy(activation, dtype, form, rng):
    if form == "parallel" and dtype is np.float64:
        pytest.skip("the multi-threaded form is checked in float32 (compile time)")
    dense, act = _dense_pair(activation, dtype, rng)
    x = (3 * rng.normal(size=(50, 17))).astype(dtype)
    dy = rng.normal(size=(50, 33)).astype(dtype)
    # the NumPy reference: the two layers one after the other
    a_ref = act.forward(dense.forward(x))
    dz_ref = act.backward(dy)
    db_ref = dz_ref.sum(axis=0)
    # the kernels: a = f(x @ W + b) in place, then delta and db in one pass
    a = _fast.dense.bias_act(dense.linear(x), dense.params["b"], ACTIVATIONS[activation])
    db = np.full(33, np.nan, dtype=dtype)
    dz = _fast.dense.act_backward(dy.copy(), a, ACTIVATIONS[activation], db)
    assert a.dtype == dz.dtype == dtype
    np.testing.assert_allclose(a, a_ref, **TOL[dtype])
    np.testing.assert_allclose(dz, dz_ref, **TOL[dtype])
    np.testing.assert_allclose(db, db_ref, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"])


def test_sigmoid_kernel_is_safe_from_overflow():
    z = np.array([[-1000.0, -20.0, 0.0, 20.0, 1000.0]], dtype=np.float32)
    a = _fast.dense.bias_act(z.copy(), np.zeros(5, np.float32), ACTIVATIONS["sigmoid"])
    np.testing.assert_allclose(a, nn.functional.sigmoid(z), rtol=1e-6, atol=0)
    assert a[0, 1] > 0  # e^-20 / (1 + e^-20) keeps its relative precision


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_kernel_equals_numpy(dtype, rng):
    z = (5 * rng.normal(size=(64, 10))).astype(dtype)
    y = np.eye(10, dtype=dtype)[rng.integers(0, 10, 64)]
    reference = nn.losses.SoftmaxCrossEntropy()
    fused = nn.losses.SoftmaxCrossEntropy()
    with _fast.use_fast(False):
        loss_ref, grad_ref = reference.forward(z, y), reference.backward()
    with _fast.use_fast(True):
        loss, grad = fused.forward(z, y), fused.backward()
        assert np.array_equal(fused.backward(), grad)  # backward twice: the same gradient
    assert loss == pytest.approx(loss_ref, rel=TOL[dtype]["rtol"])
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, grad_ref, **TOL[dtype])
    # and the kernel's value is the definition: -mean log softmax(z)[label]
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.mean(np.sum(y * log_p, axis=1)), rel=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_gather_equals_fancy_indexing(dtype, form, rng):
    if form == "parallel" and dtype is not np.float32:
        pytest.skip("the multi-threaded form is checked in float32 (compile time)")
    X = rng.integers(-100, 100, size=(30, 7)).astype(dtype)
    idx = rng.permutation(30)[:12]
    out = _fast.gather.take_rows(X, idx)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, X[idx])
    assert _fast.gather.fits(X, idx) and not _fast.gather.fits(X, slice(0, 3))
    assert not _fast.gather.fits(np.asfortranarray(X), idx)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "hidden, optimizer",
    [("relu", "momentum"), ("tanh", "adam"), ("sigmoid", "rmsprop"), ("relu", "nesterov")],
)
def test_training_with_and_without_kernels_ends_at_the_same_weights(hidden, optimizer, dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 12))
    y = rng.integers(0, 4, 200)
    weights, losses = [], []
    for fast in (False, True):
        model = nn.Sequential.from_sizes(
            [12, 16, 8, 4], hidden, "softmax", loss="categorical_cross_entropy",
            optimizer=OPTIMIZERS[optimizer](), seed=0, dtype=dtype,
        )  # fmt: skip
        with _fast.use_fast(fast):
            history = model.fit(X, y, epochs=3, batch_size=32, seed=1, verbose=False)
        weights.append(model.parameters_to_vector())
        losses.append(history.history["loss"])
    start = nn.Sequential.from_sizes([12, 16, 8, 4], hidden, "softmax", seed=0, dtype=dtype)
    start.build(12)
    assert not np.allclose(weights[0], start.parameters_to_vector())  # training moved them
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(weights[1], weights[0], **tol)
    np.testing.assert_allclose(losses[1], losses[0], **tol)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_estimator_partial_fit_with_and_without_kernels_agree(solver):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    from nablanet.estimators import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    coefs = []
    for fast in (False, True):
        clf = MLPClassifier(
            (32,), solver=solver, momentum=0.9, batch_size=64, learning_rate_init=0.01,
            random_state=0,
        )  # fmt: skip
        with _fast.use_fast(fast):
            for _ in range(3):
                clf.partial_fit(X, y[:300], classes=np.arange(10))
        coefs.append(np.concatenate([c.ravel() for c in clf.coefs_]))
    np.testing.assert_allclose(coefs[1], coefs[0], rtol=1e-9, atol=1e-12)


def test_dense_subclass_keeps_its_own_forward_and_backward():
    class Doubled(nn.layers.Dense):
        def forward(self, x, training=False):
            return 2 * super().forward(x, training)

    outs = []
    for fast in (False, True):
        model = nn.Sequential([Doubled(4, input_dim=3), nn.layers.ReLU()], seed=0)
        model.build(3)
        with _fast.use_fast(fast):
            outs.append(model.forward(np.ones((2, 3))))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_use_fast_switches_and_restores():
    before = _fast.enabled()
    with _fast.use_fast(False):
        assert _fast.enabled() is False
        with _fast.use_fast(True):
            assert _fast.enabled() is True
    assert _fast.enabled() is before


def test_switching_on_without_numba_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_fast, "AVAILABLE", False)
    with pytest.raises(RuntimeError, match=r"pip install 'nablanet\[fast\]'"):
        _fast.set_enabled(True)


def test_cache_falls_back_to_a_temporary_directory_when_nothing_is_writable(monkeypatch):
    # numba caches next to the source, else in ~/.cache/numba; with both read-only (as root
    # cannot simulate with permissions, their writability checks fail here) the kernels must
    # still compile and cache, in $TMPDIR/nablanet-numba-cache-<uid>
    from numba.core import caching, config

    def read_only(self):
        raise OSError("read-only file system")

    monkeypatch.setattr(caching.InTreeCacheLocator, "ensure_cache_path", read_only)
    monkeypatch.setattr(caching.UserWideCacheLocator, "ensure_cache_path", read_only)
    monkeypatch.setattr(config, "CACHE_DIR", "")

    def double(x):
        return 2 * x

    kernel = _fast.jit(double)
    assert kernel(21) == 42
    assert "nablanet-numba-cache-" in config.CACHE_DIR
    assert kernel.stats.cache_misses or kernel.stats.cache_hits  # the disk cache was consulted


def test_kernels_are_cached_on_disk():
    _fast.update.run("sgd", np.zeros(4), np.ones(4), (), 0.5)
    serial = _fast.update._KERNELS["sgd"][0]
    assert serial._cache is not None and serial._cache.cache_path  # a cache directory exists


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop", "sklearn-adam"])
def test_update_kernels_flush_subnormal_state_as_numpy_does(name, dtype, form):
    # Seed a quarter of the state subnormal, with zero gradients there (dead units). The kernel
    # flushes at every step, NumPy every FLUSH_EVERY steps; after FLUSH_EVERY steps both hold
    # the same state, with no subnormal left, and the same parameters to float tolerance.
    if form == "parallel" and dtype is np.float64:
        pytest.skip("the multi-threaded form is checked in float32 (compile time)")
    from nablanet.optimizers import FLUSH_EVERY

    def run(fast: bool):
        rng = np.random.default_rng(3)
        p = rng.normal(size=1000).astype(dtype)
        g = np.zeros_like(p)
        dead = np.arange(0, 1000, 4)
        optimizer = OPTIMIZERS[name]()
        optimizer.build([("layers.0.W", p, g)])
        for buf in optimizer.state["layers.0.W"].values():
            buf[...] = rng.random(1000) * 1e-3
            buf[dead] = np.finfo(dtype).smallest_subnormal * 4
        states = []
        with _fast.use_fast(fast):
            for _ in range(FLUSH_EVERY):
                g[...] = rng.normal(size=1000)
                g[dead] = 0
                optimizer.step()
                states.append({k: b.copy() for k, b in optimizer.state["layers.0.W"].items()})
        return p, states

    p_ref, states_ref = run(fast=False)
    p_fast, states_fast = run(fast=True)
    tiny = np.finfo(dtype).tiny
    for state in states_fast:  # the kernel: no subnormal after any step
        for buf in state.values():
            assert not np.any((buf != 0) & (np.abs(buf) < tiny))
    for key, buf in states_ref[-1].items():  # NumPy after its flush: the kernel's state
        np.testing.assert_allclose(states_fast[-1][key], buf, **TOL[dtype])
        assert np.all(buf[::4] == 0)
    np.testing.assert_allclose(p_fast, p_ref, **TOL[dtype])
