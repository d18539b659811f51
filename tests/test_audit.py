"""Audit of issue 2 ("nablanet core"): the tests it asks for that were missing, and regression
tests for the bugs the audit fixed.

- float32 in gives float32 weights, activations, gradients, optimizer state and predictions;
- one random generator, the global NumPy state untouched;
- every kind of bad input named in the issue gets a ValueError/TypeError quoting the value;
- odd-but-valid inputs a scikit-learn/Keras user would try (lists, pandas, int8 labels, a column
  of labels, bool X, one sample, batch_size > n, fitting twice);
- the fixes: probabilities from models trained on a loss that takes logits, all-or-nothing
  ``set_weights``, ``compile`` keeping the metrics, checked callbacks and batch sizes.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nablanet as nn
from nablanet import initializers


def _three_class_data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return X, y


def _softmax_net(**kwargs) -> nn.Sequential:
    kwargs.setdefault("seed", 0)
    return nn.Sequential.from_sizes(
        [4, 8, 3], "relu", output="softmax", loss="categorical_cross_entropy", **kwargs
    )


# ============================================================== dtypes
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
    X, y = _three_class_data()
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
    X, y = _three_class_data()
    a, b = _softmax_net(), _softmax_net()
    a.fit(X, y, epochs=3)
    b.fit(X.astype(np.float64), y, epochs=3)
    assert b.layers[0].params["W"].dtype == np.float32
    assert b.predict_proba(X.astype(np.float64)).dtype == np.float32
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_float64_model_computes_in_float64():
    X, y = _three_class_data()
    model = _softmax_net(dtype="float64")
    model.fit(X, y, epochs=1)  # float32 X is converted up, as asked
    assert model.layers[0].params["W"].dtype == np.float64
    assert model.predict_proba(X).dtype == np.float64


# ============================================================== randomness
def test_one_generator_reproducible_and_global_state_untouched():
    X, y = _three_class_data()

    def run(seed):
        model = nn.Sequential.from_sizes(
            [4, 8, 3], "relu", output="softmax", loss="categorical_cross_entropy",
            optimizer="sgd", lr=0.1, dropout=0.2, seed=seed,
        )  # fmt: skip
        model.fit(X, y, epochs=3, batch_size=8, validation_split=0.2)
        return model.predict_proba(X)

    before = np.random.get_state()  # noqa: NPY002 - reading the legacy state to check it
    first = run(7)
    after = np.random.get_state()  # noqa: NPY002
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2] == after[2]
    np.testing.assert_array_equal(first, run(7))
    np.testing.assert_array_equal(first, run(np.random.default_rng(7)))
    assert not np.array_equal(first, run(8))


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("small_normal", lambda w: abs(w.mean()) < 0.005 and abs(w.std() - 0.1) < 0.005),
        ("uniform01", lambda w: w.min() >= 0 and w.max() < 1 and abs(w.mean() - 0.5) < 0.01),
        ("glorot_uniform", lambda w: np.abs(w).max() <= math.sqrt(6 / 500) * (1 + 1e-6)
                                     and np.abs(w).max() > 0.99 * math.sqrt(6 / 500)),
        ("glorot_normal", lambda w: abs(w.std() - math.sqrt(2 / 500)) < 0.003),
        ("he_uniform", lambda w: np.abs(w).max() <= math.sqrt(6 / 200) * (1 + 1e-6)
                                 and np.abs(w).max() > 0.99 * math.sqrt(6 / 200)),
        ("he_normal", lambda w: abs(w.std() - math.sqrt(2 / 200)) < 0.003),
        ("zeros", lambda w: not w.any()),
    ],
)  # fmt: skip
def test_initializer_distributions(name, check):
    # the schemes' formulas with fan_in = 200, fan_out = 300 (60,000 draws)
    init = initializers.get_initializer(name)
    w = init((200, 300), np.random.default_rng(0), np.float64)
    assert w.shape == (200, 300)
    assert check(w)
    again = init((200, 300), np.random.default_rng(0), np.float32)
    assert again.dtype == np.float32
    np.testing.assert_allclose(again, w, rtol=1e-6, atol=1e-7)


# ============================================================== bad input
def _fitted():
    X, y = _three_class_data()
    model = _softmax_net()
    model.fit(X, y, epochs=1)
    return model


_X, _Y = _three_class_data()
_NAN_X = _X.copy()
_NAN_X[3, 1] = np.nan
_INF_Y = np.where(np.arange(60) == 5, np.inf, 1.0)

BAD_INPUT = {
    "wrong feature count at predict": (
        lambda: _fitted().predict(_X[:, :3]), ValueError, r"3 features.*expects 4"),
    "X/y length mismatch": (
        lambda: _softmax_net().fit(_X, _Y[:-1]), ValueError, r"60 and 59"),
    "NaN in X": (lambda: _softmax_net().fit(_NAN_X, _Y), ValueError, r"NaN.*\(3, 1\)"),
    "inf in y": (
        lambda: nn.Sequential.from_sizes([4, 1]).fit(_X, _INF_Y), ValueError, r"infinity.*inf"),
    "NaN in X at predict": (lambda: _fitted().predict(_NAN_X), ValueError, r"NaN"),
    "empty X": (
        lambda: _softmax_net().fit(np.empty((0, 4)), np.empty(0)), ValueError, r"empty.*\(0, 4\)"),
    "1-D X": (lambda: _softmax_net().fit(_X[:, 0], _Y), ValueError, r"2-D.*shape \(60,\)"),
    "1-D X at predict": (lambda: _fitted().predict(_X[0]), ValueError, r"reshape\(1, -1\)"),
    "3-D X": (lambda: _softmax_net().fit(_X.reshape(60, 2, 2), _Y), ValueError, r"3-D"),
    "label above range": (lambda: _softmax_net().fit(_X, _Y + 1), ValueError, r"got label 3"),
    "negative label": (lambda: _softmax_net().fit(_X, _Y - 1), ValueError, r"got label -1"),
    "fractional label": (lambda: _softmax_net().fit(_X, _Y + 0.5), ValueError, r"whole"),
    "binary label 2": (
        lambda: nn.Sequential.from_sizes([4, 1], output="sigmoid", loss="bce").fit(_X, _Y),
        ValueError, r"\[0, 1\].*2"),
    "string X": (
        lambda: _softmax_net().fit(np.full((60, 4), "a"), _Y), TypeError, r"numbers.*'a'"),
    "string y": (
        lambda: _softmax_net().fit(_X, np.array(["a", "b", "c"] * 20)), TypeError, r"'a'"),
    "y is None": (lambda: _softmax_net().fit(_X, None), TypeError, r"None"),
    "unknown activation": (
        lambda: nn.Sequential.from_sizes([2, 2, 1], "relux"), ValueError, r"'relux'.*'relu'"),
    "unknown loss": (lambda: nn.Sequential(loss="msee"), ValueError, r"'msee'.*'mse'"),
    "unknown optimizer": (lambda: nn.Sequential(optimizer="adamx"), ValueError, r"'adamx'"),
    "unknown initializer": (
        lambda: nn.Dense(3, kernel_initializer="glorot"), ValueError, r"'glorot'"),
    "batch_size 0": (lambda: _softmax_net().fit(_X, _Y, batch_size=0), ValueError, r"got 0"),
    "batch_size -4": (lambda: _softmax_net().fit(_X, _Y, batch_size=-4), ValueError, r"-4"),
    "batch_size 2.5": (lambda: _softmax_net().fit(_X, _Y, batch_size=2.5), TypeError, r"2\.5"),
    "lr 0": (lambda: nn.Sequential(lr=0), ValueError, r"lr.*got 0"),
    "lr -0.1 on an optimizer": (lambda: nn.SGD(lr=-0.1), ValueError, r"-0\.1"),
    "lr nan": (lambda: nn.Adam(lr=float("nan")), ValueError, r"nan"),
    "epochs 0": (lambda: _softmax_net().fit(_X, _Y, epochs=0), ValueError, r"epochs.*got 0"),
    "epochs 1.5": (lambda: _softmax_net().fit(_X, _Y, epochs=1.5), TypeError, r"1\.5"),
    "layer size 0": (lambda: nn.Sequential.from_sizes([2, 0, 1]), ValueError, r"got 0"),
    "units 0": (lambda: nn.Dense(0), ValueError, r"units.*got 0"),
    "one layer size": (lambda: nn.Sequential.from_sizes([2]), ValueError, r"\[2\]"),
    "predict batch_size 0": (
        lambda: _fitted().predict(_X, batch_size=0), ValueError, r"batch_size.*0"),
    "evaluate batch_size 0": (
        lambda: _fitted().evaluate(_X, _Y, batch_size=0), ValueError, r"batch_size.*0"),
    "callback that is a function": (
        lambda: _softmax_net().fit(_X, _Y, callbacks=[print]), TypeError, r"Callback.*print"),
    "explicit weights of strings": (
        lambda: nn.Dense(2, weights=[["a", "b"]]), TypeError, r"weights.*'a'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_a_clear_error(case):
    make, error, match = BAD_INPUT[case]
    with pytest.raises(error, match=match):
        make()


def test_step_activation_in_a_backprop_network_says_why_and_points_to_perceptron():
    for build in (
        lambda: nn.Sequential.from_sizes([2, 2, 1], "step"),
        lambda: nn.get_activation("step"),
    ):
        with pytest.raises(ValueError, match=r"derivative is zero almost everywhere") as info:
            build()
        assert "Perceptron" in str(info.value)


def test_a_failed_fit_leaves_the_trained_weights_alone():
    model = _fitted()
    before = model.get_weights()
    with pytest.raises(ValueError):
        model.fit(_X, _Y + 5)
    with pytest.raises(ValueError):
        model.fit(_X[:, :3], _Y)
    for old, new in zip(before, model.get_weights(), strict=True):
        for key in old:
            np.testing.assert_array_equal(old[key], new[key])


# ============================================================== odd but valid input
def _loss_curve(X, y, **fit_kwargs):
    return _softmax_net().fit(X, y, epochs=2, **fit_kwargs)["loss"]


def test_lists_int8_labels_float_labels_and_a_column_of_labels_train_alike():
    X, y = _three_class_data()
    reference = _loss_curve(X, y)
    assert _loss_curve(X.tolist(), y.tolist()) == reference
    assert _loss_curve(X, y.astype(np.int8)) == reference
    assert _loss_curve(X, y.astype(np.uint8)) == reference
    assert _loss_curve(X, y.astype(np.float64)) == reference
    assert _loss_curve(X, y.reshape(-1, 1)) == reference  # Keras' sparse labels, shape (n, 1)
    assert _loss_curve(X, np.eye(3)[y]) == reference  # one-hot given directly


def test_column_of_labels_with_a_squared_loss_is_multiclass_too():
    X, y = _three_class_data()

    def net():
        return nn.Sequential.from_sizes([4, 5, 3], "sigmoid", output="sigmoid",
                                        loss="half_squared_error", seed=0)  # fmt: skip

    a, b = net(), net()
    a.fit(X, y, epochs=2)
    b.fit(X, y.reshape(-1, 1), epochs=2)
    assert a.task == b.task == "multiclass"
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_pandas_dataframe_and_series():
    pd = pytest.importorskip("pandas")
    X, y = _three_class_data()
    reference = _softmax_net()
    reference.fit(X, y, epochs=2)
    model = _softmax_net()
    model.fit(pd.DataFrame(X, columns=list("abcd")), pd.Series(y), epochs=2)
    np.testing.assert_array_equal(model.predict_proba(pd.DataFrame(X)), reference.predict_proba(X))


def test_bool_X_single_sample_and_batch_larger_than_n():
    X, y = _three_class_data()
    assert len(_loss_curve(X > 0, y)) == 2
    one = _softmax_net()
    one.fit(X[:1], y[:1], epochs=3)
    assert one.predict(X[:1]).shape == (1,)
    # batch_size larger than the data is one full batch, exactly as batch_size=None
    assert _loss_curve(X, y, batch_size=10_000) == _loss_curve(X, y)


def test_fitting_twice_continues_from_the_trained_weights():
    X, y = _three_class_data()
    model = _softmax_net(optimizer="adam", lr=0.05)
    first = model.fit(X, y, epochs=20)["loss"]
    second = model.fit(X, y, epochs=20)["loss"]
    assert len(second) == 20
    assert second[0] < first[0]
    assert second[-1] < first[-1]


# ============================================================== summary and info
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


# ============================================================== regression tests for fixes
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
    X, y = _three_class_data()
    model = nn.Sequential([nn.Dense(3)], loss="softmax_cross_entropy", seed=0)
    model.fit(X, y, epochs=3)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert proba.min() > 0
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))


def test_sigmoid_output_with_a_loss_from_logits_warns():
    with pytest.warns(UserWarning, match=r"second sigmoid"):
        nn.Sequential([nn.Dense(1), nn.Sigmoid()], loss="bce_with_logits").build(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Sequential([nn.Dense(1), nn.Sigmoid()], loss="bce").build(2)  # fused, no warning


def test_set_weights_is_all_or_nothing():
    model = _fitted()
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


def test_compile_keeps_metrics_unless_given_and_accepts_one_name():
    X, y = _three_class_data()
    model = _softmax_net(metrics="mse")  # one name, not the letters m, s, e
    assert model.metrics == ["mse"]
    model.compile(optimizer="adam", lr=0.01)
    assert model.metrics == ["mse"]
    history = model.fit(X, y, epochs=1)
    assert set(history.history) == {"loss", "mse"}


def test_a_single_callback_need_not_be_in_a_list():
    X, y = _three_class_data()
    stop = nn.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = _softmax_net().fit(X, y, epochs=10, callbacks=stop)
    assert len(history["loss"]) == 2  # epoch 1 sets the best, epoch 2 fails to beat it by 100
    assert "early stopping" in history.stop_reason


def test_from_sizes_accepts_a_numpy_array_of_sizes():
    model = nn.Sequential.from_sizes(np.array([4, 8, 3]), "relu", output="softmax")
    assert model.n_params == 4 * 8 + 8 + 8 * 3 + 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_the_relative_precision_of_small_probabilities(dtype):
    # 0.5 * (1 + tanh(z / 2)) cancels: it gave sigma(-20) = 0 in float32 and a 100% relative
    # error at z = -37 in float64. The reference is 1 / (1 + e^-z) in Python floats.
    z = np.array([-80.0, -40.0, -20.0, -17.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 17.0, 40.0])
    expected = np.array([1.0 / (1.0 + math.exp(-v)) for v in z])
    from nablanet.functional import sigmoid

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sigmoid(z.astype(dtype))
        buffer = np.empty(z.shape, dtype)
        assert sigmoid(z.astype(dtype), out=buffer) is buffer
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(buffer, got)
    assert got[6] == 0.5
    in_place = z.astype(dtype)
    assert sigmoid(in_place, out=in_place) is in_place  # out may be the input itself
    np.testing.assert_array_equal(in_place, got)


def test_compile_lr_alone_sets_the_rate_and_a_failed_compile_changes_nothing():
    model = _softmax_net(optimizer=nn.SGD(lr=0.01, momentum=0.9))
    model.compile(lr=0.5)  # was silently ignored
    assert model.optimizer.lr == 0.5 and model.optimizer.momentum == 0.9
    with pytest.raises(ValueError, match=r"'f1'"):
        model.compile(loss="mse", optimizer="adam", metrics=["f1"])
    assert model.loss.name == "categorical_cross_entropy"  # not half-applied
    assert isinstance(model.optimizer, nn.SGD)
    with pytest.raises(ValueError, match=r"lr.*-1"):
        model.compile(lr=-1)
    assert model.optimizer.lr == 0.5
