"""The solvers of the MLP estimators: scikit-learn's stochastic loop and full-batch L-BFGS.

Both drive :meth:`BaseMLP._loss_and_grads` (one forward and backward pass of the model's engine,
L2 term included); the stochastic loop then applies the model's optimizer step, under the
core's divergence policy (:mod:`nablanet.training.divergence`). Each function mirrors the method of
the same name in ``sklearn/neural_network/_multilayer_perceptron.py``: mini-batches of
``batch_size`` (``min(200, n)`` for ``"auto"``), ``loss_curve_`` of epoch losses weighted by batch
size, the ``tol`` / ``n_iter_no_change`` rule on the training loss or on the validation score,
``invscaling`` and ``adaptive`` learning rates, and the best weights restored after early
stopping.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ..training.divergence import DivergenceGuard
from ._params import MLPSettings

Array = np.ndarray


def dense_rows(X: Any) -> Array:
    """``X`` as a dense array (sparse batches are densified one batch at a time)."""
    return X.toarray() if sp.issparse(X) else X


def fit_stochastic(
    est: Any,
    X: Any,
    Y: Array,
    sw: Array | None,
    rng: np.random.Generator,
    s: MLPSettings,
    incremental: bool,
) -> None:
    model = est.model_
    if not incremental or not est._optimizer_ready:
        model.compile(optimizer=est._new_optimizer())
        est._optimizer_ready = True
        est._epochs_total = 0
    optimizer = model.optimizer
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    val = _split_validation(est, X, Y, sw, rng) if est.early_stopping else None
    if val is not None:
        X, Y, sw = val[0], val[1], val[2]
    n = X.shape[0]
    if s.batch_size is None:
        batch_size = min(200, n)
    else:
        if s.batch_size > n:
            warnings.warn(
                f"batch_size={s.batch_size} is larger than the {n} samples; using {n}",
                UserWarning,
                stacklevel=4,
            )
        batch_size = min(s.batch_size, n)
    schedule_lr = est.optimizer is not None or est.solver == "sgd"
    est.n_iter_ = 0
    guard = DivergenceGuard(model)
    try:
        for _ in range(est.max_iter):
            optimizer.set_epoch(est._epochs_total)
            guard.begin_epoch()
            order = rng.permutation(n) if (est.shuffle and batch_size < n) else None
            accumulated = 0.0
            for step, start in enumerate(range(0, n, batch_size)):
                if order is None:
                    rows: Any = slice(start, start + batch_size)
                else:
                    rows = order[start : start + batch_size]
                swb = None if sw is None else sw[rows]
                if swb is not None and not swb.sum() > 0:
                    continue  # a batch of zero weight changes nothing
                xb = dense_rows(X[rows])
                loss = est._loss_and_grads(xb, Y[rows], swb)
                if not guard.check(loss, est.n_iter_, step):
                    raise ValueError(model.stop_reason)  # a failed fit raises, as in sklearn
                model.apply_gradients()
                accumulated += loss * xb.shape[0]
            est.n_iter_ += 1
            est._epochs_total += 1
            est.loss_ = accumulated / n
            est.t_ += n
            est.loss_curve_.append(est.loss_)
            if est.verbose:
                print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
            _update_no_improvement_count(est, val)
            if schedule_lr and est.learning_rate == "invscaling":
                optimizer.lr = float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
            if est._no_improvement_count > s.n_iter_no_change:
                if schedule_lr and est.learning_rate == "adaptive" and optimizer.lr > 1e-6:
                    optimizer.lr /= 5.0
                    est._no_improvement_count = 0
                    if est.verbose:
                        print(f"Setting learning rate to {optimizer.lr:f}")
                else:
                    if est.verbose:
                        print(_stop_message(est, s), "Stopping.")
                    break
            if incremental:
                break
            if est.n_iter_ == est.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
                    "and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=4)
    if val is not None:
        model.set_weights(est._best_weights)


def _stop_message(est: Any, s: MLPSettings) -> str:
    what = "Validation score" if est.early_stopping else "Training loss"
    return (
        f"{what} did not improve more than tol={est.tol:f} for "
        f"{s.n_iter_no_change:g} consecutive epochs."
    )


def _split_validation(
    est: Any, X: Any, Y: Array, sw: Array | None, rng: np.random.Generator
) -> tuple[Any, ...]:
    """Hold out ``validation_fraction`` of the data (stratified for single-output classes)."""
    stratify = est._stratify(Y)
    arrays = [X, Y] if sw is None else [X, Y, sw]
    parts = train_test_split(
        *arrays,
        test_size=est.validation_fraction,
        random_state=int(rng.integers(np.iinfo(np.int32).max)),
        stratify=stratify,
    )
    X_tr, X_val, Y_tr, Y_val = parts[:4]
    sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            f"validation_fraction={est.validation_fraction} leaves {X_val.shape[0]} "
            "validation sample(s); increase validation_fraction or the data set size"
        )
    return X_tr, Y_tr, sw_tr, X_val, Y_val, sw_val


def _update_no_improvement_count(est: Any, val: tuple[Any, ...] | None) -> None:
    """scikit-learn's convergence rule, on the validation score or the training loss."""
    if val is not None:
        X_val, Y_val, sw_val = val[3], val[4], val[5]
        val_loss = est._validation_loss(X_val, Y_val, sw_val)
        score = est._validation_score(X_val, Y_val, sw_val)
        assert est.validation_scores_ is not None and est.validation_loss_curve_ is not None
        est.validation_scores_.append(score)
        est.validation_loss_curve_.append(val_loss)
        if est.verbose:
            print(f"Validation score: {score:f}, validation loss: {val_loss:.8f}")
        best = est.best_validation_score_
        assert best is not None
        if score < best + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > best:
            est.best_validation_score_ = score
            est._best_weights = est.model_.get_weights()
    else:
        assert est.best_loss_ is not None
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


# -- L-BFGS ---------------------------------------------------------------------------
def fit_lbfgs(est: Any, X: Any, Y: Array, sw: Array | None) -> None:
    """Full-batch L-BFGS-B (scipy) on the same loss and gradient."""
    Xd = dense_rows(X)
    model = est.model_

    def loss_grad(theta: Array) -> tuple[float, Array]:
        model.vector_to_parameters(theta)
        loss = est._loss_and_grads(Xd, Y, sw)
        return loss, model.gradients_to_vector().astype(np.float64)

    x0 = model.parameters_to_vector().astype(np.float64)
    result = scipy.optimize.minimize(
        loss_grad,
        x0,
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
    )
    model.vector_to_parameters(result.x)
    est.n_iter_ = min(int(result.nit), est.max_iter)
    est.loss_ = float(result.fun)
    if result.status != 0:
        message = result.message
        message = message.decode() if isinstance(message, bytes) else message
        warnings.warn(
            f"lbfgs failed to converge after {est.n_iter_} iteration(s) "
            f"(status={result.status}): {message}. Increase max_iter or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
