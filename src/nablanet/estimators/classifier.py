"""``MLPClassifier``, and the contract it shares with ``MLPRegressor`` (:mod:`.regressor`).

Same parameters (allowed values, defaults, errors), fitted attributes and methods as
``sklearn.neural_network`` 1.9, ``MLPRegressor(loss="poisson")`` included: changing the import is
enough. scikit-learn's own test file runs against them (``tests/sklearn_upstream.py``).

**The contract.** With the same parameters, data and integer ``random_state`` (or a
``np.random.RandomState`` in the same state), a float64 fit draws scikit-learn's initial weights,
validation split and shuffles from the same ``RandomState``, in the same order, and takes
scikit-learn's steps (its SGD and Adam rules, its L-BFGS-B call, its stopping rules): ``coefs_``,
``intercepts_``, ``loss_curve_``, ``validation_scores_`` and ``n_iter_`` equal scikit-learn's
(to 1e-6; tested for sgd with momentum and Nesterov, adam, lbfgs, every kind of target, shuffle,
early stopping and sample weights in ``tests/test_estimators.py``). float32 data trains in float32
as in scikit-learn, where rounding makes runs agree only to float32 precision.

Beyond scikit-learn, for what it lacks:

- ``class_weight`` on the classifier (dict or ``"balanced"``; scikit-learn issue 9113);
- ``activation`` may list one activation per hidden layer, and also accepts ``"sigmoid"``
  (= ``"logistic"``) and ``"leaky_relu"``;
- ``dropout``: rate of a Dropout layer after every hidden activation;
- ``optimizer``: any nablanet optimizer (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or an
  instance, copied at each fit, with nablanet's PyTorch-form rules); ``learning_rate`` may be a
  :mod:`nablanet.schedules` schedule;
- ``random_state`` may be a ``np.random.Generator`` (reproducible, but not scikit-learn's draws);
- ``validation_loss_curve_``: with ``early_stopping=True``, the validation loss of every epoch
  next to ``validation_scores_`` (scikit-learn issue 18507);
- ``decision_function`` on the classifier (the logits), ``model_`` (the trained
  :class:`nablanet.Sequential`), ``to_onnx`` and ``save``.

Where nablanet is stricter than scikit-learn: negative sample weights and (with
``loss="poisson"``) negative targets are refused with a clear message, and a mini-batch whose
sample weights are all zero is skipped (scikit-learn's loss becomes NaN); a class weight must be
a finite number >= 0.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    column_or_1d,
    validate_data,
)

from ._base import DTYPES, Array, BaseMLP
from ._params import MLP_CONSTRAINTS
from ._state import restore_on_error

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for ``sklearn.neural_network.MLPClassifier``.

    Minimises the log-loss with a softmax output (multiclass) or logistic outputs (binary and
    multilabel). Parameters as scikit-learn's; see :mod:`nablanet.estimators.classifier` for the
    contract (the same ``random_state`` gives scikit-learn's weights and loss curve) and for the
    parameters nablanet adds (``dropout``, ``optimizer``, per-layer ``activation``), plus:

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        Weight of each class in the loss, ``{label: weight}``; ``"balanced"`` gives class ``c``
        the weight ``n_samples / (n_classes * count(c))``. Multiplies ``sample_weight``. Not for
        multilabel targets; ``"balanced"`` not in ``partial_fit`` (it needs every sample).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    loss_, best_loss_, loss_curve_, t_, n_iter_, n_layers_, n_outputs_, out_activation_
        As in scikit-learn.
    validation_scores_, best_validation_score_ : list of float, float or None
        Accuracy on the held-out set (``early_stopping=True``).
    validation_loss_curve_ : list of float or None
        Log-loss on the held-out set at each epoch, without the L2 term.
    coefs_ : list of ndarray, ``coefs_[i]`` of shape (n_units[i], n_units[i + 1])
    intercepts_ : list of ndarray, ``intercepts_[i]`` of shape (n_units[i + 1],)
    model_ : nablanet.Sequential
        The trained network.

    Examples
    --------
    >>> from nablanet.estimators import MLPClassifier
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MLP_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    #: scikit-learn's attribute (not a parameter): the classifier's loss is always the log-loss
    loss: ClassVar[str] = "log_loss"

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: Any = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: Any = 10,
        max_fun: int = 15000,
        dropout: float = 0.0,
        optimizer: Any = None,
        class_weight: Any = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            optimizer=optimizer,
        )
        self.class_weight = class_weight

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Array]:
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=DTYPES,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(  # scikit-learn's words
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # one class fits, as in scikit-learn: a constant 0 target, and predict gives that class
        dtype = self.model_.dtype if not reset else X.dtype
        Y = self._label_binarizer.transform(y).astype(dtype)
        return X.astype(dtype, copy=False), Y

    def _check_sample_weight(
        self, sample_weight: Any, X: Any, Y: Array, incremental: bool
    ) -> Array | None:
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
        if self.class_weight is None:
            return sw
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError(
                f"class_weight={self.class_weight!r} needs one label per sample; it is not "
                "defined for multilabel targets (use sample_weight)"
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole data set, which "
                "partial_fit does not see; pass a dict of weights, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight"
            )
        if isinstance(self.class_weight, dict):
            for label, weight in self.class_weight.items():
                if not isinstance(weight, numbers.Real) or not 0 <= float(weight) < np.inf:
                    raise ValueError(
                        f"class_weight must map each class to a finite weight >= 0, got "
                        f"{weight!r} for class {label!r}"
                    )
        labels = self._labels(Y)
        weights = compute_sample_weight(self.class_weight, labels).astype(X.dtype)
        return weights if sw is None else sw * weights

    def _output_activation(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _task(self) -> str:
        kind = self._label_binarizer.y_type_
        return "multilabel" if kind == "multilabel-indicator" else kind

    def _model_classes(self) -> Array | None:
        return None if self._task() == "multilabel" else np.asarray(self.classes_)

    def _stratify(self, Y: Array) -> Array | None:
        # scikit-learn stratifies single-output (binary) targets only, on the 0/1 indicator
        return Y.astype(bool) if Y.shape[1] == 1 else None

    def _validation_score(self, X: Any, Y: Array, sw: Array | None) -> float:
        out = self._forward(X)
        if not np.isfinite(out).all():
            return float("nan")
        y_true = self._label_binarizer.inverse_transform(Y)
        return float(accuracy_score(y_true, self._labels(out), sample_weight=sw))

    def _labels(self, out: Array) -> Array:
        return self._label_binarizer.inverse_transform(out[:, 0] if out.shape[1] == 1 else out)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), optional
        classes : array-like of shape (n_classes,)
            Every class of the whole data set; required on the first call.
        """
        with restore_on_error(self):
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            self._fit(X, y, sample_weight, incremental=True)
        return self

    def predict(self, X: Any) -> Array:
        """Class labels, shape (n_samples,) (label-indicator matrix for multilabel)."""
        return self._labels(self._output(X))

    def predict_proba(self, X: Any) -> Array:
        """Probabilities of shape (n_samples, n_classes), columns ordered as ``classes_``."""
        out = self._output(X)
        if self.n_outputs_ == 1:
            return np.hstack([1 - out, out])
        return out

    def predict_log_proba(self, X: Any) -> Array:
        """``log(predict_proba(X))``, shape (n_samples, n_classes)."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def decision_function(self, X: Any) -> Array:
        """Logits: shape (n_samples,) for binary, (n_samples, n_outputs) otherwise.

        ``predict_proba`` is their sigmoid (binary, multilabel) or softmax (multiclass).
        """
        out = self._forward(self._check_X(X), logits=True)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
