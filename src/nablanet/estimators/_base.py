r"""What MLPClassifier and MLPRegressor share: building the network and training it.

The network is a :class:`nablanet.Sequential` (``model_``), and every batch goes through its
engine (:meth:`Sequential.loss_and_grads`, :meth:`Sequential.apply_gradients`): the core
layers, losses and L2 term, and scikit-learn's update rules as nablanet optimizers
(:mod:`._optimizers`). Only the epoch loop is the estimators' own (the methods of the
:class:`._solvers.Solvers` mixin, as scikit-learn's solvers are methods of its estimator), because
scikit-learn's rules for it differ from :meth:`Sequential.fit`'s (``tol``/``n_iter_no_change``,
validation score, ``invscaling`` and ``adaptive`` learning rates); it follows ``sklearn/neural_network/_multilayer_perceptron.py``
step for step, so that the estimators are drop-in replacements.

scikit-learn's scaling, expressed with the core's parameters:

- losses: softmax + categorical cross-entropy; sigmoid + binary cross-entropy with
  ``outputs="sum"`` (its log-loss adds the outputs of a multilabel row); half squared error;
  sample weights make each a weighted mean over the batch, :math:`\sum_i s_i l_i / S`;
- L2: on a batch of total sample weight ``S`` (its size without weights) the loss gains
  ``alpha / (2 S) * sum ||W||^2``, passed to the engine as ``loss_and_grads(..., l2=alpha / S)``
  for that batch only: ``model_``'s layers keep ``l2 = 0``, so ``model_`` (saved, reloaded or
  trained as a :class:`nablanet.Sequential`) is a plain network without a penalty;
- the squared loss is *reported* (``loss_curve_``) averaged over the ``k`` outputs, while its
  gradient is that of the sum, as scikit-learn does.

Divergence follows scikit-learn 1.9.1 solver by solver, not :mod:`nablanet.training.divergence`.
scikit-learn checks once, after any solver: a NaN or infinite final weight fails the fit with
its ``ValueError`` ("Solver produced non-finite parameter weights. ...", to which nablanet adds
the iteration where the loss first stopped being finite); anything else returns, whatever the
loss. So adam and sgd record a non-finite loss in ``loss_curve_`` and train on, and raise once a
step has made the weights non-finite (an infinite SGD step, or a gradient whose batch sum
overflows: :func:`overflow_as_sklearn`), unless early stopping restores the best weights; lbfgs
returns scipy's last finite point, with ``loss_`` NaN when the objective there is NaN. A fit that
raises leaves the estimator as it was (:func:`._state.restore_on_error`).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._inference import fast_predict
from .._validation import check_memory, format_count, format_sizes
from ..layers import Dense, Dropout
from ..losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    HalfPoissonDeviance,
    HalfSquaredError,
    Loss,
    apply_link,
)
from ..model import Sequential
from ..optimizers import Optimizer
from ._optimizers import new_optimizer
from ._params import (
    MLP_CONSTRAINTS,
    MLPSettings,
    Random,
    check_mlp_params,
    generator_from,
    random_state_of,
)
from ._solvers import Solvers, dense_rows
from ._state import restore_on_error

Array = np.ndarray
#: output activation (scikit-learn's name) -> (nablanet activation, nablanet loss)
OUTPUTS: dict[str, tuple[str, type[Loss], dict[str, Any]]] = {
    "softmax": ("softmax", CategoricalCrossEntropy, {}),
    "logistic": ("sigmoid", BinaryCrossEntropy, {"outputs": "sum"}),
    "identity": ("identity", HalfSquaredError, {}),
    "exp": ("exp", HalfPoissonDeviance, {}),  # MLPRegressor(loss="poisson")
}
#: scikit-learn's message for a fit that ends with non-finite weights (its tests match it)
NONFINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)
PREDICT_CHUNK = 8192
DTYPES = (np.float64, np.float32)  # float32 data stays float32


def build_network(
    settings: MLPSettings,
    units: list[int],
    out_activation: str,
    dropout: float,
    dtype: Any,
    rng: Random,
    seed: Any = 0,
) -> Sequential:
    """A new network ``units[0] -> ... -> units[-1]`` with scikit-learn's initial weights.

    The draws are scikit-learn's ``_init_coef``, in its order: for each layer, the weights
    then the intercepts, uniform in ``[-bound, bound)`` from ``rng``, with
    ``bound = sqrt(factor / (fan_in + fan_out))`` (factor 2 for logistic units, 6 otherwise).
    ``seed`` seeds the dropout masks (``nablanet.dask``, which builds its networks here too,
    leaves it 0: each of its stochastic rounds seeds its own).
    """
    weights = []
    for (fan_in, fan_out), factor in zip(pairwise(units), settings.init_factors, strict=True):
        bound = math.sqrt(factor / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, (fan_in, fan_out))
        b = rng.uniform(-bound, bound, fan_out)
        weights.append((W.astype(dtype), b.astype(dtype)))
    activation, loss, loss_settings = OUTPUTS[out_activation]
    return Sequential.from_sizes(
        units,
        activation=[*settings.activations, activation],
        dropout=float(dropout),
        weights=weights,
        loss=loss(**loss_settings),
        seed=seed,
        dtype=dtype,
    )


def overflow_as_sklearn(model: Sequential, total: float) -> None:
    r"""Make ``±inf`` the gradient entries that overflow in scikit-learn's arithmetic.

    scikit-learn sums :math:`S\,\partial J/\partial\theta` over a batch of total weight
    :math:`S` (its deltas are not divided by :math:`S`) and divides by :math:`S` last: where
    that sum passes the dtype's largest number, its gradient is ``±inf``, its next step makes the
    weights non-finite (Adam: ``inf / inf``; SGD: an infinite step) and its fit raises. The core
    loss divides by :math:`S` first, so the same batch gives a large but finite gradient, which
    Adam turns into a zero step. Only the entries with :math:`S|g|` past the largest number change
    (to ``inf`` with their sign); every other entry, and every batch without such an entry, keeps
    its bits.

    The check runs every step, so it first looks at the whole packed gradient buffer in two
    reductions (``benchmarks/overflow_check.py``: 37 us a step for 784-256-128-10 in float32,
    against 64 us with two per parameter array); only when that finds an entry past the
    limit, or a NaN, does it go slot by slot.
    """
    flat = model._flat[1]  # every slot's gradient, packed (a view, not a copy)
    limit = np.finfo(flat.dtype).max / total
    high, low = flat.max(), flat.min()
    if high <= limit and low >= -limit:  # the usual case: nothing to change (False for NaN)
        return
    for _, _, grad in model.slots():
        if grad.max() > limit or grad.min() < -limit:  # False for NaN: already non-finite
            grad[np.abs(grad) > limit] *= np.inf


class BaseMLP(Solvers, BaseEstimator):
    """Shared machinery; use :class:`MLPClassifier` or :class:`MLPRegressor`.

    ``__init__`` only stores its arguments; ``fit`` and ``partial_fit`` check them first, against
    ``_parameter_constraints`` (scikit-learn's ``InvalidParameterError`` for a bad value).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = dict(MLP_CONSTRAINTS)

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

    # -- fitted views ---------------------------------------------------------------------
    def _denses(self) -> list[Dense]:
        check_is_fitted(self, "model_")
        return [layer for layer in self.model_.layers if isinstance(layer, Dense)]

    @property
    def coefs_(self) -> list[Array]:
        """Weight matrices, ``coefs_[i]`` of shape (n_units[i], n_units[i + 1]) (live views)."""
        return [layer.params["W"] for layer in self._denses()]

    @coefs_.setter
    def coefs_(self, values: list[Any]) -> None:
        self._set_params_of("W", values)

    @property
    def intercepts_(self) -> list[Array]:
        """Bias vectors, ``intercepts_[i]`` of shape (n_units[i + 1],) (live views)."""
        return [layer.params["b"] for layer in self._denses()]

    @intercepts_.setter
    def intercepts_(self, values: list[Any]) -> None:
        self._set_params_of("b", values)

    def _set_params_of(self, key: str, values: list[Any]) -> None:
        denses = self._denses()
        if len(values) != len(denses):
            raise ValueError(f"expected {len(denses)} arrays, got {len(values)}")
        arrays = [np.asarray(v) for v in values]
        for i, (layer, arr) in enumerate(zip(denses, arrays, strict=True)):
            if arr.shape != layer.params[key].shape:
                raise ValueError(
                    f"array {i} must have shape {layer.params[key].shape}, got {arr.shape}"
                )
        for layer, arr in zip(denses, arrays, strict=True):
            np.copyto(layer.params[key], arr, casting="same_kind")

    # -- fitting --------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Fit the network to ``X`` of shape (n_samples, n_features) and ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (a label-indicator matrix for multilabel) or target values.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the samples in the loss; integer weights act like repeated samples.

        Returns
        -------
        self
        """
        with restore_on_error(self):
            return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers; {self.solver!r} "
                "is not stochastic"
            )
        return True

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> BaseMLP:
        """scikit-learn's ``_fit``: validate, draw the initial weights (first pass), train."""
        for name, value in (("X", X), ("y", y), ("sample_weight", sample_weight)):
            if hasattr(value, "__dask_graph__"):  # a Dask collection: never pulled in silently
                raise TypeError(
                    f"{name} is a Dask collection ({type(value).__name__}); {type(self).__name__} "
                    "would load all of it into this process. Train on the cluster with "
                    f"nablanet.dask.Dask{type(self).__name__}, or call .compute() if it fits"
                )
        settings = check_mlp_params(self)
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        sw = self._check_sample_weight(sample_weight, X, Y, incremental)
        random = random_state_of(self.random_state)  # what scikit-learn's _random_state is
        if first_pass:
            self._initialize(X.shape[1], Y, X.dtype, random, settings)
        dropouts = [layer for layer in self.model_.layers if isinstance(layer, Dropout)]
        if dropouts:
            masks = generator_from(random)
            for layer in dropouts:
                layer.rng = masks
        # As in scikit-learn, a non-finite loss does not stop training (with early stopping the
        # best weights come back); only non-finite weights at the end fail the fit, any solver.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if settings.stochastic:
                self._fit_stochastic(X, Y, sw, random, settings, incremental)
            else:
                self._fit_lbfgs(X, Y, sw)
        if not np.isfinite(self.model_.parameters_to_vector()).all():
            curve = getattr(self, "loss_curve_", None) or []
            where = next((i for i, v in enumerate(curve) if not np.isfinite(v)), None)
            seen = (
                ""
                if where is None
                else f" The training loss was {curve[where]} at iteration {where + 1}."
            )
            raise ValueError(
                f"{NONFINITE}{seen} Scale the inputs (e.g. with StandardScaler) or lower "
                f"learning_rate_init (got {self.learning_rate_init!r})."
            )
        return self

    def _initialize(
        self, n_features: int, Y: Array, dtype: Any, rng: Random, s: MLPSettings
    ) -> None:
        """Build a new network with scikit-learn's initialisation; reset the fitted state.

        The draws are scikit-learn's ``_init_coef``, in its order: for each layer, the weights
        then the intercepts, uniform in ``[-bound, bound)`` from ``rng``.
        """
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        units = [n_features, *s.hidden, self.n_outputs_]
        # before the float64 draws below: refuse a network that cannot fit in memory
        n_params = sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(units))
        check_memory(  # float64 draws, then parameters, gradients, optimizer scratch and state
            (8 + 5 * np.dtype(dtype).itemsize) * n_params,
            f"the network {format_sizes(units)} ({format_count(n_params)} "
            f"{np.dtype(dtype)} parameters)",
            purpose=" for its initial weights, gradients and optimizer state",
            hint="use smaller hidden_layer_sizes",
        )
        self.n_layers_ = len(units)
        self.out_activation_ = self._output_activation()
        self.model_ = build_network(
            s,
            units,
            self.out_activation_,
            self.dropout,
            dtype,
            rng,
            seed=rng if isinstance(rng, np.random.Generator) else 0,  # dropout: see _fit
        )
        self.model_.task = self._task()
        self.model_.classes_ = self._model_classes()
        self._optimizer_ready = False
        self._reset_training_state(s.stochastic)

    def _reset_training_state(self, stochastic: bool) -> None:
        """scikit-learn's fitted state of a new network: curves, best scores, counters."""
        self._best_weights = self.model_.get_weights() if self.early_stopping else None
        if stochastic:
            self.loss_curve_: list[float] = []
            self._no_improvement_count = 0
            self._epochs_total = 0
            if self.early_stopping:
                self.validation_scores_: list[float] | None = []
                self.validation_loss_curve_: list[float] | None = []
                self.best_validation_score_: float | None = -np.inf
                self.best_loss_: float | None = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _new_optimizer(self) -> Optimizer:
        """A fresh optimizer: scikit-learn's rule for ``solver``, or the ``optimizer`` extra."""
        return new_optimizer(self)

    # -- one step -------------------------------------------------------------------------
    def _loss_and_grads(self, xb: Array, yb: Array, swb: Array | None) -> float:
        """Forward and backward on one batch through the model's engine: fill every layer's
        ``grads`` and return the loss as scikit-learn reports it."""
        total = float(len(xb)) if swb is None else float(swb.sum())
        l2 = float(self.alpha) / total  # scikit-learn's alpha / (2 S) ||W||^2, this batch only
        loss, _ = self.model_.loss_and_grads(xb, yb, swb, l2=l2)
        overflow_as_sklearn(self.model_, total)
        if self.out_activation_ == "identity" and yb.shape[1] > 1:
            penalty = self.model_.penalty(l2)
            loss = (loss - penalty) / yb.shape[1] + penalty  # reported averaged over outputs
        return loss

    def _validation_loss(self, X: Any, Y: Array, sw: Array | None) -> float:
        """The data loss (no L2 term) on held-out data, scaled as ``loss_curve_``."""
        loss = self.model_.training_loss.forward(self._forward(X, logits=True), Y, sw)
        return loss / Y.shape[1] if self.out_activation_ == "identity" else loss

    # -- inference ------------------------------------------------------------------------
    def _forward(self, X: Any, logits: bool = False) -> Array:
        """Network output through the loss's link (or the logits) for validated ``X``, computed
        in chunks of rows."""
        dtype = self.model_.dtype
        parts = [
            self.model_.forward(
                dense_rows(X[start : start + PREDICT_CHUNK]).astype(dtype, copy=False),
                loss_input=logits,
            )
            for start in range(0, X.shape[0], PREDICT_CHUNK)
        ]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if logits:
            return out
        # a multiclass network with sigmoid outputs (from_model): its scores normalised, as
        # Sequential.predict_proba returns them
        return apply_link(self.model_.loss.link, out, normalize=self.model_.normalizes_proba())

    def _output(self, X: Any) -> Array:
        """``_forward(_check_X(X))``: the output through the link for any ``X``.

        A ready array (C-contiguous, of the network's dtype and width, at most
        ``PREDICT_CHUNK`` rows) of an estimator fitted without feature names skips scikit-learn's
        ``validate_data`` and takes ``Sequential.predict_proba``'s fast path
        (:mod:`nablanet._inference`), which keeps the finiteness check: a NaN still raises
        ``validate_data``'s error, from the checked path.
        """
        model = self.__dict__.get("model_")
        if model is not None and type(X) is np.ndarray and "feature_names_in_" not in self.__dict__:
            out = fast_predict(model, X, PREDICT_CHUNK)
            if out is not None:
                return out
        return self._forward(self._check_X(X))

    def _check_X(self, X: Any) -> Any:
        check_is_fitted(self, "model_")
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=DTYPES, reset=False)

    def to_onnx(self, path: Any = None, **kwargs: Any) -> Any:
        """Export the fitted network to ONNX (see :func:`nablanet.onnx_export.to_onnx`)."""
        from ..onnx_export import to_onnx

        check_is_fitted(self, "model_")
        return to_onnx(self.model_, path, **kwargs)

    def save(self, path: Any, *, metadata: dict[str, Any] | None = None) -> Any:
        """Write the fitted network and these parameters to a nablanet model file; see
        :func:`nablanet.estimators.model_files.save`. Returns the ``pathlib.Path`` written."""
        from ..saving.estimator_files import save_estimator as save

        return save(self, path, metadata=metadata)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- hooks the subclasses fill in -----------------------------------------------------
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, Array]:
        raise NotImplementedError

    def _check_sample_weight(
        self, sample_weight: Any, X: Any, Y: Array, incremental: bool
    ) -> Array | None:
        raise NotImplementedError

    def _output_activation(self) -> str:
        raise NotImplementedError

    def _task(self) -> str:
        raise NotImplementedError

    def _model_classes(self) -> Array | None:
        return None

    def _stratify(self, Y: Array) -> Array | None:
        return None

    def _validation_score(self, X: Any, Y: Array, sw: Array | None) -> float:
        raise NotImplementedError
