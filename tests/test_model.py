"""Sequential: construction, description, inference per task, weights, config, reproducibility."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import nablanet as nn
from nablanet import Dense, Dropout, Identity, ReLU, Sequential, Sigmoid, Softmax, Tanh
from nablanet.targets import prepare_targets

RNG = np.random.default_rng(42)
X = RNG.normal(size=(30, 3))
Y_BINARY = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_CLASS = np.digitize(X[:, 0], [-0.5, 0.5])  # 0, 1, 2
Y_MULTILABEL = (X[:, :2] > 0).astype(int)  # (30, 2)
Y_REG = X @ np.array([1.0, -2.0, 0.5])
Y_REG2 = np.stack([Y_REG, X[:, 2]], axis=1)


def layer_types(model: Sequential) -> list[type]:
    return [type(layer) for layer in model.layers]


# -- construction -----------------------------------------------------------------------------


def test_from_sizes_one_activation_and_an_output():
    model = Sequential.from_sizes([3, 5, 4, 2], "tanh", "softmax", loss="cross_entropy")
    assert layer_types(model) == [Dense, Tanh, Dense, Tanh, Dense, Softmax]
    assert [la.units for la in model.layers if isinstance(la, Dense)] == [5, 4, 2]
    assert model.input_dim == 3 and model.n_outputs == 2
    assert model.layers[0].params["W"].shape == (3, 5)
    assert model.layers[4].params["b"].shape == (2,)


def test_from_sizes_default_output_is_identity():
    model = Sequential.from_sizes([2, 3, 1])
    assert layer_types(model) == [Dense, ReLU, Dense, Identity]


def test_from_sizes_one_activation_per_layer():
    model = Sequential.from_sizes([2, 4, 3, 1], ["relu", "tanh", "sigmoid"])
    assert layer_types(model) == [Dense, ReLU, Dense, Tanh, Dense, Sigmoid]
    inits = [la.kernel_initializer for la in model.layers if isinstance(la, Dense)]
    assert inits == ["he_uniform", "glorot_uniform", "glorot_uniform"]  # He before ReLU


def test_from_sizes_activation_list_of_the_wrong_length():
    with pytest.raises(
        ValueError, match=r"got 2 activations for 3 layers \(sizes \[2, 4, 3, 1\]\)"
    ):
        Sequential.from_sizes([2, 4, 3, 1], ["relu", "sigmoid"])


def test_from_sizes_dropout_goes_after_hidden_activations_only():
    model = Sequential.from_sizes([3, 6, 4, 1], "relu", "sigmoid", dropout=0.3)
    assert layer_types(model) == [Dense, ReLU, Dropout, Dense, ReLU, Dropout, Dense, Sigmoid]
    assert all(la.rate == 0.3 for la in model.layers if isinstance(la, Dropout))


def test_explicit_layer_list_with_dropout_trains_and_infers_sizes():
    model = Sequential(
        [Dense(8, input_dim=3), ReLU(), Dropout(0.5), Dense(1), Sigmoid()],
        loss="binary_cross_entropy",
        optimizer="adam",
        lr=0.05,
        seed=0,
    )
    history = model.fit(X, Y_BINARY, epochs=60, batch_size=10)
    assert model.input_dim == 3
    assert model.layers[3].params["W"].shape == (8, 1)  # inferred from the previous layer
    assert model.n_params == (3 * 8 + 8) + (8 * 1 + 1)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.mean(model.predict(X) == Y_BINARY) >= 0.9


# -- description ------------------------------------------------------------------------------


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = Sequential.from_sizes([3, 8, 2], "relu", "softmax", dropout=0.5, loss="ce")
    printed: list[str] = []
    text = model.summary(print_fn=printed.append)
    assert printed == [text]
    for name in ("Dense", "ReLU", "Dropout", "Softmax"):
        assert name in text
    assert text.count("(None, 8)") == 3  # Dense, ReLU and Dropout
    assert text.count("(None, 2)") == 2
    total = sum(arr.size for layer in model.get_weights() for arr in layer.values())
    assert total == 3 * 8 + 8 + 8 * 2 + 2
    assert f"Total params: {total}" in text
    assert re.search(r"Dense\s+\(None, 8\)\s+32\b", text)
    assert re.search(r"Dense\s+\(None, 2\)\s+18\b", text)


def test_info_prints_every_neurons_bias_and_weights():
    model = Sequential.from_sizes([3, 4, 2], "tanh", "sigmoid", loss="mse", seed=3)
    model.fit(X, Y_MULTILABEL, epochs=2)
    text = model.info(print_fn=None)
    pairs = re.findall(r"Bias: (\S+) , Weights: \[([^\]]*)\]", text)
    weights = [w for w in model.get_weights() if w]
    expected = [(w["b"][j], w["W"][:, j]) for w in weights for j in range(w["W"].shape[1])]
    assert len(pairs) == len(expected) == 4 + 2
    for (bias_text, weights_text), (b, W_col) in zip(pairs, expected, strict=True):
        assert float(bias_text) == pytest.approx(float(b), rel=1e-6)
        np.testing.assert_allclose([float(v) for v in weights_text.split(",")], W_col, rtol=1e-6)
    assert text.count("No. of Inputs: 3") == 4
    assert text.count("No. of Inputs: 4") == 2


# -- inference per task -----------------------------------------------------------------------


def test_binary_classifier_outputs():
    model = Sequential.from_sizes([3, 6, 1], "tanh", "sigmoid", loss="bce", seed=0)
    model.fit(X, Y_BINARY, epochs=3)
    assert model.task == "binary"
    proba = model.predict_proba(X)
    assert proba.shape == (30, 1) and np.all((proba > 0) & (proba < 1))
    labels = model.predict(X)
    assert labels.shape == (30,) and labels.dtype.kind == "i"
    np.testing.assert_array_equal(labels, (proba[:, 0] > 0.5).astype(int))
    scores = model.evaluate(X, Y_BINARY)
    assert set(scores) == {"loss", "accuracy"}
    assert all(isinstance(v, float) for v in scores.values())
    assert scores["accuracy"] == pytest.approx(np.mean(labels == Y_BINARY))


def test_multiclass_classifier_outputs():
    model = Sequential.from_sizes([3, 6, 3], "tanh", "softmax", loss="ce", seed=0)
    model.fit(X, Y_CLASS, epochs=3)
    assert model.task == "multiclass"
    proba = model.predict_proba(X)
    assert proba.shape == (30, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    labels = model.predict(X)
    assert labels.shape == (30,) and set(labels.tolist()) <= {0, 1, 2}
    np.testing.assert_array_equal(labels, proba.argmax(axis=1))
    scores = model.evaluate(X, Y_CLASS)
    assert scores["accuracy"] == pytest.approx(np.mean(labels == Y_CLASS))


def test_multilabel_classifier_outputs():
    model = Sequential.from_sizes([3, 6, 2], "tanh", "sigmoid", loss="bce", seed=0)
    model.fit(X, Y_MULTILABEL, epochs=3)
    assert model.task == "multilabel"
    proba = model.predict_proba(X)
    assert proba.shape == (30, 2)
    labels = model.predict(X)
    assert labels.shape == (30, 2) and set(np.unique(labels).tolist()) <= {0, 1}
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    assert "accuracy" in model.evaluate(X, Y_MULTILABEL)


def test_single_output_regression_outputs():
    model = Sequential.from_sizes([3, 6, 1], "relu", loss="mse", seed=0)
    model.fit(X, Y_REG, epochs=3)
    assert model.task == "regression"
    out = model.predict_proba(X)
    assert out.shape == (30, 1)
    pred = model.predict(X)
    assert pred.shape == (30,) and pred.dtype == np.float32
    np.testing.assert_array_equal(pred, out[:, 0])
    scores = model.evaluate(X, Y_REG)
    assert set(scores) == {"loss"}
    assert scores["loss"] == pytest.approx(np.mean((pred - Y_REG) ** 2), rel=1e-4)


def test_multi_output_regression_outputs():
    model = Sequential.from_sizes([3, 6, 2], "relu", loss="mse", seed=0)
    model.fit(X, Y_REG2, epochs=3)
    assert model.task == "regression"
    pred = model.predict(X)
    assert pred.shape == (30, 2)
    np.testing.assert_array_equal(pred, model.predict_proba(X))
    assert model.evaluate(X, Y_REG2)["loss"] == pytest.approx(np.mean((pred - Y_REG2) ** 2), 1e-4)


def test_predict_maps_indices_through_classes():
    model = Sequential.from_sizes([3, 6, 3], "tanh", "softmax", loss="ce", seed=0)
    model.fit(X, Y_CLASS, epochs=3)
    model.classes_ = np.array(["cat", "dog", "eel"])
    names = model.predict(X)
    expected = np.array(["cat", "dog", "eel"])[model.predict_proba(X).argmax(axis=1)]
    np.testing.assert_array_equal(names, expected)


def test_predict_in_chunks_equals_predict_at_once():
    model = Sequential.from_sizes([3, 6, 3], "tanh", "softmax", loss="ce", seed=0)
    np.testing.assert_array_equal(
        model.predict_proba(X, batch_size=7), model.predict_proba(X, batch_size=100)
    )


# -- weights and config -----------------------------------------------------------------------


def trained(seed: int = 0) -> Sequential:
    model = Sequential.from_sizes([3, 5, 3], "relu", "softmax", loss="ce", seed=seed)
    model.fit(X, Y_CLASS, epochs=4, batch_size=8)
    return model


def test_get_set_weights_round_trip():
    source, target = trained(0), trained(1)
    assert not np.array_equal(source.predict_proba(X), target.predict_proba(X))
    weights = source.get_weights()
    assert [sorted(w) for w in weights] == [["W", "b"], [], ["W", "b"], []]
    target.set_weights(weights)
    np.testing.assert_array_equal(target.predict_proba(X), source.predict_proba(X))
    for a, b in zip(target.get_weights(), weights, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_get_weights_returns_copies():
    model = trained()
    weights = model.get_weights()
    weights[0]["W"][:] = 0.0
    assert np.any(model.layers[0].params["W"] != 0.0)


def test_clone_predicts_the_same_and_is_independent():
    model = trained()
    twin = model.clone()
    assert twin is not model
    np.testing.assert_array_equal(twin.predict_proba(X), model.predict_proba(X))
    before = model.get_weights()
    twin.fit(X, Y_CLASS, epochs=2)
    for a, b in zip(model.get_weights(), before, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_config_is_json_and_rebuilds_the_model():
    model = Sequential(
        [Dense(6, input_dim=3, l2=0.01), Tanh(), Dropout(0.2), Dense(3), Softmax()],
        loss="categorical_cross_entropy",
        optimizer=nn.SGD(lr=0.1, momentum=0.9, nesterov=True),
        label_smoothing=0.1,
        seed=0,
        dtype="float64",
    )
    model.fit(X, Y_CLASS, epochs=2)
    config = model.get_config()
    text = json.dumps(config)
    rebuilt = Sequential.from_config(json.loads(text), seed=5)
    assert rebuilt.get_config() == config
    assert layer_types(rebuilt) == layer_types(model)
    assert rebuilt.dtype == np.float64 and rebuilt.label_smoothing == 0.1
    assert isinstance(rebuilt.optimizer, nn.SGD) and rebuilt.optimizer.nesterov
    assert rebuilt.task == "multiclass"
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict_proba(X), model.predict_proba(X))


# -- training behaviour -----------------------------------------------------------------------


def fit_with_seeds(model_seed: int, fit_seed: int) -> Sequential:
    model = Sequential.from_sizes(
        [3, 6, 3], "relu", "softmax", dropout=0.3, loss="ce", optimizer="adam", seed=model_seed
    )
    model.fit(X, Y_CLASS, epochs=3, batch_size=7, seed=fit_seed, validation_split=0.2)
    return model


def all_params(model: Sequential) -> np.ndarray:
    return np.concatenate([p.ravel() for _, p, _ in model.slots()])


def test_fit_is_reproducible_bit_for_bit():
    a, b = fit_with_seeds(1, 2), fit_with_seeds(1, 2)
    np.testing.assert_array_equal(all_params(a), all_params(b))


def test_different_seeds_give_different_weights():
    base = all_params(fit_with_seeds(1, 2))
    assert not np.array_equal(base, all_params(fit_with_seeds(3, 2)))  # other initial weights
    assert not np.array_equal(base, all_params(fit_with_seeds(1, 4)))  # other shuffles, masks


def test_validation_split_gives_val_loss():
    model = Sequential.from_sizes([3, 6, 1], "tanh", "sigmoid", loss="bce", seed=0)
    history = model.fit(X, Y_BINARY, epochs=4, validation_split=0.2)
    assert len(history.history["val_loss"]) == 4
    assert len(history.history["val_accuracy"]) == 4
    assert all(np.isfinite(history.history["val_loss"]))
    # 6 of the 30 samples are held out: full batch is the other 24, one step an epoch
    assert model.optimizer.iterations == 4


def test_validation_data_is_evaluated_after_every_epoch():
    model = Sequential.from_sizes([3, 6, 1], "tanh", "sigmoid", loss="bce", seed=0)
    X_val, y_val = X[:10] + 0.1, Y_BINARY[:10]
    history = model.fit(X[10:], Y_BINARY[10:], epochs=3, validation_data=(X_val, y_val))
    assert len(history.history["val_loss"]) == 3
    final = model.evaluate(X_val, y_val)
    assert history.history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-5)
    assert history.history["val_accuracy"][-1] == pytest.approx(final["accuracy"])


def test_label_smoothing_targets():
    one_hot = prepare_targets([0, 1, 1], 2, "multiclass", np.float64, label_smoothing=0.1)
    np.testing.assert_allclose(one_hot, [[0.95, 0.05], [0.05, 0.95], [0.05, 0.95]])
    binary = prepare_targets([0, 1], 1, "binary", np.float64, label_smoothing=0.1)
    np.testing.assert_allclose(binary, [[0.05], [0.95]])
    three = prepare_targets([2], 3, "multiclass", np.float64, label_smoothing=0.3)
    np.testing.assert_allclose(three, [[0.1, 0.1, 0.8]])
    plain = prepare_targets([0, 1], 2, "multiclass", np.float64)
    np.testing.assert_array_equal(plain, [[1.0, 0.0], [0.0, 1.0]])
    regression = prepare_targets([0.0, 1.0], 1, "regression", np.float64, label_smoothing=0.1)
    np.testing.assert_array_equal(regression, [[0.0], [1.0]])


def test_global_numpy_rng_is_untouched():
    # the legacy global generator is inspected on purpose: nablanet must never draw from it
    state = np.random.get_state()  # noqa: NPY002
    model = fit_with_seeds(0, 0)  # initial weights, shuffling, dropout masks, validation split
    model.predict(X)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0]
    np.testing.assert_array_equal(state[1], after[1])
    assert state[2:] == after[2:]


def test_dropout_is_active_only_in_training():
    model = Sequential.from_sizes([3, 16, 1], "relu", "sigmoid", dropout=0.5, loss="bce", seed=0)
    model.fit(X, Y_BINARY, epochs=2)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(model.forward(X.astype(np.float32)), model.predict_proba(X))
    # training-mode forward reuses the layers' work buffers: keep a copy of the first result
    train_a = model.forward(X.astype(np.float32), training=True).copy()
    train_b = model.forward(X.astype(np.float32), training=True)
    assert not np.array_equal(train_a, train_b)
    hidden = np.ones((4, 1000), dtype=np.float32)
    dropout = model.layers[2]
    assert isinstance(dropout, Dropout)
    np.testing.assert_array_equal(dropout.forward(hidden, training=False), hidden)
    dropped = dropout.forward(hidden, training=True)
    assert set(np.unique(dropped).tolist()) == {0.0, 2.0}  # kept units scaled by 1 / (1 - 0.5)
    assert 0.4 < np.mean(dropped == 0) < 0.6


@pytest.mark.parametrize(
    ("batch_size", "steps_per_epoch"), [(None, 1), (30, 1), (1000, 1), (8, 4), (1, 30)]
)
def test_optimizer_steps_per_epoch(batch_size: int | None, steps_per_epoch: int):
    """batch_size None is full-batch gradient descent: one optimizer step per epoch."""
    model = Sequential.from_sizes([3, 4, 1], "tanh", "sigmoid", loss="bce", seed=0)
    model.fit(X, Y_BINARY, epochs=5, batch_size=batch_size)
    assert model.optimizer.iterations == 5 * steps_per_epoch


def test_full_batch_equals_batch_size_n():
    a = Sequential.from_sizes([3, 4, 1], "tanh", "sigmoid", loss="bce", seed=0)
    b = Sequential.from_sizes([3, 4, 1], "tanh", "sigmoid", loss="bce", seed=0)
    a.fit(X, Y_BINARY, epochs=5, batch_size=None)
    b.fit(X, Y_BINARY, epochs=5, batch_size=len(X))
    np.testing.assert_array_equal(all_params(a), all_params(b))


def test_a_deep_copy_trains_its_own_weights_like_the_original():
    # the parameters are views into one packed buffer: a copy must be re-linked, or its
    # optimizer would update a detached buffer and fit() would change nothing
    import copy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = Sequential.from_sizes(
        [3, 4, 2], "tanh", "softmax", loss="cross_entropy", optimizer="adam", lr=0.05, seed=0
    )
    model.fit(X, y, epochs=2)
    twin = copy.deepcopy(model)
    before = twin.get_weights()
    twin.fit(X, y, epochs=3)
    model.fit(X, y, epochs=3)
    assert not np.array_equal(before[0]["W"], twin.get_weights()[0]["W"])
    for mine, theirs in zip(model.get_weights(), twin.get_weights(), strict=True):
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key])
