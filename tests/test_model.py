"""Tests for nablanet.model (Sequential): construction, compile, description, inference, weights."""

# The engine (forward, backward, train_step, copies) is in test_model_engine.py, dtypes in
# test_model_dtypes.py, fit in test_training.py and refused input in test_bad_input.py.

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import nablanet as nn
from _helpers import (
    Y_BINARY,
    Y_CLASS,
    Y_MULTILABEL,
    Y_REG,
    Y_REG2,
    X,
    softmax_net,
    three_class_data,
)
from nablanet import Dense, Dropout, Identity, ReLU, Sequential, Sigmoid, Softmax, Tanh


def layer_types(model: Sequential) -> list[type]:
    return [type(layer) for layer in model.layers]


# -- construction ----------------------------------------------------------------------------------
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


def test_from_sizes_accepts_a_numpy_array_of_sizes():
    model = nn.Sequential.from_sizes(np.array([4, 8, 3]), "relu", output="softmax")
    assert model.n_params == 4 * 8 + 8 + 8 * 3 + 3


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


def test_sigmoid_output_with_a_loss_from_logits_warns():
    with pytest.warns(UserWarning, match=r"second sigmoid"):
        nn.Sequential([nn.Dense(1), nn.Sigmoid()], loss="bce_with_logits").build(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Sequential([nn.Dense(1), nn.Sigmoid()], loss="bce").build(2)  # fused, no warning


def test_built_is_false_until_build_and_true_after():
    model = Sequential([Dense(3), ReLU(), Dense(1)])
    assert model.built is False
    model.build(2)
    assert model.built is True


# -- compile ---------------------------------------------------------------------------------------
def test_compile_keeps_metrics_unless_given_and_accepts_one_name():
    X, y = three_class_data()
    model = softmax_net(metrics="mse")  # one name, not the letters m, s, e
    assert model.metrics == ["mse"]
    model.compile(optimizer="adam", lr=0.01)
    assert model.metrics == ["mse"]
    history = model.fit(X, y, epochs=1)
    assert set(history.history) == {"loss", "mse"}


def test_compile_lr_alone_sets_the_rate_and_a_failed_compile_changes_nothing():
    model = softmax_net(optimizer=nn.SGD(lr=0.01, momentum=0.9))
    model.compile(lr=0.5)  # was silently ignored
    assert model.optimizer.lr == 0.5 and model.optimizer.momentum == 0.9
    with pytest.raises(ValueError, match=r"'f1'"):
        model.compile(loss="mse", optimizer="adam", metrics=["f1"])
    assert model.loss.name == "categorical_cross_entropy"  # not half-applied
    assert isinstance(model.optimizer, nn.SGD)
    with pytest.raises(ValueError, match=r"lr.*-1"):
        model.compile(lr=-1)
    assert model.optimizer.lr == 0.5


# -- description -----------------------------------------------------------------------------------
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


def test_summary_table_counts_parameters_by_hand():
    model = nn.Sequential.from_sizes([2, 4, 3, 1], ["relu", "relu", "sigmoid"], seed=0)
    text = model.summary(print_fn=None)
    # Dense 2->4: 2*4 + 4 = 12; Dense 4->3: 4*3 + 3 = 15; Dense 3->1: 3*1 + 1 = 4; total 31
    rows = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert [row[1] for row in rows] == ["Dense", "ReLU", "Dense", "ReLU", "Dense", "Sigmoid"]
    assert [row[-1] for row in rows] == ["12", "0", "15", "0", "4", "0"]
    assert [row[-2] for row in rows] == ["4)", "4)", "3)", "3)", "1)", "1)"]
    assert "Total params: 31" in text
    assert model.n_params == 31


def test_info_prints_each_neuron_like_seed_001(capsys):
    model = nn.Sequential.from_sizes(
        [2, 2, 2], "sigmoid", output="sigmoid",
        weights=[([[0.1, 0.2], [0.3, 0.4]], [0.5, 0.6]), ([[0.7, 0.8], [0.9, 1.0]], [1.1, 1.2])],
        dtype="float64",
    )  # fmt: skip
    text = model.info()
    assert capsys.readouterr().out.strip() == text.strip()
    assert text.count("--- [ Neuron ] ---") == 4
    assert "Bias: 0.5 , Weights: [0.1, 0.3]" in text  # neuron 1 of layer 1: column 0 of W
    assert "Bias: 1.2 , Weights: [0.8, 1.0]" in text
    assert "np.float" not in text  # plain numbers, as seed 001 prints them
    f32 = nn.Sequential.from_sizes([2, 1], weights=[([[0.5], [0.25]], [0.125])])
    assert "Bias: 0.125 , Weights: [0.5, 0.25]" in f32.info(print_fn=None)


# -- inference per task ----------------------------------------------------------------------------
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


def _logit_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    return X, (X[:, 0] - 0.5 * X[:, 1] > 0).astype(int)


def test_linear_output_with_bce_from_logits_predicts_probabilities():
    # PyTorch style: a linear output trained with BCEWithLogits ("bce_with_logits"). predict_proba
    # must return sigmoid(z) (it returned z), and predict must threshold that at 0.5 (it
    # thresholded z at 0.5, i.e. the probability at 0.62).
    X, y = _logit_data()
    model = nn.Sequential([nn.Dense(1)], loss="bce_with_logits", optimizer="adam", lr=0.05, seed=0)
    model.fit(X, y, epochs=100, batch_size=32)
    z = model.forward(model.check_X(X))
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-z.astype(np.float64))), rtol=1e-5)
    assert proba.min() >= 0 and proba.max() <= 1
    np.testing.assert_array_equal(model.predict(X), (z[:, 0] > 0).astype(int))
    accuracy = model.evaluate(X, y)["accuracy"]  # the loop's metric thresholds logits at 0
    assert np.mean(model.predict(X) == y) == pytest.approx(accuracy)


def test_linear_output_with_softmax_cross_entropy_predicts_probabilities():
    X, y = three_class_data()
    model = nn.Sequential([nn.Dense(3)], loss="softmax_cross_entropy", seed=0)
    model.fit(X, y, epochs=3)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert proba.min() > 0
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))


# -- weights and config ----------------------------------------------------------------------------
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


# -- size bounds: one memory check for the whole network, before any layer allocates -----------
def test_from_sizes_refuses_a_network_larger_than_the_available_memory():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            Sequential.from_sizes([3, 10**12, 2])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith("the network [3, 1000000000000, 2] (6000000000002 float32")
    assert "for its parameters, gradients and optimizer state" in message
    assert "available" in message
    assert peak < 2**20  # refused before allocating anything


@pytest.mark.parametrize(
    ("size", "shown"),
    [(10**30, "[3, 1e+30, 2]"), (10**5000, "[3, 2**16609, 2]")],
    ids=["1e30", "1e5000"],
)
def test_absurd_sizes_never_overflow_into_confusing_messages(size, shown):
    with pytest.raises(ValueError, match=re.escape(f"the network {shown} (")):
        Sequential.from_sizes([3, size, 2])
    with pytest.raises(ValueError, match="available"):
        Sequential([Dense(size), ReLU(), Dense(2)]).build(3)


def test_build_refuses_above_a_small_limit_counting_the_optimizer_state(monkeypatch):
    import nablanet._validation as validation

    # 3-100-2: 602 float32 parameters; SGD: parameters, gradients, scratch, velocity (4 copies)
    monkeypatch.setattr(validation, "available_memory", lambda: 4 * 602 * 4)
    model = Sequential.from_sizes([3, 100, 2], optimizer="sgd")
    assert model.n_params == 602
    # Adam keeps two state buffers: one copy more than there is room for
    unbuilt = Sequential([Dense(100), ReLU(), Dense(2)], optimizer="adam")
    with pytest.raises(ValueError, match=r"the network \[3, 100, 2\] \(602 float32 param"):
        unbuilt.build(3)
    assert not getattr(unbuilt, "built", False)
    assert all(not layer.params for layer in unbuilt.layers)  # no layer allocated
