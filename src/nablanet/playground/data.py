r"""The playground's data sets and input features, after TensorFlow Playground's.

Each generator takes the number of points, a noise level in ``[0, 0.5]`` (the page's slider,
0-50 %) and an ``np.random.Generator``, and returns ``(X, y)``: ``X`` of shape
``(n_samples, 2)``, ``y`` of shape ``(n_samples,)`` holding class 0/1 (classification) or a
value in ``[-1, 1]`` (regression). The four classification sets and the two regression sets
follow TensorFlow Playground's ``dataset.ts`` (its labels -1/+1 are 0/1 here):

==================  ========================================================================
``circle``          class 1 inside radius 2.5, class 0 in the ring 3.5..5; the label is taken
                    at the point moved by ``noise * U(-5, 5)`` per coordinate
``xor``             quadrants: ``x1, x2 ~ U(-5, 5)`` pushed 0.3 away from each axis; class 1
                    where ``x1 x2 >= 0``, read at the point moved by ``noise * U(-5, 5)``
``gaussian``        two Gaussians at (2, 2) (class 1) and (-2, -2), variance
                    ``0.5 + 7 noise`` (0.5 to 4)
``spiral``          two interleaved spirals of 1.75 turns each, radius 0 to 5, moved by
                    ``noise * U(-1, 1)`` per coordinate
``plane``           regression: ``y = (x1 + x2) / 10`` clipped to [-1, 1], at the point moved
                    by ``noise * U(-6, 6)``
``multi_gaussian``  regression: six bumps of height +-1 at (+-4 or 0, +-2.5), each falling
                    linearly to 0 at distance 2; the largest in size wins
==================  ========================================================================

The points of a data set are drawn, then shuffled and split: the first ``ratio`` of them
train, the rest test (:func:`split`). :func:`nablanet.datasets.make_xor` (the tutorials' four
XOR points) is not this ``xor``; the playground offers it as ``xor4``, with test = train.

Features (:data:`FEATURES`) are computed from the two coordinates, as TensorFlow Playground's
input units: :math:`x_1, x_2, x_1^2, x_2^2, x_1 x_2, \sin x_1, \sin x_2`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nablanet.datasets import make_blobs, make_circles, make_moons, make_xor

Array = np.ndarray

#: Points drawn per data set (TensorFlow Playground: 500 to classify, 1200 to regress).
N_CLASSIFY = 500
N_REGRESS = 1200


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Class 1 inside radius 2.5, class 0 in the ring from 3.5 to 5 (labels read at a point
    moved by ``noise * U(-5, 5)`` per coordinate)."""
    radius = 5.0
    inner = n // 2
    r = np.concatenate(
        [rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, n - inner)]
    )
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    moved = X + rng.uniform(-radius, radius, X.shape) * noise
    y = (np.hypot(moved[:, 0], moved[:, 1]) < radius * 0.5).astype(np.int64)
    return X, y


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Four quadrants: class 1 where ``x1 x2 >= 0`` (read at a point moved by
    ``noise * U(-5, 5)`` per coordinate); points kept 0.3 away from the axes."""
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    moved = X + rng.uniform(-5, 5, X.shape) * noise
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return X, y


def gaussian(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two Gaussians, class 1 around (2, 2), class 0 around (-2, -2); the variance grows
    from 0.5 (noise 0) to 4 (noise 0.5)."""
    std = np.sqrt(0.5 + 7.0 * noise)
    half = n // 2
    centres = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [half, n - half], axis=0)
    X = centres + std * rng.standard_normal((n, 2))
    y = np.repeat([1, 0], [half, n - half]).astype(np.int64)
    return X, y


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two spirals, 1.75 turns each from radius 0 to 5; class 1 starts at angle 0, class 0
    at angle pi; each coordinate moved by ``noise * U(-1, 1)``."""
    half = n // 2
    parts = []
    for size, turn, label in ((half, 0.0, 1), (n - half, np.pi, 0)):
        i = np.arange(size) / size
        r, t = 5.0 * i, 1.75 * 2 * np.pi * i + turn
        xy = np.column_stack([r * np.sin(t), r * np.cos(t)])
        parts.append((xy + rng.uniform(-1, 1, xy.shape) * noise, np.full(size, label)))
    return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts]).astype(np.int64)


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Regression: ``y = (x1 + x2) / 10`` clipped to [-1, 1], read at a point moved by
    ``noise * U(-6, 6)`` per coordinate; ``x1, x2 ~ U(-6, 6)``."""
    X = rng.uniform(-6, 6, (n, 2))
    moved = X + rng.uniform(-6, 6, X.shape) * noise
    return X, np.clip(moved.sum(axis=1) / 10.0, -1.0, 1.0)


#: The six bumps of ``multi_gaussian``: centre x1, centre x2, sign.
BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gaussian_value(X: Array) -> Array:
    """The ``multi_gaussian`` target at the points ``X`` (shape (n, 2)): for each bump, its
    sign times ``max(0, 1 - d / 2)`` at distance ``d``; the value largest in size wins."""
    d = np.hypot(X[:, None, 0] - BUMPS[:, 0], X[:, None, 1] - BUMPS[:, 1])  # (n, 6)
    values = BUMPS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    return values[np.arange(len(X)), np.abs(values).argmax(axis=1)]


def multi_gaussian(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Regression: six bumps of height +-1 (:func:`multi_gaussian_value`), read at a point
    moved by ``noise * U(-6, 6)`` per coordinate; ``x1, x2 ~ U(-6, 6)``."""
    X = rng.uniform(-6, 6, (n, 2))
    moved = X + rng.uniform(-6, 6, X.shape) * noise
    return X, multi_gaussian_value(moved)


def circles(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """:func:`nablanet.datasets.make_circles` (radii 1 and 0.5), Gaussian noise of standard
    deviation ``0.05 + noise / 2``."""
    return make_circles(n, factor=0.5, noise=0.05 + noise / 2, seed=rng)


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """:func:`nablanet.datasets.make_moons`, Gaussian noise of standard deviation
    ``0.05 + noise / 2``."""
    return make_moons(n, noise=0.05 + noise / 2, seed=rng)


def blobs(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """:func:`nablanet.datasets.make_blobs`: three classes, standard deviation
    ``1 + 4 noise``."""
    return make_blobs(n, centers=3, n_features=2, cluster_std=1.0 + 4.0 * noise, seed=rng)


Generator = Callable[[int, float, np.random.Generator], tuple[Array, Array]]

#: name -> (generator, task, number of points); the page lists them in this order.
GENERATORS: dict[str, tuple[Generator, str, int]] = {
    "circle": (circle, "classification", N_CLASSIFY),
    "xor": (xor, "classification", N_CLASSIFY),
    "gaussian": (gaussian, "classification", N_CLASSIFY),
    "spiral": (spiral, "classification", N_CLASSIFY),
    "plane": (plane, "regression", N_REGRESS),
    "multi_gaussian": (multi_gaussian, "regression", N_REGRESS),
    "circles": (circles, "classification", N_CLASSIFY),
    "moons": (moons, "classification", N_CLASSIFY),
    "blobs": (blobs, "classification", 600),
}
DATASETS = (*GENERATORS, "xor4")

#: Input features, by name: a function of the points (shape (n, 2)) giving shape (n,).
FEATURES: dict[str, Callable[[Array], Array]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}


def features(X: Array, names: tuple[str, ...]) -> Array:
    """The chosen features of the points ``X`` (shape (n, 2)): shape (n, len(names))."""
    return np.column_stack([FEATURES[name](X) for name in names]).astype(np.float64)


def task_of(name: str) -> str:
    """``"classification"`` or ``"regression"``."""
    return "classification" if name == "xor4" else GENERATORS[name][1]


def split(X: Array, y: Array, ratio: float, rng: np.random.Generator) -> tuple[Array, ...]:
    """Shuffle, then the first ``round(ratio * n)`` points train (at least one each side):
    ``(X_train, y_train, X_test, y_test)``."""
    order = rng.permutation(len(y))
    cut = min(max(1, round(ratio * len(y))), len(y) - 1)
    train, test = order[:cut], order[cut:]
    return X[train], y[train], X[test], y[test]


def make(name: str, noise: float, ratio: float, rng: np.random.Generator) -> tuple[Array, ...]:
    """Data set ``name`` with ``noise`` in [0, 0.5], split by ``ratio`` (the training share):
    ``(X_train, y_train, X_test, y_test)`` with ``X`` of shape (n, 2). ``xor4`` is the
    tutorials' four points, both training and test set (noise and ratio do not apply)."""
    if name == "xor4":
        X, y = make_xor()
        return X, y, X.copy(), y.copy()
    generate, _task, n = GENERATORS[name]
    X, y = generate(n, noise, rng)
    return split(np.asarray(X, dtype=np.float64), np.asarray(y), ratio, rng)
