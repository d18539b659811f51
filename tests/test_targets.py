"""Tests for nablanet.targets: label smoothing in prepare_targets."""

from __future__ import annotations

import numpy as np

from nablanet.targets import prepare_targets


def test_label_smoothing_targets():
    one_hot = prepare_targets([0, 1, 1], 2, "multiclass", np.float64, label_smoothing=0.1)
    np.testing.assert_allclose(one_hot, [[0.95, 0.05], [0.05, 0.95], [0.05, 0.95]])
    binary = prepare_targets([0, 1], 1, "binary", np.float64, label_smoothing=0.1)
    np.testing.assert_allclose(binary, [[0.05], [0.95]])
    three = prepare_targets([2], 3, "multiclass", np.float64, label_smoothing=0.3)
    np.testing.assert_allclose(three, [[0.1, 0.1, 0.8]])
    plain = prepare_targets([0, 1], 2, "multiclass", np.float64)
    np.testing.assert_array_equal(plain, [[1.0, 0.0], [0.0, 1.0]])
    regression = prepare_targets([0.0, 1.0], 1, "regression", np.float64, label_smoothing=0.1)
    np.testing.assert_array_equal(regression, [[0.0], [1.0]])
