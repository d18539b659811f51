"""Estimators and nablanet model files: save a fitted estimator, wrap a model file as one.

A model file (:mod:`nablanet.saving`) holds a :class:`~nablanet.Sequential` with its
optimizer state, classes and optional Standardizer. :func:`save` (that is,
:func:`nablanet.saving.estimator_files.save_estimator`) writes an estimator's network there and
records the estimator's parameters (and ``loss_curve_``, ``n_iter_``, ``t_``) in the file's
metadata. :func:`from_model` (here, as it knows the estimator classes) turns a model file, or a
trained ``Sequential``, into a fitted ``MLPClassifier`` / ``MLPRegressor`` that predicts exactly as the network does and whose
``partial_fit`` continues from the stored optimizer state. A file written by ``nablanet train``
stores the Standardizer it trained with: :func:`from_model` then returns
``Pipeline([("standardscaler", <the same scaling>), ("mlp", estimator)])``, so raw features go in.

Examples
--------
>>> clf.save("digits.nbnet")                                  # doctest: +SKIP
>>> clf2 = nablanet.estimators.from_model("digits.nbnet")     # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from ..layers import Dense, Dropout, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..layers.activations import Exp
from ..model import Sequential
from ..optimizers import optimizer_from_config
from ..saving import read_model
from ..saving.estimator_files import estimator_entry
from ..saving.estimator_files import save_estimator as save
from .mlp import MLPClassifier, MLPRegressor

__all__ = ["from_model", "save"]

HIDDEN_NAMES: dict[type[Layer], str] = {
    Identity: "identity",
    Sigmoid: "logistic",
    Tanh: "tanh",
    ReLU: "relu",
    LeakyReLU: "leaky_relu",
}
OUTPUT_NAMES: dict[type[Layer], str] = {
    Softmax: "softmax",
    Sigmoid: "logistic",
    Identity: "identity",
    Exp: "exp",
}
#: a loss's link (other than identity) -> scikit-learn's name of that output activation
LINK_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "exp": "exp"}


# -- wrapping ---------------------------------------------------------------------------------
def _with_output_activation(model: Sequential) -> Sequential:
    """``model`` itself, or a copy with an Identity output when its last layer is Dense."""
    if type(model.layers[-1]) in OUTPUT_NAMES:
        return model
    if not isinstance(model.layers[-1], Dense):
        raise ValueError(
            "an estimator needs a Softmax, Sigmoid or Identity output (or none), got "
            f"{type(model.layers[-1]).__name__}"
        )
    config = model.get_config()
    config["layers"] = [*config["layers"], {"class": "Identity", "config": {}}]
    twin = Sequential.from_config(config, seed=model.rng)
    twin.set_weights([*model.get_weights(), {}])
    twin.optimizer.set_state(model.optimizer.get_state())
    return twin


def _architecture(model: Sequential) -> dict[str, Any]:
    """Estimator parameters that describe ``model``'s layers."""
    sizes: list[int] = []
    names: list[str] = []
    layers = model.layers
    denses = [i for i, layer in enumerate(layers) if isinstance(layer, Dense)]
    for i in denses[:-1]:
        dense = layers[i]
        assert isinstance(dense, Dense)
        sizes.append(dense.units)
        follower = layers[i + 1]
        if isinstance(follower, Dense | Dropout):
            names.append("identity")
        elif type(follower) in HIDDEN_NAMES:
            names.append(HIDDEN_NAMES[type(follower)])
        else:
            raise ValueError(
                f"layer {i + 1} ({type(follower).__name__}) cannot be a hidden activation of "
                f"an estimator; expected one of {sorted(set(HIDDEN_NAMES.values()))}"
            )
    rates = [layer.rate for layer in layers if isinstance(layer, Dropout)]
    activation: Any = names[0] if len(set(names)) == 1 else names
    return {
        "hidden_layer_sizes": tuple(sizes),
        "activation": activation if names else "relu",
        "dropout": rates[0] if rates else 0.0,
        "optimizer": optimizer_from_config(model.optimizer.get_config()),
        "learning_rate_init": float(model.optimizer.lr),
    }


def _task(model: Sequential) -> str:
    """``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``."""
    return model.resolved_task()


def _adopt(est: Any, model: Sequential, task: str, fitted: dict[str, Any]) -> None:
    """Make ``est`` a fitted estimator around ``model``."""
    est.model_ = model
    est.n_features_in_ = int(model.input_dim or 0)
    est.n_outputs_ = model.n_outputs
    est.n_layers_ = sum(isinstance(layer, Dense) for layer in model.layers) + 1
    # a loss from logits names the output function; otherwise the last layer applies it
    est.out_activation_ = LINK_NAMES.get(model.loss.link) or OUTPUT_NAMES[type(model.layers[-1])]
    if task != "regression":
        if task == "multilabel":
            binarizer = LabelBinarizer().fit(np.eye(model.n_outputs, dtype=int))
        else:
            classes = (
                model.classes_ if model.classes_ is not None else np.arange(max(2, model.n_outputs))
            )
            binarizer = LabelBinarizer().fit(np.asarray(classes))
        est._label_binarizer = binarizer
        est.classes_ = binarizer.classes_
    est._reset_training_state(est.solver != "lbfgs")
    est.loss_curve_ = list(fitted.get("loss_curve_", []))
    est.n_iter_ = int(fitted.get("n_iter_", 0))
    est.t_ = int(fitted.get("t_", 0))
    if est.optimizer is None and est.solver != "lbfgs":
        # the file holds nablanet's SGD/Adam config under the same name: scikit-learn's rule
        # again, with the stored state (Adam's moments are the same; SGD's velocity key differs)
        rule = est._new_optimizer()
        rule.lr = model.optimizer.lr
        rule.set_state(model.optimizer.get_state())
        model.compile(optimizer=rule)
    est._optimizer_ready = True  # partial_fit continues with the stored optimizer state


def _scaler(preprocessing: Any) -> StandardScaler:
    """A fitted StandardScaler doing what a nablanet Standardizer does."""
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(preprocessing.mean_, dtype=np.float64)
    scaler.scale_ = np.asarray(preprocessing.scale_, dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 0
    return scaler


def from_model(source: Any) -> Any:
    """A fitted estimator around a trained network.

    Parameters
    ----------
    source : str, path-like or Sequential
        A nablanet model file, or a built ``Sequential`` (used as it is, not copied, unless
        its last layer is Dense: then a copy gains an Identity output).

    Returns
    -------
    MLPClassifier or MLPRegressor
        Classifier for binary, multiclass and multilabel models, regressor otherwise; with the
        parameters saved by :func:`save` if the file came from an estimator. If the file (or
        the model's ``preprocessing_``) holds a Standardizer, a ``Pipeline`` of the equivalent
        fitted ``StandardScaler`` and the estimator.
    """
    if isinstance(source, Sequential):
        model, preprocessing, metadata = source, getattr(source, "preprocessing_", None), {}
    elif isinstance(source, str | os.PathLike):
        saved = read_model(source)
        model, preprocessing, metadata = saved.model, saved.preprocessing, saved.metadata
    else:
        raise TypeError(f"source must be a model file path or a Sequential, got {source!r}")
    if not getattr(model, "built", False):
        raise ValueError("the model is not built: train it (or build it) first")
    model = _with_output_activation(model)
    task = _task(model)
    cls = MLPRegressor if task == "regression" else MLPClassifier
    stored = estimator_entry(metadata, cls.__name__)
    if stored is not None:
        params, fitted = stored
        est = cls(**params)
        for layer in model.layers:  # older estimator files kept the last batch's alpha / S here
            if isinstance(layer, Dense):
                layer.l2 = 0.0  # the estimator's alpha is its penalty
    else:
        est = cls(**_architecture(model))
        fitted = {}
    _adopt(est, model, task, fitted)
    if preprocessing is None:
        return est
    return Pipeline([("standardscaler", _scaler(preprocessing)), ("mlp", est)])
