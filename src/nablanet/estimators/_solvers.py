"""The solvers of the MLP estimators: scikit-learn's stochastic loop and full-batch L-BFGS.

Both drive :meth:`BaseMLP._loss_and_grads` (one forward and backward pass of the model's engine,
L2 term included); the stochastic loop then applies the model's optimizer step. Each function
mirrors the method of the same name in ``sklearn/neural_network/_multilayer_perceptron.py``, draw
for draw: the validation split (``train_test_split`` with the fit's random state, stratified for
single-output classifiers only), then each epoch ``sklearn.utils.shuffle`` of the previous
order, mini-batches of ``batch_size`` (``min(200, n)`` for ``"auto"``), ``loss_curve_`` of epoch
losses weighted by batch size, the ``tol`` / ``n_iter_no_change`` rule on the training loss or on
the validation score, ``invscaling`` and ``adaptive`` learning rates, and the best weights
restored after early stopping. As in scikit-learn, a non-finite loss does not stop the loop.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
from sklearn.utils.optimize import _check_optimize_result

from .._batching import take
from ._params import MLPSettings, Random

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


def _batch_size(est: Any, n: int) -> int:
    if est.batch_size == "auto":
        return min(200, n)
    if est.batch_size > n:
        warnings.warn(  # scikit-learn's words
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            UserWarning,
            stacklevel=5,
        )
    return int(np.clip(est.batch_size, 1, n))


def fit_stochastic(
    est: Any,
    X: Any,
    Y: Array,
    sw: Array | None,
    random: Random,
    s: MLPSettings,
    incremental: bool,
) -> None:
    """scikit-learn's ``_fit_stochastic``: ``max_iter`` epochs (one for ``partial_fit``)."""
    model = est.model_
    if not incremental or not est._optimizer_ready:
        model.compile(optimizer=est._new_optimizer())
        est._optimizer_ready = True
        est._epochs_total = 0
    optimizer = model.optimizer
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    val = _split_validation(est, X, Y, sw, random) if est.early_stopping else None
    if val is not None:
        X, Y, sw = val[0], val[1], val[2]
    n = X.shape[0]
    batch_size = _batch_size(est, n)
    order = np.arange(n)
    schedule_lr = est.optimizer is not None or est.solver == "sgd"
    est.n_iter_ = 0
    try:
        for _ in range(est.max_iter):
            optimizer.set_epoch(est._epochs_total)
            if est.shuffle:
                order = _shuffled(order, random)
            accumulated = 0.0
            for start in range(0, n, batch_size):
                rows: Any = (
                    order[start : start + batch_size]
                    if est.shuffle
                    else slice(start, start + batch_size)
                )
                swb = None if sw is None else sw[rows]
                if swb is not None and not swb.sum() > 0:
                    continue  # a batch of zero weight changes nothing (scikit-learn: NaN)
                xb = dense_rows(take(X, rows))  # a compiled gather with nablanet[fast]
                loss = est._loss_and_grads(xb, take(Y, rows), swb)
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
                        print(_stop_message(est, s), f"Setting learning rate to {optimizer.lr:f}")
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
    est: Any, X: Any, Y: Array, sw: Array | None, random: Random
) -> tuple[Any, ...]:
    """Hold out ``validation_fraction`` of the data, as scikit-learn does: stratified only for a
    single-output classifier (binary: on the 0/1 indicator, so its messages name ``True``)."""
    stratify = est._stratify(Y)
    arrays = [X, Y] if sw is None else [X, Y, sw]
    seed = random if isinstance(random, np.random.RandomState) else int(random.integers(2**31))
    try:
        parts = train_test_split(
            *arrays, random_state=seed, test_size=est.validation_fraction, stratify=stratify
        )
    except ValueError as exc:
        if stratify is None or "least populated" not in str(exc):
            raise
        # scikit-learn's message names the 0/1 indicator it splits on; add the user's labels
        labels = est.classes_.tolist()  # 1 or 2 classes: the indicator is of the last one
        names = (
            f"'True' is {labels[-1]!r}, 'False' is {labels[0]!r}"
            if len(labels) == 2
            else (f"'False' is {labels[0]!r}")
        )
        raise ValueError(f"{exc} (early stopping splits on a class indicator: {names})") from exc
    X_tr, X_val, Y_tr, Y_val = parts[:4]
    sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(  # scikit-learn's words, then the numbers
            "The validation set is too small. Increase 'validation_fraction' or the size of "
            f"your dataset (validation_fraction={est.validation_fraction} leaves "
            f"{X_val.shape[0]} of {X.shape[0]} samples)."
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
    """scikit-learn's ``_fit_lbfgs``: scipy's L-BFGS-B on the same loss and gradient."""
    Xd = dense_rows(X)
    model = est.model_

    def loss_grad(theta: Array) -> tuple[float, Array]:
        model.vector_to_parameters(theta)
        loss = est._loss_and_grads(Xd, Y, sw)
        return loss, model.gradients_to_vector().astype(np.float64)

    iprint = 1 if est.verbose is True or est.verbose >= 1 else -1
    result = scipy.optimize.minimize(
        loss_grad,
        model.parameters_to_vector().astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        options={
            "maxfun": est.max_fun,
            "maxiter": est.max_iter,
            "gtol": est.tol,
            **_get_additional_lbfgs_options_dict("iprint", iprint),
        },
    )
    est.n_iter_ = _check_optimize_result("lbfgs", result, est.max_iter)  # warns as sklearn
    est.loss_ = float(result.fun)
    model.vector_to_parameters(result.x)
