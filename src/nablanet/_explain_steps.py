r"""The update, shown: learning rate, old weights, gradient, new weights, for one or ``N`` steps.

Plain gradient descent, seed 001's equations (4), (13), (20), (28), (36), (40) and seed 000's
``update``:

.. math:: W_k \leftarrow W_k - \eta\,\frac{\partial L}{\partial W_k}, \qquad
          b_k \leftarrow b_k - \eta\,\frac{\partial L}{\partial b_k}

Another optimizer (momentum, Adam, ...) moves by its own rule; the trace then prints the step
it took (``new - old``) beside the gradient. :func:`trace` runs ``N`` steps of the model's own
optimizer on a float64 copy (the model is left untouched) and records, per step, the loss
before the step, every Dense layer's ``W``, ``b``, their gradients and their new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import _short, check_positive_int
from .layers import Dense

if TYPE_CHECKING:
    from .model import Sequential

Array = np.ndarray
MAX_STEPS = 10_000

#: Seed 001's update equations (W, b) by its layer number (1 first hidden, 3 output).
UPDATE_REFS = {3: ("(4)", "(13)"), 2: ("(20)", "(28)"), 1: ("(36)", "(40)")}


def seed001_layer(k: int, K: int) -> int:
    """Seed 001's layer number for nablanet's Dense layer ``k`` of ``K``: its equations are
    written for a 2-2-2-2 network whose output is layer 3 and whose first hidden layer is 1;
    any layer in between follows its layer 2."""
    return 3 if k == K else 1 if k == 1 else 2


def notation_map(K: int) -> list[str]:
    """Lines that map seed 001's (and seed 000's) names onto nablanet's layers 1..K."""
    lines = [
        "seed 001's equations are written for its Figure 1, a 2-2-2-2 network: input layer 0, "
        "hidden layers 1 and 2, output layer 3; W^k_{i,j} joins unit i of layer k-1 to unit j of "
        "layer k, so W^k_{i,j} = W_k[i-1, j-1] here (1-based there, 0-based here).",
    ]
    for k in range(K, 0, -1):
        s = seed001_layer(k, K)
        eqs = {3: "(4)-(19)", 2: "(20)-(35)", 1: "(36)-(46)"}[s]
        line = f"nablanet layer {k}{' (output)' if k == K else ''} = seed 001 layer {s}: "
        line += f"W{k}, b{k}, z{k}, a{k} are W^{s}, b^{s}, Z^{s}, a^{s}; equations {eqs}"
        if k == 1 and K == 2:
            line += (
                "; its delta arrives straight from the output layer, by the pattern the seed "
                "writes for its layer 2 (eqs. (20)-(35), (23): dZ^3/da^2 = W^3): this network "
                "has no seed layer 2"
            )
        lines.append(line + ".")
    lines.append(
        "seed 000 numbers its layers as nablanet does (a[0] = x, z[l], a[l], W[l], b[l]; its "
        "dz[l] is delta_l here), rows as samples in both."
    )
    return lines


@dataclass
class LayerUpdate:
    """Dense layer ``k`` in one step. ``W*`` are (n_in, n_out), ``b*`` (n_out,)."""

    k: int
    W_old: Array
    dW: Array
    W_new: Array
    b_old: Array
    db: Array
    b_new: Array
    #: Seed 001's equation numbers for this layer's W and b updates.
    refs: tuple[str, str] = ("", "")


@dataclass
class Step:
    """Step ``step`` (1-based): the loss before it and every Dense layer's update."""

    step: int
    loss: float
    layers: list[LayerUpdate] = field(default_factory=list)


@dataclass
class Trace:
    """``N`` optimizer steps, as :func:`trace` returns them; ``str()`` prints them."""

    optimizer: str
    lr: float
    plain_sgd: bool
    loss_name: str
    n_samples: int
    steps: list[Step]

    def __str__(self) -> str:
        return render_trace(self)


def _is_plain_sgd(optimizer: Any) -> bool:
    return (
        getattr(optimizer, "name", "") == "sgd"
        and not getattr(optimizer, "momentum", 0.0)
        and not getattr(optimizer, "weight_decay", 0.0)
    )


def check_built(model: Any) -> None:
    """Refuse anything but a built :class:`~nablanet.model.Sequential`, naming what came."""
    from .model import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a nablanet Sequential, got {_short(model)}")
    if not getattr(model, "built", False):
        raise ValueError("the model is not built yet: call fit(X, y) or build(n_features) first")


def trace(model: Sequential, X: Any, y: Any, steps: int = 1) -> Trace:
    """Take ``steps`` steps of the model's optimizer on the batch ``(X, y)`` and record each.

    Parameters
    ----------
    model : Sequential
        Built; copied to float64 (with a fresh optimizer state) and left untouched.
    X : array-like of shape (n, n_features) or (n_features,)
    y : targets as for ``fit`` (one label or target row for a single sample)
    steps : int
        Number of full-batch steps (1 to 10000).

    Returns
    -------
    Trace
    """
    from .explain import _as_batch, float64_copy

    steps = check_positive_int("steps", steps)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS}, got {steps}")
    check_built(model)
    twin = float64_copy(model)
    Xb, yb = _as_batch(X, y)
    Xp, Y = twin.prepare(Xb, yb)
    denses = [layer for layer in twin.layers if isinstance(layer, Dense)]
    K = len(denses)
    record = Trace(
        repr(twin.optimizer), float(twin.optimizer.lr), _is_plain_sgd(twin.optimizer),
        twin.loss.name, len(Xp), [],
    )  # fmt: skip
    for i in range(steps):
        old = [(d.params["W"].copy(), d.params["b"].copy()) for d in denses]
        loss, _ = twin.loss_and_grads(Xp, Y, training=False)
        grads = [(d.grads["W"].copy(), d.grads["b"].copy()) for d in denses]
        twin.apply_gradients()
        step = Step(i + 1, float(loss))
        for k, d in enumerate(denses):
            update = LayerUpdate(
                k + 1, old[k][0], grads[k][0], d.params["W"].copy(),
                old[k][1], grads[k][1], d.params["b"].copy(), UPDATE_REFS[seed001_layer(k + 1, K)],
            )  # fmt: skip
            step.layers.append(update)
        record.steps.append(step)
    return record


def update_lines(u: LayerUpdate, plain_sgd: bool, K: int) -> list[str]:
    """The printed update of one layer: old value, gradient, rule and new value, for W and b."""
    from ._explain_text import _line, _value

    k = u.k
    out = [f"layer {k}" + (" (output)" if k == K else "")]
    for name, old, grad, new, ref in (
        ("W", u.W_old, u.dW, u.W_new, u.refs[0]),
        ("b", u.b_old, u.db, u.b_new, u.refs[1]),
    ):
        p = f"{name}{k}"
        if plain_sgd:
            rule = f"{p} <- {p} - lr * dL/d{p}"
        else:
            rule = f"{p} <- {p} + step   (the optimizer's rule; plain SGD: {p} - lr * dL/d{p})"
        at = len(f"dL/d{p}") + 2
        out.append(_value(f"{p} =", old, at))
        out.append(_value(f"dL/d{p} =", grad, at))
        out.append(_line(rule, f"seed 001 {ref}" if ref else None))
        if not plain_sgd:
            out.append(_value("step =", new - old, at))
        out.append(_value(f"new {p} =", new, at))
    return out


def render_trace(t: Trace) -> str:
    """Every step of ``t``: the loss before it, then each layer's update, output layer first."""
    K = len(t.steps[0].layers) if t.steps else 0
    rule = "W <- W - lr * dL/dW" if t.plain_sgd else "its own rule (the step taken is printed)"
    out = [
        f"nablanet trace: {len(t.steps)} step(s) of {t.optimizer} on {t.n_samples} sample(s), "
        f"loss {t.loss_name}, lr = {t.lr!r}, in float64; update {rule}",
    ]
    if not t.plain_sgd:
        out.append("(the optimizer's state, e.g. momentum, starts from zero at step 1)")
    for step in t.steps:
        out += ["", f"--- step {step.step}: loss before the step = {step.loss!r} ---"]
        for u in reversed(step.layers):
            out += update_lines(u, t.plain_sgd, K)
    return "\n".join(out)
