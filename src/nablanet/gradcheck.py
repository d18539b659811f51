r"""Gradient checking by central finite differences, in float64.

For every parameter :math:`\theta` the numerical gradient is

.. math:: \frac{\partial L}{\partial \theta} \approx \frac{L(\theta + h) - L(\theta - h)}{2h}

and it is compared with the back-propagated one by the relative error
:math:`|g_{bp} - g_{fd}| / \max(|g_{bp}| + |g_{fd}|, f)`, where the floor
:math:`f = \max(10^{-3} \max|g_{bp}|, 10^{-8})` (over the whole model) keeps the round-off of
near-zero entries (about :math:`10^{-11}`) from reading as a large relative error. A correct
backward gives errors around :math:`10^{-9}` in float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import (
    as_generator,
    check_memory,
    check_positive_float,
    check_positive_int,
    short_repr,
)
from .layers import Dense
from .model import Sequential

Array = np.ndarray


def numerical_gradient(
    f: Callable[[], float], x: Array, h: float = 1e-5, index: Any = None
) -> Array:
    """Central differences of the scalar ``f()`` with respect to ``x``, perturbed in place.

    Parameters
    ----------
    f : callable with no arguments
        Recomputes the scalar from the current contents of ``x``.
    x : ndarray (float64)
        The array to perturb; restored exactly afterwards.
    index : sequence of flat indices, optional
        Only these entries (the rest of the result is NaN); all by default.

    Returns
    -------
    ndarray of the shape of ``x``
    """
    grad = np.full(x.shape, np.nan)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(x.size) if index is None else index:
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: Array, b: Array, floor: float = 1e-8) -> Array:
    """Element-wise ``|a - b| / max(|a| + |b|, floor)``.

    ``floor`` keeps entries that are almost zero from turning round-off into a large relative
    error; :func:`gradcheck` sets it to a thousandth of the largest gradient of the model.
    """
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def gradcheck_memory(model: Sequential, n_samples: int) -> int:
    """Bytes :func:`gradcheck` needs for ``model`` (built) on ``n_samples`` samples, roughly.

    All float64: the model's twin (parameters, gradients, the optimizer's scratch and state
    buffers), the data (the inputs twice: given and prepared; the targets twice) and the
    activations of every layer for the whole batch, kept by the forward pass and made again
    by the backward pass. Plain Python ints: no overflow whatever the sizes.
    """
    n_samples = int(n_samples)
    n_in = int(model.input_dim or 0)
    widths = [int(layer.output_dim or 0) for layer in model.layers]
    n_out = widths[-1] if widths else 0
    copies = 3 + len(getattr(model.optimizer, "state_names", ()))
    per_sample = 2 * n_in + 2 * n_out + 2 * sum(widths)
    return 8 * (copies * int(model.n_params) + n_samples * per_sample)


def check_gradcheck_memory(model: Sequential, n_samples: Any, name: str = "n_samples") -> int:
    """Return ``n_samples`` as an int, or raise ``ValueError`` if :func:`gradcheck` on that many
    samples would not fit in the available memory (see :func:`gradcheck_memory`); ``name`` is
    the argument's name in the message (``--samples`` for the CLI)."""
    n = check_positive_int(name, n_samples)
    check_memory(
        gradcheck_memory(model, n),
        f"gradcheck with {name}={short_repr(n)}",
        purpose=" in float64 for the data, the activations of every layer and the network",
        hint="use fewer samples (a few dozen are plenty)",
    )
    return n


@dataclass
class GradCheckReport:
    """Result of :func:`gradcheck`.

    Attributes
    ----------
    errors : dict of str to float
        Max relative error per parameter, keyed ``"layers.<i>.<name>"``.
    layer_errors : dict of str to float
        Max relative error per layer, keyed ``"<i>: <LayerClass>"``.
    checked : dict of str to int
        How many entries of each parameter were checked.
    """

    errors: dict[str, float] = field(default_factory=dict)
    layer_errors: dict[str, float] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def passed(self, tol: float = 1e-6) -> bool:
        """True when every relative error is below ``tol``."""
        return self.max_error < tol

    def __str__(self) -> str:
        lines = [f"{'layer':<20}{'max rel. error':>16}"]
        lines += [f"{name:<20}{err:>16.3e}" for name, err in self.layer_errors.items()]
        lines.append(f"{'overall':<20}{self.max_error:>16.3e}")
        return "\n".join(lines)


def gradcheck(
    model: Sequential,
    X: Any,
    y: Any,
    *,
    h: float = 1e-5,
    max_checks: int | None = 200,
    seed: Any = 0,
) -> GradCheckReport:
    """Compare back-propagated gradients with central differences on every parameter.

    The model is copied to float64 first (the original is not touched); dropout is off, so the
    objective is deterministic. The objective is the training loss (the L2 and L1 penalties
    included). Where a layer has an L1 term, its weights within ``h`` of 0 are not checked:
    :math:`|w|` has no derivative at 0, and a central difference across the kink is none.

    Parameters
    ----------
    model : Sequential
        A built model.
    X : array-like of shape (n_samples, n_features)
    y : targets as for ``fit``.
    h : float
        Finite-difference step.
    max_checks : int or None
        Entries checked per parameter array, drawn at random (``None``: all of them).
    seed : None, int or Generator
        Chooses the entries when ``max_checks`` is smaller than an array.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a nablanet Sequential, got {short_repr(model)}")
    h = check_positive_float("h", h)
    rng = as_generator(seed)
    twin = model.clone(dtype="float64")
    if not twin.built:
        Xc = np.asarray(X, dtype=np.float64)
        twin.build(Xc.shape[1] if Xc.ndim == 2 else 1)
    twin.task = model.task
    try:
        n_samples = len(X)
    except TypeError:  # not a sequence: prepare() says what is wrong with it
        n_samples = 1
    check_gradcheck_memory(twin, max(n_samples, 1), "len(X)")
    Xc, Y = twin.prepare(X, y)
    for layer in twin.layers:
        if isinstance(layer, Dense):
            layer.need_input_grad = True  # exercise every backward fully

    def objective() -> float:
        return twin.compute_loss(Xc, Y)

    start = objective()
    if not np.isfinite(start):  # every difference would be NaN: there is nothing to compare
        raise ValueError(
            f"the loss {twin.loss.name} is {start} at these weights and samples, so its "
            "gradient cannot be checked; the outputs or targets are outside the loss's domain "
            "(e.g. a non-positive mean for a Poisson deviance, a target outside [0, 1] for a "
            "cross-entropy)"
        )
    # in inference mode (dropout off): the gradient of the same deterministic objective
    twin.loss_and_grads(Xc, Y, training=False)

    scale = max(
        (float(np.abs(g).max()) for la in twin.layers for g in la.grads.values()), default=0
    )
    floor = max(1e-3 * scale, 1e-8)
    report = GradCheckReport()
    for i, layer in enumerate(twin.layers):
        for name, param in layer.params.items():
            key = f"layers.{i}.{name}"
            analytic = layer.grads[name].copy()
            if max_checks is None or param.size <= max_checks:
                index = None
            else:
                index = rng.choice(param.size, size=max_checks, replace=False)
            numeric = numerical_gradient(objective, param, h, index)
            mask = ~np.isnan(numeric)
            if name == "W" and isinstance(layer, Dense) and layer.l1:
                # |w| has a kink at 0: a difference across it is no derivative, so weights
                # within h of 0 are left out (their subgradient is checked nowhere)
                mask &= np.abs(param) > h
            err = float(relative_error(analytic[mask], numeric[mask], floor).max())
            report.errors[key] = err
            report.checked[key] = int(mask.sum())
            label = f"{i}: {type(layer).__name__}"
            report.layer_errors[label] = max(report.layer_errors.get(label, 0.0), err)
    return report
