"""The engine seam of Sequential, sample and class weights, and what copies and pickles carry."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import nablanet as nn
from nablanet import losses
from nablanet.gradcheck import numerical_gradient
from nablanet.training import DivergenceGuard

RNG = np.random.default_rng(3)
X = RNG.normal(size=(12, 3))
Y_CLASS = np.arange(12) % 3
Y_REG = np.c_[X[:, 0] - X[:, 1], X[:, 2]]


def classifier(**kwargs) -> nn.Sequential:
    settings = dict(loss="categorical_cross_entropy", seed=0, dtype="float64", lr=0.1)
    settings.update(kwargs)
    return nn.Sequential.from_sizes([3, 5, 3], "tanh", "softmax", **settings)


# -- the seam ---------------------------------------------------------------------------------
def test_loss_and_grads_is_the_gradient_of_compute_loss_with_sample_weights():
    model = nn.Sequential.from_sizes([3, 4, 2], "tanh", loss="mse", l2=0.1, seed=0,
                                     dtype="float64")  # fmt: skip
    Xc, Y = model.prepare(X, Y_REG)
    w = np.linspace(0.5, 2.0, len(X))
    loss, out = model.loss_and_grads(Xc, Y, w, training=False)
    assert loss == pytest.approx(model.compute_loss(Xc, Y, w), rel=1e-12)
    assert out.shape == (12, 2)
    for layer in model.layers:
        for key, param in layer.params.items():
            analytic = layer.grads[key].copy()
            numeric = numerical_gradient(lambda: model.compute_loss(Xc, Y, w), param)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_train_step_is_loss_and_grads_then_one_sgd_step():
    a, b = classifier(), classifier()
    Xc, Y = a.prepare(X, Y_CLASS)
    b.prepare(X, Y_CLASS)
    loss_a, _ = a.train_step(Xc, Y)
    loss_b, _ = b.loss_and_grads(Xc, Y)
    expected = b.parameters_to_vector() - 0.1 * b.gradients_to_vector()  # p <- p - lr g
    b.apply_gradients()
    assert loss_a == loss_b
    np.testing.assert_allclose(a.parameters_to_vector(), expected, rtol=1e-12)
    np.testing.assert_allclose(b.parameters_to_vector(), expected, rtol=1e-12)


def test_forward_to_the_loss_input_gives_the_logits_of_a_fused_output():
    model = classifier()
    Xc, _ = model.prepare(X, Y_CLASS)
    logits = model.forward(Xc, loss_input=True)
    assert isinstance(model.training_loss, losses.SoftmaxCrossEntropy)
    np.testing.assert_allclose(nn.functional.softmax(logits), model.forward(Xc), rtol=1e-12)
    # start=k continues from layer k's input: layers 0-1 by hand, then the rest
    hidden = model.layers[1].forward(model.layers[0].forward(Xc))
    np.testing.assert_allclose(model.forward(hidden, start=2), model.forward(Xc), rtol=1e-12)


def test_backward_trace_and_gradients_vector():
    model = classifier()
    Xc, Y = model.prepare(X, Y_CLASS)
    model.loss_and_grads(Xc, Y)
    flat = np.concatenate([g.ravel() for layer in model.layers for g in layer.grads.values()])
    np.testing.assert_array_equal(model.gradients_to_vector(), flat)
    out, trace = [], []
    model.forward(Xc, trace=out)
    model.backward(np.ones_like(out[-1]), trace=trace)
    assert [o.shape for o in out] == [(12, 5), (12, 5), (12, 3), (12, 3)]
    # last layer first; the first Dense layer skips dL/dX (nobody needs the data's gradient)
    assert [g.shape for g in trace] == [(12, 3), (12, 5), (12, 5), (12, 0)]


def test_parameters_vector_round_trip_and_bad_length():
    model = classifier()
    model.build(3)
    v = model.parameters_to_vector()
    assert v.shape == (model.n_params,)
    model.vector_to_parameters(np.zeros_like(v))
    assert not model.layers[0].params["W"].any()
    model.vector_to_parameters(v)
    np.testing.assert_array_equal(model.parameters_to_vector(), v)
    with pytest.raises(
        ValueError, match=rf"expected a vector of {v.size} parameters, got shape \(3,\)"
    ):
        model.vector_to_parameters(np.zeros(3))


def test_a_backward_called_twice_gives_the_same_gradient():
    # the fused softmax cross-entropy used to turn its cached p into (p - y) / n in place
    for name in sorted(losses.LOSSES):
        loss = losses.get_loss(name)
        p = np.full((4, 3), 0.2) + np.eye(4, 3) * 0.4
        y = np.eye(4, 3)
        loss.forward(p, y)
        first = loss.backward().copy()
        np.testing.assert_array_equal(loss.backward(), first, err_msg=name)
    for layer in [nn.Dense(3), nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(), nn.Softmax()]:
        layer.build(3, np.random.default_rng(0), np.float64)
        layer.forward(X[:4], training=True)
        first = layer.backward(X[:4] * 0.5).copy()
        np.testing.assert_array_equal(layer.backward(X[:4] * 0.5), first, err_msg=repr(layer))


# -- sample weights in the losses -------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_integer_sample_weights_equal_repeated_rows(name):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3))
    p = nn.functional.softmax(logits)
    y = np.eye(3)[[0, 2, 1, 2]]
    pred = logits if losses.get_loss(name).from_logits or "squared" in name or name == "mse" else p
    counts = np.array([1, 3, 0, 2])
    weighted, repeated = losses.get_loss(name), losses.get_loss(name)
    value = weighted.forward(pred, y, counts)
    reference = repeated.forward(np.repeat(pred, counts, axis=0), np.repeat(y, counts, axis=0))
    assert value == pytest.approx(reference, rel=1e-12)
    # the gradient of row i is the sum of its copies' gradients
    grad = repeated.backward()
    summed = np.add.reduceat(grad, np.r_[0, np.cumsum(counts)[:-1]], axis=0)
    summed[counts == 0] = 0.0
    np.testing.assert_allclose(weighted.backward(), summed, rtol=1e-12, atol=1e-15)


def test_equal_weights_change_nothing_and_zero_weights_contribute_nothing():
    loss = losses.get_loss("mse")
    y = np.zeros((3, 2))
    pred = np.arange(6.0).reshape(3, 2)
    assert loss.forward(pred, y, np.full(3, 7.0)) == pytest.approx(loss.forward(pred, y))
    assert loss.forward(pred, y, np.zeros(3)) == 0.0
    assert not loss.backward().any()


@pytest.mark.parametrize("name", ["binary_cross_entropy", "sigmoid_binary_cross_entropy"])
def test_outputs_sum_is_k_times_the_mean(name):
    z = np.random.default_rng(2).normal(size=(5, 4))
    pred = z if name.startswith("sigmoid") else nn.functional.sigmoid(z)
    y = (z > 0.3).astype(float)
    mean, total = losses.get_loss(name), losses.get_loss({"name": name, "outputs": "sum"})
    assert total.get_config() == {"name": name, "outputs": "sum"}
    assert total.forward(pred, y) == pytest.approx(4 * mean.forward(pred, y), rel=1e-12)
    np.testing.assert_allclose(total.backward(), 4 * mean.backward(), rtol=1e-12)
    with pytest.raises(ValueError, match="unknown outputs 'max'"):
        losses.get_loss({"name": name, "outputs": "max"})
    with pytest.raises(ValueError, match="takes no settings"):
        losses.get_loss({"name": "mse", "outputs": "sum"})


def test_a_loss_with_settings_survives_the_model_config():
    model = nn.Sequential.from_sizes(
        [3, 4, 2], "tanh", "sigmoid", loss=losses.BinaryCrossEntropy(outputs="sum"), seed=0
    )
    twin = nn.Sequential.from_config(model.get_config())
    assert twin.loss.get_config() == {"name": "binary_cross_entropy", "outputs": "sum"}
    assert twin.training_loss.get_config()["outputs"] == "sum"  # the fused form keeps it


# -- sample and class weights in fit ----------------------------------------------------------
def test_fit_with_integer_sample_weights_equals_fit_on_repeated_samples():
    counts = np.arange(12) % 3 + 1
    a, b = classifier(), classifier()
    ha = a.fit(X, Y_CLASS, epochs=5, sample_weight=counts)
    hb = b.fit(np.repeat(X, counts, axis=0), np.repeat(Y_CLASS, counts), epochs=5)
    np.testing.assert_allclose(a.parameters_to_vector(), b.parameters_to_vector(), rtol=1e-10)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-10)


def test_class_weight_dict_and_balanced():
    y = np.array([0] * 9 + [1] * 3)
    a, b = classifier(), classifier()
    a.fit(X, y, epochs=3, class_weight={1: 3.0})
    b.fit(X, y, epochs=3, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(a.parameters_to_vector(), b.parameters_to_vector())
    c = classifier()
    c.fit(X, y, epochs=3, class_weight="balanced")  # 12 / (3 classes * count)
    d = classifier()
    d.fit(X, y, epochs=3, sample_weight=np.where(y == 1, 12 / 9, 12 / 27))
    np.testing.assert_allclose(c.parameters_to_vector(), d.parameters_to_vector(), rtol=1e-12)


def test_bad_sample_and_class_weights_are_refused_clearly():
    model = classifier()
    with pytest.raises(ValueError, match="sample_weight has 3 entries, but there are 12 samples"):
        model.fit(X, Y_CLASS, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0, got -1"):
        model.fit(X, Y_CLASS, sample_weight=np.r_[-1.0, np.ones(11)])
    with pytest.raises(ValueError, match=r"names classes \[7\] not among the labels \[0, 1, 2\]"):
        model.fit(X, Y_CLASS, class_weight={7: 2.0})
    with pytest.raises(ValueError, match="must be a dict, 'balanced' or None, got 'heavy'"):
        model.fit(X, Y_CLASS, class_weight="heavy")
    with pytest.raises(ValueError, match=r"values must be finite and >= 0"):
        model.fit(X, Y_CLASS, class_weight={0: -1.0})
    regressor = nn.Sequential.from_sizes([3, 2], loss="mse", seed=0)
    with pytest.raises(ValueError, match="task is 'regression'"):
        regressor.fit(X, Y_REG, class_weight={0: 1.0})
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        model.fit(X, Y_CLASS, validation_data=(X,))


def test_weighted_validation_and_evaluate():
    model = classifier()
    w = np.arange(12) % 2 * 1.0  # odd rows only
    history = model.fit(X, Y_CLASS, epochs=2, validation_data=(X, Y_CLASS, w))
    odd = model.evaluate(X[1::2], Y_CLASS[1::2])["loss"]
    assert model.evaluate(X, Y_CLASS, sample_weight=w)["loss"] == pytest.approx(odd, rel=1e-12)
    assert history.history["val_loss"][-1] == pytest.approx(odd, rel=1e-12)


# -- callbacks, divergence --------------------------------------------------------------------
def test_on_batch_end_is_called_for_every_batch_with_its_loss():
    calls = []

    class Recorder(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append((batch, logs["loss"]))

    classifier().fit(X, Y_CLASS, epochs=2, batch_size=5, callbacks=[Recorder()])
    assert [b for b, _ in calls] == [0, 1, 2, 0, 1, 2]
    assert all(np.isfinite(loss) and loss > 0 for _, loss in calls)


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


# -- copies and pickles -----------------------------------------------------------------------
def test_copies_carry_no_scratch_space_and_train_like_the_original():
    model = classifier()
    model.fit(X, Y_CLASS, epochs=2, batch_size=4)
    dense = model.layers[0]
    assert dense._buffers and dense._x is not None  # the fit left scratch space behind
    twin = copy.deepcopy(model)
    assert twin.layers[0]._buffers == {} and twin.layers[0]._x is None
    assert twin.training_loss.__dict__.keys() <= {"outputs"}  # no cached batch
    size = len(pickle.dumps(model))
    assert size < 8 * model.n_params * 3 + 20_000  # parameters, SGD state, grads rebuilt
    twin.fit(X, Y_CLASS, epochs=2, batch_size=4, seed=1)
    model.fit(X, Y_CLASS, epochs=2, batch_size=4, seed=1)
    np.testing.assert_array_equal(twin.parameters_to_vector(), model.parameters_to_vector())


def test_pickled_estimator_is_within_twice_scikit_learns_size():
    pytest.importorskip("sklearn")
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier as SkMLP

    from nablanet.estimators import MLPClassifier

    X_digits, y_digits = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = MLPClassifier((100,), max_iter=5, random_state=0).fit(X_digits / 16, y_digits)
        theirs = SkMLP((100,), max_iter=5, random_state=0).fit(X_digits / 16, y_digits)
    assert len(pickle.dumps(ours)) <= 2 * len(pickle.dumps(theirs))
    again = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(again.predict_proba(X_digits), ours.predict_proba(X_digits))


def test_adam_state_is_the_textbook_m_and_v():
    model = nn.Sequential.from_sizes([3, 2], loss="mse", optimizer="adam", seed=0,
                                     dtype="float64")  # fmt: skip
    Xc, Y = model.prepare(X, Y_REG)
    model.loss_and_grads(Xc, Y)
    g = model.gradients_to_vector()
    model.apply_gradients()
    state = model.optimizer.get_state()
    m = np.concatenate([state["layers.0.W.m"].ravel(), state["layers.0.b.m"].ravel()])
    v = np.concatenate([state["layers.0.W.v"].ravel(), state["layers.0.b.v"].ravel()])
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-12)  # (1 - beta_1) g
    np.testing.assert_allclose(v, 0.001 * g**2, rtol=1e-12)  # (1 - beta_2) g^2
