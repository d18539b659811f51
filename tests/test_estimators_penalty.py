"""The MLP estimators' L2 term goes through the engine (``loss_and_grads(..., l2=alpha / S)``):
``model_`` stays a plain network, with ``l2 = 0`` in every Dense layer and in its saved config."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

pytest.importorskip("sklearn")

import nablanet as nn
from nablanet.estimators import MLPClassifier, MLPRegressor, from_model
from nablanet.layers import Dense
from nablanet.model_io import read_model

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _layer_configs(path) -> list[dict]:
    """The layers' configs as the model file stores them (its JSON header)."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".json")]
        config = json.loads(archive.read(names[0]))
    found: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("class") == "Dense":
                found.append(node["config"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_fitted_model_is_a_plain_network_without_a_penalty(tmp_path, solver):
    X, y = _data()
    clf = MLPClassifier((5, 4), alpha=0.5, solver=solver, max_iter=5, random_state=0).fit(X, y)
    assert [layer.l2 for layer in clf._denses()] == [0.0, 0.0, 0.0]
    assert clf.model_.penalty() == 0.0
    path = clf.save(tmp_path / "m.nbnet")
    configs = _layer_configs(path)
    assert len(configs) == 3 and all(c["l2"] == 0.0 for c in configs)
    # reloaded as a Sequential, one SGD step is the data gradient's, with no alpha in it
    model = read_model(path).model
    model.compile(optimizer=nn.optimizers.SGD(0.1))
    Xc, Y = model.prepare(X, y)
    loss, _ = model.loss_and_grads(Xc, Y)
    assert loss == pytest.approx(model.training_loss.forward(model.forward(Xc, loss_input=True), Y))
    before = model.parameters_to_vector()
    grad = model.gradients_to_vector()
    model.apply_gradients()
    np.testing.assert_allclose(model.parameters_to_vector(), before - 0.1 * grad, rtol=1e-6)


def test_the_penalty_still_shrinks_the_weights():
    # alpha acts through the engine: a large alpha gives smaller weights, as in scikit-learn
    X, _ = _data()
    fits = [
        MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", alpha=a, random_state=0).fit(
            X, X[:, 0]
        )
        for a in (1e-4, 10.0)
    ]
    norms = [sum(float(np.sum(W**2)) for W in fit.coefs_) for fit in fits]
    assert norms[1] < 0.5 * norms[0]


def test_an_older_estimator_file_with_alpha_in_its_layers_loads_without_it(tmp_path):
    # files written before the penalty moved to the engine kept the last batch's alpha / S in
    # the layers; the estimator's alpha is the penalty, so loading clears the layers' copy
    X, y = _data()
    clf = MLPClassifier((4,), alpha=0.5, max_iter=3, random_state=0).fit(X, y)
    for layer in clf._denses():
        layer.l2 = 0.5 / 50  # what the old estimators left there
    path = clf.save(tmp_path / "old.nbnet")
    assert all(c["l2"] == 0.01 for c in _layer_configs(path))
    loaded = from_model(path)
    assert all(layer.l2 == 0.0 for layer in loaded.model_.layers if isinstance(layer, Dense))
    assert loaded.alpha == 0.5
