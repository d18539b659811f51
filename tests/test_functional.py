"""Tests for nablanet.functional: sigmoid and softmax, exact and silent at extreme inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nablanet.functional import log_softmax, logsumexp, softmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_the_relative_precision_of_small_probabilities(dtype):
    # 0.5 * (1 + tanh(z / 2)) cancels: it gave sigma(-20) = 0 in float32 and a 100% relative
    # error at z = -37 in float64. The reference is 1 / (1 + e^-z) in Python floats.
    z = np.array([-80.0, -40.0, -20.0, -17.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 17.0, 40.0])
    expected = np.array([1.0 / (1.0 + math.exp(-v)) for v in z])
    from nablanet.functional import sigmoid

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sigmoid(z.astype(dtype))
        buffer = np.empty(z.shape, dtype)
        assert sigmoid(z.astype(dtype), out=buffer) is buffer
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(buffer, got)
    assert got[6] == 0.5
    in_place = z.astype(dtype)
    assert sigmoid(in_place, out=in_place) is in_place  # out may be the input itself
    np.testing.assert_array_equal(in_place, got)


def test_softmax_of_huge_rows_is_finite_and_shift_invariant():
    z = np.array([[1000.0, 1001.0, 1002.0], [1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(z)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    e0, e1, e2 = 1.0, np.e, np.e**2  # softmax([0, 1, 2]) by hand
    s = e0 + e1 + e2
    np.testing.assert_allclose(p[0], [e0 / s, e1 / s, e2 / s], rtol=1e-12)
    np.testing.assert_allclose(p[1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[2], [1 / 3, 1 / 3, 1 / 3])


def test_log_softmax_and_logsumexp():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(log_softmax(z[:1]), np.log(softmax(z[:1])), rtol=1e-12)
    np.testing.assert_allclose(logsumexp(z)[:, 0], [np.log(np.exp(z[0]).sum()), 1000.0])  # keepdims
    assert np.isfinite(log_softmax(z)).all()  # no overflow for huge logits
    np.testing.assert_allclose(log_softmax(z)[1, :2], [0.0, -1000.0])
