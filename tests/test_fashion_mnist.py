"""Whole system on real data: a short Fashion-MNIST run reaches a useful test accuracy."""

# Needs the Fashion-MNIST IDX files (``apt-get install dataset-fashion-mnist``, or
# ``$NABLANET_FASHION_MNIST``); the test is skipped cleanly when they are absent.

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nn
from nablanet.datasets import load_fashion_mnist


@pytest.fixture(scope="module")
def fashion() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    try:
        return load_fashion_mnist()
    except FileNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST is not installed: {exc}")


def test_loaded_data_is_the_official_split(fashion) -> None:
    X_train, y_train, X_test, y_test = fashion
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    # The official split is balanced: 6000 training and 1000 test images per class.
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_two_epochs_on_10000_images_reach_80_percent(fashion) -> None:
    X_train, y_train, X_test, y_test = fashion
    X_train, y_train = X_train[:10000], y_train[:10000]
    X_test, y_test = X_test[:2000], y_test[:2000]
    # A small cousin of the recipe in docs/benchmarks.md: ReLU with dropout, Adam, softmax output and
    # cross-entropy, inputs standardised with the training set's mean and deviation.
    mean, std = X_train.mean(), X_train.std()
    model = nn.Sequential.from_sizes(
        [784, 256, 10],
        activation="relu",
        output="softmax",
        dropout=0.2,
        loss="categorical_cross_entropy",
        optimizer="adam",
        lr=1e-3,
        seed=0,
    )
    history = model.fit((X_train - mean) / std, y_train, epochs=2, batch_size=128, verbose=False)
    assert history.history["loss"][1] < history.history["loss"][0]
    accuracy = np.mean(model.predict((X_test - mean) / std) == y_test)
    # A guess scores 0.10; this network and budget land near 0.83-0.85 across seeds.
    assert accuracy >= 0.80, f"test accuracy {accuracy:.4f} after 2 epochs on 10,000 images"
