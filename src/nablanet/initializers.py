"""Weight initialisation schemes. Each takes ``(shape, rng, dtype)`` and returns a new array.

``shape`` is ``(n_in, n_out)`` for a weight matrix and ``(n_out,)`` for a bias. Every scheme draws
from the ``np.random.Generator`` it is given and never from NumPy's global state.

==================  =============================================================  =============
name                distribution                                                   used by
==================  =============================================================  =============
``zeros``           0                                                              biases
``small_normal``    :math:`0.1\\,\\mathcal N(0, 1)`                                  a tutorial
``uniform01``       :math:`\\mathcal U[0, 1)`                                       tutorials
``glorot_uniform``  :math:`\\mathcal U[-l, l],\\ l = \\sqrt{6 / (n_{in} + n_{out})}`  Keras default
``glorot_normal``   :math:`\\mathcal N(0, 2 / (n_{in} + n_{out}))`                  tanh, sigmoid
``he_uniform``      :math:`\\mathcal U[-l, l],\\ l = \\sqrt{6 / n_{in}}`              ReLU
``he_normal``       :math:`\\mathcal N(0, 2 / n_{in})`                              ReLU
==================  =============================================================  =============

The tutorials are the five that :mod:`nablanet.tutorial` lists; each function's docstring names
its own by title.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import check_choice

Initializer = Callable[[tuple[int, ...], np.random.Generator, Any], np.ndarray]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:  # a bias: fan_in = fan_out = its length
        return shape[0], shape[0]
    return shape[0], shape[1]


def zeros(shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32) -> np.ndarray:
    """All zeros (the usual bias initialisation)."""
    return np.zeros(shape, dtype=dtype)


def small_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """Standard normal times 0.1, as in the tutorial "Application of differentiations in neural
    networks" (``np.random.randn(n_in, n_out) * 0.1``)."""
    return (rng.standard_normal(shape) * 0.1).astype(dtype)


def uniform01(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """Uniform on [0, 1), as in the tutorial "Introduction to Deep Learning - Part 3" and the
    question on the ``a1.T`` update (``np.random.random``)."""
    return rng.random(shape).astype(dtype)


def glorot_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """Glorot/Xavier uniform: U[-l, l] with l = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))).astype(dtype)


def he_uniform(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """He/Kaiming uniform: U[-l, l] with l = sqrt(6 / fan_in); suited to ReLU."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape).astype(dtype)


def he_normal(
    shape: tuple[int, ...], rng: np.random.Generator, dtype: Any = np.float32
) -> np.ndarray:
    """He/Kaiming normal: N(0, 2 / fan_in); suited to ReLU."""
    fan_in, _ = _fans(shape)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "small_normal": small_normal,
    "uniform01": uniform01,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}


def get_initializer(name: str) -> Initializer:
    """Return the initializer called ``name`` (see the table above)."""
    return INITIALIZERS[check_choice("initializer", name, INITIALIZERS)]
