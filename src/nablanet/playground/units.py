r"""One unit of the network, opened up: its z, a, delta and gradient for one sample.

The numbers come from :func:`nablanet.explain` (the layers' own forward and backward, in
float64, each checked against a central finite difference), and each comes with the
equation that produced it, written out with the sample's numbers. For unit :math:`j` of
layer :math:`k` (inputs :math:`i`), one sample, seed 001's notation with samples as rows:

.. math::
    z_k[j] = \sum_i a_{k-1}[i]\, W_k[i, j] + b_k[j], \qquad a_k[j] = \sigma(z_k[j])

    \delta_k[j] = \frac{\partial L}{\partial a_k[j]}\, \sigma'(z_k[j]), \qquad
    \frac{\partial L}{\partial W_k[i, j]} = a_{k-1}[i]\, \delta_k[j], \qquad
    \frac{\partial L}{\partial b_k[j]} = \delta_k[j]

with :math:`\partial L / \partial a_k[j] = \sum_m \delta_{k+1}[m]\, W_{k+1}[j, m]` for a
hidden layer. This is the gradient of the loss of this one sample; a training step uses the
mean of it over the mini-batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nablanet.explain import explain
from nablanet.layers import Dense

from .config import RequestError
from .session import Session

Array = np.ndarray


def _g(value: float) -> str:
    """A number as the page prints it: 4 significant digits."""
    return f"{value:.4g}"


def _sum_of_products(left: Array, right: Array) -> str:
    """``(l0)(r0) + (l1)(r1) + ...``."""
    return " + ".join(f"({_g(u)})({_g(v)})" for u, v in zip(left, right, strict=True))


def _derivative(activation: str, z: float, a: float, alpha: float) -> tuple[str, float]:
    """``sigma'(z)`` of a hidden or sigmoid unit: its formula with numbers, and its value."""
    if activation == "Sigmoid":  # 7 digits of a: a(1 - a) is tiny when a is near 0 or 1
        return f"a(1 - a) = ({a:.7g})(1 - {a:.7g})", a * (1 - a)
    if activation == "Tanh":
        return f"1 - a^2 = 1 - ({a:.7g})^2", 1 - a * a
    if activation == "ReLU":
        return f"[z > 0] with z = {_g(z)}", float(z > 0)
    if activation == "LeakyReLU":
        return f"(1 if z > 0 else {alpha}) with z = {_g(z)}", 1.0 if z > 0 else alpha
    return "1", 1.0


def _activation_line(activation: str, k: int, j: int, z: float, a: float) -> str:
    name = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "max(0, z)", "Identity": "z"}
    if activation == "Softmax":
        return f"a{k}[{j}] = exp(z{k}[{j}]) / sum_m exp(z{k}[m]) = {_g(a)}"
    if activation == "LeakyReLU":
        return f"a{k}[{j}] = leaky_relu({_g(z)}) = {_g(a)}"
    fn = name.get(activation, activation.lower())
    if fn in ("z", "max(0, z)"):
        return f"a{k}[{j}] = {fn.replace('z', _g(z))} = {_g(a)}"
    return f"a{k}[{j}] = {fn}({_g(z)}) = {_g(a)}"


def _output_gradient(
    loss: str, k: int, j: int, a: float, y: float, value: float, m: int = 1
) -> str:
    """dL/da of output unit ``j`` of ``m`` for one sample (n = 1), with the numbers put in."""
    head = f"dL/da{k}[{j}] = "
    if loss == "mse":  # L = sum_j (a_j - y_j)^2 / (n m)
        over = "" if m == 1 else f" / {m}"
        return head + f"2 (a - y){over} = 2 ({_g(a)} - {_g(y)}){over} = {_g(value)}"
    if loss == "binary_cross_entropy":
        return (
            head
            + f"(a - y) / (a (1 - a)) = ({_g(a)} - {_g(y)}) / (({_g(a)})(1 - {_g(a)})) = {_g(value)}"
        )
    if loss == "categorical_cross_entropy":
        return head + f"-y / a = -{_g(y)} / {_g(a)} = {_g(value)}"
    return head + f"{_g(value)}   (y = {_g(y)})"


def input_unit(session: Session, unit: int, sample: int) -> dict[str, Any]:
    """Input ``unit`` (feature) of training ``sample``: ``a0[unit] = x[unit]``."""
    x = float(session.X[sample, unit])
    return {
        "layer": 0,
        "unit": unit,
        "sample": sample,
        "x": session.X[sample].tolist(),
        "label": int(session.y[sample]),
        "quantities": {
            "a": {"value": x, "equation": "a0 = x", "numbers": f"a0[{unit}] = x[{unit}] = {_g(x)}"}
        },
    }


def inspect_unit(session: Session, layer: int, unit: int, sample: int) -> dict[str, Any]:
    """z, a, dL/da, delta, dW[:, unit] and db[unit] of ``unit`` in Dense ``layer`` (1 = first)
    for training ``sample``, each with its equation, its numbers and the finite-difference
    check of the whole layer's array.

    Raises
    ------
    RequestError
        If ``layer``, ``unit`` or ``sample`` is out of range (the message names it).
    """
    sizes = [int(session.X.shape[1])] + [d.units for d in session.dense_layers()]
    if not 0 <= layer < len(sizes):
        raise RequestError(f"layer must be from 0 to {len(sizes) - 1}, got {layer}")
    if not 0 <= unit < sizes[layer]:
        raise RequestError(
            f"unit must be from 0 to {sizes[layer] - 1} in layer {layer}, got {unit}"
        )
    if not 0 <= sample < len(session.X):
        raise RequestError(f"sample must be from 0 to {len(session.X) - 1}, got {sample}")
    if layer == 0:
        return input_unit(session, unit, sample)
    ex = explain(session.model, session.X[sample], session.y[sample], max_fd=16, seed=0)
    t = ex.layers[layer - 1]
    k, j, K = layer, unit, len(ex.layers)
    z, a = float(t.z[0, j]), float(t.a[0, j])
    dL_da, delta = float(t.dL_da[0, j]), float(t.delta[0, j])
    a_prev, w = t.a_prev[0], t.W[:, j]
    dW, db = t.dW[:, j], float(t.db[j])
    act = t.activation
    if k == K:
        y_j = float(ex.y[0, j])
        dL_da_numbers = _output_gradient(ex.loss_name, k, j, a, y_j, dL_da, t.a.shape[1])
    else:
        nxt = ex.layers[k]
        terms = _sum_of_products(nxt.delta[0], nxt.W[j])
        dL_da_numbers = f"dL/da{k}[{j}] = sum_m delta{k + 1}[m] W{k + 1}[{j}, m] = {terms}"
        dL_da_numbers += f" = {_g(dL_da)}"
    if act == "Softmax":
        s = float(np.sum(t.dL_da[0] * t.a[0]))
        delta_numbers = (
            f"delta{k}[{j}] = a{k}[{j}] (dL/da{k}[{j}] - sum_m dL/da{k}[m] a{k}[m]) = "
            f"({_g(a)})({_g(dL_da)} - ({_g(s)})) = {_g(delta)}"
        )
    else:
        alpha = float(getattr(_activation_layer(session, k), "alpha", 0.0))
        formula, slope = _derivative(act, z, a, alpha)
        delta_numbers = (
            f"delta{k}[{j}] = dL/da{k}[{j}] * sigma'(z{k}[{j}]) = ({_g(dL_da)})({_g(slope)}) "
            f"= {_g(delta)},   sigma'(z) = {formula}"
        )
    dW_numbers = [
        f"dL/dW{k}[{i}, {j}] = a{k - 1}[{i}] delta{k}[{j}] = ({_g(p)})({_g(delta)}) = {_g(g)}"
        for i, (p, g) in enumerate(zip(a_prev, dW, strict=True))
    ]
    errors = t.errors()
    q = {
        "z": (z, f"z{k}[{j}] = {_sum_of_products(a_prev, w)} + ({_g(float(t.b[j]))}) = {_g(z)}"),
        "a": (a, _activation_line(act, k, j, z, a)),
        "dL_da": (dL_da, dL_da_numbers),
        "delta": (delta, delta_numbers),
        "dW": (dW.tolist(), "\n".join(dW_numbers)),
        "db": (db, f"dL/db{k}[{j}] = delta{k}[{j}] = {_g(db)}   (one sample: the sum has one row)"),
    }
    return {
        "layer": k,
        "unit": j,
        "sample": sample,
        "x": session.X[sample].tolist(),
        "label": int(session.y[sample]),
        "activation": act,
        "loss": {"name": ex.loss_name, "value": ex.loss, "equations": list(ex.loss_equations)},
        "W": w.tolist(),
        "b": float(t.b[j]),
        "a_prev": a_prev.tolist(),
        "quantities": {
            name: {
                "value": value,
                "equation": t.equations[name],
                "ref": t.refs.get(name),
                "numbers": numbers,
                "fd_error": errors.get(name),
            }
            for name, (value, numbers) in q.items()
        },
    }


def _activation_layer(session: Session, k: int) -> Any:
    """The layer right after Dense layer ``k`` (its activation), or None."""
    layers = session.model.layers
    dense_index = [i for i, layer in enumerate(layers) if isinstance(layer, Dense)][k - 1]
    return layers[dense_index + 1] if dense_index + 1 < len(layers) else None
