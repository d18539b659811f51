"""Tests for nablanet.preprocessing: splits, label encoding, standardisation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from nablanet import functional
from nablanet.preprocessing import Standardizer, encode_labels, one_hot, train_test_split

# ---------------------------------------------------------------- train_test_split


def _indexed(n: int) -> tuple[np.ndarray, np.ndarray]:
    """X whose single column is the row index, y a function of it, so rows can be traced."""
    X = np.arange(n, dtype=np.float64).reshape(-1, 1)
    y = np.arange(n) % 3
    return X, y


def test_split_sizes_cover_all_rows_without_overlap() -> None:
    X, y = _indexed(100)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (75, 1) and X_test.shape == (25, 1)
    assert y_train.shape == (75,) and y_test.shape == (25,)
    train_idx, test_idx = X_train[:, 0].astype(int), X_test[:, 0].astype(int)
    assert set(train_idx).isdisjoint(test_idx)
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(100))
    # rows and labels stay paired
    np.testing.assert_array_equal(y_train, train_idx % 3)
    np.testing.assert_array_equal(y_test, test_idx % 3)


def test_split_shuffles() -> None:
    X, y = _indexed(100)
    _, X_test, _, _ = train_test_split(X, y, seed=0)
    assert not np.array_equal(np.sort(X_test[:, 0]), np.arange(75, 100))


def test_split_fraction_rounds_test_size_up_and_accepts_counts() -> None:
    X, y = _indexed(10)
    _, X_test, _, _ = train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_test) == 3  # ceil(2.5)
    _, X_test, _, _ = train_test_split(X, y, test_size=4, seed=0)
    assert len(X_test) == 4


def test_split_reproducible_with_same_seed() -> None:
    X, y = _indexed(50)
    a = train_test_split(X, y, stratify=True, seed=42)
    b = train_test_split(X, y, stratify=True, seed=42)
    c = train_test_split(X, y, stratify=True, seed=43)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[1], c[1])


def test_split_accepts_a_generator() -> None:
    X, y = _indexed(20)
    a = train_test_split(X, y, seed=np.random.default_rng(5))
    b = train_test_split(X, y, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])


def test_stratified_split_keeps_proportions_exactly() -> None:
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100).reshape(-1, 1)
    _, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=True, seed=1)
    # 20 test samples shared 60:30:10 -> 12, 6, 2
    np.testing.assert_array_equal(np.bincount(y_test), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(y_train), [48, 24, 8])
    np.testing.assert_array_equal(y[X_test[:, 0]], y_test)


def test_stratified_split_with_rounding_and_string_labels() -> None:
    y = np.array(["a"] * 7 + ["b"] * 5 + ["c"] * 3)
    X = np.zeros((15, 2))
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=True, seed=0)
    # 6 test samples; ideal shares 2.8, 2.0, 1.2 -> floors 2, 2, 1, the leftover to "a"
    classes, counts = np.unique(y_test, return_counts=True)
    assert dict(zip(classes.tolist(), counts.tolist(), strict=True)) == {"a": 3, "b": 2, "c": 1}
    assert len(y_train) == 9


def test_stratified_split_keeps_every_class_in_train() -> None:
    y = np.array([0] + [1] * 9)
    X = np.arange(10).reshape(-1, 1)
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=True, seed=0)
    assert 0 in y_train
    assert len(y_test) == 5 and set(y_test) == {1}


def test_stratified_split_too_large_for_one_per_class_in_train() -> None:
    X = np.zeros((4, 1))
    y = np.array([0, 0, 1, 2])
    with pytest.raises(ValueError, match="one sample of each"):
        train_test_split(X, y, test_size=2, stratify=True, seed=0)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1])
def test_split_rejects_bad_fraction(bad: float) -> None:
    X, y = _indexed(10)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=bad)


@pytest.mark.parametrize("bad", [0, 10, -3])
def test_split_rejects_bad_count(bad: int) -> None:
    X, y = _indexed(10)
    with pytest.raises(ValueError, match=f"got {bad}"):
        train_test_split(X, y, test_size=bad)


def test_split_errors() -> None:
    X, y = _indexed(10)
    with pytest.raises(TypeError, match="test_size"):
        train_test_split(X, y, test_size="0.3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no sample for training"):
        train_test_split(X[:2], y[:2], test_size=0.9)
    with pytest.raises(ValueError, match="10 and 9"):
        train_test_split(X, y[:9])
    with pytest.raises(TypeError, match="stratify"):
        train_test_split(X, y, stratify="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1-D"):
        train_test_split(X, y.reshape(-1, 1))
    with pytest.raises(ValueError, match="NaN"):
        train_test_split(X, np.r_[np.nan, np.zeros(9)])
    with pytest.raises(ValueError, match="at least 2"):
        train_test_split(X[:1], y[:1])
    with pytest.raises(TypeError, match="seed"):
        train_test_split(X, y, seed="abc")


# ---------------------------------------------------------------- labels


def test_encode_labels_strings_and_numbers() -> None:
    codes, classes = encode_labels(["b", "a", "b", "c"])
    np.testing.assert_array_equal(codes, [1, 0, 1, 2])
    np.testing.assert_array_equal(classes, ["a", "b", "c"])
    assert codes.dtype == np.int64
    codes, classes = encode_labels(np.array([10, -1, 10, 7]))
    np.testing.assert_array_equal(codes, [2, 0, 2, 1])
    np.testing.assert_array_equal(classes, [-1, 7, 10])
    np.testing.assert_array_equal(classes[codes], [10, -1, 10, 7])


def test_encode_labels_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode_labels([])
    with pytest.raises(ValueError, match="1-D"):
        encode_labels([[0, 1]])
    with pytest.raises(TypeError, match="object"):
        encode_labels(np.array([1, None], dtype=object))


def test_one_hot_is_the_functional_one() -> None:
    assert one_hot is functional.one_hot
    np.testing.assert_array_equal(one_hot([1, 0], 3), [[0, 1, 0], [1, 0, 0]])


# ---------------------------------------------------------------- Standardizer


def test_standardizer_by_hand() -> None:
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    scaler = Standardizer().fit(X)
    # column 0: mean 3, population std sqrt(8/3); column 1 is constant -> scale 1
    assert scaler.mean_ is not None and scaler.scale_ is not None
    np.testing.assert_allclose(scaler.mean_, [3.0, 10.0])
    np.testing.assert_allclose(scaler.scale_, [np.sqrt(8 / 3), 1.0])
    out = scaler.transform(X)
    np.testing.assert_allclose(out[:, 0], [-2, 0, 2] / np.sqrt(8 / 3))
    np.testing.assert_array_equal(out[:, 1], [0.0, 0.0, 0.0])
    assert scaler.n_features_in_ == 2


def test_standardizer_train_statistics_only() -> None:
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 3.0, size=(200, 4))
    X_test = rng.normal(-1.0, 0.5, size=(50, 4))
    scaler = Standardizer()
    Z = scaler.fit_transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, atol=1e-12)
    expected = (X_test - X_train.mean(axis=0)) / X_train.std(axis=0)
    np.testing.assert_allclose(scaler.transform(X_test), expected, rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X_train, rtol=1e-12)


def test_standardizer_keeps_float32() -> None:
    X = np.random.default_rng(1).normal(size=(30, 3)).astype(np.float32)
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32
    assert scaler.inverse_transform(Z).dtype == np.float32
    assert Standardizer().fit_transform(X.astype(np.float64)).dtype == np.float64
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-6)


def test_standardizer_config_round_trip_is_exact() -> None:
    X = np.random.default_rng(2).normal(size=(40, 5)) * [1, 1e-3, 1e3, 7, 0.1]
    scaler = Standardizer().fit(X)
    config = scaler.get_config()
    restored = Standardizer.from_config(json.loads(json.dumps(config)))
    assert all(isinstance(v, float) for v in config["mean"] + config["scale"])
    np.testing.assert_array_equal(restored.mean_, scaler.mean_)
    np.testing.assert_array_equal(restored.scale_, scaler.scale_)
    np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))


def test_standardizer_errors() -> None:
    scaler = Standardizer()
    with pytest.raises(ValueError, match="not fitted"):
        scaler.transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        scaler.get_config()
    scaler.fit(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(ValueError, match="2 features"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="2-D"):
        Standardizer().fit(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="missing"):
        Standardizer.from_config({"mean": [0.0]})
    with pytest.raises(ValueError, match="same length"):
        Standardizer.from_config({"mean": [0.0, 1.0], "scale": [1.0]})
    with pytest.raises(ValueError, match="> 0"):
        Standardizer.from_config({"mean": [0.0], "scale": [0.0]})
    with pytest.raises(TypeError, match="dict"):
        Standardizer.from_config([1, 2])  # type: ignore[arg-type]


# -- issue 10: huge finite values ------------------------------------------------------------
@pytest.mark.parametrize("big", [1e308, -1e308, 1.7e308, 1e200])
def test_standardizer_on_huge_values_has_finite_statistics(big) -> None:
    X = np.array([[big, 1.0], [-big, 2.0], [big, 3.0], [big / 2, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        scaler = Standardizer().fit(X)
        Z = scaler.transform(X)
    assert np.isfinite(scaler.mean_).all() and np.isfinite(scaler.scale_).all()
    assert np.isfinite(Z).all()
    unit = X[:, 0] / abs(big)
    exact = (unit - unit.mean()) / unit.std()
    np.testing.assert_allclose(Z[:, 0], exact, rtol=1e-12)
    json.dumps(scaler.get_config(), allow_nan=False)  # storable in a model file


def test_standardizer_ordinary_statistics_unchanged() -> None:
    X = np.random.default_rng(0).normal(size=(50, 3)) * 10 + 3
    scaler = Standardizer().fit(X)
    np.testing.assert_array_equal(scaler.mean_, X.mean(axis=0))
    np.testing.assert_array_equal(scaler.scale_, X.std(axis=0))


def test_tiny_values_get_a_positive_scale_and_overflow_is_named() -> None:
    scaler = Standardizer().fit(np.array([[0.0], [1e-300]]))
    assert scaler.scale_[0] == 5e-301  # the squares underflow: not a zero scale
    np.testing.assert_allclose(scaler.transform(np.array([[0.0], [1e-300]])), [[-1.0], [1.0]])
    with pytest.raises(ValueError, match=r"standardisation overflows float64: X\[1, 0\] = 1e\+300"):
        scaler.transform(np.array([[0.0], [1e300]]))
