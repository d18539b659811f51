"""Tests for nablanet.datasets.synthetic and the named-data-set registry."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nablanet.datasets import (
    DATASETS,
    Dataset,
    load_dataset,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_parity,
    make_spirals,
    make_xor,
)

Maker = Callable[[Any], tuple[np.ndarray, np.ndarray]]

RANDOM_MAKERS: list[Maker] = [
    lambda seed: make_circles(101, seed=seed),
    lambda seed: make_moons(101, seed=seed),
    lambda seed: make_blobs(101, centers=3, seed=seed),
    lambda seed: make_spirals(101, n_classes=3, seed=seed),
]


def _sorted_rows(X: np.ndarray) -> np.ndarray:
    return X[np.lexsort(X.T[::-1])]


# ---------------------------------------------------------------- XOR and parity


def test_make_xor_two_inputs() -> None:
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_make_xor_three_inputs_as_in_seeds_003_004() -> None:
    X, y = make_xor(3)
    np.testing.assert_array_equal(X, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_make_xor_errors() -> None:
    with pytest.raises(ValueError, match="2 or 3, got 4"):
        make_xor(4)
    with pytest.raises(TypeError, match="n_inputs"):
        make_xor(2.0)  # type: ignore[arg-type]


def test_make_parity_three_bits_by_hand() -> None:
    X, y = make_parity(3)
    expected = [
        [0, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
        [0, 1, 1],
        [1, 0, 0],
        [1, 0, 1],
        [1, 1, 0],
        [1, 1, 1],
    ]
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(y, [1, 0, 1, 0, 1, 0, 1, 0])  # even -> 1
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_make_parity_matches_seed_002() -> None:
    n = 10
    # seed 002's own construction of the data
    X_seed = np.array([list(map(int, f"{e:010b}")) for e in range(2**n)])
    y_seed = np.array([int(e % 2 == 0) for e in range(2**n)])
    X, y = make_parity(n)
    np.testing.assert_array_equal(X, X_seed)
    np.testing.assert_array_equal(y, y_seed)


@pytest.mark.parametrize("bad", [0, 21])
def test_make_parity_bounds(bad: int) -> None:
    with pytest.raises(ValueError, match=str(bad)):
        make_parity(bad)


# ---------------------------------------------------------------- 2-D toys


def test_make_circles_noise_free_geometry() -> None:
    X, y = make_circles(101, factor=0.3, noise=0.0, seed=0)
    assert X.shape == (101, 2) and y.shape == (101,)
    np.testing.assert_array_equal(np.bincount(y), [50, 51])  # outer n // 2, inner the rest
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


def test_make_circles_matches_sklearn_without_noise() -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_circles(60, factor=0.4, noise=0.0, seed=0)
    X_sk, y_sk = datasets.make_circles(60, factor=0.4, noise=0.0, shuffle=False)
    for k in (0, 1):
        np.testing.assert_allclose(
            _sorted_rows(X[y == k]), _sorted_rows(X_sk[y_sk == k]), atol=1e-12
        )


def test_make_moons_noise_free_geometry_and_sklearn() -> None:
    X, y = make_moons(50, noise=0.0, seed=0)
    np.testing.assert_array_equal(np.bincount(y), [25, 25])
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    datasets = pytest.importorskip("sklearn.datasets")
    X_sk, y_sk = datasets.make_moons(50, noise=0.0, shuffle=False)
    for k in (0, 1):
        np.testing.assert_allclose(
            _sorted_rows(X[y == k]), _sorted_rows(X_sk[y_sk == k]), atol=1e-12
        )


def test_noise_has_the_requested_scale() -> None:
    X, y = make_circles(20000, factor=0.5, noise=0.1, seed=3)
    radius = np.hypot(X[:, 0], X[:, 1])
    # radial noise of a point on the unit circle is ~ N(0, 0.1^2)
    assert abs(np.std(radius[y == 0] - 1.0) - 0.1) < 0.005


def test_make_blobs_given_centres() -> None:
    centres = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0], [-5.0, 0.0, 5.0]])
    X, y = make_blobs(10, centers=centres, cluster_std=0.0, seed=0)
    assert X.shape == (10, 3)
    np.testing.assert_array_equal(np.bincount(y), [4, 3, 3])
    np.testing.assert_array_equal(X, centres[y])


def test_make_blobs_random_centres_and_spread() -> None:
    X, y = make_blobs(3000, centers=2, n_features=4, cluster_std=[0.5, 2.0], seed=0)
    assert X.shape == (3000, 4)
    np.testing.assert_array_equal(np.bincount(y), [1500, 1500])
    for k, std in enumerate([0.5, 2.0]):
        centre = X[y == k].mean(axis=0)
        assert np.all(np.abs(centre) <= 10.5)
        np.testing.assert_allclose(X[y == k].std(axis=0), std, rtol=0.1)


def test_make_blobs_errors() -> None:
    with pytest.raises(ValueError, match="at least the number of centers"):
        make_blobs(2, centers=3)
    with pytest.raises(ValueError, match="does not match"):
        make_blobs(10, centers=np.zeros((2, 3)), n_features=2)
    with pytest.raises(ValueError, match="cluster_std"):
        make_blobs(10, centers=2, cluster_std=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="cluster_std"):
        make_blobs(10, centers=2, cluster_std=-1.0)
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=np.array(["a", "b"]))


def test_make_spirals_noise_free_arms() -> None:
    X, y = make_spirals(300, n_classes=3, noise=0.0, seed=0)
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    r = np.hypot(X[:, 0], X[:, 1])
    theta = np.arctan2(X[:, 0], X[:, 1])  # points are (r sin t, r cos t)
    expected = 2 * np.pi * y / 3 + 4 * r
    gap = np.angle(np.exp(1j * (theta - expected)))  # difference modulo 2 pi
    np.testing.assert_allclose(gap[r > 1e-9], 0.0, atol=1e-9)
    assert r.min() == 0.0 and np.isclose(r.max(), 1.0)


@pytest.mark.parametrize("make", RANDOM_MAKERS)
def test_random_makers_reproducible_balanced_typed(make: Maker) -> None:
    X1, y1 = make(7)
    X2, y2 = make(np.random.default_rng(7))
    X3, _ = make(8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.dtype == np.float64 and y1.dtype == np.int64
    counts = np.bincount(y1)
    assert counts.max() - counts.min() <= 1
    assert not np.array_equal(y1, np.sort(y1))  # shuffled


def test_random_makers_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.0)
    with pytest.raises(ValueError, match="n_samples"):
        make_circles(1)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(10, n_classes=1)
    with pytest.raises(TypeError, match="seed"):
        make_moons(10, seed="abc")
    with pytest.raises(TypeError, match="n_samples"):
        make_spirals(10.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- digits


def test_load_digits() -> None:
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_load_digits_without_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install nablanet\[sklearn\]"):
        load_digits()


# ---------------------------------------------------------------- registry


def test_registry_names() -> None:
    assert set(DATASETS) == {
        "xor",
        "xor3",
        "parity",
        "circles",
        "moons",
        "blobs",
        "spirals",
        "digits",
        "fashion-mnist",
    }


def test_load_dataset_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'mnsit'.*'moons'.*'xor3'"):
        load_dataset("mnsit")


@pytest.mark.parametrize("name", ["xor", "xor3"])
def test_xor_datasets_train_equals_test(name: str) -> None:
    ds = load_dataset(name)
    assert isinstance(ds, Dataset)
    np.testing.assert_array_equal(ds.X_train, ds.X_test)
    np.testing.assert_array_equal(ds.y_train, [0, 1, 1, 0])
    assert ds.task == "binary" and ds.n_classes == 2 and ds.name == name
    assert ds.n_features == (2 if name == "xor" else 3)


def test_parity_dataset_is_seed_002_split() -> None:
    ds = load_dataset("parity", seed=123)
    assert ds.X_train.shape == (700, 10) and ds.X_test.shape == (324, 10)
    np.testing.assert_array_equal(ds.X_train[699], [1, 0, 1, 0, 1, 1, 1, 0, 1, 1])  # 699
    np.testing.assert_array_equal(ds.X_test[0], [1, 0, 1, 0, 1, 1, 1, 1, 0, 0])  # 700
    assert ds.y_train[699] == 0 and ds.y_test[0] == 1


@pytest.mark.parametrize(
    ("name", "n", "n_classes"),
    [("circles", 1000, 2), ("moons", 1000, 2), ("spirals", 1000, 2), ("blobs", 600, 3)],
)
def test_synthetic_datasets_stratified_75_25(name: str, n: int, n_classes: int) -> None:
    ds = load_dataset(name, seed=0)
    assert len(ds.X_train) == n * 3 // 4 and len(ds.X_test) == n // 4
    assert ds.n_classes == n_classes
    assert ds.task == ("binary" if n_classes == 2 else "multiclass")
    train_counts, test_counts = np.bincount(ds.y_train), np.bincount(ds.y_test)
    assert train_counts.max() - train_counts.min() <= 1
    assert test_counts.max() - test_counts.min() <= 1
    again = load_dataset(name, seed=0)
    np.testing.assert_array_equal(ds.X_train, again.X_train)
    np.testing.assert_array_equal(ds.y_test, again.y_test)
    other = load_dataset(name, seed=1)
    assert not np.array_equal(ds.X_train, other.X_train)
    assert ds.description


def test_digits_dataset() -> None:
    pytest.importorskip("sklearn")
    ds = load_dataset("digits", seed=0)
    assert len(ds.X_train) + len(ds.X_test) == 1797
    assert len(ds.X_test) == 450  # ceil(0.25 * 1797)
    assert ds.task == "multiclass" and ds.n_classes == 10
    # stratified: every digit's share in the test set is within one sample of a quarter
    totals = np.bincount(ds.y_train) + np.bincount(ds.y_test)
    assert np.all(np.abs(np.bincount(ds.y_test) - totals * 450 / 1797) < 1)


def test_load_dataset_rejects_bad_seed() -> None:
    with pytest.raises(TypeError, match="seed"):
        load_dataset("xor", seed=1.5)
