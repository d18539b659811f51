"""``DaskMLPClassifier`` and ``DaskMLPRegressor``: nablanet's MLPs trained data-parallel on a
Dask cluster, for data that does not fit one machine.

The parameters are those of :mod:`nablanet.estimators` (scikit-learn's), plus:

- ``client``: a ``distributed.Client``; None means the current one (``default_client()``);
- ``sync_every``: for ``solver="sgd"``/``"adam"``, the local steps each worker takes between
  two averagings of the parameters and the optimizer state; 1 averages the gradients at every
  step (synchronous data parallelism). None chooses :data:`nablanet.dask.SYNC_EVERY`;
- ``checkpoint``, ``checkpoint_every``: write a nablanet model file (atomically) every
  ``checkpoint_every`` iterations (L-BFGS) or epochs (sgd, adam); ``fit(..., resume=path)``
  continues from it.

``verbose`` differs in one way: the lines scikit-learn prints (``Iteration k, loss = ...`` and
the stopping lines) are records of the ``"nablanet.dask"`` logger, at INFO, logged whatever
``verbose`` says. ``verbose=True`` shows them on the current ``sys.stdout``, as scikit-learn
does, unless the application's own logging already shows them (then once, where it routes
them) or it silenced the ``"nablanet"`` logger (then not at all). They are emitted on the
client, where the fit runs its loop.

See :mod:`nablanet.dask` for the algorithms and what ``batch_size`` and ``early_stopping`` mean
across workers.
"""

from __future__ import annotations

import os
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ..estimators._params import MLP_CONSTRAINTS
from . import _setup, _tasks
from ._base import DaskMLPBase, data_dtype

Array = np.ndarray
DASK_CONSTRAINTS: dict[str, list[Any]] = {
    "client": [None, object],
    "sync_every": [None, Interval(Integral, 1, None, closed="left")],
    "checkpoint": [None, str, os.PathLike],
    "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
}


def _labels(out: Array, binarizer: Any) -> Array:
    """Labels of one block of network outputs, as MLPClassifier.predict makes them."""
    return binarizer.inverse_transform(out[:, 0] if out.shape[1] == 1 else out)


def _both_columns(p: Array) -> Array:
    return np.hstack([1 - p, p])


def _aligned(value: Any, rows: Any, name: str) -> Any:
    arr = _setup.as_array(value, name)
    return arr.rechunk({0: rows, **({1: -1} if arr.ndim == 2 else {})})


class DaskMLPClassifier(ClassifierMixin, DaskMLPBase):
    """Multi-layer perceptron classifier trained on a Dask cluster.

    Parameters as :class:`nablanet.estimators.MLPClassifier` (``class_weight`` included;
    ``"balanced"`` uses the class counts of the whole data set), plus ``client``,
    ``sync_every``, ``checkpoint`` and ``checkpoint_every`` (see :mod:`nablanet.dask`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    model_ : nablanet.Sequential
        The trained network (in the client's memory: its size is that of the parameters).
    coefs_, intercepts_, loss_, loss_curve_, n_iter_, t_, n_layers_, n_outputs_, out_activation_
        As in scikit-learn.
    epochs_ : int
        Epochs trained so far (stochastic solvers).
    evaluations_ : int
        Distributed loss-and-gradient evaluations of the last L-BFGS fit.

    Examples
    --------
    >>> from nablanet.dask import DaskMLPClassifier           # doctest: +SKIP
    >>> clf = DaskMLPClassifier((128,), solver="lbfgs").fit(X, y)   # X, y: Dask arrays
    >>> clf.predict(X_new)                                      # a lazy Dask array
    >>> clf.to_local().save("model.nbnet")                      # the plain estimator
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MLP_CONSTRAINTS,
        **DASK_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _classifier = True

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
        client: Any = None,
        sync_every: Any = None,
        checkpoint: Any = None,
        checkpoint_every: int = 10,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.optimizer = optimizer
        self.class_weight = class_weight
        self.client = client
        self.sync_every = sync_every
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    # -- the setup pass's decisions ------------------------------------------------------------
    def _spec(self, facts: list[dict[str, Any]], validation: Any) -> _tasks.PrepareSpec:
        widths = {f["y_shape"] for f in facts}
        if len(widths) != 1:
            raise ValueError(f"the chunks of y have different shapes: {sorted(widths)}")
        width = widths.pop()
        if width and width[0] > 1:  # a label-indicator matrix: multilabel
            binarizer = LabelBinarizer().fit(np.eye(width[0], dtype=int))
            counts = None
        else:
            labels = np.unique(np.concatenate([f["labels"] for f in facts]))
            check_classification_targets(labels)
            binarizer = LabelBinarizer().fit(labels)
            counts = dict.fromkeys(labels.tolist(), 0)
            for f in facts:
                for label, count in zip(f["labels"].tolist(), f["counts"].tolist(), strict=True):
                    counts[label] += count
        warm = self.warm_start and hasattr(self, "model_")
        if warm and not np.array_equal(binarizer.classes_, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the previous "
                f"call to fit. Previously got {self.classes_}, `y` has {binarizer.classes_}"
            )
        self._binarizer = binarizer
        self.classes_ = binarizer.classes_
        kind = binarizer.y_type_
        self.out_activation_ = "softmax" if kind == "multiclass" else "logistic"
        self.n_outputs_ = (
            len(self.classes_)
            if kind == "multiclass"
            else binarizer.transform(self.classes_[:1]).shape[1]
        )
        return _tasks.PrepareSpec(
            dtype=str(self.model_.dtype) if warm else data_dtype(facts),
            n_features=facts[0]["n_features"],
            binarizer=binarizer,
            class_weight=self._class_weights(counts),
            validation=validation,
        )

    def _class_weights(self, counts: dict[Any, int] | None) -> dict[Any, float] | None:
        if self.class_weight is None:
            return None
        if counts is None:
            raise ValueError(
                f"class_weight={self.class_weight!r} needs one label per sample; it is not "
                "defined for multilabel targets (use sample_weight)"
            )
        if self.class_weight == "balanced":
            total = sum(counts.values())
            return {c: total / (len(counts) * n) for c, n in counts.items()}
        weights = {}
        for label, weight in self.class_weight.items():
            if not isinstance(weight, int | float) or not 0 <= float(weight) < np.inf:
                raise ValueError(
                    f"class_weight must map each class to a finite weight >= 0, got {weight!r} "
                    f"for class {label!r}"
                )
            weights[label] = float(weight)
        return weights

    def _task(self) -> str:
        kind = self._binarizer.y_type_
        return "multilabel" if kind == "multilabel-indicator" else kind

    def _model_classes(self) -> Array | None:
        return None if self._task() == "multilabel" else np.asarray(self.classes_)

    # -- inference ---------------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> Any:
        """Probabilities, a lazy Dask array of shape (n_samples, n_classes)."""
        out = self._output(X)
        if self.n_outputs_ == 1:
            return out.map_blocks(_both_columns, chunks=(out.chunks[0], (2,)))
        return out

    def decision_function(self, X: Any) -> Any:
        """Logits, a lazy Dask array: shape (n_samples,) for binary, else (n_samples, n_outputs)."""
        out = self._output(X, logits=True)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def predict(self, X: Any) -> Any:
        """Class labels, a lazy Dask array of shape (n_samples,) (an indicator matrix of shape
        (n_samples, n_classes) for multilabel)."""
        import dask

        out = self._output(X)
        binarizer = dask.delayed(self._binarizer, pure=True)
        multilabel = self._task() == "multilabel"
        return out.map_blocks(
            _labels,
            binarizer,
            dtype=self.classes_.dtype,
            meta=np.empty((0,) * (2 if multilabel else 1), dtype=self.classes_.dtype),
            chunks=(out.chunks[0], (self.n_outputs_,)) if multilabel else (out.chunks[0],),
            drop_axis=None if multilabel else 1,
        )

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (exact match of every label for multilabel), weighted by ``sample_weight``;
        computed on the workers, returned as a float."""
        import dask

        pred = self.predict(X)
        truth = _aligned(y, pred.chunks[0], "y")
        hit = pred == truth
        if hit.ndim == 2:
            hit = hit.all(axis=1)
        if sample_weight is None:
            return float(dask.compute(hit.mean())[0])
        w = _aligned(sample_weight, pred.chunks[0], "sample_weight")
        num, den = dask.compute((hit * w).sum(), w.sum())
        return float(num / den)


class DaskMLPRegressor(RegressorMixin, DaskMLPBase):
    """Multi-layer perceptron regressor trained on a Dask cluster.

    Parameters as :class:`nablanet.estimators.MLPRegressor` (``loss="squared_error"`` or
    ``"poisson"``), plus ``client``, ``sync_every``, ``checkpoint`` and ``checkpoint_every``;
    attributes as :class:`DaskMLPClassifier` without ``classes_``.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **MLP_CONSTRAINTS,
        **DASK_CONSTRAINTS,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss: str = "squared_error",
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
        client: Any = None,
        sync_every: Any = None,
        checkpoint: Any = None,
        checkpoint_every: int = 10,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.optimizer = optimizer
        self.loss = loss
        self.client = client
        self.sync_every = sync_every
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    def _spec(self, facts: list[dict[str, Any]], validation: Any) -> _tasks.PrepareSpec:
        widths = {f["y_shape"] for f in facts}
        if len(widths) != 1:
            raise ValueError(f"the chunks of y have different shapes: {sorted(widths)}")
        width = widths.pop()
        n_outputs = width[0] if width else 1
        if self.loss == "poisson" and min(f["y_min"] for f in facts) < 0:
            raise ValueError(
                "loss='poisson' needs targets y >= 0 (counts or rates), got a minimum of "
                f"{min(f['y_min'] for f in facts)!r}"
            )
        warm = self.warm_start and hasattr(self, "model_")
        if warm and n_outputs != self.n_outputs_:
            raise ValueError(f"y has {n_outputs} outputs, but the model has {self.n_outputs_}")
        self.n_outputs_ = n_outputs
        self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        return _tasks.PrepareSpec(
            dtype=str(self.model_.dtype) if warm else data_dtype(facts),
            n_features=facts[0]["n_features"],
            validation=validation,
        )

    def _task(self) -> str:
        return "regression"

    def predict(self, X: Any) -> Any:
        """Predictions, a lazy Dask array of shape (n_samples,) or (n_samples, n_outputs)."""
        out = self._output(X)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 (averaged over outputs), weighted by ``sample_weight``, as scikit-learn's
        ``r2_score``; computed on the workers, returned as a float."""
        import dask

        out = self._output(X)
        truth = _aligned(y, out.chunks[0], "y").reshape(out.shape).astype(np.float64)
        w = (
            _aligned(sample_weight, out.chunks[0], "sample_weight")[:, None]
            if sample_weight is not None
            else None
        )
        ones = truth[:, :1] * 0 + 1 if w is None else w
        total, mean = dask.compute(ones.sum(), (ones * truth).sum(axis=0))
        mean = mean / total
        res, tot = dask.compute(
            (ones * (truth - out) ** 2).sum(axis=0), (ones * (truth - mean) ** 2).sum(axis=0)
        )
        scores = np.where(tot > 0, 1 - res / np.where(tot > 0, tot, 1), np.where(res > 0, 0.0, 1.0))
        return float(scores.mean())
