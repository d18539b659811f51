r"""Backpropagation, shown: every forward and backward quantity of one sample, layer by layer.

For a network of Dense layers (each followed by an activation, or none for the identity),
layer :math:`k` computes, in seed 001's notation with samples as rows:

.. math::
    z_k = a_{k-1} W_k + b_k, \qquad a_k = \sigma(z_k), \qquad a_0 = x

and back-propagation walks back from the loss :math:`L`:

.. math::
    \delta_k = \frac{\partial L}{\partial a_k} \odot \sigma'(z_k), \qquad
    \frac{\partial L}{\partial W_k} = a_{k-1}^\top \delta_k, \qquad
    \frac{\partial L}{\partial b_k} = \textstyle\sum_{\text{rows}} \delta_k, \qquad
    \frac{\partial L}{\partial a_{k-1}} = \delta_k W_k^\top

:func:`explain` records each of these (computed by the layers' own ``backward``, in float64)
together with its central finite difference, and prints the trace with the equation each
line implements. Softmax/sigmoid outputs are explained unfused (``dL/da`` through the loss,
then the activation's derivative) so that every delta shows; dropout is off, as at inference.
The record ends with the update one step of the model's optimizer makes from those gradients
(:func:`~nablanet.explain.steps.trace` takes ``N`` steps), and a map from seed 001's layer
numbers (its output is layer 3) to nablanet's (:mod:`nablanet.explain.notation`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import as_generator, check_positive_float, check_positive_int
from ..gradcheck import numerical_gradient
from ..layers import Activation, Dense, Dropout, Layer
from .inputs import as_batch, check_built, float64_copy
from .notation import layer_refs, notation_map
from .records import Explanation, LayerTrace
from .steps import trace
from .text import layer_equations, loss_equations, model_notes

if TYPE_CHECKING:
    from ..model import Sequential

Array = np.ndarray


@dataclass
class _Group:
    """A Dense layer with the activation (and any dropout) after it, by layer index."""

    dense: int
    activation: int | None = None
    dropouts: list[int] = field(default_factory=list)

    @property
    def output(self) -> int:
        """Index of the layer whose output is ``a_k``."""
        return self.dense if self.activation is None else self.activation

    @property
    def after(self) -> int:
        """Index of the first layer of the next group."""
        return max([self.output, *self.dropouts]) + 1


def _groups(layers: list[Layer]) -> list[_Group]:
    """Pair each Dense layer with the activation (and any dropout) after it."""
    groups: list[_Group] = []
    for i, layer in enumerate(layers):
        if isinstance(layer, Dense):
            groups.append(_Group(i))
        elif isinstance(layer, Dropout) and groups:
            groups[-1].dropouts.append(i)
        elif isinstance(layer, Activation) and groups and groups[-1].activation is None:
            groups[-1].activation = i
        else:
            raise ValueError(
                f"explain pairs each Dense layer with one activation after it; layer {i} "
                f"({type(layer).__name__}) does not fit that pattern"
            )
    return groups


def _output_fd(f: Any, a: Array, h: float, index: Any) -> Array:
    """Finite differences of the loss in the network's output ``a``, with a step shrunk to
    ``h * min(1, |a|, |1 - a|)`` per entry so that ``a +- step`` stays where a log-loss is
    defined (probabilities near 0 or 1)."""
    grad = np.full(a.shape, np.nan)
    for i in range(a.size) if index is None else index:
        value = float(a.flat[i])
        scale = min(1.0, abs(value), abs(1.0 - value)) or 1.0
        grad.flat[i] = numerical_gradient(f, a, h * scale, [i]).flat[i]
    return grad


def explain(
    model: Sequential,
    x: Any,
    y: Any,
    *,
    h: float = 1e-5,
    max_fd: int | None = 64,
    seed: Any = 0,
) -> Explanation:
    """Trace one forward and backward pass of ``model`` on ``x`` with targets ``y``.

    The model is copied to float64 first and left untouched.

    Parameters
    ----------
    model : Sequential
        A built model of Dense layers, each followed by at most one activation (and dropout).
    x : array-like of shape (n_features,) or (n, n_features)
        One sample, or a tiny batch (``n`` at most 32), as the network sees it (already
        preprocessed).
    y : label, target row, or array-like as for ``fit``
        E.g. ``0`` (a class label), or ``[0.05, 0.95]`` (seed 001's target row for one sample).
    h : float
        Finite-difference step.
    max_fd : int or None
        Entries checked by finite differences per array (at random beyond that; ``None``: all).
    seed : None, int or Generator
        Chooses those entries.

    Returns
    -------
    Explanation
    """
    h = check_positive_float("h", h)
    if max_fd is not None:
        max_fd = check_positive_int("max_fd", max_fd)
    rng = as_generator(seed)
    check_built(model)
    twin = float64_copy(model)
    groups = _groups(twin.layers)
    X, y = as_batch(x, y)
    X, Y = twin.prepare(X, y)
    denses = [layer for layer in twin.layers if isinstance(layer, Dense)]  # one per group
    for dense in denses:
        dense.need_input_grad = True

    def loss_from(start: int, value: Array) -> float:
        """The loss (unfused, L2 included) with ``value`` as the input of layer ``start``."""
        return twin.loss.forward(twin.forward(value, start=start), Y) + twin.penalty()

    # forward: every layer's output, then the loss of the whole network's output
    outputs: list[Array] = []
    twin.forward(X, trace=outputs)
    loss = twin.loss.forward(outputs[-1], Y) + twin.penalty()
    # backward: dL/d(input) of every layer, through each layer's own backward
    grad_out = twin.loss.backward().copy()  # dL/d(output of the last layer)
    grad_in: list[Array] = []
    twin.backward(grad_out, trace=grad_in)
    twin.penalty_gradients()  # dW gains l2 * W where a layer has an L2 term
    grad_in.reverse()  # grad_in[i] = dL/d(input of layer i)

    def d_output(i: int) -> Array:
        """dL/d(output of layer i)."""
        return grad_in[i + 1] if i + 1 < len(grad_in) else grad_out

    def pick(size: int) -> Any:
        if max_fd is None or size <= max_fd:
            return None
        return rng.choice(size, size=max_fd, replace=False)

    def objective() -> float:
        return loss_from(0, X)

    traces = []
    for k, (group, dense) in enumerate(zip(groups, denses, strict=True)):
        W, b = dense.params["W"], dense.params["b"]
        z, a = outputs[group.dense], outputs[group.output]
        fd = {
            "dW_fd": numerical_gradient(objective, W, h, pick(W.size)),
            "db_fd": numerical_gradient(objective, b, h, pick(b.size)),
        }
        # delta_k: the loss as a function of z_k (the input of the activation, if any)
        z_buf = z.copy()
        fd["delta_fd"] = numerical_gradient(
            functools.partial(loss_from, group.dense + 1, z_buf), z_buf, h, pick(z.size)
        )
        # dL/da_k: the loss as a function of a_k (the input of the next group)
        a_buf = a.copy()
        f = functools.partial(loss_from, group.after, a_buf)
        fd_a = _output_fd if k == len(groups) - 1 else numerical_gradient
        fd["dL_da_fd"] = fd_a(f, a_buf, h, pick(a.size))
        act = twin.layers[group.activation] if group.activation is not None else None
        name = type(act).__name__ if act is not None else "Identity"
        bias_grad = getattr(dense, "bias_grad", "sum")
        equations = layer_equations(
            k + 1, len(groups), name, dense.l2, twin.loss.name, bias_grad, l1=dense.l1
        )
        refs = layer_refs(k + 1, len(groups), name, twin.loss.name)
        notes = [
            f"Dropout(rate={getattr(twin.layers[i], 'rate', '?')}) after this layer is off, as "
            "at inference (training would zero each unit with that probability and scale the rest)"
            for i in group.dropouts
        ]
        traces.append(
            LayerTrace(
                k=k + 1,
                activation=name,
                a_prev=(X if k == 0 else outputs[groups[k - 1].output]).copy(),
                W=W.copy(),
                b=b.copy(),
                z=z,
                a=a,
                equations=equations,
                refs=refs,
                notes=notes,
                dL_da=d_output(group.output),
                delta=d_output(group.dense),
                dW=dense.grads["W"].copy(),
                db=dense.grads["b"].copy(),
                **fd,
            )
        )
    last = groups[-1].activation
    last_activation = twin.layers[last] if last is not None else None
    K = len(groups)
    return Explanation(
        X, Y, twin.loss.name, float(loss), loss_equations(twin.loss.name, K),
        traces, model_notes(twin.loss, last_activation, K),
        trace(model, x, y, steps=1), notation_map(K),
    )  # fmt: skip
