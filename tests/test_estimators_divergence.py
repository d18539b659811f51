"""Divergence in the MLP estimators follows scikit-learn, solver by solver.

scikit-learn's rule (``BaseMultilayerPerceptron._fit``, 1.9.1) is one check after any solver: the
fit raises "Solver produced non-finite parameter weights..." when a weight is NaN or infinite at
the end, and returns otherwise, whatever the loss. adam and sgd end with non-finite weights once
a step is non-finite (its gradient sum overflowing, or an infinite SGD step), unless early
stopping brings the best weights back; lbfgs returns scipy's last finite point, with ``loss_``
NaN. Each case runs scikit-learn itself and nablanet, and compares what happens.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network as sk_nn

from nablanet.estimators import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = np.random.default_rng(0).standard_normal((60, 3))
LABELS = (X[:, 0] > 0).astype(int)
WEIGHTS = np.random.default_rng(1).uniform(0.5, 2.0, 60)

# name: (regressor?, X, y, extra parameters, sample_weight)
CASES = {
    "targets 1e308 (the issue's case)": (True, X, np.full(60, 1e308), {}, None),
    "targets 1e307, two hidden layers": (True, X, np.full(60, 1e307), {"hidden": (8, 8)}, None),
    "targets 1e200: loss inf, gradient finite": (True, X, np.full(60, 1e200), {}, None),
    "targets 1e306, weighted": (True, X, np.full(60, 1e306), {}, 100 * WEIGHTS),
    "two outputs 1e307": (True, X, np.full((60, 2), 1e307), {}, None),
    "float32 targets 3e38": (True, X.astype(np.float32), np.full(60, 3e38, np.float32), {}, None),
    "float32 targets 1e30": (True, X.astype(np.float32), np.full(60, 1e30, np.float32), {}, None),
    "inputs 1e200": (True, X * 1e200, X[:, 0], {}, None),
    "learning rate 1e10": (True, X, 100 * X[:, 0], {"learning_rate_init": 1e10}, None),
    "early stopping, targets 1e308": (True, X, np.full(60, 1e308), {"early_stopping": True}, None),
    "classifier, inputs 1e300": (False, X * 1e300, LABELS, {}, None),
    "classifier, learning rate 1e12": (False, X, LABELS, {"learning_rate_init": 1e12}, None),
}


def _kind(value: float) -> str:
    return "nan" if np.isnan(value) else "inf" if np.isinf(value) else "finite"


def _fit(cls, Xc, y, params, sw):
    """The fitted estimator, or the ValueError its fit raised."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return cls(**params).fit(Xc, y, sample_weight=sw)
        except ValueError as exc:
            return exc


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("case", list(CASES))
def test_divergence_raises_or_returns_as_sklearn_does(case, solver):
    regressor, Xc, y, extra, sw = CASES[case]
    extra = dict(extra)
    params = {"hidden_layer_sizes": extra.pop("hidden", (8,)), "max_iter": 5, "random_state": 0}
    params.update(solver=solver, **extra)
    sk_cls, nb_cls = (
        (sk_nn.MLPRegressor, MLPRegressor) if regressor else (sk_nn.MLPClassifier, MLPClassifier)
    )
    theirs = _fit(sk_cls, Xc, y, params, sw)
    ours = _fit(nb_cls, Xc, y, params, sw)
    if isinstance(theirs, ValueError):
        assert isinstance(ours, ValueError), f"scikit-learn raised {theirs}; nablanet returned"
        assert str(ours).startswith(str(theirs))  # scikit-learn's words, then nablanet's hint
        return
    assert not isinstance(ours, ValueError), f"scikit-learn returned; nablanet raised {ours}"
    assert all(np.isfinite(W).all() for W in ours.coefs_ + ours.intercepts_)
    # a NaN or infinite loss_ is part of scikit-learn's answer (lbfgs: the objective at scipy's
    # last point; adam, sgd: the last epoch's); the finite values themselves may differ (the
    # classifier's log-loss: scikit-learn clips probabilities, nablanet's is exact from logits)
    assert _kind(ours.loss_) == _kind(theirs.loss_)
    if solver != "lbfgs":
        assert [_kind(v) for v in ours.loss_curve_] == [_kind(v) for v in theirs.loss_curve_]
