r"""``Perceptron``: a drop-in for ``sklearn.linear_model.Perceptron``, trained by seed 001's rule.

Each class ``k`` has a binary perceptron (one-vs-rest; a single one for two classes), all
trained together, one sample at a time, by the rule of :class:`nablanet.perceptron.Perceptron`:

.. math::

    t_{ik} = [y_i = k],\quad e_{ik} = \mathrm{step}(x_i \cdot w_k + b_k) - t_{ik},\quad
    w_k \leftarrow w_k - \eta_0\, u_{ik}\, e_{ik}\, x_i,\quad b_k \leftarrow b_k - \eta_0\, u_{ik}\, e_{ik}

where :math:`u_{ik}` is the sample weight times the class weight (scikit-learn's ``pos_weight``
for :math:`t = 1`, ``neg_weight`` for :math:`t = 0`). With ``u = 1`` and two classes this is
exactly ``nablanet.perceptron.Perceptron`` (``tests/test_estimators.py`` checks it); the
one-vs-rest bookkeeping, sample and class weights, ``partial_fit`` and scikit-learn's stopping
rule are what this class adds. It differs from scikit-learn's SGD-based Perceptron only where
``x \cdot w + b = 0`` exactly: the step calls that the negative class (a mistake only for
positive samples), scikit-learn a mistake for both.

Stopping, as scikit-learn: an epoch "does not improve" when the summed perceptron loss
:math:`\sum_i \max(0, -\tilde t_{ik} z_{ik})` (:math:`\tilde t = \pm 1`) is not below the best by
``tol * n_samples`` (or, with ``early_stopping``, when the validation accuracy does not beat the
best by ``tol``); a binary problem stops after ``n_iter_no_change`` such epochs in a row.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._validation import _short, check_fraction, check_positive_float, check_positive_int
from ..functional import step
from ._params import as_rng, check_bool, check_random_state
from ._solvers import dense_rows
from ._state import restore_on_error

Array = np.ndarray
_DTYPES = (np.float64, np.float32)
_ROW_BLOCK = 1024  # rows densified at a time for sparse input


class Perceptron(ClassifierMixin, BaseEstimator):
    """Perceptron classifier with scikit-learn's parameters (one-vs-rest for several classes).

    Parameters
    ----------
    penalty : None or "l2"
        ``"l2"`` shrinks the weights by ``1 - eta0 * alpha`` before every sample's update
        (``"l1"`` and ``"elasticnet"`` are not implemented and raise).
    alpha : float
        Penalty strength (used with ``penalty="l2"``).
    l1_ratio : float
        Accepted for compatibility; only meaningful with ``"elasticnet"``.
    fit_intercept : bool
    max_iter : int
        Maximum number of epochs.
    tol : float or None
        Stopping tolerance; ``None`` runs ``max_iter`` epochs.
    shuffle : bool
        Visit the samples in a new random order every epoch.
    verbose : int
    eta0 : float
        Learning rate :math:`\\eta_0`.
    n_jobs : None
        Accepted for compatibility; the binary problems are already trained together.
    random_state : None, int, np.random.Generator or np.random.RandomState
        Shuffling and the early-stopping split.
    early_stopping, validation_fraction, n_iter_no_change, class_weight, warm_start
        As in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    n_iter_ : int
        Epochs run (the most over the binary problems).
    t_ : int
        ``n_iter_ * n_samples + 1``, as scikit-learn reports it.

    Examples
    --------
    >>> from nablanet.estimators import Perceptron
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> Perceptron(random_state=0).fit(X, y).score(X, y) > 0.6
    True
    """

    def __init__(
        self,
        *,
        penalty: Any = None,
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: Any = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        eta0: float = 1.0,
        n_jobs: Any = None,
        random_state: Any = 0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        class_weight: Any = None,
        warm_start: bool = False,
    ) -> None:
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start

    # -- parameters -----------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.penalty not in (None, "l2"):
            raise ValueError(
                f"penalty must be None or 'l2' (nablanet's Perceptron has no L1 penalty), "
                f"got {_short(self.penalty)}"
            )
        check_positive_float("alpha", self.alpha, allow_zero=True)
        check_fraction("l1_ratio", self.l1_ratio, low_open=False, high_open=False)
        check_bool("fit_intercept", self.fit_intercept)
        check_positive_int("max_iter", self.max_iter)
        if self.tol is not None:
            check_positive_float("tol", self.tol, allow_zero=True)
        check_bool("shuffle", self.shuffle)
        check_positive_int("verbose", self.verbose, minimum=0)
        check_positive_float("eta0", self.eta0)
        check_random_state(self.random_state)
        check_bool("early_stopping", self.early_stopping)
        check_fraction("validation_fraction", self.validation_fraction)
        check_positive_int("n_iter_no_change", self.n_iter_no_change)
        check_bool("warm_start", self.warm_start)
        if self.class_weight is not None and not isinstance(self.class_weight, dict | str):
            raise TypeError(
                f"class_weight must be None, a dict or 'balanced', got {_short(self.class_weight)}"
            )

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        coef_init: Any = None,
        intercept_init: Any = None,
        sample_weight: Any = None,
    ) -> Perceptron:
        """Train on ``X`` of shape (n_samples, n_features) and labels ``y`` of shape (n_samples,).

        ``coef_init`` (shape (n_classes or 1, n_features)) and ``intercept_init`` give starting
        weights (zeros by default, as scikit-learn); ``sample_weight`` (n_samples,) scales each
        sample's updates.
        """
        with restore_on_error(self):
            return self._fit(X, y, coef_init, intercept_init, sample_weight)

    def _fit(
        self, X: Any, y: Any, coef_init: Any, intercept_init: Any, sample_weight: Any
    ) -> Perceptron:
        self._check_params()
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=_DTYPES, reset=True)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"Perceptron needs at least 2 classes, got only one class: {classes.tolist()}"
            )
        sw = self._sample_weight(sample_weight, X)
        k = 1 if len(classes) == 2 else len(classes)
        W = np.zeros((X.shape[1], k), dtype=X.dtype)  # (n_features, k): one column per problem
        b = np.zeros(k, dtype=X.dtype)
        if coef_init is not None or intercept_init is not None:
            W, b = self._given_init(coef_init, intercept_init, W, b)
        elif self.warm_start and hasattr(self, "coef_") and np.array_equal(self.classes_, classes):
            W, b = self.coef_.T.astype(X.dtype), self.intercept_.astype(X.dtype)
        n_iter = self._train(X, y, classes, sw, W, b, self.max_iter, as_rng(self.random_state))
        self._set_fitted(classes, W, b, n_iter, X.shape[0])
        if self.tol is not None and n_iter == self.max_iter:
            warnings.warn(
                "Maximum number of iteration reached before convergence. Consider increasing "
                "max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> Perceptron:
        """One epoch over ``(X, y)`` from the current weights; ``classes`` on the first call."""
        with restore_on_error(self):
            return self._partial_fit(X, y, classes, sample_weight)

    def _partial_fit(self, X: Any, y: Any, classes: Any, sample_weight: Any) -> Perceptron:
        self._check_params()
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "coef_")
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=_DTYPES, reset=first)
        check_classification_targets(y)
        if _check_partial_fit_first_call(self, classes) and len(self.classes_) < 2:
            found = self.classes_.tolist()
            raise ValueError(f"Perceptron needs at least 2 classes, got only one class: {found}")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y has classes not in classes_ {self.classes_}: {unknown}")
        sw = self._sample_weight(sample_weight, X)
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        if first:
            W, b = np.zeros((X.shape[1], k), dtype=X.dtype), np.zeros(k, dtype=X.dtype)
        else:
            W, b = self.coef_.T.astype(X.dtype), self.intercept_.astype(X.dtype)
        self._train(X, y, self.classes_, sw, W, b, 1, as_rng(self.random_state))
        t = getattr(self, "t_", 1)
        self._set_fitted(self.classes_, W, b, 1, X.shape[0])
        self.t_ = t + X.shape[0]
        return self

    def _sample_weight(self, sample_weight: Any, X: Any) -> Array:
        if sample_weight is None:
            return np.ones(X.shape[0], dtype=X.dtype)
        return _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)

    def _given_init(
        self, coef_init: Any, intercept_init: Any, W: Array, b: Array
    ) -> tuple[Array, Array]:
        if coef_init is not None:
            coef = np.asarray(coef_init, dtype=W.dtype).reshape(-1, W.shape[0])
            if coef.shape != (W.shape[1], W.shape[0]):
                raise ValueError(
                    f"coef_init must have shape {(W.shape[1], W.shape[0])}, got "
                    f"{np.shape(coef_init)}"
                )
            W = np.ascontiguousarray(coef.T)
        if intercept_init is not None:
            intercept = np.asarray(intercept_init, dtype=b.dtype).reshape(-1)
            if intercept.shape != b.shape:
                raise ValueError(
                    f"intercept_init must have shape {b.shape}, got {np.shape(intercept_init)}"
                )
            b = intercept.copy()
        return W, b

    def _set_fitted(self, classes: Array, W: Array, b: Array, n_iter: int, n: int) -> None:
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = b
        self.n_iter_ = n_iter
        self.t_ = n_iter * n + 1

    def _update_weights(self, y: Array, classes: Array, sw: Array) -> tuple[Array, Array]:
        """Targets ``t`` (n, k) in {0, 1} and update factors ``u`` (n, k)."""
        cw = compute_class_weight(self.class_weight, classes=classes, y=y)
        if len(classes) == 2:
            t = (y == classes[1]).astype(sw.dtype).reshape(-1, 1)
            pos, neg = cw[1], cw[0]
            u = np.where(t == 1, pos, neg) * sw.reshape(-1, 1)
        else:
            t = (y.reshape(-1, 1) == classes.reshape(1, -1)).astype(sw.dtype)
            u = np.where(t == 1, cw.reshape(1, -1), 1.0) * sw.reshape(-1, 1)
        return t, u.astype(sw.dtype)

    def _train(
        self,
        X: Any,
        y: Array,
        classes: Array,
        sw: Array,
        W: Array,
        b: Array,
        max_iter: int,
        rng: np.random.Generator,
    ) -> int:
        """Train ``W`` (n_features, k) and ``b`` (k,) in place; return the epochs run."""
        t, u = self._update_weights(y, classes, sw)
        train = np.arange(X.shape[0])
        val = None
        if self.early_stopping:
            train, val_rows = train_test_split(
                train,
                test_size=self.validation_fraction,
                stratify=y,
                random_state=int(rng.integers(np.iinfo(np.int32).max)),
            )
            val = (dense_rows(X[val_rows]), t[val_rows], sw[val_rows])
        eta = float(self.eta0)
        decay = max(0.0, 1.0 - eta * float(self.alpha)) if self.penalty == "l2" else 1.0
        k = W.shape[1]
        active = np.ones(k, dtype=bool)
        best = np.full(k, np.inf if val is None else -np.inf)
        stale = np.zeros(k, dtype=int)
        epochs = np.zeros(k, dtype=int)
        for epoch in range(max_iter):
            order = rng.permutation(train) if self.shuffle else train
            loss = self._epoch(X, t, u, order, W, b, active, eta, decay)
            epochs[active] = epoch + 1
            if val is not None:
                Xv, tv, swv = val
                correct = (step(Xv @ W + b) == tv) * swv.reshape(-1, 1)
                score = correct.sum(axis=0) / swv.sum()
                improved = score >= best + self.tol if self.tol is not None else np.ones(k, bool)
                best = np.maximum(best, score)
            else:
                tol = -np.inf if self.tol is None else self.tol * len(train)
                improved = loss <= best - tol
                best = np.minimum(best, loss)
            stale = np.where(improved, 0, stale + 1)
            if self.verbose:
                print(f"-- Epoch {epoch + 1}: avg. loss {loss.mean() / len(train):.6f}")
            if self.tol is not None:
                active &= stale < self.n_iter_no_change
            if not active.any():
                break
        return int(epochs.max())

    def _epoch(
        self,
        X: Any,
        t: Array,
        u: Array,
        order: Array,
        W: Array,
        b: Array,
        active: Array,
        eta: float,
        decay: float,
    ) -> Array:
        """One pass of the per-sample rule over ``order``; return each problem's summed loss."""
        loss = np.zeros(W.shape[1])
        cols = np.flatnonzero(active)
        Wa, ba = W[:, cols], b[cols]  # the problems still training (copies, written back)
        for start in range(0, len(order), _ROW_BLOCK):
            rows = order[start : start + _ROW_BLOCK]
            block = dense_rows(X[rows])
            t_block, u_block = t[rows][:, cols], u[rows][:, cols]
            for x, t_i, u_i in zip(block, t_block, u_block, strict=True):
                z = x @ Wa + ba  # (k,)
                loss[cols] += np.maximum(0.0, (1.0 - 2.0 * t_i) * z)
                if decay != 1.0:
                    Wa *= decay
                error = step(z) - t_i  # -1, 0 or +1 per problem
                if error.any():
                    coef = -eta * u_i * error  # (k,)
                    Wa += np.outer(x, coef)  # (n_features, 1) x (1, k)
                    if self.fit_intercept:
                        ba += coef
        W[:, cols] = Wa
        b[cols] = ba
        return loss

    # -- prediction -----------------------------------------------------------------------
    def decision_function(self, X: Any) -> Array:
        """``X @ coef_.T + intercept_``: shape (n_samples,) for two classes, else (n, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=_DTYPES, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        scores = np.asarray(scores)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> Array:
        """Labels from ``classes_``, shape (n_samples,)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
