"""Estimators pickled before ``nablanet.estimators.mlp`` became ``classifier`` still unpickle."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris

from nablanet.estimators import MLPClassifier

OLD_MODULE = "nablanet.estimators.mlp"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_classifier_pickled_under_the_old_module_name_unpickles(monkeypatch):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((5,), max_iter=20, random_state=0).fit(X, y)
    # pickle it as the code before the rename did: the class named by its old module
    monkeypatch.setattr(MLPClassifier, "__module__", OLD_MODULE)
    data = pickle.dumps(clf)
    monkeypatch.undo()
    assert OLD_MODULE.encode() in data and b"nablanet.estimators.classifier" not in data
    # a fresh process has not imported the old module yet: unpickling must import it
    monkeypatch.delitem(sys.modules, OLD_MODULE, raising=False)

    again = pickle.loads(data)

    assert type(again) is MLPClassifier
    assert MLPClassifier.__module__ == "nablanet.estimators.classifier"
    for ours, theirs in zip(
        again.coefs_ + again.intercepts_, clf.coefs_ + clf.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)  # stored bits, no arithmetic
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    # same weights, same process and code path: only a float64 replay's rounding may differ
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=1e-12)
    assert again.loss_curve_ == clf.loss_curve_
