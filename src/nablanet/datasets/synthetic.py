"""Small synthetic data sets: the seed tutorials' XOR and parity problems and 2-D toys.

Each generator returns ``X`` (float64, shape ``(n_samples, n_features)``) and ``y`` (int64,
shape ``(n_samples,)``). Random ones take ``seed`` (None, an int or a ``np.random.Generator``);
their classes are balanced (sizes differ by at most one) and rows are shuffled. ``make_circles``,
``make_moons`` and ``make_blobs`` follow scikit-learn's functions of the same names.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from nablanet._validation import (
    as_generator,
    check_fraction,
    check_memory,
    check_positive_float,
    check_positive_int,
    short_repr,
)

__all__ = [
    "load_digits",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_parity",
    "make_spirals",
    "make_xor",
]


def _balanced_sizes(n_samples: int, n_classes: int) -> list[int]:
    """Class sizes that add up to ``n_samples`` and differ by at most one (larger ones first)."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _check_room(n_samples: int, n_features: int, what: str) -> None:
    """Refuse, before NumPy tries, a data set larger than the available memory (the points,
    their noise and a shuffled copy: about three float64 arrays)."""
    check_memory(
        3 * 8 * n_samples * (n_features + 1),
        what,
        hint="ask for fewer samples",
    )


def _finite(X: np.ndarray, setting: str) -> np.ndarray:
    """``X``, or an error when a huge noise or spread overflowed a coordinate to infinity."""
    if not np.isfinite(X).all():
        bad = X[~np.isfinite(X)][0]
        raise ValueError(f"{setting} is too large: a coordinate overflowed float64 to {bad}")
    return X


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_xor(n_inputs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points.

    Parameters
    ----------
    n_inputs : {2, 3}
        2 gives ``[[0,0],[0,1],[1,0],[1,1]]``; 3 appends a constant 1 column, the input the
        seeds 003/004 use in place of a bias: ``[[0,0,1],[0,1,1],[1,0,1],[1,1,1]]``.

    Returns
    -------
    X : ndarray of shape (4, n_inputs)
    y : ndarray of shape (4,)
        ``[0, 1, 1, 0]``.
    """
    n_inputs = check_positive_int("n_inputs", n_inputs)
    if n_inputs not in (2, 3):
        raise ValueError(f"n_inputs must be 2 or 3, got {short_repr(n_inputs)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    if n_inputs == 3:
        X = np.hstack([X, np.ones((4, 1))])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def make_parity(n_bits: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Every ``n_bits``-bit number, labelled by parity as in seed 002.

    Row ``e`` holds the binary digits of ``e`` (most significant first), for
    ``e = 0 .. 2**n_bits - 1``; its label is 1 if ``e`` is even and 0 if it is odd.

    Parameters
    ----------
    n_bits : int in [1, 20]

    Returns
    -------
    X : ndarray of shape (2**n_bits, n_bits)
    y : ndarray of shape (2**n_bits,)
    """
    n_bits = check_positive_int("n_bits", n_bits)
    if n_bits > 20:
        raise ValueError(f"n_bits must be between 1 and 20, got {n_bits}")
    numbers_ = np.arange(2**n_bits, dtype=np.int64)
    shifts = np.arange(n_bits - 1, -1, -1)  # most significant bit first
    X = ((numbers_[:, None] >> shifts) & 1).astype(np.float64)
    y = (numbers_ % 2 == 0).astype(np.int64)
    return X, y


def make_circles(
    n_samples: int = 1000, factor: float = 0.5, noise: float = 0.1, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0) around a smaller one (class 1), with Gaussian noise.

    Points sit at evenly spaced angles on circles of radius 1 and ``factor``; then
    ``N(0, noise**2)`` is added to each coordinate.

    Parameters
    ----------
    n_samples : int >= 2
    factor : float in [0, 1)
        Radius of the inner circle.
    noise : float >= 0
        Standard deviation of the noise.
    seed : None, int or np.random.Generator

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    factor = check_fraction("factor", factor, low_open=False)
    noise = check_positive_float("noise", noise, allow_zero=True)
    _check_room(n_samples, 2, f"make_circles(n_samples={n_samples})")
    rng = as_generator(seed)
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    angle_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    angle_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [
            np.column_stack([np.cos(angle_out), np.sin(angle_out)]),
            factor * np.column_stack([np.cos(angle_in), np.sin(angle_in)]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    X, y = _shuffled(X, y, rng)
    return _finite(X + rng.normal(0.0, noise, size=X.shape), f"noise={noise!r}"), y


def make_moons(
    n_samples: int = 1000, noise: float = 0.1, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, with Gaussian noise.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 0.5 - sin t)``, for ``t`` evenly
    spaced in ``[0, pi]``; then ``N(0, noise**2)`` is added to each coordinate.

    Parameters
    ----------
    n_samples : int >= 2
    noise : float >= 0
    seed : None, int or np.random.Generator

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    noise = check_positive_float("noise", noise, allow_zero=True)
    _check_room(n_samples, 2, f"make_moons(n_samples={n_samples})")
    rng = as_generator(seed)
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    X, y = _shuffled(X, y, rng)
    return _finite(X + rng.normal(0.0, noise, size=X.shape), f"noise={noise!r}"), y


def make_blobs(
    n_samples: int = 100,
    centers: int | Any = 2,
    n_features: int | None = None,
    cluster_std: float | Any = 1.0,
    seed: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one class per centre.

    Parameters
    ----------
    n_samples : int
        Total number of points, shared equally among the centres (at least one each).
    centers : int or array-like of shape (n_centers, n_features)
        Number of centres, drawn uniformly from the box ``[-10, 10]^n_features``, or the centres.
    n_features : int, optional
        Dimension of the points; 2 by default, or the width of ``centers`` when it is an array.
    cluster_std : float or array-like of shape (n_centers,)
        Standard deviation of each blob.
    seed : None, int or np.random.Generator

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        The index of each point's centre.
    """
    n_samples = check_positive_int("n_samples", n_samples)
    rng = as_generator(seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = check_positive_int("centers", centers)
        dim = 2 if n_features is None else check_positive_int("n_features", n_features)
        _check_room(
            max(n_samples, n_centers), dim, f"make_blobs(n_samples={n_samples}, {dim} features)"
        )
        centre_arr = rng.uniform(-10.0, 10.0, size=(n_centers, dim))
    else:
        centre_arr = np.asarray(centers)
        if centre_arr.dtype.kind not in "biuf" or centre_arr.ndim != 2 or centre_arr.size == 0:
            raise ValueError(
                "centers must be an int or a numeric array of shape (n_centers, n_features), "
                f"got {short_repr(centers)}"
            )
        centre_arr = centre_arr.astype(np.float64)
        if not np.isfinite(centre_arr).all():
            raise ValueError(f"centers must be finite, got {short_repr(centers)}")
        n_centers, dim = centre_arr.shape
        if n_features is not None and n_features != dim:
            raise ValueError(
                f"n_features={n_features!r} does not match centers of shape {centre_arr.shape}"
            )
    if n_samples < n_centers:
        raise ValueError(
            f"n_samples must be at least the number of centers ({n_centers}), got {n_samples}"
        )
    if isinstance(cluster_std, numbers.Real) and not isinstance(cluster_std, bool):
        stds = np.full(n_centers, check_positive_float("cluster_std", cluster_std, allow_zero=True))
    else:
        stds = np.asarray(cluster_std, dtype=np.float64)
        if stds.shape != (n_centers,) or not np.isfinite(stds).all() or (stds < 0).any():
            raise ValueError(
                f"cluster_std must be a number >= 0 or {n_centers} of them, "
                f"got {short_repr(cluster_std)}"
            )
    _check_room(n_samples, dim, f"make_blobs(n_samples={n_samples}, {dim} features)")
    sizes = _balanced_sizes(n_samples, n_centers)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named by _finite
        X = np.vstack(
            [
                centre_arr[k] + stds[k] * rng.standard_normal((size, dim))
                for k, size in enumerate(sizes)
            ]
        )
    y = np.repeat(np.arange(n_centers, dtype=np.int64), sizes)
    return _shuffled(_finite(X, f"cluster_std={short_repr(cluster_std)}"), y, rng)


def make_spirals(
    n_samples: int = 1000, n_classes: int = 2, noise: float = 0.2, seed: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (the CS231n "spiral data", generalised).

    Arm :math:`j` of :math:`K` has radii :math:`r` evenly spaced in :math:`[0, 1]` and angles

    .. math:: \theta = \frac{2\pi j}{K} + 4r + \varepsilon,
              \quad \varepsilon \sim N(0, \text{noise}^2)

    and points :math:`(r \sin\theta, r \cos\theta)`. The noise is on the angle, so it blurs
    the arms more at the rim than at the centre. Not linearly separable.

    Parameters
    ----------
    n_samples : int >= n_classes
    n_classes : int >= 2
    noise : float >= 0
        Standard deviation of the angular noise, in radians.
    seed : None, int or np.random.Generator

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    """
    n_classes = check_positive_int("n_classes", n_classes, minimum=2)
    n_samples = check_positive_int("n_samples", n_samples, minimum=n_classes)
    noise = check_positive_float("noise", noise, allow_zero=True)
    _check_room(n_samples, 2, f"make_spirals(n_samples={n_samples})")
    rng = as_generator(seed)
    sizes = _balanced_sizes(n_samples, n_classes)
    arms = []
    for j, size in enumerate(sizes):
        r = np.linspace(0.0, 1.0, size)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is named by _finite
            theta = 2 * np.pi * j / n_classes + 4.0 * r + rng.normal(0.0, noise, size)
            arms.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    X = np.vstack(arms)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), sizes)
    return _shuffled(_finite(X, f"noise={noise!r}"), y, rng)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes).

    Needs scikit-learn (``pip install nablanet[sklearn]``); the data ships inside it.

    Returns
    -------
    X : ndarray of shape (1797, 64)
        Pixel intensities divided by 16, so in [0, 1].
    y : ndarray of shape (1797,)
        Digits 0..9.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the data: pip install nablanet[sklearn]"
        ) from exc
    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return X, y
