"""Every loss names its output link, and every reader uses it (issue 17, item 2).

The link is the function a loss applies to the last layer's output before comparing with the
targets: predict_proba, predict, the training metrics and the estimators return what it gives.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nablanet as nn
from nablanet import Sequential, losses
from nablanet.layers import Dense
from nablanet.layers.activations import Exp

# written out from the loss formulas (losses.py's table), not read from the code
EXPECTED_LINKS = {
    "mse": "identity",
    "sum_squared_error": "identity",
    "half_squared_error": "identity",
    "binary_cross_entropy": "identity",
    "categorical_cross_entropy": "identity",
    "half_poisson_deviance": "identity",
    "sigmoid_binary_cross_entropy": "sigmoid",
    "softmax_cross_entropy": "softmax",
    "exp_half_poisson_deviance": "exp",
    # the tutorials' own losses (nablanet.tutorial) compare the last layer's output as it is
    "seed000_cross_entropy": "identity",
    "summed_half_squared_error": "identity",
}


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_every_loss_names_its_link_and_from_logits_follows(name):
    loss = losses.get_loss(name)
    assert loss.link == EXPECTED_LINKS[name]
    assert loss.from_logits is (loss.link != "identity")


def poisson_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 3))
    mu = np.exp(0.4 * X[:, 0] + 0.8)  # Poisson means from 1.0 to 7, mostly above 1
    return X, rng.poisson(mu).astype(float), mu


@pytest.mark.parametrize(
    ("output", "loss"),
    [("identity", "exp_half_poisson_deviance"), ("exp", "half_poisson_deviance")],
)
def test_poisson_predictions_are_exp_of_the_log_mean(output, loss):
    # Before, exp_half_poisson_deviance's predictions were sigmoid(z), always in (0, 1), for
    # targets averaging above 2 (the loss only said "from logits", and predict chose sigmoid).
    X, y, _ = poisson_data()
    model = Sequential.from_sizes(
        [3, 8, 1], "tanh", output, loss=loss, optimizer="adam", lr=0.02, seed=0, dtype="float64"
    )
    model.fit(X, y, epochs=60, batch_size=32, verbose=False)
    z = model.forward(X, loss_input=True)  # the log-mean: the Exp layer (if any) skipped
    np.testing.assert_allclose(model.predict(X), np.exp(z[:, 0]), rtol=1e-12)
    # a trained Poisson model's mean prediction matches the mean count (the deviance's score
    # equation for the bias makes them equal at the optimum); within 15% after 60 epochs
    assert np.mean(model.predict(X)) == pytest.approx(y.mean(), rel=0.15)
    assert y.mean() > 2


def test_the_metrics_score_the_prediction_not_the_logits():
    # mae/mse of a fused output were computed on the training loss's input, the logits: here
    # log-means for Poisson, and z for a Sigmoid output with BCE.
    X, y, _ = poisson_data(1)
    model = Sequential.from_sizes(
        [3, 4, 1], "tanh", "exp", loss="half_poisson_deviance", metrics=["mae", "mse"], seed=0
    )
    model.fit(X, y, epochs=5, batch_size=64, verbose=False)
    scores = model.evaluate(X, y)
    error = model.predict(X).astype(np.float64) - y
    assert scores["mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-5)  # float32 model
    assert scores["mse"] == pytest.approx(np.mean(error**2), rel=1e-5)

    labels = (X[:, 1] > 0).astype(int)
    clf = Sequential.from_sizes(
        [3, 4, 1], "tanh", "sigmoid", loss="bce", metrics=["accuracy", "mse"], seed=0
    )
    clf.fit(X, labels, epochs=5, verbose=False)
    scores = clf.evaluate(X, labels)
    p = clf.predict_proba(X)[:, 0].astype(np.float64)
    assert scores["mse"] == pytest.approx(np.mean((p - labels) ** 2), rel=1e-5)
    assert scores["accuracy"] == pytest.approx(np.mean(clf.predict(X) == labels))


# -- a loss of your own ------------------------------------------------------------------------
def test_a_user_loss_that_sets_only_from_logits_is_refused_when_defined():
    # from_logits=True cannot say sigmoid, softmax or exp: refused, with the fix in the message
    with pytest.raises(TypeError, match=r"MyLogitLoss sets from_logits=True but its link is "):

        class MyLogitLoss(losses.Loss):
            name = "my_logit_loss"
            from_logits = True

    with pytest.raises(TypeError, match=r"set link to the function the loss applies"):

        class Contradiction(losses.Loss):
            link = "exp"
            from_logits = False

    with pytest.raises(TypeError, match=r"Odd.link must be one of .*, got 'tanh'"):

        class Odd(losses.Loss):
            link = "tanh"


def test_a_user_loss_with_a_link_is_predicted_through_it():
    class LogCosh(losses.Loss):
        """log(cosh(e^z - y)) on the Poisson scale: a user loss from log-means."""

        name = "log_cosh_exp"
        link = "exp"

        def forward(self, y_pred, y_true, sample_weight=None):
            self._d, self._mu = np.exp(y_pred) - y_true, np.exp(y_pred)
            return float(np.mean(np.log(np.cosh(self._d))))

        def backward(self):
            return np.tanh(self._d) * self._mu / self._d.size

    assert LogCosh.from_logits is True  # derived from link
    X, y, _ = poisson_data(2)
    model = Sequential([Dense(1)], loss=LogCosh(), seed=0, dtype="float64")
    model.fit(X, y, epochs=2, verbose=False)
    np.testing.assert_allclose(model.predict(X), np.exp(model.forward(X)[:, 0]), rtol=1e-12)


def test_an_instance_that_changes_from_logits_is_refused_at_build():
    loss = losses.get_loss("mse")
    loss.from_logits = True  # an instance attribute: the class check cannot see it
    model = Sequential([Dense(1)], loss=loss, seed=0)
    with pytest.raises(TypeError, match=r"MeanSquaredError has from_logits=True but link='id"):
        model.build(3)


@pytest.mark.parametrize(
    ("last", "loss", "message"),
    [
        (nn.Sigmoid, "bce_with_logits", "a second sigmoid"),
        (nn.Softmax, "softmax_cross_entropy", "a second softmax"),
        (Exp, "exp_half_poisson_deviance", "a second exp.*use half_poisson_deviance"),
        (nn.Sigmoid, "softmax_cross_entropy", "softmax after Sigmoid"),
    ],
)
def test_a_logits_loss_after_a_squashing_layer_warns_by_link(last, loss, message):
    with pytest.warns(UserWarning, match=message):
        Sequential([Dense(2), last()], loss=loss, seed=0).build(3)


# -- the estimators wrap such models through the link ------------------------------------------
@pytest.mark.parametrize(
    ("loss", "n_out", "out_activation"),
    [
        ("softmax_cross_entropy", 3, "softmax"),
        ("bce_with_logits", 1, "logistic"),
        ("exp_half_poisson_deviance", 1, "exp"),
    ],
)
def test_from_model_predicts_through_the_link(loss, n_out, out_activation):
    pytest.importorskip("sklearn")
    from nablanet.estimators import from_model

    X, counts, _ = poisson_data(3)
    y = {3: np.digitize(X[:, 0], [-0.5, 0.5]), 1: (X[:, 0] > 0).astype(int)}[n_out]
    y = counts if out_activation == "exp" else y
    model = Sequential.from_sizes([3, 5, n_out], "tanh", "identity", loss=loss, lr=0.05, seed=0)
    model.fit(X, y, epochs=3, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = from_model(model)
    assert est.out_activation_ == out_activation
    proba = model.predict_proba(X)
    if out_activation == "exp":
        np.testing.assert_allclose(est.predict(X), proba[:, 0], rtol=1e-6)
    else:
        expected = np.hstack([1 - proba, proba]) if n_out == 1 else proba
        np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(est.predict(X), model.predict(X))


def test_clone_keeps_uint64_classes_exactly():
    # the clone's config lists the classes as JSON ints; np.asarray([1, 2**63 + 1]) is float64
    model = Sequential.from_sizes([2, 1], output="sigmoid", loss="bce", seed=0)
    model.build(2)
    model.classes_ = np.array([1, 2**63 + 1], dtype=np.uint64)
    twin = model.clone()
    assert twin.classes_.dtype == np.uint64
    assert twin.classes_.tolist() == [1, 2**63 + 1]
