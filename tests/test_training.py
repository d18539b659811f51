"""Tests for nablanet.training's loop and divergence guard: Sequential.fit end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablanet as nn
from _helpers import (
    X12,
    Y12_CLASS,
    Y12_REG,
    Y_BINARY,
    Y_CLASS,
    X,
    classifier,
    softmax_net,
    three_class_data,
)
from nablanet import Sequential
from nablanet.training import DivergenceGuard


def fit_with_seeds(model_seed: int, fit_seed: int) -> Sequential:
    model = Sequential.from_sizes(
        [3, 6, 3], "relu", "softmax", dropout=0.3, loss="ce", optimizer="adam", seed=model_seed
    )
    model.fit(X, Y_CLASS, epochs=3, batch_size=7, seed=fit_seed, validation_split=0.2)
    return model


def all_params(model: Sequential) -> np.ndarray:
    return np.concatenate([p.ravel() for _, p, _ in model.slots()])


# -- batches ---------------------------------------------------------------------------------------
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


# -- seeds -----------------------------------------------------------------------------------------
def test_fit_is_reproducible_bit_for_bit():
    a, b = fit_with_seeds(1, 2), fit_with_seeds(1, 2)
    np.testing.assert_array_equal(all_params(a), all_params(b))


def test_different_seeds_give_different_weights():
    base = all_params(fit_with_seeds(1, 2))
    assert not np.array_equal(base, all_params(fit_with_seeds(3, 2)))  # other initial weights
    assert not np.array_equal(base, all_params(fit_with_seeds(1, 4)))  # other shuffles, masks


def test_global_numpy_rng_is_untouched():
    # the legacy global generator is inspected on purpose: nablanet must never draw from it
    state = np.random.get_state()  # noqa: NPY002
    model = fit_with_seeds(0, 0)  # initial weights, shuffling, dropout masks, validation split
    model.predict(X)
    after = np.random.get_state()  # noqa: NPY002
    assert state[0] == after[0]
    np.testing.assert_array_equal(state[1], after[1])
    assert state[2:] == after[2:]


def test_one_generator_reproducible_and_global_state_untouched():
    X, y = three_class_data()

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


# -- validation ------------------------------------------------------------------------------------
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


# -- odd but valid data ----------------------------------------------------------------------------
def _loss_curve(X, y, **fit_kwargs):
    return softmax_net().fit(X, y, epochs=2, **fit_kwargs)["loss"]


def test_lists_int8_labels_float_labels_and_a_column_of_labels_train_alike():
    X, y = three_class_data()
    reference = _loss_curve(X, y)
    assert _loss_curve(X.tolist(), y.tolist()) == reference
    assert _loss_curve(X, y.astype(np.int8)) == reference
    assert _loss_curve(X, y.astype(np.uint8)) == reference
    assert _loss_curve(X, y.astype(np.float64)) == reference
    assert _loss_curve(X, y.reshape(-1, 1)) == reference  # Keras' sparse labels, shape (n, 1)
    assert _loss_curve(X, np.eye(3)[y]) == reference  # one-hot given directly


def test_column_of_labels_with_a_squared_loss_is_multiclass_too():
    X, y = three_class_data()

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
    X, y = three_class_data()
    reference = softmax_net()
    reference.fit(X, y, epochs=2)
    model = softmax_net()
    model.fit(pd.DataFrame(X, columns=list("abcd")), pd.Series(y), epochs=2)
    np.testing.assert_array_equal(model.predict_proba(pd.DataFrame(X)), reference.predict_proba(X))


def test_bool_X_single_sample_and_batch_larger_than_n():
    X, y = three_class_data()
    assert len(_loss_curve(X > 0, y)) == 2
    one = softmax_net()
    one.fit(X[:1], y[:1], epochs=3)
    assert one.predict(X[:1]).shape == (1,)
    # batch_size larger than the data is one full batch, exactly as batch_size=None
    assert _loss_curve(X, y, batch_size=10_000) == _loss_curve(X, y)


def test_fitting_twice_continues_from_the_trained_weights():
    X, y = three_class_data()
    model = softmax_net(optimizer="adam", lr=0.05)
    first = model.fit(X, y, epochs=20)["loss"]
    second = model.fit(X, y, epochs=20)["loss"]
    assert len(second) == 20
    assert second[0] < first[0]
    assert second[-1] < first[-1]


# -- sample and class weights ----------------------------------------------------------------------
def test_fit_with_integer_sample_weights_equals_fit_on_repeated_samples():
    counts = np.arange(12) % 3 + 1
    a, b = classifier(), classifier()
    ha = a.fit(X12, Y12_CLASS, epochs=5, sample_weight=counts)
    hb = b.fit(np.repeat(X12, counts, axis=0), np.repeat(Y12_CLASS, counts), epochs=5)
    np.testing.assert_allclose(a.parameters_to_vector(), b.parameters_to_vector(), rtol=1e-10)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-10)


def test_class_weight_dict_and_balanced():
    y = np.array([0] * 9 + [1] * 3)
    a, b = classifier(), classifier()
    a.fit(X12, y, epochs=3, class_weight={1: 3.0})
    b.fit(X12, y, epochs=3, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(a.parameters_to_vector(), b.parameters_to_vector())
    c = classifier()
    c.fit(X12, y, epochs=3, class_weight="balanced")  # 12 / (3 classes * count)
    d = classifier()
    d.fit(X12, y, epochs=3, sample_weight=np.where(y == 1, 12 / 9, 12 / 27))
    np.testing.assert_allclose(c.parameters_to_vector(), d.parameters_to_vector(), rtol=1e-12)


def test_bad_sample_and_class_weights_are_refused_clearly():
    model = classifier()
    with pytest.raises(ValueError, match="sample_weight has 3 entries, but there are 12 samples"):
        model.fit(X12, Y12_CLASS, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0, got -1"):
        model.fit(X12, Y12_CLASS, sample_weight=np.r_[-1.0, np.ones(11)])
    with pytest.raises(ValueError, match=r"names classes \[7\] not among the labels \[0, 1, 2\]"):
        model.fit(X12, Y12_CLASS, class_weight={7: 2.0})
    with pytest.raises(ValueError, match="must be a dict, 'balanced' or None, got 'heavy'"):
        model.fit(X12, Y12_CLASS, class_weight="heavy")
    with pytest.raises(ValueError, match=r"class_weight\[0\] must be a finite number >= 0, got -1"):
        model.fit(X12, Y12_CLASS, class_weight={0: -1.0})
    regressor = nn.Sequential.from_sizes([3, 2], loss="mse", seed=0)
    with pytest.raises(ValueError, match="task is 'regression'"):
        regressor.fit(X12, Y12_REG, class_weight={0: 1.0})
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        model.fit(X12, Y12_CLASS, validation_data=(X12,))


def test_weighted_validation_and_evaluate():
    model = classifier()
    w = np.arange(12) % 2 * 1.0  # odd rows only
    history = model.fit(X12, Y12_CLASS, epochs=2, validation_data=(X12, Y12_CLASS, w))
    odd = model.evaluate(X12[1::2], Y12_CLASS[1::2])["loss"]
    assert model.evaluate(X12, Y12_CLASS, sample_weight=w)["loss"] == pytest.approx(odd, rel=1e-12)
    assert history.history["val_loss"][-1] == pytest.approx(odd, rel=1e-12)


# -- divergence ------------------------------------------------------------------------------------
def _all_finite(model) -> bool:
    return all(np.isfinite(p).all() for layer in model.layers for p in layer.params.values())


@pytest.mark.parametrize(
    ("lr", "batch_size", "dtype"),
    [
        (10.0, None, "float32"),
        (10.0, 8, "float32"),
        (1e3, None, "float64"),
        (1e38, None, "float32"),
    ],
)
def test_divergence_guard(lr, batch_size, dtype, regression_data):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 8, 1], "identity", optimizer="sgd", lr=lr, seed=0,
                                     dtype=dtype)  # fmt: skip
    with np.errstate(all="ignore"), pytest.warns(nn.DivergenceWarning, match="diverged"):
        history = model.fit(X, y, epochs=200, batch_size=batch_size)
    assert "diverged" in history.stop_reason
    assert history.stop_reason == model.stop_reason
    assert len(history.epoch) < 200
    assert _all_finite(model)
    assert all(math.isfinite(v) for v in history.history.get("loss", []))
    # the restored weights are ones whose loss was finite, not merely finite weights
    with np.errstate(all="ignore"):
        assert math.isfinite(model.evaluate(X, y)["loss"])
    # the model is usable afterwards
    assert np.all(np.isfinite(model.predict(X)))


def test_divergence_warning_carries_epoch_step_and_loss(regression_data):
    """The warning's fields count from 1, as its message does; callers read them, not the text."""
    from nablanet.training import DivergenceGuard

    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 8, 1], "identity", optimizer="sgd", lr=1e3, seed=0)
    model.build(3)
    guard = DivergenceGuard(model)
    assert guard.warning is None
    assert guard.check(float("inf"), epoch=4, step=2) is False
    warning = guard.warning
    assert isinstance(warning, nn.DivergenceWarning)
    assert (warning.epoch, warning.step, warning.loss) == (5, 3, math.inf)
    assert "(epoch 5, batch 3)" in str(warning) and str(warning) == model.stop_reason

    with np.errstate(all="ignore"), pytest.warns(nn.DivergenceWarning) as caught:
        history = model.fit(X, y, epochs=50, batch_size=8)
    warning = caught[0].message
    assert isinstance(warning, nn.DivergenceWarning)
    assert warning.epoch == len(history.epoch) + 1  # the epochs before it completed
    assert 1 <= warning.step <= math.ceil(len(X) / 8)
    assert not math.isfinite(warning.loss)
    assert f"(epoch {warning.epoch}, batch {warning.step})" in str(warning)


def test_no_divergence_warning_on_a_sane_run(regression_data, recwarn):
    X, y = regression_data
    model = nn.Sequential.from_sizes([3, 4, 1], "tanh", lr=0.05, seed=0)
    history = model.fit(X, y, epochs=5)
    assert not any(issubclass(w.category, nn.DivergenceWarning) for w in recwarn)
    assert history.stop_reason is None


def test_divergence_guard_restores_the_epoch_start():
    model = classifier()
    model.build(3)
    guard = DivergenceGuard(model)
    guard.begin_epoch()
    start = model.parameters_to_vector()
    model.vector_to_parameters(start + 1.0)
    assert guard.check(0.5, epoch=0, step=3)
    assert not guard.check(float("nan"), epoch=0, step=3)
    np.testing.assert_array_equal(model.parameters_to_vector(), start)
    assert model.stop_training and "training loss became nan at iteration 1" in model.stop_reason
