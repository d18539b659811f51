"""Tests for nablanet.estimators: scikit-learn's MLP semantics, step for step, and the extras."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network as sk_nn
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from nablanet.estimators import MLPClassifier, MLPRegressor
from nablanet.layers import Dropout, LeakyReLU, ReLU, Tanh
from nablanet.optimizers import SGD, RMSProp
from nablanet.schedules import StepDecay

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


def _targets(kind: str, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return {
        "multiclass": y,
        "binary": y == 1,
        "multilabel": np.c_[y == 1, y == 2].astype(int),
        "regression": np.c_[2 * X[:, 0], X[:, 1] - X[:, 2]],
    }[kind]


# -- the same algorithm as scikit-learn ---------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "regression"])
def test_training_matches_sklearn_step_for_step(iris, solver, kind):
    # From the same initial weights, 5 full-batch epochs with sample weights and L2 give
    # scikit-learn's weights and loss curve (Adam with scikit-learn's epsilon placement).
    X, y = iris
    target = _targets(kind, X, y)
    sw = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    params = dict(
        hidden_layer_sizes=(5, 4),
        activation="tanh",
        solver=solver,
        batch_size=len(y),
        shuffle=False,
        alpha=0.01,
        learning_rate_init=0.05,
        warm_start=True,
        random_state=0,
    )
    sk_cls, nb_cls = (
        (sk_nn.MLPRegressor, MLPRegressor)
        if kind == "regression"
        else (sk_nn.MLPClassifier, MLPClassifier)
    )
    ref = sk_cls(max_iter=1, **params).fit(X, target, sample_weight=sw)
    ours = nb_cls(max_iter=1, **params).fit(X, target, sample_weight=sw)
    ours.coefs_, ours.intercepts_ = ref.coefs_, ref.intercepts_
    ref.set_params(max_iter=5).fit(X, target, sample_weight=sw)
    ours.set_params(max_iter=5).fit(X, target, sample_weight=sw)
    for mine, theirs in zip(
        ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_, strict=True
    ):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_[-5:], ref.loss_curve_[-5:], rtol=1e-10)
    assert ours.out_activation_ == ref.out_activation_
    assert ours.n_layers_ == ref.n_layers_ and ours.n_outputs_ == ref.n_outputs_


def test_lbfgs_matches_sklearn(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", alpha=1e-3, warm_start=True)
    ref = sk_nn.MLPClassifier(max_iter=1, random_state=1, **params).fit(X, y)
    ours = MLPClassifier(max_iter=1, random_state=1, **params).fit(X, y)
    ours.coefs_, ours.intercepts_ = ref.coefs_, ref.intercepts_
    ref.set_params(max_iter=30).fit(X, y)
    ours.set_params(max_iter=30).fit(X, y)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.loss_ == pytest.approx(ref.loss_, rel=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_initialisation_follows_sklearn():
    # Glorot-uniform with scikit-learn's factor: bound sqrt(6 / (fan_in + fan_out)), factor 2
    # for logistic units; intercepts drawn from the same range. A learning rate of 1e-300
    # leaves the initial weights in place.
    X = np.random.default_rng(0).normal(size=(50, 40))
    y = np.arange(50) % 2
    for activation, factor in [("relu", 6.0), ("logistic", 2.0)]:
        # seeded: the (60, 1) output layer has only 60 draws, and with an unseeded generator
        # none of them passed 0.95 * bound in about 1 run of 20 (0.95 ** 60 = 4.6%)
        clf = MLPClassifier((60,), activation, learning_rate_init=1e-300, max_iter=1,
                            random_state=0)  # fmt: skip
        clf.fit(X, y)
        for W, b in zip(clf.coefs_, clf.intercepts_, strict=True):
            bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
            assert np.abs(W).max() <= bound and np.abs(b).max() <= bound
            assert np.abs(W).max() > 0.95 * bound


def test_stopping_rule_counts_like_sklearn(iris):
    # tol=10: only the first epoch "improves"; training stops once the count of epochs without
    # improvement exceeds n_iter_no_change=3, i.e. at epoch 1 + 4 = 5.
    X, y = iris
    ref = sk_nn.MLPClassifier((4,), tol=10, n_iter_no_change=3, random_state=0).fit(X, y)
    ours = MLPClassifier((4,), tol=10, n_iter_no_change=3, random_state=0).fit(X, y)
    assert ref.n_iter_ == 5
    assert ours.n_iter_ == 5 and len(ours.loss_curve_) == 5
    assert ours.best_loss_ == min(ours.loss_curve_)


def test_max_iter_warns(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)


def test_integer_sample_weights_equal_repeated_samples(iris):
    X, y = iris
    sw = np.random.default_rng(1).integers(0, 4, len(y))
    reps = np.repeat(np.arange(len(y)), sw)
    a = MLPClassifier((8,), batch_size=1000, max_iter=20, random_state=0)
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size larger than the data
        a.fit(X, y, sample_weight=sw)
        b.fit(X[reps], y[reps])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)


def test_larger_alpha_shrinks_weights(iris):
    X, y = iris
    norms = [
        sum(np.sum(W**2) for W in MLPClassifier((8,), alpha=a, random_state=0).fit(X, y).coefs_)
        for a in (1e-4, 1.0, 10.0)
    ]
    assert norms[0] > norms[1] > norms[2]


# -- partial_fit, warm_start, early stopping -----------------------------------------------------
def test_partial_fit_matches_fit(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), solver="sgd", batch_size=len(y), shuffle=False)
    fitted = MLPClassifier(max_iter=4, random_state=0, **params).fit(X, y)
    stepped = MLPClassifier(random_state=0, **params)
    for _ in range(4):
        stepped.partial_fit(X, y, classes=np.unique(y))
    for a, b in zip(fitted.coefs_, stepped.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert stepped.t_ == 4 * len(y) and stepped.n_iter_ == 1


def test_partial_fit_needs_classes_and_a_stochastic_solver(iris):
    X, y = iris
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    clf = MLPClassifier((4,), random_state=0).partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.predict_proba(X).shape == (150, 3)


def test_warm_start_continues(iris):
    X, y = iris
    clf = MLPClassifier((5,), max_iter=3, warm_start=True, random_state=0).fit(X, y)
    first = [W.copy() for W in clf.coefs_]
    clf.fit(X, y)
    assert len(clf.loss_curve_) == 6
    assert clf.loss_curve_[3] < clf.loss_curve_[0]
    assert not np.allclose(first[0], clf.coefs_[0])
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


def test_early_stopping_records_validation_loss(iris):
    X, y = iris
    clf = MLPClassifier(
        (16,), early_stopping=True, learning_rate_init=0.01, max_iter=60, random_state=0
    ).fit(X, y)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    losses = clf.validation_loss_curve_
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0] < np.log(3) + 1
    plain = MLPClassifier((16,), random_state=0).fit(X, y)
    assert plain.validation_scores_ is None and plain.validation_loss_curve_ is None


# -- targets, outputs and dtypes -----------------------------------------------------------------
def test_outputs_per_task(iris):
    X, y = iris
    clf = MLPClassifier((8,), random_state=0, max_iter=50)
    multi = clf.fit(X, y)
    proba = multi.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    logits = multi.decision_function(X)
    soft = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(soft / soft.sum(1, keepdims=True), proba, rtol=1e-10)
    np.testing.assert_array_equal(multi.predict(X), proba.argmax(1))
    np.testing.assert_allclose(multi.predict_log_proba(X), np.log(proba))

    words = np.array(["no", "yes"])[(y == 1).astype(int)]
    binary = clone(clf).fit(X, words)
    p = binary.predict_proba(X)
    assert p.shape == (150, 2) and binary.decision_function(X).shape == (150,)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-binary.decision_function(X))))
    assert set(binary.predict(X)) <= {"no", "yes"}

    labels = np.c_[y == 1, y == 2, y > 0].astype(int)
    multilabel = clone(clf).fit(X, labels)
    assert multilabel.predict(X).shape == (150, 3)
    np.testing.assert_array_equal(multilabel.predict(X), multilabel.predict_proba(X) > 0.5)

    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=50).fit(
        X, np.c_[X[:, 0], X[:, 1]]
    )
    assert reg.predict(X).shape == (150, 2) and reg.n_outputs_ == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32(iris, dtype):
    X, y = iris
    clf = MLPClassifier((8,), random_state=0, max_iter=5).fit(X.astype(dtype), y)
    assert clf.model_.dtype == dtype and clf.coefs_[0].dtype == dtype
    assert clf.predict_proba(X.astype(dtype)).dtype == dtype
    state = clf.model_.optimizer.get_state()
    assert all(v.dtype == dtype for k, v in state.items() if k not in ("iterations", "epochs"))
    assert all(layer.grads["W"].dtype == dtype for layer in clf.model_.layers if layer.params)
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=0, max_iter=5)
    reg.fit(X.astype(dtype), X[:, 0])
    assert reg.predict(X.astype(dtype)).dtype == dtype


def test_one_class_fits_and_predicts_it_like_sklearn():
    X = np.random.default_rng(0).normal(size=(6, 2))
    ours = MLPClassifier((3,), max_iter=5, random_state=0).fit(X, ["b"] * 6)
    theirs = sk_nn.MLPClassifier((3,), max_iter=5, random_state=0).fit(X, ["b"] * 6)
    assert ours.predict(X).tolist() == ["b"] * 6 == theirs.predict(X).tolist()
    assert ours.classes_.tolist() == ["b"] and ours.n_outputs_ == 1
    assert ours.loss == theirs.loss == "log_loss" and "loss" not in ours.get_params()
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)


# -- in the scikit-learn ecosystem ---------------------------------------------------------------
def test_pipeline_grid_search_cross_val_and_clone():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    net = MLPClassifier((8,), learning_rate_init=0.01, max_iter=300, random_state=0)
    pipe = make_pipeline(StandardScaler(), net)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_["mlpclassifier__alpha"] in (1e-4, 1.0)
    assert grid.score(X, y) > 0.8
    twin = clone(grid.best_estimator_)
    assert twin.get_params()["mlpclassifier__alpha"] == grid.best_params_["mlpclassifier__alpha"]
    assert not hasattr(twin[-1], "model_")


def test_copies_keep_training_correctly(iris):
    # A fitted network lives in one packed buffer that its optimizer updates; copies (as Dask
    # and joblib make) must rebuild that link, so a copy trains exactly like the original.
    X, y = iris
    clf = MLPClassifier((6,), solver="sgd", max_iter=3, random_state=0).fit(X, y)
    twin = copy.deepcopy(clf)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    before = twin.coefs_[0].copy()
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    assert not np.allclose(twin.coefs_[0], before)
    for a, b in zip(clf.coefs_, twin.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_digits_accuracy_matches_sklearn():
    # scikit-learn's default hyper-parameters on one stratified split of digits. A single
    # initialisation moves the test accuracy by about a point either way, more than the margin,
    # so both libraries are compared by their mean over the first three random_state values.
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    theirs, ours = [], []
    with threadpool_limits(1):
        for seed in range(3):
            theirs.append(sk_nn.MLPClassifier(random_state=seed).fit(X_tr, y_tr).score(X_te, y_te))
            ours.append(MLPClassifier(random_state=seed).fit(X_tr, y_tr).score(X_te, y_te))
    assert np.mean(ours) >= np.mean(theirs) - 0.005, (ours, theirs)


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


# -- beyond scikit-learn -------------------------------------------------------------------------
def test_per_layer_activations_and_dropout(iris):
    X, y = iris
    clf = MLPClassifier((6, 5), ["tanh", "leaky_relu"], dropout=0.2, max_iter=20, random_state=0)
    layers = clf.fit(X, y).model_.layers
    kinds = [type(layer) for layer in layers]
    assert kinds.count(Dropout) == 2
    assert isinstance(layers[1], Tanh) and isinstance(layers[4], LeakyReLU)
    plain = MLPClassifier((6,), max_iter=5, random_state=0).fit(X, y).model_.layers
    assert isinstance(plain[1], ReLU) and Dropout not in map(type, plain)


def test_any_nablanet_optimizer_and_schedule(iris):
    X, y = iris
    clf = MLPClassifier((6,), optimizer="rmsprop", max_iter=5, random_state=0).fit(X, y)
    assert isinstance(clf.model_.optimizer, RMSProp)
    mine = SGD(lr=0.1, momentum=0.5)
    clf = MLPClassifier((6,), optimizer=mine, max_iter=5, random_state=0).fit(X, y)
    assert clf.model_.optimizer is not mine and mine.iterations == 0
    assert clf.model_.optimizer.momentum == 0.5
    schedule = StepDecay(0.1, step_size=2, gamma=0.5)
    clf = MLPClassifier((6,), learning_rate=schedule, max_iter=5, random_state=0).fit(X, y)
    assert clf.model_.optimizer.lr == pytest.approx(0.1 * 0.5**2)  # epoch 4 (0-based)


def test_invscaling_and_adaptive_learning_rates(iris):
    X, y = iris
    clf = MLPClassifier((4,), solver="sgd", learning_rate="invscaling", max_iter=3)
    clf.fit(X, y)
    assert clf.model_.optimizer.lr == pytest.approx(0.001 / (3 * 150 + 1) ** 0.5)
    clf = MLPClassifier((4,), solver="sgd", learning_rate="adaptive", tol=10, n_iter_no_change=1)
    clf.set_params(max_iter=7, random_state=0).fit(X, y)
    # every 2 epochs without improvement divide the rate by 5: after epochs 3, 5 and 7
    assert clf.model_.optimizer.lr == pytest.approx(0.001 / 5**3)


# -- errors and failed fits ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"activation": "step"}, "The 'activation' parameter of MLPClassifier must be"),
        ({"solver": "newton"}, "'solver' parameter of MLPClassifier must be a str among"),
        ({"batch_size": "big"}, "'batch_size' parameter .* Got 'big' instead"),
        ({"learning_rate": "fast"}, "'learning_rate' parameter .* Got 'fast' instead"),
        ({"alpha": -1.0}, "'alpha' parameter of MLPClassifier must be a float in the range"),
        ({"optimizer": "lion"}, "'optimizer' parameter .* Got 'lion' instead"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
        ({"class_weight": "even"}, "'class_weight' parameter"),
    ],
)
def test_bad_parameters_raise_sklearns_invalid_parameter_error(iris, params, match):
    # scikit-learn's own validation, from the declared constraints: the same exception class
    # (a ValueError) and message as scikit-learn's MLPs
    X, y = iris
    with pytest.raises(InvalidParameterError, match=match):
        MLPClassifier(**{"hidden_layer_sizes": (4, 3), **params}).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter of MLPRegressor"):
        MLPRegressor(loss="huber").fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"hidden_layer_sizes": [4, 0]}, "hidden_layer_sizes must be > 0, got \\[4, 0\\]"),
        ({"hidden_layer_sizes": [4, 2.5]}, "hidden_layer_sizes must hold ints, got \\[4, 2.5\\]"),
        ({"activation": ["relu"]}, "one name per hidden layer \\(2\\)"),
        ({"activation": ["relu", "step"]}, "unknown activation 'step'"),
        ({"solver": "lbfgs", "dropout": 0.5}, "dropout=0.5 makes the loss random"),
        ({"solver": "lbfgs", "optimizer": "adam"}, "needs a stochastic solver"),
    ],
)
def test_what_constraints_cannot_express_is_checked_too(iris, params, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**{"hidden_layer_sizes": (4, 3), **params}).fit(X, y)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    ("hidden", "shown"),
    [
        ((10**12,), "(1000000000000,)"),
        (10**12, "1000000000000"),
        ((10**5, 10**5), "(100000, 100000)"),
    ],
)
def test_hidden_layer_sizes_beyond_the_available_memory_are_refused(iris, Estimator, hidden, shown):
    X, y = iris
    est = Estimator(hidden_layer_sizes=hidden)
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    message = str(info.value)
    assert message.startswith(f"hidden_layer_sizes={shown} needs about ")
    assert "this machine has" in message and "available" in message
    assert not hasattr(est, "model_")


def test_the_whole_network_is_checked_once_the_number_of_features_is_known(iris, monkeypatch):
    import nablanet._validation as validation

    X, y = iris  # 4 features, 3 classes: 4-100-3, 803 float64 parameters
    # room for the smallest 1-100-1 network, not for 4-100-3 as built by Sequential.from_sizes
    # (parameters, gradients, the default SGD's scratch and velocity: 4 flat copies)
    monkeypatch.setattr(validation, "available_memory", lambda: 4 * 803 * 8 - 1)
    with pytest.raises(ValueError, match=r"the network \[4, 100, 3\] \(803 float64 parameters"):
        MLPClassifier((100,), max_iter=1).fit(X, y)
    monkeypatch.setattr(validation, "available_memory", lambda: 10 * 803 * 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((100,), max_iter=1).fit(X, y)


def test_loss_positional_and_unfitted():
    # as in scikit-learn, loss is MLPRegressor's first positional argument
    with pytest.raises(InvalidParameterError, match=r"'loss' parameter .* Got \(8,\) instead"):
        MLPRegressor((8,)).fit([[0.0], [1.0]], [0.0, 1.0])
    with pytest.raises(NotFittedError):
        MLPClassifier().predict([[0.0]])
    with pytest.raises(AttributeError):
        _ = MLPClassifier().coefs_


def test_failed_fit_changes_nothing(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, warm_start=True, random_state=0).fit(
        X32, y
    )
    coefs, curve = [W.copy() for W in reg.coefs_], list(reg.loss_curve_)
    reg.set_params(learning_rate_init=1e30)  # the float32 loss overflows
    with pytest.raises(ValueError, match=r"Solver produced non-finite parameter weights"):
        reg.fit(X32, y)
    for W, saved in zip(reg.coefs_, coefs, strict=True):
        np.testing.assert_array_equal(W, saved)
    assert reg.loss_curve_ == curve
    reg.set_params(warm_start=False)  # a fresh fit on 2 features, failing after validating X
    with pytest.raises(ValueError, match="sample_weight"):
        reg.fit(X32[:, :2], y, sample_weight=np.ones(3))
    assert reg.n_features_in_ == 4
    reg.set_params(learning_rate_init=1e-3, warm_start=True).fit(X32, y)  # and it still trains
    assert len(reg.loss_curve_) == len(curve) + 5


def test_coefs_setter_checks_shapes(iris):
    X, y = iris
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="array 0 must have shape \\(4, 4\\), got \\(3, 4\\)"):
        clf.coefs_ = [np.zeros((3, 4)), np.zeros((4, 3))]
    with pytest.raises(ValueError, match="expected 2 arrays, got 1"):
        clf.intercepts_ = [np.zeros(4)]


# -- model files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["words", "binary", "multilabel", "regression", "poisson"])
def test_estimator_to_model_file_and_back(iris, tmp_path, kind):
    from nablanet.estimators import from_model

    X, y = iris
    target = {
        "words": np.array(["setosa", "versicolor", "virginica"])[y],
        "binary": y == 1,
        "multilabel": np.c_[y == 1, y == 2].astype(int),
        "regression": X[:, 0] - X[:, 1],
        "poisson": np.round(np.exp(X[:, 0])),
    }[kind]
    cls = MLPRegressor if kind in ("regression", "poisson") else MLPClassifier
    est = cls(hidden_layer_sizes=(7,), solver="sgd", alpha=0.01, max_iter=20, random_state=0)
    if kind == "poisson":
        est.set_params(loss="poisson")
    est.fit(X, target)
    back = from_model(est.save(tmp_path / "est.nbnet"))
    assert type(back) is cls and back.get_params() == est.get_params()
    assert back.loss_curve_ == est.loss_curve_ and back.t_ == est.t_
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    est.partial_fit(X, target)  # both continue from the same optimizer state
    back.partial_fit(X, target)
    for a, b in zip(est.coefs_, back.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sequential_and_cli_model_files_become_estimators(iris, tmp_path):
    from nablanet import Sequential
    from nablanet.estimators import from_model
    from nablanet.layers import Dense
    from nablanet.model_io import read_model
    from nablanet.preprocessing import Standardizer

    X, y = iris
    raw = X * 3.0 + 10.0
    scaler = Standardizer().fit(raw)
    model = Sequential.from_sizes(
        [4, 6, 3], ["tanh", "softmax"], loss="categorical_cross_entropy", optimizer="adam",
        lr=0.01, seed=0,
    )  # fmt: skip
    model.fit(scaler.transform(raw), y, epochs=20, batch_size=16, verbose=False)
    model.save(tmp_path / "cli.nbnet", preprocessing=scaler)
    pipe = from_model(tmp_path / "cli.nbnet")  # the Standardizer becomes a StandardScaler step
    saved = read_model(tmp_path / "cli.nbnet")
    np.testing.assert_array_equal(pipe.predict(raw), saved.predict(raw))
    np.testing.assert_allclose(
        pipe.predict_proba(raw), saved.predict_proba(raw), rtol=1e-5, atol=1e-6
    )  # float32 through two scalers
    clf = pipe[-1]
    assert clf.hidden_layer_sizes == (6,) and clf.activation == "tanh"
    assert clf.out_activation_ == "softmax" and clf.classes_.tolist() == [0, 1, 2]

    bare = Sequential([Dense(5), Tanh(), Dense(1)], loss="mse", seed=0)  # no output activation
    bare.fit(X, X[:, 0], epochs=3, verbose=False)
    reg = from_model(bare)
    assert isinstance(reg, MLPRegressor)
    np.testing.assert_allclose(reg.predict(X), bare.predict(X), rtol=1e-5, atol=1e-6)  # float32
    with pytest.raises(TypeError, match="model file path or a Sequential"):
        from_model(42)


# The Perceptron's tests are in tests/test_perceptron.py.


def test_a_network_too_large_for_its_features_is_refused_before_the_weights_are_drawn(
    iris, monkeypatch
):
    import nablanet._validation as validation

    X, y = iris  # 4-1000-3: 8,003 parameters; the float64 draws alone need 64 kB
    monkeypatch.setattr(validation, "available_memory", lambda: 8 * 8_003)
    # "initial weights": the estimator's own check, which runs before its float64 draws
    message = r"the network \[4, 1000, 3\] \(8003 float64 parameters\) needs .* initial weights"
    with pytest.raises(ValueError, match=message):
        MLPClassifier((1000,), max_iter=1).fit(X, y)


# -- issue 11: scikit-learn's results, run for run ----------------------------------------------
def _contract_data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    if kind == "poisson":
        return X, np.random.default_rng(0).poisson(np.exp(0.5 * X[:, 0])).astype(float)
    return X, _targets(kind, X, y)


CONTRACT = {  # id: (kind, parameters beyond the shared ones, sample weights?)
    "sgd-momentum-binary": ("binary", {"solver": "sgd", "nesterovs_momentum": False}, False),
    "sgd-nesterov-multiclass-weights": ("multiclass", {"solver": "sgd"}, True),
    "sgd-invscaling-regression": (
        "regression", {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.25}, False,
    ),
    "sgd-adaptive-early-stopping-binary": (
        "binary", {"solver": "sgd", "learning_rate": "adaptive", "early_stopping": True,
                   "n_iter_no_change": 2, "tol": 0.5}, True,
    ),
    "adam-multiclass": ("multiclass", {}, False),
    "adam-multilabel-weights": ("multilabel", {}, True),
    "adam-regression-early-stopping": ("regression", {"early_stopping": True}, True),
    "adam-multiclass-early-stopping": ("multiclass", {"early_stopping": True}, False),
    "adam-poisson": ("poisson", {"loss": "poisson"}, False),
    "sgd-no-shuffle-logistic": ("multiclass", {"solver": "sgd", "shuffle": False,
                                               "activation": "logistic"}, False),
    "lbfgs-multiclass-weights": ("multiclass", {"solver": "lbfgs"}, True),
    "lbfgs-binary": ("binary", {"solver": "lbfgs"}, False),
    "lbfgs-multilabel": ("multilabel", {"solver": "lbfgs"}, False),
    "lbfgs-regression": ("regression", {"solver": "lbfgs"}, False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CONTRACT))
def test_same_random_state_gives_sklearns_weights_and_loss_curve(case):
    # The contract (docs/howto/scikit-learn.md, estimators' docstrings): the same parameters and integer
    # random_state give scikit-learn's initial weights, validation split and shuffles, and its
    # steps, so the fitted weights and the loss curve equal scikit-learn's (float64).
    kind, extra, weighted = CONTRACT[case]
    X, target = _contract_data(kind)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if weighted else None
    params = {"hidden_layer_sizes": (6, 5), "activation": "tanh", "batch_size": 32,
              "alpha": 1e-3, "learning_rate_init": 0.02, "max_iter": 12, "random_state": 3,
              **extra}  # fmt: skip
    regression = kind in ("regression", "poisson")
    sk_cls, nb_cls = (
        (sk_nn.MLPRegressor, MLPRegressor) if regression else (sk_nn.MLPClassifier, MLPClassifier)
    )
    theirs = sk_cls(**params).fit(X, target, sample_weight=sw)
    ours = nb_cls(**params).fit(X, target, sample_weight=sw)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.out_activation_ == theirs.out_activation_
    for mine, ref in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(mine, ref, rtol=1e-6, atol=1e-9)
    if params.get("solver") == "lbfgs":
        assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    else:
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)
    if params.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-6)
    if regression:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)
    else:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_a_random_state_instance_is_consumed_like_sklearns():
    # A RandomState passed in is used, not copied: a second fit continues its stream, in
    # scikit-learn and here alike, so the second fits differ from the first and agree together.
    X, y = _contract_data("multiclass")
    params = dict(hidden_layer_sizes=(4,), max_iter=3, batch_size=50)
    ours_rs, theirs_rs = np.random.RandomState(7), np.random.RandomState(7)
    ours = MLPClassifier(random_state=ours_rs, **params)
    theirs = sk_nn.MLPClassifier(random_state=theirs_rs, **params)
    first = ours.fit(X, y).coefs_[0].copy()
    theirs.fit(X, y)
    np.testing.assert_allclose(ours.fit(X, y).coefs_[0], theirs.fit(X, y).coefs_[0], rtol=1e-6)
    assert not np.allclose(first, ours.coefs_[0])
    assert ours_rs.randint(1000) == theirs_rs.randint(1000)


def test_a_generator_random_state_is_reproducible():
    X, y = _contract_data("multiclass")
    fits = [
        MLPClassifier((4,), max_iter=3, random_state=np.random.default_rng(5)).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


def test_one_sgd_step_worked_out_by_hand():
    # x = [1, 2], target 1, one logistic hidden unit, alpha = 0.1, lr = 0.5, no momentum:
    #   z1 = 0.5*1 - 0.25*2 + 0.1 = 0.1,   h = sigmoid(0.1) = 0.5249792
    #   z2 = 1.0*h + 0 = 0.5249792,        p = sigmoid(z2) = 0.6283113
    #   delta2 = p - y = -0.3716887,       delta1 = delta2 * 1.0 * h (1 - h) = -0.0926903
    #   dW2 = h delta2 + alpha W2 = -0.0951251        -> W2 = 1 - 0.5 dW2 = 1.0475644
    #   db2 = delta2                                   -> b2 = 0 + 0.1858443
    #   dW1 = x delta1 + alpha W1 = [-0.0426903, -0.2103805] -> W1 = [0.5213451, -0.1448098]
    #   db1 = delta1                                   -> b1 = 0.1 + 0.0463451 = 0.1463451
    X, y = np.array([[1.0, 2.0]]), np.array([1])
    clf = MLPClassifier(hidden_layer_sizes=1, activation="logistic", solver="sgd", alpha=0.1,
                        learning_rate_init=0.5, momentum=0, random_state=0)  # fmt: skip
    clf.partial_fit(X, y, classes=[0, 1])  # builds the network (and takes a first step)
    clf.coefs_ = [np.array([[0.5], [-0.25]]), np.array([[1.0]])]
    clf.intercepts_ = [np.array([0.1]), np.array([0.0])]
    clf.partial_fit(X, y)
    np.testing.assert_allclose(clf.coefs_[0], [[0.5213451], [-0.1448098]], atol=1e-7)
    np.testing.assert_allclose(clf.coefs_[1], [[1.0475644]], atol=1e-7)
    np.testing.assert_allclose(clf.intercepts_[0], [0.1463451], atol=1e-7)
    np.testing.assert_allclose(clf.intercepts_[1], [0.1858443], atol=1e-7)


def test_poisson_loss_fits_counts_like_a_glm():
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(0)
    X = np.linspace(0, 1, 200).reshape(-1, 1)
    y = rng.poisson(np.exp(1.5 * X[:, 0] + 0.5))
    glm = PoissonRegressor(alpha=0, tol=1e-8).fit(X, y)
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(1,), activation="identity",
                       alpha=0, solver="lbfgs", tol=1e-8, random_state=0).fit(X, y)  # fmt: skip
    assert reg.out_activation_ == "exp" and (reg.predict(X) > 0).all()
    np.testing.assert_allclose(reg.predict(X), glm.predict(X), rtol=1e-4)
    with pytest.raises(ValueError, match="loss='poisson' needs targets y >= 0"):
        MLPRegressor(loss="poisson").fit(X, -y - 1.0)


def test_divergence_carries_on_like_sklearn_and_early_stopping_keeps_the_best():
    # scikit-learn records a non-finite loss and trains on; with early stopping the best
    # weights come back, so the fit succeeds with NaN validation scores on record.
    X, y = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=20, activation="identity", solver="sgd",
                  learning_rate_init=1.0, max_iter=10, early_stopping=True, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = sk_nn.MLPRegressor(**params).fit(X, y)
    ours = MLPRegressor(**params).fit(X, y)
    assert np.isnan(ours.validation_scores_[-1]) and not np.isfinite(ours.loss_curve_[-1])
    assert len(ours.loss_curve_) == len(theirs.loss_curve_)
    assert np.isfinite(ours.predict(X)).all()
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        MLPRegressor(**{**params, "early_stopping": False}).fit(X, y)


def test_sklearns_messages_for_classes_and_validation_sets(iris):
    X, y = iris
    clf = MLPClassifier((3,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"Previously got \[0 1 2\], `y` has \[0 1\]"):
        clf.fit(X[y < 2], y[y < 2])
    clf = MLPClassifier((3,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`"):
        clf.partial_fit(X[:2], [0, 5])
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True).fit(X[:3], y[:3])
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['True'\]"):
        MLPClassifier(early_stopping=True).fit(X[:4], [0, 0, 0, 1])
    with pytest.raises(ValueError, match="'True' is 'spam', 'False' is 'ham'"):
        MLPClassifier(early_stopping=True).fit(X[:4], ["ham", "ham", "ham", "spam"])


# -- class_weight (scikit-learn issue 9113) -----------------------------------------------------
def test_class_weight_is_sample_weight_per_class(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), max_iter=5, batch_size=40, random_state=0)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    a = MLPClassifier(class_weight=weights, **params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y, sample_weight=np.array([weights[c] for c in y]))
    for mine, ref in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(mine, ref)
    sw = np.random.default_rng(0).uniform(0.5, 1.5, len(y))
    c = MLPClassifier(class_weight=weights, **params).fit(X, y, sample_weight=sw)
    d = MLPClassifier(**params).fit(X, y, sample_weight=sw * np.array([weights[k] for k in y]))
    np.testing.assert_allclose(c.coefs_[0], d.coefs_[0], rtol=1e-12)
    assert not np.allclose(a.coefs_[0], MLPClassifier(**params).fit(X, y).coefs_[0])


def test_balanced_class_weight_lifts_the_rare_class():
    X, y = make_classification(n_samples=400, weights=[0.93], flip_y=0, class_sep=0.6,
                               random_state=0)  # fmt: skip
    params = dict(hidden_layer_sizes=(8,), max_iter=60, learning_rate_init=0.01, random_state=0)
    plain = MLPClassifier(**params).fit(X, y)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X, y)
    recall = lambda clf: (clf.predict(X)[y == 1] == 1).mean()  # noqa: E731
    assert recall(balanced) > recall(plain)
    counts = np.bincount(y)
    explicit = MLPClassifier(class_weight={0: 400 / (2 * counts[0]), 1: 400 / (2 * counts[1])},
                             **params).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(explicit.coefs_[0], balanced.coefs_[0], rtol=1e-12)


def test_class_weight_refusals(iris):
    X, y = iris
    with pytest.raises(ValueError, match="not defined for multilabel"):
        MLPClassifier(class_weight={0: 1}).fit(X, np.c_[y == 1, y == 2].astype(int))
    with pytest.raises(ValueError, match="class_weight='balanced' needs the class counts"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])
    for bad in (-2.0, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match=f"finite weight >= 0, got {bad!r} for class 1"):
            MLPClassifier(class_weight={0: 1.0, 1: bad, 2: 1.0}).fit(X, y)
