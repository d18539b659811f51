"""Tests for nablanet.optimizers: every update rule against a hand-written scalar reference."""

# Each reference below is the update rule written as scalars (``math.sqrt``, plain floats), the
# form a textbook gives; the optimizer must reproduce it over several steps with changing
# gradients, both when bound to loose arrays and when bound to a model's packed parameters.

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import nablanet as nn
from _helpers import X12, Y12_REG
from nablanet import _fast
from nablanet.optimizers import get_optimizer, optimizer_from_config
from nablanet.schedules import ExponentialDecay, StepDecay

W0 = np.array([[0.5, -1.0, 2.0], [0.25, 0.0, -0.75]])  # (2, 3)
B0 = np.array([0.1, -0.2, 0.3])  # (3,)
GRADS = [  # three steps of (dW, db)
    (np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), np.array([0.5, 0.0, -0.25])),
    (np.array([[-0.5, 1.0, 0.5], [2.0, -1.0, 0.25]]), np.array([1.0, -1.0, 0.0])),
    (np.array([[0.1, 0.2, -0.3], [-0.4, 0.5, 0.6]]), np.array([-0.5, 2.0, 0.75])),
]


# ------------------------------------------------------------------- scalar references
def ref_sgd(p, grads, lr, momentum=0.0, nesterov=False, decay=0.0):
    p, v = float(p), 0.0
    for g in grads:
        p *= 1 - lr * decay
        v = momentum * v + g
        p -= lr * (g + momentum * v if nesterov else v)
    return p


def ref_adam(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8, decay=0.0):
    p, m, v = float(p), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        p *= 1 - lr * decay
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def ref_rmsprop(p, grads, lr, rho=0.9, eps=1e-8):
    p, v = float(p), 0.0
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        p -= lr * g / (math.sqrt(v) + eps)
    return p


CASES = {
    # name: (optimizer factory, reference(p, grads, is_weight))
    "sgd": (lambda: nn.SGD(lr=0.1), lambda p, gs, w: ref_sgd(p, gs, 0.1)),
    "momentum": (
        lambda: nn.SGD(lr=0.1, momentum=0.9),
        lambda p, gs, w: ref_sgd(p, gs, 0.1, momentum=0.9),
    ),
    "nesterov": (
        lambda: nn.SGD(lr=0.05, momentum=0.7, nesterov=True),
        lambda p, gs, w: ref_sgd(p, gs, 0.05, momentum=0.7, nesterov=True),
    ),
    "sgd_decay": (
        lambda: nn.SGD(lr=0.1, weight_decay=0.2),
        lambda p, gs, w: ref_sgd(p, gs, 0.1, decay=0.2 if w else 0.0),
    ),
    "adam": (
        lambda: nn.Adam(lr=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
        lambda p, gs, w: ref_adam(p, gs, 0.01, 0.8, 0.95, 1e-6),
    ),
    "adamw": (
        lambda: nn.Adam(lr=0.01, weight_decay=0.3),
        lambda p, gs, w: ref_adam(p, gs, 0.01, decay=0.3 if w else 0.0),
    ),
    "rmsprop": (
        lambda: nn.RMSProp(lr=0.01, rho=0.7, epsilon=1e-6),
        lambda p, gs, w: ref_rmsprop(p, gs, 0.01, 0.7, 1e-6),
    ),
}


def expected_after(reference, steps: int):
    W = np.empty_like(W0)
    for i, j in np.ndindex(W0.shape):
        W[i, j] = reference(W0[i, j], [g[0][i, j] for g in GRADS[:steps]], True)
    b = np.array([reference(B0[j], [g[1][j] for g in GRADS[:steps]], False) for j in range(3)])
    return W, b


def bind(optimizer, path: str):
    """(W, b, dW, db) bound to ``optimizer``: loose arrays, or a built model's (packed) params."""
    if path == "slots":
        W, b = W0.copy(), B0.copy()
        dW, db = np.zeros_like(W), np.zeros_like(b)
        optimizer.build([("layers.0.W", W, dW), ("layers.0.b", b, db)])
        return W, b, dW, db
    model = nn.Sequential(
        [nn.Dense(3, weights=W0, bias=B0)], optimizer=optimizer, dtype="float64"
    )  # fmt: skip
    model.build(2)
    dense = model.layers[0]
    return dense.params["W"], dense.params["b"], dense.grads["W"], dense.grads["b"]


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("path", ["slots", "model"])
@pytest.mark.parametrize("name", list(CASES))
def test_update_rule_matches_scalar_reference(name, path, fast):
    # both the NumPy reference and the compiled kernel (nablanet[fast]) follow the textbook rule
    if fast and not _fast.AVAILABLE:
        pytest.skip("numba is not installed")
    make, reference = CASES[name]
    optimizer = make()
    W, b, dW, db = bind(optimizer, path)
    for step, (gW, gb) in enumerate(GRADS, start=1):
        dW[...], db[...] = gW, gb
        with _fast.use_fast(fast):
            optimizer.step()
        W_ref, b_ref = expected_after(reference, step)
        np.testing.assert_allclose(W, W_ref, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b, b_ref, rtol=1e-12, atol=1e-15)
    assert optimizer.iterations == 3


@pytest.mark.parametrize("name", list(CASES))
def test_updates_happen_in_place(name):
    optimizer = CASES[name][0]()
    W, b, dW, db = bind(optimizer, "slots")
    dW[...], db[...] = GRADS[0]
    optimizer.step()
    assert optimizer.slots[0][1] is W and optimizer.slots[1][1] is b
    assert not np.array_equal(W, W0)


def test_fit_updates_the_model_parameters_in_place(regression_data):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 5, 1], "tanh", optimizer="adam", lr=0.01, seed=0)
    arrays = [p for layer in model.layers for p in layer.params.values()]
    before = [p.copy() for p in arrays]
    model.fit(X, y, epochs=3, batch_size=8)
    after = [p for layer in model.layers for p in layer.params.values()]
    assert all(a is b for a, b in zip(arrays, after, strict=True))
    assert all(
        np.shares_memory(p, slot[1]) for p, slot in zip(after, model.optimizer.slots, strict=True)
    )
    assert all(not np.array_equal(p, q) for p, q in zip(after, before, strict=True))


def test_state_is_kept_per_key():
    opt = nn.SGD(lr=0.1, momentum=0.5)
    p1, p2 = np.zeros(2), np.zeros(2)
    g1, g2 = np.array([1.0, 1.0]), np.array([-2.0, 0.5])
    opt.build([("a.W", p1, g1), ("b.W", p2, g2)])
    opt.step()
    opt.step()
    assert set(opt.state) == {"a.W", "b.W"}
    # v1 = g, v2 = 0.5 g + g = 1.5 g, separately for each key
    np.testing.assert_allclose(opt.state["a.W"]["v"], [1.5, 1.5])
    np.testing.assert_allclose(opt.state["b.W"]["v"], [-3.0, 0.75])
    # p = -0.1 (g + 1.5 g) = -0.25 g
    np.testing.assert_allclose(p1, [-0.25, -0.25])
    np.testing.assert_allclose(p2, [0.5, -0.125])


@pytest.mark.parametrize("order", ["set_before_build", "set_after_build"])
@pytest.mark.parametrize("path", ["slots", "model"])
@pytest.mark.parametrize("name", ["momentum", "adam", "rmsprop"])
def test_state_round_trip(name, path, order):
    make = CASES[name][0]
    first = make()
    W, b, dW, db = bind(first, path)
    for gW, gb in GRADS[:2]:
        dW[...], db[...] = gW, gb
        first.step()
    saved = first.get_state()
    W_saved, b_saved = W.copy(), b.copy()
    assert int(saved["iterations"]) == 2
    assert any(np.any(v != 0) for k, v in saved.items() if k != "iterations")
    dW[...], db[...] = GRADS[2]
    first.step()  # the original carries on ...

    second = make()  # ... and a fresh optimizer restored from the saved state must agree
    if order == "set_before_build":
        second.set_state(saved)
    W2, b2, dW2, db2 = bind(second, path)
    W2[...], b2[...] = W_saved, b_saved
    if order == "set_after_build":
        second.set_state(saved)
    assert second.iterations == 2
    dW2[...], db2[...] = GRADS[2]
    second.step()
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)


@pytest.mark.parametrize("make", [lambda: nn.SGD(lr=0.1, weight_decay=0.5),
                                  lambda: nn.Adam(lr=0.1, weight_decay=0.5)])  # fmt: skip
@pytest.mark.parametrize("path", ["slots", "model"])
def test_weight_decay_only_on_weight_matrices(make, path):
    optimizer = make()
    W, b, _, _ = bind(optimizer, path)  # gradients stay zero: only the decay acts
    optimizer.step()
    np.testing.assert_allclose(W, 0.95 * W0, rtol=1e-12)  # W (1 - 0.1 * 0.5)
    np.testing.assert_array_equal(b, B0)


def test_adamw_by_name_defaults_to_weight_decay():
    assert get_optimizer("adamw").weight_decay == 0.01
    assert get_optimizer("adam").weight_decay == 0.0
    assert get_optimizer("adamw", weight_decay=0.2).weight_decay == 0.2


def test_schedule_through_lr():
    opt = nn.SGD(lr=StepDecay(0.1, step_size=1, gamma=0.5))
    p, g = np.zeros(1), np.ones(1)
    opt.build([("x.W", p, g)])
    assert opt.lr == pytest.approx(0.1)
    opt.set_epoch(0)
    opt.step()  # p = -0.1
    opt.set_epoch(1)
    opt.step()  # p = -0.1 - 0.05
    opt.set_epoch(3)
    opt.step()  # p = -0.15 - 0.0125
    np.testing.assert_allclose(p, [-0.1625])

    adam = nn.Adam(lr=ExponentialDecay(0.2, gamma=0.5))
    adam.set_epoch(2)
    assert adam.lr == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: nn.SGD(lr=0), r"lr.*got 0\.0"),
        (lambda: nn.SGD(lr=-0.5), r"lr.*got -0\.5"),
        (lambda: nn.Adam(lr=float("nan")), r"lr.*got nan"),
        (lambda: nn.SGD(momentum=1.0), r"momentum.*got 1\.0"),
        (lambda: nn.SGD(momentum=-0.1), r"momentum.*got -0\.1"),
        (lambda: nn.SGD(momentum=0.0, nesterov=True), r"nesterov.*momentum=0"),
        (lambda: nn.Adam(beta_1=1.0), r"beta_1.*got 1\.0"),
        (lambda: nn.RMSProp(rho=1.5), r"rho.*got 1\.5"),
        (lambda: nn.Adam(weight_decay=-1.0), r"weight_decay.*got -1\.0"),
        (lambda: get_optimizer("adagrad"), r"adagrad"),
        (lambda: nn.Sequential([nn.Dense(1)], optimizer="lbfgs"), r"lbfgs"),
        (lambda: nn.Sequential([nn.Dense(1)], lr=-2.0), r"lr.*got -2\.0"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_config_round_trip():
    for opt in [
        nn.SGD(lr=0.3, momentum=0.5, nesterov=True),
        nn.Adam(lr=0.002, beta_1=0.8, weight_decay=0.1),
        nn.RMSProp(lr=0.004, rho=0.8, epsilon=1e-6),
    ]:
        twin = optimizer_from_config(opt.get_config())
        assert type(twin) is type(opt)
        assert twin.get_config() == opt.get_config()


# ------------------------------------------------------------------------- properties
def test_larger_l2_shrinks_the_weights(regression_data):
    X, y = regression_data
    norms = []
    for l2 in [0.0, 0.01, 0.1, 1.0]:
        model = nn.Sequential.from_sizes([3, 8, 1], "tanh", l2=l2, lr=0.05, seed=0, dtype="float64")
        model.fit(X, y, epochs=150)
        W = [layer.params["W"] for layer in model.layers if isinstance(layer, nn.Dense)]
        norms.append(math.sqrt(sum(float(np.sum(w * w)) for w in W)))
    assert all(a > b for a, b in itertools.pairwise(norms)), norms  # strictly shrinking
    assert norms[-1] < 0.7 * norms[0]


@pytest.mark.parametrize(
    ("optimizer", "lr"),
    [
        ("sgd", 0.05),
        (nn.SGD(lr=0.02, momentum=0.9), None),
        (nn.SGD(lr=0.02, momentum=0.9, nesterov=True), None),
        ("adam", 0.01),
        ("adamw", 0.01),
        ("rmsprop", 0.005),
    ],
)
def test_loss_decreases(optimizer, lr, regression_data):
    X, y = regression_data
    if isinstance(optimizer, nn.optimizers.Optimizer):
        optimizer = optimizer_from_config(optimizer.get_config())  # fresh per run
    model = nn.Sequential.from_sizes([3, 8, 1], "tanh", optimizer=optimizer, lr=lr, seed=0)
    history = model.fit(X, y, epochs=40, batch_size=10, seed=0)
    losses = history["loss"]
    assert losses[-1] < 0.25 * losses[0]
    assert np.all(np.isfinite(losses))


def test_adam_state_is_the_textbook_m_and_v():
    model = nn.Sequential.from_sizes([3, 2], loss="mse", optimizer="adam", seed=0,
                                     dtype="float64")  # fmt: skip
    Xc, Y = model.prepare(X12, Y12_REG)
    model.loss_and_grads(Xc, Y)
    g = model.gradients_to_vector()
    model.apply_gradients()
    state = model.optimizer.get_state()
    m = np.concatenate([state["layers.0.W.m"].ravel(), state["layers.0.b.m"].ravel()])
    v = np.concatenate([state["layers.0.W.v"].ravel(), state["layers.0.b.v"].ravel()])
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-12)  # (1 - beta_1) g
    np.testing.assert_allclose(v, 0.001 * g**2, rtol=1e-12)  # (1 - beta_2) g^2


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop"])
def test_packed_update_equals_the_update_of_each_parameter(name):
    # the model keeps its parameters in one flat buffer and the optimizer updates it whole;
    # bound to the separate arrays instead (flat=None) it must take exactly the same steps
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    kwargs = {"momentum": 0.9} if name == "sgd" else {}
    models = [
        nn.Sequential.from_sizes([3, 4, 1], "tanh", loss="mse", dtype="float64", seed=0,
                                 optimizer=nn.optimizers.get_optimizer(name, lr=0.05, **kwargs))
        for _ in range(2)
    ]  # fmt: skip
    for model in models:
        model.build(3)
    models[1].optimizer.build(models[1].slots(), None)
    for model in models:
        model.fit(X, y, epochs=3, batch_size=5, shuffle=False)
    np.testing.assert_allclose(
        models[1].parameters_to_vector(), models[0].parameters_to_vector(), rtol=1e-12
    )
    state0, state1 = models[0].optimizer.get_state(), models[1].optimizer.get_state()
    for key in state0:
        np.testing.assert_allclose(state1[key], state0[key], rtol=1e-12, err_msg=key)


# ------------------------------------------------ subnormal state is flushed (issue 20)
def _is_subnormal(x: np.ndarray) -> np.ndarray:
    return (x != 0) & (np.abs(x) < np.finfo(x.dtype).tiny)


def _scikit_adam():
    from nablanet.estimators._optimizers import ScikitAdam

    return ScikitAdam(lr=1e-3)


SUBNORMAL_CASES = {
    # name: (factory, state buffer holding the stuck entries, its multiplier per zero-grad step)
    "adam": (lambda: nn.Adam(lr=1e-3), "m"),
    "momentum": (lambda: nn.SGD(lr=1e-2, momentum=0.9), "v"),
    "nesterov": (lambda: nn.SGD(lr=1e-2, momentum=0.9, nesterov=True), "v"),
    "rmsprop": (lambda: nn.RMSProp(lr=1e-3), "v"),
    "scikit_adam": (_scikit_adam, "m"),
}


def _unflushed_step(name: str, opt, p, g, state, t):
    """The step of ``name`` in float64 from the pre-step values, without any flush."""
    p, g = p.astype(np.float64), g.astype(np.float64)
    s = {k: b.astype(np.float64) for k, b in state.items()}
    if name in ("adam", "scikit_adam"):
        m = opt.beta_1 * s["m"] + (1 - opt.beta_1) * g
        v = opt.beta_2 * s["v"] + (1 - opt.beta_2) * g * g
        eps = opt.epsilon / math.sqrt(1 - opt.beta_2**t) if name == "adam" else None
        m_hat, v_hat = m / (1 - opt.beta_1**t), v / (1 - opt.beta_2**t)
        if name == "adam":  # PyTorch's form
            return p - opt.lr * m_hat / (np.sqrt(v_hat) + opt.epsilon), eps
        # scikit-learn's: eps added to sqrt(v), not sqrt(v_hat)
        lr_t = opt.lr * math.sqrt(1 - opt.beta_2**t) / (1 - opt.beta_1**t)
        return p - lr_t * m / (np.sqrt(v) + opt.epsilon), None
    if name == "rmsprop":
        v = opt.rho * s["v"] + (1 - opt.rho) * g * g
        return p - opt.lr * g / (np.sqrt(v) + opt.epsilon), None
    v = opt.momentum * s["v"] + g
    return p - opt.lr * (g + opt.momentum * v if opt.nesterov else v), None


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(SUBNORMAL_CASES))
def test_a_seeded_subnormal_state_is_flushed_and_the_step_is_unchanged(name, dtype, fast):
    # A dead unit's moments stuck at 4 * smallest subnormal (a fixed point of 0.9 m, gradient 0):
    # after the step they are exactly 0, nothing else in the state is subnormal, and every
    # parameter equals the unflushed rule's within float tolerance (the flush moves a step by
    # < lr * tiny / eps: far below one ulp of any parameter here).
    if fast and not _fast.AVAILABLE:
        pytest.skip("numba is not installed")
    from nablanet.optimizers import FLUSH_EVERY

    make, buffer = SUBNORMAL_CASES[name]
    rng = np.random.default_rng(7)
    n = 4096
    p = (rng.standard_normal(n) * 0.05).astype(dtype)
    g = (rng.standard_normal(n) * 1e-3).astype(dtype)
    stuck = np.zeros(n, dtype=bool)
    stuck[rng.choice(n, 300, replace=False)] = True
    g[stuck] = 0
    opt = make()
    opt.build([("layers.0.W", p, g)])
    state = opt.state["layers.0.W"]
    for key, buf in state.items():  # momentum's v and Adam's m are signed; a second moment >= 0
        signed = key == "m" or name in ("momentum", "nesterov")
        buf[...] = rng.standard_normal(n) * 1e-4 if signed else rng.random(n) * 1e-6
    sub = np.finfo(dtype).smallest_subnormal * 4
    state[buffer][stuck] = sub
    if name == "rmsprop":  # RMSProp's v decays alone: seed it just below tiny
        state["v"][stuck] = np.finfo(dtype).tiny * 0.5
    opt.iterations = FLUSH_EVERY - 1  # this step is one where the NumPy path flushes too
    expected, _ = _unflushed_step(name, opt, p, g, state, FLUSH_EVERY)
    assert _is_subnormal(state[buffer]).sum() == 300  # the seeded state is as described
    with _fast.use_fast(fast):
        opt.step()
    for key, buf in state.items():
        assert not _is_subnormal(buf).any(), f"{key} still holds subnormals"
    assert np.all(state[buffer][stuck] == 0)
    # a few ulps of the parameters' scale (0.05): float32 chained ops; float64 replay
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(p, expected, rtol=rtol, atol=rtol * 0.05)


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "compiled"])
def test_flush_keeps_nan_and_infinity(fast):
    # a diverged state must stay visible (reset_nonfinite_state and the guards rely on it)
    if fast and not _fast.AVAILABLE:
        pytest.skip("numba is not installed")
    from nablanet.optimizers import FLUSH_EVERY

    p = np.zeros(8, dtype=np.float32)
    g = np.array([np.nan, 0, 0, 0, 1, 1, 1, 1], dtype=np.float32)
    opt = nn.SGD(lr=0.1, momentum=0.9)
    opt.build([("w", p, g)])
    v = opt.state["w"]["v"]
    v[1:4] = [np.inf, -np.inf, 1e-45]
    opt.iterations = FLUSH_EVERY - 1
    with _fast.use_fast(fast):
        opt.step()
    assert np.isnan(v[0]) and v[1] == np.inf and v[2] == -np.inf and v[3] == 0
    np.testing.assert_array_equal(v[4:], np.ones(4, dtype=np.float32))


@pytest.mark.parametrize("fast", [False, True], ids=["numpy", "compiled"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_training_with_dead_units_keeps_its_state_normal(dtype, fast):
    # Train a ReLU net with Adam, then kill 4 hidden units (bias -1e4: no gradient ever again)
    # and keep training. Their first moments decay by 0.9 a step: below tiny after about 800
    # steps in float32 and 6,700 in float64, where they used to stick at 4 * 2**-149 (float32).
    # With the flush they end at exactly 0 and no state element is subnormal.
    if fast and not _fast.AVAILABLE:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4)).astype(dtype)
    Y = np.eye(2, dtype=dtype)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    model = nn.Sequential.from_sizes(
        [4, 16, 2], "relu", "softmax", loss="categorical_cross_entropy",
        optimizer=nn.Adam(lr=1e-3), seed=0, dtype=dtype,
    )  # fmt: skip
    with _fast.use_fast(fast):
        for _ in range(5):
            model.train_step(X, Y)
        dense = model.layers[0]
        dead = np.arange(4)
        m = model.optimizer.state["layers.0.W"]["m"]
        assert np.all(m[:, dead] != 0)  # the units learned before they died
        dense.params["b"][dead] = -1e4
        steps = 900 if dtype == "float32" else 7000
        for _ in range(steps):
            model.train_step(X, Y)
    assert np.all(dense.grads["W"][:, dead] == 0)  # dead: no gradient
    assert np.all(m[:, dead] == 0)  # flushed, not stuck at a subnormal
    for key, bufs in model.optimizer.state.items():
        for name, buf in bufs.items():
            assert not _is_subnormal(buf).any(), f"{key}.{name}"
    assert np.isfinite(model.parameters_to_vector()).all()
