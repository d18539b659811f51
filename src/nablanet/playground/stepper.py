r"""Step through backprop: one sample's forward and backward pass, one quantity at a time.

The numbers are :func:`nablanet.explain.explain`'s (the layers' own ``forward`` and
``backward`` in float64, on a copy of the session's model), in the order they are computed:

1. forward, layer :math:`k = 1 .. K`: :math:`z_k = a_{k-1} W_k + b_k`, then
   :math:`a_k = \sigma(z_k)`;
2. the loss :math:`L` of the sample;
3. backward, layer :math:`k = K .. 1`: :math:`\partial L / \partial a_k`,
   :math:`\delta_k = \partial L / \partial a_k \odot \sigma'(z_k)`,
   :math:`\partial L / \partial W_k = a_{k-1}^\top \delta_k`,
   :math:`\partial L / \partial b_k = \delta_k`.

Each step carries the equation :func:`~nablanet.explain.explain` states for it and the
tutorial equation numbers it cites (``LayerTrace.refs``, decided by
:mod:`nablanet.explain.notation` from the network: seed 001's numbers where the activation is
a sigmoid and the loss a squared error, the model's own equations otherwise). With L1 or L2
regularization on, the loss and :math:`\partial L / \partial W_k` include the penalty, as
a training step's do, and the equation says so (``+ l2 * W1``).
"""

from __future__ import annotations

from typing import Any

from nablanet.explain import explain

from .config import RequestError
from .session import Session, json_floats

FORWARD = ("z", "a")
BACKWARD = ("dL_da", "delta", "dW", "db")
NAMES = {
    "z": "z{k} = a{p} W{k} + b{k}",
    "a": "a{k} = sigma(z{k})",
    "dL_da": "dL/da{k}",
    "delta": "delta{k} = dL/dz{k}",
    "dW": "dL/dW{k}",
    "db": "dL/db{k}",
}


def backprop_steps(session: Session, sample: int) -> dict[str, Any]:
    """Every step of the forward and backward pass of training ``sample``.

    Returns
    -------
    dict
        ``{"sample", "x", "y", "steps"}``; each step is ``{"phase": "forward" | "loss" |
        "backward", "layer": k (0 for the loss), "quantity", "title", "value" (a number, or
        nested lists of the layer's array: ``z``, ``a``, ``dL_da``, ``delta`` of shape
        (n_out,), ``dW`` (n_in, n_out), ``db`` (n_out,)), "equation", "ref"}``.

    Raises
    ------
    RequestError
        If ``sample`` is out of range.
    """
    if not 0 <= sample < len(session.X):
        raise RequestError(f"sample must be from 0 to {len(session.X) - 1}, got {sample}")
    ex = explain(session.model, session.X[sample], session.y[sample], max_fd=1, seed=0)
    steps: list[dict[str, Any]] = []

    def add(phase: str, k: int, quantity: str, value: Any, equation: str, ref: Any) -> None:
        title = NAMES.get(quantity, "L").format(k=k, p=k - 1)
        steps.append({"phase": phase, "layer": k, "quantity": quantity, "title": title,
                      "value": json_floats(value), "equation": equation, "ref": ref})  # fmt: skip

    for t in ex.layers:
        for q in FORWARD:
            add("forward", t.k, q, getattr(t, q)[0], t.equations[q], t.refs.get(q))
    add("loss", 0, "L", ex.loss, ex.loss_equations[0], None)
    for t in reversed(ex.layers):
        for q in BACKWARD:
            value = getattr(t, q)
            add("backward", t.k, q, value[0] if q in ("dL_da", "delta") else value,
                t.equations[q], t.refs.get(q))  # fmt: skip
    return {
        "sample": sample,
        "x": json_floats(session.X[sample]),
        "y": json_floats(session.y[sample]),
        "steps": steps,
    }
