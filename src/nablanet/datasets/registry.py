"""Named data sets, ready split into training and test sets (used by the command line)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .._validation import as_generator, check_choice
from ..preprocessing import train_test_split
from .idx import load_fashion_mnist
from .synthetic import (
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_parity,
    make_spirals,
    make_xor,
)

__all__ = ["DATASETS", "Dataset", "load_dataset"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into training and test parts.

    Attributes
    ----------
    X_train : ndarray of shape (n_train, n_features)
    y_train : ndarray of shape (n_train,), int64 class labels 0..n_classes-1
    X_test : ndarray of shape (n_test, n_features)
    y_test : ndarray of shape (n_test,)
    task : "binary" or "multiclass"
    n_classes : int
    name : str
    description : str
    """

    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    task: Literal["binary", "multiclass"]
    n_classes: int
    name: str
    description: str

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X_train``)."""
        return int(self.X_train.shape[1])


def _make(
    name: str,
    description: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
) -> Dataset:
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    task: Literal["binary", "multiclass"] = "binary" if n_classes == 2 else "multiclass"
    return Dataset(X_train, y_train, X_test, y_test, task, n_classes, name, description)


def _split(name: str, description: str, X: np.ndarray, y: np.ndarray, rng: Any) -> Dataset:
    """Seeded stratified 75/25 split."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, stratify=True, seed=rng)
    return _make(name, description, X_train, y_train, X_test, y_test)


def _xor(seed: Any = None) -> Dataset:
    X, y = make_xor(2)
    return _make("xor", "XOR of two bits; the 4 points are both train and test set", X, y, X, y)


def _xor3(seed: Any = None) -> Dataset:
    X, y = make_xor(3)
    description = "XOR with a constant third input 1 (seeds 003/004); train = test = 4 points"
    return _make("xor3", description, X, y, X, y)


def _parity(seed: Any = None) -> Dataset:
    X, y = make_parity(10)
    description = "10-bit numbers, label 1 if even (seed 002); rows 0-699 train, 700-1023 test"
    return _make("parity", description, X[:700], y[:700], X[700:], y[700:])


def _circles(seed: Any = None) -> Dataset:
    rng = as_generator(seed)
    X, y = make_circles(1000, factor=0.5, noise=0.1, seed=rng)
    return _split("circles", "two noisy concentric circles, 1000 points", X, y, rng)


def _moons(seed: Any = None) -> Dataset:
    rng = as_generator(seed)
    X, y = make_moons(1000, noise=0.1, seed=rng)
    return _split("moons", "two interleaving noisy half circles, 1000 points", X, y, rng)


def _blobs(seed: Any = None) -> Dataset:
    rng = as_generator(seed)
    X, y = make_blobs(600, centers=3, n_features=2, cluster_std=1.5, seed=rng)
    return _split("blobs", "three Gaussian blobs in 2-D, 600 points", X, y, rng)


def _spirals(seed: Any = None) -> Dataset:
    rng = as_generator(seed)
    X, y = make_spirals(1000, n_classes=2, noise=0.2, seed=rng)
    return _split("spirals", "two interleaved spiral arms, 1000 points", X, y, rng)


def _digits(seed: Any = None) -> Dataset:
    X, y = load_digits()
    return _split("digits", "scikit-learn's 8x8 digits, 1797 images", X, y, as_generator(seed))


def _fashion_mnist(seed: Any = None) -> Dataset:
    X_train, y_train, X_test, y_test = load_fashion_mnist()
    description = "Fashion-MNIST, 28x28 clothing images; the official 60000/10000 split"
    return _make("fashion-mnist", description, X_train, y_train, X_test, y_test)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "xor": _xor,
    "xor3": _xor3,
    "parity": _parity,
    "circles": _circles,
    "moons": _moons,
    "blobs": _blobs,
    "spirals": _spirals,
    "digits": _digits,
    "fashion-mnist": _fashion_mnist,
}
"""Data set name -> loader ``f(seed=None) -> Dataset``."""


def load_dataset(name: str, seed: Any = None) -> Dataset:
    """Load a named data set, split into training and test sets.

    Parameters
    ----------
    name : str
        One of ``DATASETS``: "xor", "xor3", "parity", "circles", "moons", "blobs", "spirals",
        "digits" (needs scikit-learn), "fashion-mnist" (needs the IDX files, see
        :func:`nablanet.datasets.load_fashion_mnist`).
    seed : None, int or np.random.Generator
        Drives the synthetic data and the stratified 75/25 split; the fixed splits of "xor",
        "xor3", "parity" and "fashion-mnist" ignore it.

    Returns
    -------
    Dataset
    """
    check_choice("dataset", name, DATASETS)
    as_generator(seed)  # reject a bad seed even for data sets that do not use it
    return DATASETS[name](seed)
