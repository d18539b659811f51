r"""The classic perceptron of seed 001 ("Perceptron From Scratch").

A single neuron with the Heaviside step as activation, trained one sample at a time by the
mistake-driven rule

.. math::

    \hat y = \mathrm{step}(x \cdot w + b), \qquad
    e = \hat y - y, \qquad
    w \leftarrow w - \eta\, e\, x, \qquad
    b \leftarrow b - \eta\, e.

The step has no useful derivative, so this model is not trained by backpropagation; it is the
one place in nablanet where a Python loop over single samples is the honest implementation.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from nablanet._validation import (
    as_generator,
    check_array,
    check_consistent_length,
    check_n_features,
    check_positive_float,
    check_positive_int,
    refuse_pandas_na,
    short_repr,
)
from nablanet.functional import step


class Perceptron:
    r"""Binary linear classifier trained by the perceptron rule of seed 001.

    Parameters
    ----------
    eta : float, default 0.01
        Learning rate :math:`\eta` (> 0).
    epochs : int, default 500
        Maximum number of passes over the training data (>= 1). Training stops early after the
        first epoch without a mistake.
    seed : None, int or np.random.Generator
        Source of the initial weights (and of the sample order when ``shuffle=True``).
    initial_weights : array-like of shape (n_features,), optional
        Starting weights. By default they are drawn uniformly from [0, 1), as the seed does
        with ``np.random.random``.
    initial_bias : float, optional
        Starting bias; by default drawn uniformly from [0, 1) (drawn before the weights, in the
        seed's order).
    shuffle : bool, default False
        Visit the samples in a fresh random order each epoch (the seed does not shuffle).

    Attributes
    ----------
    weights_ : ndarray of shape (n_features,)
        Learned weights, in the dtype of the training data (float32 stays float32).
    bias_ : float
        Learned bias.
    classes_ : ndarray of shape (2,)
        The two labels, sorted; ``classes_[1]`` is the positive class (step output 1).
    n_features_in_ : int
        Number of features seen in ``fit``.
    errors_ : list of int
        Number of mistakes (updates) in each epoch.
    n_iter_ : int
        Number of epochs actually run.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> clf = Perceptron(eta=0.1, seed=0).fit(X, [0, 0, 0, 1])  # logical AND
    >>> clf.predict(X).tolist()
    [0, 0, 0, 1]
    """

    def __init__(
        self,
        eta: float = 0.01,
        epochs: int = 500,
        seed: int | np.random.Generator | None = None,
        initial_weights: Any = None,
        initial_bias: float | None = None,
        shuffle: bool = False,
    ) -> None:
        self.eta = eta
        self.epochs = epochs
        self.seed = seed
        self.initial_weights = initial_weights
        self.initial_bias = initial_bias
        self.shuffle = shuffle

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any) -> Perceptron:
        """Train on ``X`` with the per-sample perceptron rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (finite numbers).
        y : array-like of shape (n_samples,)
            Labels with exactly two distinct values (numbers or strings).

        Returns
        -------
        self : Perceptron
        """
        eta = check_positive_float("eta", self.eta)
        epochs = check_positive_int("epochs", self.epochs)
        if not isinstance(self.shuffle, bool | np.bool_):
            raise TypeError(f"shuffle must be True or False, got {short_repr(self.shuffle)}")
        rng = as_generator(self.seed)
        X = check_array(X)
        classes, y_idx = _encode_labels(y)
        check_consistent_length(X, y_idx)
        n_samples, n_features = X.shape
        dtype = X.dtype
        target = y_idx.astype(dtype)  # 0.0 for classes[0], 1.0 for classes[1]

        # Seed order: the bias is drawn first (in MyPerceptron.__init__), then the weights.
        b = dtype.type(rng.random() if self.initial_bias is None else self._check_bias())
        if self.initial_weights is None:
            w = rng.random(n_features).astype(dtype)
        else:
            w = self._check_weights(n_features, dtype)

        errors: list[int] = []
        order = np.arange(n_samples)
        for _ in range(epochs):
            if self.shuffle:
                order = rng.permutation(n_samples)
            mistakes = 0
            for i in order:
                x_i = X[i]
                y_hat = step(x_i @ w + b)  # 0 or 1
                error = y_hat - target[i]  # -1, 0 or +1
                if error != 0:
                    w -= eta * error * x_i
                    b -= eta * error
                    mistakes += 1
            errors.append(mistakes)
            if mistakes == 0:
                break

        # Assign only once everything succeeded, so a failed fit leaves a fitted model intact.
        self.weights_ = w
        self.bias_ = float(b)
        self.classes_ = classes
        self.n_features_in_ = n_features
        self.errors_ = errors
        self.n_iter_ = len(errors)
        return self

    def _check_bias(self) -> float:
        value = self.initial_bias
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"initial_bias must be a number or None, got {short_repr(value)}")
        if not np.isfinite(value):
            raise ValueError(f"initial_bias must be finite, got {value!r}")
        return float(value)

    def _check_weights(self, n_features: int, dtype: np.dtype[Any]) -> np.ndarray:
        w = check_array(self.initial_weights, "initial_weights", ndim=1, dtype=dtype)
        if w.shape != (n_features,):
            raise ValueError(
                f"initial_weights must have shape ({n_features},) to match X's "
                f"{n_features} features, got shape {w.shape}"
            )
        return w.copy()  # never update the caller's array in place

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ValueError(
                "This Perceptron is not fitted yet; call fit(X, y) first before using it"
            )

    def decision_function(self, X: Any) -> np.ndarray:
        """Return the pre-activation ``z = X @ w + b``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Positive values are predicted as ``classes_[1]``.
        """
        self._check_fitted()
        X = check_array(X)
        check_n_features(X, self.n_features_in_)
        return X @ self.weights_ + self.bias_  # (n, f) @ (f,) -> (n,)

    def predict(self, X: Any) -> np.ndarray:
        """Return the predicted label for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels taken from ``classes_``: ``classes_[step(z)]``.
        """
        z = self.decision_function(X)
        return self.classes_[step(z).astype(np.intp)]

    def score(self, X: Any, y: Any) -> float:
        """Return the accuracy (fraction of correct predictions) on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        """
        y_pred = self.predict(X)
        y_true = np.asarray(y)
        if y_true.ndim != 1:
            raise ValueError(f"y must be 1-D, got shape {y_true.shape}")
        check_consistent_length(y_pred, y_true, ("X", "y"))
        return float(np.mean(y_pred == y_true))

    # ------------------------------------------------------------ introspection
    def info(self) -> str:
        """Print the bias and weights as the seed's ``info`` does, and return the line.

        Before ``fit`` both are ``None`` (``"Bias: None , Weights: None"``).
        """
        if hasattr(self, "weights_"):
            bias = str(np.array([self.bias_]))
            weights = str(self.weights_)
        else:
            bias = weights = "None"
        line = f"Bias: {bias} , Weights: {weights}"
        print(line)
        return line

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments as a JSON-serialisable dict.

        ``initial_weights`` becomes a list. A ``np.random.Generator`` seed cannot be written
        as JSON and is reported as ``None``.
        """
        seed = self.seed
        if isinstance(seed, np.random.Generator):
            seed = None
        elif isinstance(seed, numbers.Integral):
            seed = int(seed)
        weights = self.initial_weights
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64).tolist()
        bias = None if self.initial_bias is None else float(self.initial_bias)
        return {
            "eta": self.eta,
            "epochs": self.epochs,
            "seed": seed,
            "initial_weights": weights,
            "initial_bias": bias,
            "shuffle": bool(self.shuffle),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Perceptron:
        """Build an unfitted Perceptron from the output of :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"Perceptron({args})"


def _encode_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, index)`` for labels with exactly two values.

    ``classes`` is sorted and ``index[i]`` is 0 or 1, the position of ``y[i]`` in ``classes``.
    """
    if y is None:
        raise TypeError("y must be an array of labels, got None")
    refuse_pandas_na(y, "y")
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("y is empty; at least one sample is needed")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"y contains NaN or infinity ({bad.item()!r})")
    if arr.dtype.kind not in "biufUSO":
        raise TypeError(f"y must contain numbers or strings, got dtype {arr.dtype}")
    try:
        classes, index = np.unique(arr, return_inverse=True)
    except TypeError as exc:  # e.g. an object array mixing strings and numbers
        raise TypeError(
            f"y labels cannot be sorted (mixed types?): {short_repr(arr.tolist())}"
        ) from exc
    if len(classes) != 2:
        raise ValueError(
            f"Perceptron is a binary classifier: y must have exactly 2 distinct labels, "
            f"got {len(classes)}: {short_repr(classes.tolist())}"
        )
    return classes, index.reshape(-1)
