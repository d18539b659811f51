"""Data preparation: train/test splits, label encoding, standardisation.

Everything here is fitted on training data only; the test data is transformed with what was
learnt from the training data, never the other way round.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from nablanet._validation import (
    as_generator,
    check_array,
    check_consistent_length,
    check_fraction,
    check_n_features,
)
from nablanet.functional import one_hot

__all__ = ["Standardizer", "encode_labels", "one_hot", "train_test_split"]


def _as_labels(y: Any, name: str = "y") -> np.ndarray:
    """Return ``y`` as a non-empty 1-D array of numbers or strings (no objects, no NaN)."""
    if y is None:
        raise TypeError(f"{name} must be a 1-D array of labels, got None")
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one label is needed")
    if arr.dtype.kind not in "biufUS":
        raise TypeError(
            f"{name} must contain numbers or strings, got an array of dtype {arr.dtype}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        first = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(
            f"{name} contains NaN or infinity (first at index {first}: {arr[first].item()!r})"
        )
    return arr


def _n_test(test_size: Any, n_samples: int) -> int:
    """Number of test samples for ``test_size`` given as a fraction or as a count."""
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
        if not 1 <= n_test <= n_samples - 1:
            raise ValueError(
                f"test_size as a count must be between 1 and n_samples - 1 = {n_samples - 1}, "
                f"got {n_test}"
            )
        return n_test
    fraction = check_fraction("test_size", test_size)
    n_test = int(np.ceil(fraction * n_samples))
    if n_test >= n_samples:
        raise ValueError(
            f"test_size={fraction!r} of {n_samples} samples leaves no sample for training; "
            "use a smaller test_size or more data"
        )
    return n_test


def _stratified_test_counts(
    counts: np.ndarray, n_test: int, rng: np.random.Generator
) -> np.ndarray:
    """Share ``n_test`` among classes in proportion to ``counts``, keeping one of each for training.

    Each class first gets ``floor(n_test * count / n)``; the samples left over go, one each, to
    the classes with the largest fractional parts (ties broken at random).
    """
    n = int(counts.sum())
    capacity = counts - 1  # every class keeps at least one training sample
    if n_test > capacity.sum():
        raise ValueError(
            f"a test set of {n_test} samples cannot keep one sample of each of the "
            f"{len(counts)} classes for training; use a smaller test_size"
        )
    ideal = n_test * counts / n
    share = np.minimum(np.floor(ideal).astype(np.int64), capacity)
    left = n_test - int(share.sum())
    # largest fractional part first; a random key breaks ties
    order = np.lexsort((rng.random(len(counts)), -(ideal - share)))
    while left > 0:
        for k in order:
            if left == 0:
                break
            if share[k] < capacity[k]:
                share[k] += 1
                left -= 1
    return share


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.25, stratify: bool = False, seed: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split ``(X, y)`` into a training and a test set.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples (rows); any number of trailing dimensions. Rows are copied, dtypes kept.
    y : array-like of shape (n_samples,)
        Labels or targets.
    test_size : float in (0, 1) or int
        Fraction of the samples (rounded up) or number of samples that go to the test set.
        Both sets must end up non-empty.
    stratify : bool
        If True, every class of ``y`` keeps its proportion in both sets (as nearly as whole
        numbers allow), and every class keeps at least one sample in the training set.
    seed : None, int or np.random.Generator
        Source of the shuffle.

    Returns
    -------
    X_train : ndarray of shape (n_train, ...)
    X_test : ndarray of shape (n_test, ...)
    y_train : ndarray of shape (n_train,)
    y_test : ndarray of shape (n_test,)
        In scikit-learn's order; ``n_train + n_test == n_samples``.
    """
    if X is None:
        raise TypeError("X must be an array of samples, got None")
    X_arr = np.asarray(X)
    if X_arr.ndim == 0:
        raise ValueError(f"X must have one row per sample, got a scalar {X_arr!r}")
    y_arr = _as_labels(y)
    check_consistent_length(X_arr, y_arr)
    if not isinstance(stratify, bool):
        raise TypeError(f"stratify must be True or False, got {stratify!r}")
    rng = as_generator(seed)
    n_samples = len(y_arr)
    if n_samples < 2:
        raise ValueError(f"need at least 2 samples to split, got {n_samples}")
    n_test = _n_test(test_size, n_samples)

    if stratify:
        classes, codes = np.unique(y_arr, return_inverse=True)
        counts = np.bincount(codes, minlength=len(classes))
        share = _stratified_test_counts(counts, n_test, rng)
        test_parts = []
        train_parts = []
        for k in range(len(classes)):
            members = rng.permutation(np.flatnonzero(codes == k))
            test_parts.append(members[: share[k]])
            train_parts.append(members[share[k] :])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    else:
        order = rng.permutation(n_samples)
        test_idx, train_idx = order[:n_test], order[n_test:]
    return X_arr[train_idx], X_arr[test_idx], y_arr[train_idx], y_arr[test_idx]


def encode_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Map arbitrary labels (numbers or strings) to codes ``0..n_classes-1``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)

    Returns
    -------
    codes : ndarray of shape (n_samples,), int64
        ``classes[codes]`` gives ``y`` back.
    classes : ndarray of shape (n_classes,)
        The distinct labels, sorted.
    """
    arr = _as_labels(y)
    classes, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), classes


class Standardizer:
    r"""Scale each feature to zero mean and unit variance, using training statistics only.

    .. math:: x' = \frac{x - \mu}{s}

    where :math:`\mu` and :math:`s` are the per-feature mean and (population) standard deviation
    of the data given to :meth:`fit`; a feature that is constant there gets :math:`s = 1`, so it
    is only centred.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,), float64
    scale_ : ndarray of shape (n_features,), float64
    n_features_in_ : int

    Examples
    --------
    >>> scaler = Standardizer().fit(X_train)
    >>> X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_features_in_: int | None = None

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.scale_ is None:
            raise ValueError("this Standardizer is not fitted yet; call fit(X_train) first")
        return self.mean_, self.scale_

    def fit(self, X: Any) -> Standardizer:
        """Learn the per-feature mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data only.
        """
        arr = check_array(X, "X")
        data = arr.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = data.mean(axis=0)
            std = data.std(axis=0)
            constant = np.ptp(data, axis=0) == 0
        # Huge values (squares above 1e308) overflow the sums and tiny ones (squares below
        # 1e-308) underflow them, to a zero scale: such columns are computed on x / max|x| and
        # scaled back, which cannot overflow (the mean and standard deviation are at most
        # max|x|); ordinary columns keep the plain formula.
        overflow = ~(np.isfinite(mean) & np.isfinite(std)) | ((std < 1e-150) & ~constant)
        if overflow.any():
            cols = data[:, overflow]
            peak = np.abs(cols).max(axis=0)
            mean[overflow] = (cols / peak).mean(axis=0) * peak
            std[overflow] = (cols / peak).std(axis=0) * peak
            constant[overflow] = np.ptp(cols / peak, axis=0) == 0
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        self.n_features_in_ = int(arr.shape[1])
        return self

    def _check(self, X: Any) -> np.ndarray:
        mean, _ = self._fitted()
        arr = check_array(X, "X")
        check_n_features(arr, len(mean))
        return arr

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(X - mean_) / scale_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            float32 input stays float32; anything else becomes float64 or float32 as
            :func:`nablanet._validation.check_array` decides.
        """
        arr = self._check(X)
        mean, scale = self._fitted()
        m, s = mean.astype(arr.dtype), scale.astype(arr.dtype)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = ((arr - m) / s).astype(arr.dtype)
            bad = ~np.isfinite(out)
            if bad.any():  # x - mean overflowed: x / scale - mean / scale may not
                cols = np.broadcast_to(np.arange(arr.shape[1]), arr.shape)[bad]
                out[bad] = arr[bad] / s[cols] - m[cols] / s[cols]
        if not np.isfinite(out).all():
            row, col = (int(v) for v in np.argwhere(~np.isfinite(out))[0])
            raise ValueError(
                f"standardisation overflows {arr.dtype.name}: X[{row}, {col}] = "
                f"{float(arr[row, col])!r} is too far from the training mean "
                f"{float(mean[col])!r} for the training scale {float(scale[col])!r}"
            )
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Return ``X * scale_ + mean_``, undoing :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        """
        arr = self._check(X)
        mean, scale = self._fitted()
        return (arr * scale.astype(arr.dtype) + mean.astype(arr.dtype)).astype(arr.dtype)

    def get_config(self) -> dict[str, Any]:
        """The fitted statistics as a JSON-serialisable dict (lists of Python floats)."""
        mean, scale = self._fitted()
        return {"mean": [float(v) for v in mean], "scale": [float(v) for v in scale]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted :class:`Standardizer` from :meth:`get_config`'s output."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        missing = [key for key in ("mean", "scale") if key not in config]
        if missing:
            raise ValueError(f"Standardizer config is missing {missing}; got keys {sorted(config)}")
        mean = check_array(config["mean"], "config['mean']", ndim=1, dtype=np.float64)
        scale = check_array(config["scale"], "config['scale']", ndim=1, dtype=np.float64)
        if mean.shape != scale.shape:
            raise ValueError(
                f"config['mean'] and config['scale'] must have the same length, "
                f"got {len(mean)} and {len(scale)}"
            )
        if (scale <= 0).any():
            bad = scale[scale <= 0][0]
            raise ValueError(f"config['scale'] must be > 0 everywhere, got {bad!r}")
        obj = cls()
        obj.mean_, obj.scale_, obj.n_features_in_ = mean.copy(), scale.copy(), len(mean)
        return obj

    def __repr__(self) -> str:
        state = "unfitted" if self.mean_ is None else f"n_features_in_={self.n_features_in_}"
        return f"Standardizer({state})"
