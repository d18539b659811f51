r"""``Perceptron``: a drop-in for ``sklearn.linear_model.Perceptron`` that learns its coefficients.

Each class ``k`` has a binary perceptron (one-vs-rest; a single one for two classes) trained one
sample at a time on targets :math:`y_i = \pm 1` by scikit-learn's rule (``SGDClassifier`` with
``loss="perceptron"`` and a constant learning rate :math:`\eta_0`):

.. math::

    \text{if } y_i (w \cdot x_i + b) \le 0: \quad
    w \leftarrow w + \eta_0\, c_{y_i} s_i\, y_i x_i, \qquad b \leftarrow b + \eta_0\, c_{y_i} s_i\, y_i

from zero weights, with the sample weight :math:`s_i`, the class weight :math:`c` and an optional
L2 / L1 / elastic-net penalty. A score of exactly 0 is a mistake, so the first sample always
updates. :mod:`nablanet._fast.perceptron` holds the epoch (a compiled kernel with numba, its
NumPy reference without) and the equations of the penalties.

The contract: with the same parameters, data and integer ``random_state``, ``coef_``,
``intercept_``, ``n_iter_`` and ``t_`` equal scikit-learn's (to rounding in float64; tested to
1e-6 on iris and digits for every penalty, shuffled or not). For that, everything random is
drawn as scikit-learn draws it: one seed per class from ``random_state``, the per-epoch
Fisher-Yates shuffle with its xorshift generator, the stratified validation split. The stopping
rule is scikit-learn's too: an epoch "does not improve" when its mean objective is not below the
best by ``tol`` (or, with ``early_stopping``, its validation accuracy does not beat the best by
``tol``), and a problem stops after ``n_iter_no_change`` such epochs in a row.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _fast
from .._fast import perceptron as kernel
from ._state import restore_on_error
from .perceptron_epoch import sgd_epoch_numpy

Array = np.ndarray
MAX_INT = np.iinfo(np.int32).max
PENALTIES = {
    None: kernel.NO_PENALTY,
    "l1": kernel.L1,
    "l2": kernel.L2,
    "elasticnet": kernel.ELASTICNET,
}
SPARSE_INTERCEPT_DECAY = 0.01  # scikit-learn damps the intercept's steps on sparse input


class Perceptron(ClassifierMixin, BaseEstimator):
    """Linear perceptron classifier, scikit-learn's parameters and results (one-vs-rest).

    Parameters
    ----------
    penalty : {None, "l2", "l1", "elasticnet"}
        Regularisation of the weights (L2 shrinks them every sample, L1 truncates them).
    alpha : float >= 0
        Penalty strength.
    l1_ratio : float in [0, 1]
        Share of L1 in ``"elasticnet"`` (0 is L2, 1 is L1).
    fit_intercept : bool
    max_iter : int >= 1
        Maximum number of epochs in ``fit`` (``partial_fit`` runs one).
    tol : float >= 0 or None
        Stopping tolerance; ``None`` runs ``max_iter`` epochs.
    shuffle : bool
        Visit the samples in a new random order every epoch.
    verbose : int
        Print each epoch's norm, bias and mean loss.
    eta0 : float > 0
        Learning rate :math:`\\eta_0`.
    n_jobs : int or None
        Threads for the one-vs-rest problems (the compiled kernel releases the GIL).
    random_state : None, int or np.random.RandomState
        Seeds of the shuffles and of the early-stopping split, drawn as scikit-learn draws them.
    early_stopping, validation_fraction, n_iter_no_change, class_weight, warm_start
        As in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,), when X has string column names
    n_iter_ : int
        Epochs run (the most over the binary problems).
    t_ : float
        Weight updates performed plus one: ``n_iter_ * n_samples + 1``.

    Examples
    --------
    >>> from nablanet.estimators import Perceptron
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> round(Perceptron(random_state=0).fit(X, y).score(X, y), 3)  # scikit-learn's 0.939...
    0.939
    """

    classes_: Array
    coef_: Any  # an ndarray, or a CSR matrix after sparsify()
    intercept_: Array
    n_iter_: int
    t_: float

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
    }

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

    # -- fitting --------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: Any,
        y: Any,
        coef_init: Any = None,
        intercept_init: Any = None,
        sample_weight: Any = None,
    ) -> Perceptron:
        """Train on ``X`` (n_samples, n_features), dense or CSR, and labels ``y`` (n_samples,).

        ``coef_init`` (n_classes or 1, n_features) and ``intercept_init`` replace the zero start;
        ``sample_weight`` (n_samples,) scales each sample's step. A failed fit leaves the
        estimator as it was.
        """
        with restore_on_error(self):
            y = validate_data(self, y=y)
            classes = np.unique(y)
            if self.warm_start and hasattr(self, "coef_"):
                coef_init = self.coef_ if coef_init is None else coef_init
                intercept_init = self.intercept_ if intercept_init is None else intercept_init
            for name in ("classes_", "coef_", "intercept_"):
                self.__dict__.pop(name, None)
            self.t_ = 1.0
            self._partial_fit(
                X, y, self.max_iter, classes, sample_weight, coef_init, intercept_init
            )
            if self.tol is not None and self.n_iter_ == self.max_iter:
                warnings.warn(
                    "Maximum number of iteration reached before convergence. Consider "
                    "increasing max_iter to improve the fit.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> Perceptron:
        """One epoch over ``(X, y)`` from the current weights; ``classes`` on the first call."""
        with restore_on_error(self):
            if not hasattr(self, "classes_"):
                if self.early_stopping:
                    raise ValueError("early_stopping should be False with partial_fit")
                if self.class_weight == "balanced":
                    raise ValueError(
                        "class_weight 'balanced' is not supported for partial_fit. In order "
                        "to use 'balanced' weights, use compute_class_weight('balanced', "
                        "classes=classes, y=y). In place of y you can use a large enough "
                        "sample of the full training set target to properly estimate the "
                        "class frequency distributions. Pass the resulting weights as the "
                        "class_weight parameter."
                    )
            return self._partial_fit(X, y, 1, classes, sample_weight, None, None)

    def _partial_fit(
        self,
        X: Any,
        y: Any,
        max_iter: int,
        classes: Any,
        sample_weight: Any,
        coef_init: Any,
        intercept_init: Any,
    ) -> Perceptron:
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=False,
            reset=not hasattr(self, "classes_"),
        )
        _check_partial_fit_first_call(self, classes)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y has labels not in classes_ {self.classes_.tolist()}: {unknown}")
        class_weight = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, allow_all_zero_weights=self.early_stopping
        )
        n_classes = len(self.classes_)
        if getattr(self, "coef_", None) is None or coef_init is not None:
            coef, intercept = _initial_weights(n_classes, X, coef_init, intercept_init)
        elif X.shape[1] != self.coef_.shape[-1]:
            raise ValueError(
                f"Number of features {X.shape[1]} does not match previous data "
                f"{self.coef_.shape[-1]}."
            )
        else:
            coef, intercept = self.coef_.astype(X.dtype), self.intercept_.astype(X.dtype)
        if n_classes < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {n_classes} class"
            )
        if n_classes == 2:  # one problem: classes_[1] against classes_[0]
            problems: list[tuple[Any, ...]] = [
                (1, class_weight[1], class_weight[0], self.random_state)
            ]
            validation = None
        else:  # one problem per class, each with its own seed, drawn after the split
            validation = self._validation_mask(y, sample_weight > 0)
            seeds = check_random_state(self.random_state).randint(MAX_INT, size=n_classes)
            problems = [(k, class_weight[k], 1.0, seeds[k]) for k in range(n_classes)]
        shared: tuple[Any, ...] = (sample_weight, validation, coef, intercept, max_iter)
        if effective_n_jobs(self.n_jobs) == 1:  # (joblib's dispatch costs ~0.2 ms a problem)
            results = [self._fit_problem(X, y, *problem, *shared) for problem in problems]
        else:  # threads: the compiled kernel releases the GIL
            results = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(self._fit_problem)(X, y, *problem, *shared) for problem in problems
            )
        n_iter = max(n for _, _, n in results)
        for row, (w, b, _) in enumerate(results):
            coef[row], intercept[row] = w, b
        self.coef_, self.intercept_ = coef, intercept
        self.n_iter_ = n_iter
        self.t_ = getattr(self, "t_", 1.0) + n_iter * X.shape[0]
        return self

    def _validation_mask(self, y: Array, usable: Array) -> Array:
        """True for the stratified ``validation_fraction`` of rows held out by early stopping."""
        mask = np.zeros(len(y), dtype=np.bool_)
        if not self.early_stopping:
            return mask
        split = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        train, val = next(split.split(np.zeros((len(y), 1)), y))
        if not np.any(usable[val]):
            raise ValueError(
                "The sample weights for validation set are all zero, consider using a "
                "different random state."
            )
        if len(train) == 0 or len(val) == 0:
            raise ValueError(
                f"Splitting {len(y)} samples into a train set and a validation set with "
                f"validation_fraction={self.validation_fraction!r} led to an empty set "
                f"({len(train)} and {len(val)} samples). Please either change "
                "validation_fraction, increase number of samples, or disable early_stopping."
            )
        mask[val] = True
        return mask

    def _fit_problem(
        self,
        X: Any,
        y: Array,
        k: int,
        pos_weight: float,
        neg_weight: float,
        random_state: Any,
        sample_weight: Array,
        validation: Array | None,
        coef: Array,
        intercept: Array,
        max_iter: int,
    ) -> tuple[Array, float, int]:
        """Train "classes_[k] against the rest" from ``coef[k]``; return (w, b, epochs run)."""
        targets = np.where(y == self.classes_[k], 1.0, -1.0)  # (n,) in {-1, +1}
        y_k = targets.astype(X.dtype)
        rng = check_random_state(random_state)
        rng.randint(1, MAX_INT)  # scikit-learn draws its dataset's (unused) seed first
        if validation is None:
            validation = self._validation_mask(targets, sample_weight > 0)
        seed = int(rng.randint(MAX_INT))
        shuffle_seed = seed if self.shuffle else -1
        row = 0 if len(self.classes_) == 2 else k
        w = np.array(coef[row], dtype=X.dtype)  # raw weights: w = wscale * w_raw
        q = np.zeros_like(w)  # L1 penalty already applied to each weight
        scalars = np.array([intercept[row], 1.0, w @ w, np.abs(w).sum(), 0.0, 0.0, 0.0])
        data, cols, indptr, dense = _rows(X)
        class_weight = np.where(targets > 0, pos_weight, neg_weight).astype(X.dtype)
        step_weight = sample_weight * class_weight  # (n,) in X's dtype
        order = np.arange(len(targets), dtype=np.intc)
        l1_ratio = {"l1": 1.0, "l2": 0.0}.get(self.penalty, float(self.l1_ratio))
        decay = 1.0 if dense else SPARSE_INTERCEPT_DECAY
        penalty, fit_intercept = PENALTIES[self.penalty], bool(self.fit_intercept)
        rule = (float(self.eta0), float(self.alpha), l1_ratio, penalty, fit_intercept, decay)
        rows = (data, cols, indptr, dense, y_k, step_weight, order, shuffle_seed, validation)
        val = (X[validation], targets[validation], sample_weight[validation])
        n_epochs = self._epochs(w, q, scalars, rows, rule, val, max_iter)
        return w * scalars[1], float(scalars[0]), n_epochs

    def _epochs(
        self,
        w: Array,
        q: Array,
        scalars: Array,
        rows: tuple[Any, ...],
        rule: tuple[Any, ...],
        val: tuple[Any, Array, Array],
        max_iter: int,
    ) -> int:
        """Run epochs until scikit-learn's stopping rule says stop; return how many ran.

        An epoch does not improve when its mean objective is not below the best by ``tol``
        (with ``early_stopping``: its validation accuracy does not beat the best by ``tol``);
        training stops after ``n_iter_no_change`` such epochs in a row, or ``max_iter``.
        """
        epoch = kernel.sgd_epoch if _fast.enabled() else sgd_epoch_numpy
        X_val, y_val, weight_val = val
        n_train = len(rows[4]) - len(y_val)
        tol = -np.inf if self.tol is None else self.tol
        best, stale = np.inf, 0  # best "value": lower is better
        for n_epochs in range(1, max_iter + 1):
            if not epoch(w, q, scalars, *rows, *rule):  # False: w or b is no longer finite
                raise ValueError(
                    f"Floating-point under-/overflow occurred at epoch #{n_epochs}. Scaling "
                    "input data with StandardScaler or MinMaxScaler might help."
                )
            if self.early_stopping:  # scikit-learn scores the raw weights (wscale not applied)
                scores = safe_sparse_dot(X_val, w) + scalars[0]
                correct = np.where(scores > 0, 1.0, -1.0) == y_val
                value = -np.average(correct, weights=weight_val)  # minus the accuracy
            else:
                value = scalars[6] / n_train  # the mean objective (loss + penalty)
            if self.verbose:
                print(
                    f"-- Epoch {n_epochs}: Norm: {np.linalg.norm(w) * scalars[1]:.2f}, "
                    f"Bias: {scalars[0]:.6f}, Avg. loss: {scalars[5] / n_train:f}"
                )
            stale = stale + 1 if value > best - tol else 0
            best = min(best, value)
            if stale >= self.n_iter_no_change:
                break
        return n_epochs

    # -- prediction -----------------------------------------------------------------------
    def decision_function(self, X: Any) -> Array:
        """``X @ coef_.T + intercept_``: shape (n_samples,) for two classes, else (n, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.reshape(-1) if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> Array:
        """Labels from ``classes_``, shape (n_samples,): ``classes_[1]`` where the score is > 0."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    def densify(self) -> Perceptron:
        """Turn a sparse ``coef_`` (from :meth:`sparsify`) back into an array."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before densifying.")
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self) -> Perceptron:
        """Store ``coef_`` as a CSR matrix (worth it when most weights are 0, as with L1)."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before sparsifying.")
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _initial_weights(
    n_classes: int, X: Any, coef_init: Any, intercept_init: Any
) -> tuple[Array, Array]:
    """Zeros, or the given starting weights checked against the data (scikit-learn's messages)."""
    k, n_features = (1 if n_classes <= 2 else n_classes), X.shape[1]
    coef = np.zeros((k, n_features), dtype=X.dtype)
    intercept = np.zeros(k, dtype=X.dtype)
    if coef_init is not None:
        given = np.asarray(coef_init, dtype=X.dtype)
        given = given.reshape(-1) if k == 1 else given
        if k == 1 and given.shape != (n_features,):
            raise ValueError("Provided coef_init does not match dataset.")
        if k > 1 and given.shape != coef.shape:
            raise ValueError("Provided ``coef_`` does not match dataset. ")
        coef[:] = given
    if intercept_init is not None:
        given = np.asarray(intercept_init, dtype=X.dtype)
        allowed = [(1,), ()] if k == 1 else [(k,)]
        if given.shape not in allowed:
            raise ValueError("Provided intercept_init does not match dataset.")
        intercept[:] = given
    return coef, intercept


def _rows(X: Any) -> tuple[Array, Array, Array, bool]:
    """``X`` as (data, cols, indptr, dense) for the epoch kernel (see its module docstring)."""
    if sp.issparse(X):
        return X.data, X.indices.astype(np.int32), X.indptr.astype(np.int64), False
    n, n_features = X.shape
    cols = np.arange(n_features, dtype=np.int32)
    return X.reshape(-1), cols, np.arange(n + 1, dtype=np.int64) * n_features, True
