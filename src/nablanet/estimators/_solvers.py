"""The solvers of the MLP estimators, as methods: scikit-learn's stochastic loop and L-BFGS.

:class:`Solvers` is a mixin of :class:`._base.BaseMLP`, as ``_fit_stochastic`` and
``_fit_lbfgs`` are methods of scikit-learn's ``BaseMultilayerPerceptron``. Its head declares,
typed, every attribute of the estimator the solvers read or write (the parameters, the fitted
state, the hooks :class:`~._base.BaseMLP` provides), so that readers and mypy see the whole
dependency; the estimator owns that state.

Both solvers drive ``_loss_and_grads`` (one forward and backward pass of the model's engine, L2
term included); the stochastic loop then applies the model's optimizer step. Each method mirrors
the one of the same name in ``sklearn/neural_network/_multilayer_perceptron.py``, draw for draw:
the validation split (``train_test_split`` with the fit's random state, stratified for
single-output classifiers only), then each epoch ``sklearn.utils.shuffle`` of the previous
order, mini-batches of ``batch_size`` (``min(200, n)`` for ``"auto"``), ``loss_curve_`` of epoch
losses weighted by batch size, the ``tol`` / ``n_iter_no_change`` rule on the training loss or on
the validation score, ``invscaling`` and ``adaptive`` learning rates, and the best weights
restored after early stopping. As in scikit-learn, a non-finite loss does not stop the loop.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from .._batching import take
from ..model import Sequential
from ._params import MLPSettings, Random

if TYPE_CHECKING:
    from ..optimizers import Optimizer

Array = np.ndarray


def dense_rows(X: Any) -> Array:
    """``X`` as a dense array (sparse batches are densified one batch at a time)."""
    return X.toarray() if sp.issparse(X) else X


def _shuffled(order: Array, random: Random) -> Array:
    """The next epoch's order: what scikit-learn's ``shuffle(order, random_state=random)``
    draws (``resample``: shuffle ``arange(n)`` in place, then index), without its per-call
    parameter validation."""
    if isinstance(random, np.random.Generator):
        return random.permutation(order)
    indices = np.arange(len(order))
    random.shuffle(indices)
    return order[indices]


class Solvers:
    """scikit-learn's ``_fit_stochastic`` (sgd, adam and the ``optimizer`` extra) and
    ``_fit_lbfgs``, as methods of :class:`~._base.BaseMLP`."""

    # -- what the solvers use of the estimator ----------------------------------------------
    # parameters (BaseMLP.__init__), read only
    batch_size: Any  # "auto" or int
    early_stopping: bool
    learning_rate: Any  # "constant", "invscaling", "adaptive" or a Schedule
    learning_rate_init: float
    max_fun: int
    max_iter: int
    optimizer: Any  # None (scikit-learn's rule for ``solver``), a name or an Optimizer
    power_t: float
    shuffle: bool
    solver: str
    tol: float
    validation_fraction: float
    verbose: bool
    # fitted state the solvers write (BaseMLP._initialize and _reset_training_state start it)
    model_: Sequential
    n_iter_: int
    t_: int
    loss_: float
    loss_curve_: list[float]
    best_loss_: float | None
    validation_scores_: list[float] | None
    validation_loss_curve_: list[float] | None
    best_validation_score_: float | None
    _best_weights: list[dict[str, Array]] | None
    _no_improvement_count: int
    _epochs_total: int  # epochs across partial_fit calls: the optimizer's schedule epoch
    _optimizer_ready: bool  # False: the next stochastic fit compiles a new optimizer
    classes_: Array  # classifiers only: names the labels when a stratified split fails

    if TYPE_CHECKING:  # the hooks, defined by BaseMLP and its subclasses

        def _new_optimizer(self) -> Optimizer: ...
        def _loss_and_grads(self, xb: Array, yb: Array, swb: Array | None) -> float: ...
        def _validation_loss(self, X: Any, Y: Array, sw: Array | None) -> float: ...
        def _validation_score(self, X: Any, Y: Array, sw: Array | None) -> float: ...
        def _stratify(self, Y: Array) -> Array | None: ...

    # -- stochastic -------------------------------------------------------------------------
    def _fit_stochastic(
        self,
        X: Any,
        Y: Array,
        sw: Array | None,
        random: Random,
        s: MLPSettings,
        incremental: bool,
    ) -> None:
        """scikit-learn's ``_fit_stochastic``: ``max_iter`` epochs (one for ``partial_fit``)."""
        model = self.model_
        if not incremental or not self._optimizer_ready:
            model.compile(optimizer=self._new_optimizer())
            self._optimizer_ready = True
            self._epochs_total = 0
        optimizer = model.optimizer
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        val = self._split_validation(X, Y, sw, random) if self.early_stopping else None
        if val is not None:
            X, Y, sw = val[0], val[1], val[2]
        n = X.shape[0]
        batch_size = self._batch_size_for(n)
        order = np.arange(n)
        schedule_lr = self.optimizer is not None or self.solver == "sgd"
        self.n_iter_ = 0
        try:
            for _ in range(self.max_iter):
                optimizer.set_epoch(self._epochs_total)
                if self.shuffle:
                    order = _shuffled(order, random)
                accumulated = 0.0
                for start in range(0, n, batch_size):
                    rows: Any = (
                        order[start : start + batch_size]
                        if self.shuffle
                        else slice(start, start + batch_size)
                    )
                    swb = None if sw is None else sw[rows]
                    if swb is not None and not swb.sum() > 0:
                        continue  # a batch of zero weight changes nothing (scikit-learn: NaN)
                    xb = dense_rows(take(X, rows))  # a compiled gather with nablanet[fast]
                    loss = self._loss_and_grads(xb, take(Y, rows), swb)
                    model.apply_gradients()
                    accumulated += loss * xb.shape[0]
                self.n_iter_ += 1
                self._epochs_total += 1
                self.loss_ = accumulated / n
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(val)
                if schedule_lr and self.learning_rate == "invscaling":
                    optimizer.lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                if self._no_improvement_count > s.n_iter_no_change:
                    if schedule_lr and self.learning_rate == "adaptive" and optimizer.lr > 1e-6:
                        optimizer.lr /= 5.0
                        self._no_improvement_count = 0
                        if self.verbose:
                            print(
                                self._stop_message(s), f"Setting learning rate to {optimizer.lr:f}"
                            )
                    else:
                        if self.verbose:
                            print(self._stop_message(s), "Stopping.")
                        break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                        "and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        if val is not None:
            assert self._best_weights is not None  # set by _reset_training_state
            model.set_weights(self._best_weights)

    def _batch_size_for(self, n: int) -> int:
        """The mini-batch size for ``n`` samples: ``min(200, n)`` for ``"auto"``, else
        ``batch_size`` clipped to ``[1, n]`` (with scikit-learn's warning)."""
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(  # scikit-learn's words
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                UserWarning,
                stacklevel=5,
            )
        return int(np.clip(self.batch_size, 1, n))

    def _stop_message(self, s: MLPSettings) -> str:
        what = "Validation score" if self.early_stopping else "Training loss"
        return (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{s.n_iter_no_change:g} consecutive epochs."
        )

    def _split_validation(
        self, X: Any, Y: Array, sw: Array | None, random: Random
    ) -> tuple[Any, ...]:
        """Hold out ``validation_fraction`` of the data, as scikit-learn does: stratified only
        for a single-output classifier (binary: on the 0/1 indicator, so its messages name
        ``True``). Returns ``(X_train, Y_train, sw_train, X_val, Y_val, sw_val)``."""
        stratify = self._stratify(Y)
        arrays = [X, Y] if sw is None else [X, Y, sw]
        seed = random if isinstance(random, np.random.RandomState) else int(random.integers(2**31))
        try:
            parts = train_test_split(
                *arrays, random_state=seed, test_size=self.validation_fraction, stratify=stratify
            )
        except ValueError as exc:
            if stratify is None or "least populated" not in str(exc):
                raise
            # scikit-learn's message names the 0/1 indicator it splits on; add the user's labels
            labels = self.classes_.tolist()  # 1 or 2 classes: the indicator is of the last one
            names = (
                f"'True' is {labels[-1]!r}, 'False' is {labels[0]!r}"
                if len(labels) == 2
                else (f"'False' is {labels[0]!r}")
            )
            raise ValueError(
                f"{exc} (early stopping splits on a class indicator: {names})"
            ) from exc
        X_tr, X_val, Y_tr, Y_val = parts[:4]
        sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(  # scikit-learn's words, then the numbers
                "The validation set is too small. Increase 'validation_fraction' or the size of "
                f"your dataset (validation_fraction={self.validation_fraction} leaves "
                f"{X_val.shape[0]} of {X.shape[0]} samples)."
            )
        return X_tr, Y_tr, sw_tr, X_val, Y_val, sw_val

    def _update_no_improvement_count(self, val: tuple[Any, ...] | None) -> None:
        """scikit-learn's convergence rule, on the validation score or the training loss."""
        if val is not None:
            X_val, Y_val, sw_val = val[3], val[4], val[5]
            val_loss = self._validation_loss(X_val, Y_val, sw_val)
            score = self._validation_score(X_val, Y_val, sw_val)
            assert self.validation_scores_ is not None and self.validation_loss_curve_ is not None
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(val_loss)
            if self.verbose:
                print(f"Validation score: {score:f}, validation loss: {val_loss:.8f}")
            best = self.best_validation_score_
            assert best is not None
            if score < best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > best:
                self.best_validation_score_ = score
                self._best_weights = self.model_.get_weights()
        else:
            assert self.best_loss_ is not None
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # -- L-BFGS -----------------------------------------------------------------------------
    def _fit_lbfgs(self, X: Any, Y: Array, sw: Array | None) -> None:
        """scikit-learn's ``_fit_lbfgs``: scipy's L-BFGS-B on the same loss and gradient."""
        Xd = dense_rows(X)
        model = self.model_

        def loss_grad(theta: Array) -> tuple[float, Array]:
            model.vector_to_parameters(theta)
            loss = self._loss_and_grads(Xd, Y, sw)
            return loss, model.gradients_to_vector().astype(np.float64)

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        result = scipy.optimize.minimize(
            loss_grad,
            model.parameters_to_vector().astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_get_additional_lbfgs_options_dict("iprint", iprint),
            },
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)  # warns as sklearn
        self.loss_ = float(result.fun)
        model.vector_to_parameters(result.x)
