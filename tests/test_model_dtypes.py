"""Tests for the dtype of nablanet.model's Sequential, kept from the input to every output."""

# The model's dtype is kept everywhere: parameters, gradients, activations, optimizer state,
# outputs. float32 data is never silently upcast to float64 and input of any numeric dtype is
# converted to the model's dtype.

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nablanet as nn
from _helpers import softmax_net, three_class_data
from nablanet import Dense, Dropout, LeakyReLU, ReLU, Sequential, Sigmoid, Softmax, Tanh
from nablanet.targets import infer_task, prepare_targets

RNG = np.random.default_rng(0)
X64 = RNG.normal(size=(24, 3))
Y_BINARY = (X64[:, 0] > 0).astype(int)
Y_CLASS = RNG.integers(0, 3, size=24)
Y_REG = RNG.normal(size=(24, 2))

# name -> (layers factory, loss, y)
NETWORKS: dict[str, tuple[Callable[[], list[nn.Layer]], str, np.ndarray]] = {
    "sigmoid+bce (fused)": (
        lambda: [Dense(5), LeakyReLU(0.1), Dropout(0.25), Dense(1), Sigmoid()],
        "binary_cross_entropy",
        Y_BINARY,
    ),
    "softmax+ce (fused)": (
        lambda: [Dense(5), Tanh(), Dense(3), Softmax()],
        "categorical_cross_entropy",
        Y_CLASS,
    ),
    "sigmoid+sse (seed 002)": (
        lambda: [Dense(4), Sigmoid(), Dense(3), Sigmoid()],
        "sum_squared_error",
        Y_CLASS,
    ),
    "relu+mse regression": (
        lambda: [Dense(6), ReLU(), Dense(2)],
        "mse",
        Y_REG,
    ),
    "half squared error": (
        lambda: [Dense(4), Tanh(), Dense(2), Sigmoid()],
        "half_squared_error",
        Y_REG > 0,
    ),
}


def make(name: str, dtype: str, optimizer: str = "adam") -> tuple[Sequential, np.ndarray]:
    layers, loss, y = NETWORKS[name]
    return Sequential(layers(), loss=loss, optimizer=optimizer, seed=0, dtype=dtype), y


def all_layer_outputs(model: Sequential, X: np.ndarray, training: bool) -> list[np.ndarray]:
    out, outputs = X, []
    for layer in model.layers:
        out = layer.forward(out, training)
        outputs.append(out)
    return outputs


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_through_training(name: str, dtype: str):
    expected = np.dtype(dtype)
    model, y = make(name, dtype)
    X = X64.astype(dtype)
    model.fit(X, y, epochs=2, batch_size=8, seed=0)

    for layer in model.layers:
        for key, param in layer.params.items():
            assert param.dtype == expected, (layer, key)
            assert layer.grads[key].dtype == expected, (layer, key)
    assert model.optimizer.state, "Adam keeps per-parameter state"
    for key, buffers in model.optimizer.state.items():
        assert set(buffers) == {"m", "v"}
        for buf in buffers.values():
            assert buf.dtype == expected, key

    for training in (True, False):
        for layer, out in zip(model.layers, all_layer_outputs(model, X, training), strict=True):
            assert out.dtype == expected, (type(layer).__name__, training)

    assert model.predict_proba(X).dtype == expected
    assert model.forward(X).dtype == expected
    if model.task == "regression":
        assert model.predict(X).dtype == expected
    assert all(isinstance(v, float) for v in model.evaluate(X, y).values())


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_no_silent_upcast_in_the_training_step(name: str, optimizer: str):
    """float32 batch in, float32 everywhere in train_step: output, loss gradient, dL/dx."""
    model, y = make(name, "float32", optimizer)
    model.build(3)
    f32 = np.dtype(np.float32)
    xb = X64[:8].astype(np.float32)
    task = infer_task(model.loss.name, model.n_outputs, y)
    yb = prepare_targets(y[:8], model.n_outputs, task, f32)
    assert yb.dtype == f32

    loss, out = model.train_step(xb, yb)
    assert isinstance(loss, float)
    assert out.dtype == f32
    model._train_loss.forward(out, yb)
    grad = model._train_loss.backward()
    assert grad.dtype == f32
    for layer in reversed(model._train_layers):
        grad = layer.backward(grad)
        assert grad.dtype == f32, type(layer).__name__
    for _, param, g in model.slots():
        assert param.dtype == f32 and g.dtype == f32
    for buffers in model.optimizer.state.values():
        assert all(buf.dtype == f32 for buf in buffers.values())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("X_dtype", [np.int64, np.int32, np.bool_, np.float32, np.float64])
def test_any_numeric_input_is_converted_to_the_model_dtype(dtype: str, X_dtype: type):
    X = (X64 > 0).astype(X_dtype) if X_dtype is np.bool_ else (X64 * 3).astype(X_dtype)
    model = Sequential.from_sizes([3, 4, 1], "tanh", "sigmoid", loss="bce", seed=0, dtype=dtype)
    model.fit(X, Y_BINARY, epochs=2)
    assert model.layers[0].params["W"].dtype == np.dtype(dtype)
    assert model.predict_proba(X).dtype == np.dtype(dtype)
    expected = model.predict_proba(X.astype(dtype))
    np.testing.assert_array_equal(model.predict_proba(X), expected)


def test_float64_data_does_not_upcast_a_float32_model():
    model = Sequential.from_sizes([3, 4, 1], "relu", loss="mse", seed=0)  # float32 default
    assert model.dtype == np.float32
    model.fit(X64, Y_REG[:, 0], epochs=2)
    assert all(p.dtype == np.float32 for _, p, _ in model.slots())
    assert model.predict(X64).dtype == np.float32


def test_float32_data_in_a_float64_model_computes_in_float64():
    model = Sequential.from_sizes([3, 4, 1], "relu", loss="mse", seed=0, dtype="float64")
    model.fit(X64.astype(np.float32), Y_REG[:, 0], epochs=2)
    assert all(p.dtype == np.float64 for _, p, _ in model.slots())
    assert model.predict(X64.astype(np.float32)).dtype == np.float64


def test_explicit_initial_weights_take_the_model_dtype():
    W, b = np.ones((3, 2), dtype=np.float64), np.zeros(2, dtype=np.int64)
    model = Sequential.from_sizes([3, 2], output="sigmoid", weights=[(W, b)], dtype="float32")
    assert model.layers[0].params["W"].dtype == np.float32
    assert model.layers[0].params["b"].dtype == np.float32


def test_clone_to_another_dtype():
    model = Sequential.from_sizes([3, 4, 1], "tanh", "sigmoid", loss="bce", seed=0)
    model.fit(X64, Y_BINARY, epochs=2)
    twin = model.clone(dtype="float64")
    assert twin.dtype == np.float64
    assert all(p.dtype == np.float64 for _, p, _ in twin.slots())
    p32, p64 = model.predict_proba(X64), twin.predict_proba(X64)
    assert p32.dtype == np.float32 and p64.dtype == np.float64
    np.testing.assert_allclose(p64, p32, rtol=1e-5, atol=1e-6)


# -- a deeper network, every layer kind ------------------------------------------------------------
class _DtypeSpy(nn.Callback):
    """Records the dtypes of every cached activation, gradient and optimizer buffer."""

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        self.activations = {
            type(layer).__name__: layer._a.dtype
            for layer in model.layers
            if getattr(layer, "_a", None) is not None
        }
        self.grads = {key: g.dtype for key, _, g in model.slots()}
        self.state = {
            f"{key}.{name}": buf.dtype
            for key, bufs in model.optimizer.state.items()
            for name, buf in bufs.items()
        }


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_float32_end_to_end(optimizer):
    X, y = three_class_data()
    model = nn.Sequential(
        [nn.Dense(8), nn.Tanh(), nn.Dropout(0.2), nn.Dense(6), nn.LeakyReLU(0.1),
         nn.Dense(5), nn.Sigmoid(), nn.Dense(3), nn.Softmax()],
        loss="categorical_cross_entropy", optimizer=optimizer, seed=0,
    )  # fmt: skip
    spy = _DtypeSpy()
    model.fit(X, y, epochs=2, batch_size=16, callbacks=[spy])
    f32 = np.dtype(np.float32)
    assert set(spy.activations) == {"Tanh", "LeakyReLU", "Sigmoid"}  # Softmax is fused away
    assert set(spy.activations.values()) == {f32}
    assert set(spy.grads.values()) == {f32}
    if optimizer != "sgd":
        assert spy.state and set(spy.state.values()) == {f32}
    assert {w.dtype for layer in model.get_weights() for w in layer.values()} == {f32}
    assert model.predict_proba(X).dtype == f32
    # the forward pass at inference, layer by layer
    out = X
    for layer in model.layers:
        out = layer.forward(out, False)
        assert out.dtype == f32, type(layer).__name__


def test_float64_input_into_a_float32_model_stays_float32_and_gives_the_same_model():
    X, y = three_class_data()
    a, b = softmax_net(), softmax_net()
    a.fit(X, y, epochs=3)
    b.fit(X.astype(np.float64), y, epochs=3)
    assert b.layers[0].params["W"].dtype == np.float32
    assert b.predict_proba(X.astype(np.float64)).dtype == np.float32
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_float64_model_computes_in_float64():
    X, y = three_class_data()
    model = softmax_net(dtype="float64")
    model.fit(X, y, epochs=1)  # float32 X is converted up, as asked
    assert model.layers[0].params["W"].dtype == np.float64
    assert model.predict_proba(X).dtype == np.float64
