"""Text for :mod:`nablanet.explain`: the equation behind each quantity, and the printed
:class:`~nablanet.explain.records.Explanation` and :class:`~nablanet.explain.records.Trace`.

Each printed line cites the tutorial equation it implements (:mod:`nablanet.explain.notation`);
arrays print with every digit when small, as seed 001 prints them (:func:`format_array`).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from ..layers import Layer
from ..losses import Loss, get_loss
from .notation import NOTES, loss_refs

if TYPE_CHECKING:
    from .records import Explanation, LayerUpdate, Trace

Array = np.ndarray

#: sigma'(z) in terms of a = sigma(z) (and z), per activation class.
DERIVATIVES = {
    "Sigmoid": "sigma'(z{k}) = a{k} * (1 - a{k})",
    "Tanh": "sigma'(z{k}) = 1 - a{k}**2",
    "ReLU": "sigma'(z{k}) = 1 where z{k} > 0, else 0",
    "LeakyReLU": "sigma'(z{k}) = 1 where z{k} > 0, else alpha",
    "Identity": "sigma'(z{k}) = 1",
    "SeedSigmoid": "sigma'(z{k}) = c * a{k} * (1 - a{k}), c = derivative_scale (seed 000: 2)",
}
FORWARD = {
    "Sigmoid": "a{k} = sigmoid(z{k}) = 1 / (1 + exp(-z{k}))",
    "Tanh": "a{k} = tanh(z{k})",
    "ReLU": "a{k} = max(z{k}, 0)",
    "LeakyReLU": "a{k} = z{k} if z{k} > 0 else alpha * z{k}",
    "Softmax": "a{k} = exp(z{k}) / sum(exp(z{k}), axis=1)",
    "Identity": "a{k} = z{k}",
    "SeedSigmoid": "a{k} = 1 / (1 + exp(-z{k}))",
}
#: (L, dL/da) per loss, for n samples and m outputs; {a} is the last layer's output.
LOSSES = {
    "mse": ("L = sum(({a} - y)**2) / (n * m)", "dL/d{a} = 2 * ({a} - y) / (n * m)"),
    "sum_squared_error": ("L = sum(({a} - y)**2) / n", "dL/d{a} = 2 * ({a} - y) / n"),
    "half_squared_error": ("L = sum(0.5 * ({a} - y)**2) / n", "dL/d{a} = ({a} - y) / n"),
    "binary_cross_entropy": (
        "L = -sum(y * log({a}) + (1 - y) * log(1 - {a})) / (n * m)",
        "dL/d{a} = ({a} - y) / ({a} * (1 - {a})) / (n * m)",
    ),
    "categorical_cross_entropy": ("L = -sum(y * log({a})) / n", "dL/d{a} = -y / {a} / n"),
    "seed000_cross_entropy": (
        "L = -sum(y * log({a}) + (1 - y) * log(1 - {a}))   (a sum: no 1/n)",
        "dL/d{a} = -y / {a} + (1 - y) / (1 - {a})",
    ),
    "summed_half_squared_error": (
        "L = sum(0.5 * ({a} - y)**2)   (a sum: no 1/n)",
        "dL/d{a} = {a} - y",
    ),
    "sigmoid_binary_cross_entropy": (
        "L = binary_cross_entropy(sigmoid({a}), y)",
        "dL/d{a} = (sigmoid({a}) - y) / (n * m)",
    ),
    "softmax_cross_entropy": (
        "L = categorical_cross_entropy(softmax({a}), y)",
        "dL/d{a} = (softmax({a}) - y) / n",
    ),
}


def loss_equations(name: str, K: int) -> tuple[str, str]:
    """``(L = ..., dL/da_K = ...)`` for the loss ``name`` and output layer ``K``."""
    L, dL = LOSSES.get(name, (f"L = {name}({{a}}, y)", "dL/d{a} = the loss's derivative"))
    return L.format(a=f"a{K}"), dL.format(a=f"a{K}")


def layer_equations(
    k: int, K: int, act: str, l2: float, loss: str, bias_grad: str = "sum", l1: float = 0.0
) -> dict[str, str]:
    """The equations of layer ``k`` of ``K`` (activation class ``act``), by quantity: ``z``,
    ``a``, ``dL_da``, ``delta``, ``dW`` and ``db``."""
    out = k == K
    eq = {"z": f"z{k} = a{k - 1} @ W{k} + b{k}" + ("   (a0 = x)" if k == 1 else "")}
    eq["a"] = FORWARD.get(act, f"a{k} = {act.lower()}(z{k})").format(k=k)
    eq["dL_da"] = loss_equations(loss, K)[1] if out else f"dL/da{k} = delta{k + 1} @ W{k + 1}.T"
    if act == "Softmax":
        eq["delta"] = f"delta{k} = a{k} * (dL/da{k} - sum(dL/da{k} * a{k}, axis=1))"
    else:
        eq["delta"] = f"delta{k} = dL/da{k} * sigma'(z{k}),  " + DERIVATIVES.get(
            act, "sigma' = the activation's derivative"
        ).format(k=k)
    eq["dW"] = f"dL/dW{k} = a{k - 1}.T @ delta{k}" + (f" + l2 * W{k}" if l2 else "")
    eq["dW"] += f" + l1 * sign(W{k})" if l1 else ""
    eq["db"] = f"dL/db{k} = sum(delta{k}, axis=0)"
    if bias_grad == "mean":  # nablanet.tutorial.SeedDense(bias_grad="mean"): seed 000's db
        eq["db"] = f"dL/db{k} = mean(delta{k}, axis=0)   (seed 000's db: 1/n of the gradient)"
    return eq


def model_notes(loss: str | Loss, output: Layer | None, K: int) -> list[str]:
    """Notes printed under the trace's header (``loss``: a name or the model's Loss)."""
    notes = list(NOTES)
    loss = get_loss(loss)
    if output is not None and loss.fused_with(type(output).__name__) is not None:
        notes.append(
            f"Training fuses {type(output).__name__} with {loss.name}: it computes "
            f"delta{K} directly from the logits, which gives the same delta{K} as above."
        )
    return notes


# -- printing -----------------------------------------------------------------------------
def format_array(arr: Array, indent: int) -> str:
    """Every digit (Python's repr) for small arrays, as seed 001 prints; 6 digits for big ones."""
    fmt: Any = {"float_kind": (lambda v: repr(float(v))) if arr.size <= 16 else "{:.6g}".format}
    with np.printoptions(threshold=64, edgeitems=3, linewidth=100):
        return np.array2string(arr, separator=", ", prefix=" " * indent, formatter=fmt)


def _value(label: str, arr: Array, at: int) -> str:
    """``label`` right-aligned so that its ``=`` sits in column ``at``, then the array."""
    head = f"{label:>{at + 1}} "
    return head + format_array(arr, len(head))


def _fd_line(fd: Array, err: float, at: int) -> str:
    """The finite differences ``fd`` (or how many entries were checked) and ``err``, the max
    relative error of the back-propagated gradient against them."""
    mask = ~np.isnan(fd)
    if mask.all():
        return f"{_value('f.d. =', fd, at)}   (max rel. error {err:.1e})"
    checked = f"f.d. at {int(mask.sum())} of {fd.size} random entries"
    return f"{' ' * (at - 4)}{checked}: max rel. error {err:.1e}"


def _line(equation: str, ref: str | None) -> str:
    text = f"  {equation}"
    return f"{text:<58} [{ref}]" if ref else text


def _eq_column(equation: str) -> int:
    return 2 + equation.index("=")


def render(e: Explanation) -> str:
    """The explanation ``e`` as printed: header and notes, the notation map, the forward pass,
    the backward pass beside its finite differences, then the update."""
    n, K = len(e.x), len(e.layers)
    out = ["nablanet explain: one forward and one backward pass, in float64"]
    out.append(f"{n} sample(s), {e.x.shape[1]} feature(s); loss {e.loss_name}")
    out.append(_value("x = a0 =", e.x, 7))
    out.append(_value("y =", e.y, 7))
    for note in e.notes:
        out += textwrap.wrap(note, 100, initial_indent="note: ", subsequent_indent="      ")
    if e.notation:
        out += ["", "Notation map:"]
        for line in e.notation:
            out += textwrap.wrap(line, 100, initial_indent="  ", subsequent_indent="    ")
    out += ["", "=== Forward ==="]
    for t in e.layers:
        out.append(f"layer {t.k}: Dense({t.W.shape[1]}) + {t.activation}")
        out.append(_value(f"W{t.k} =", t.W, 5))
        out.append(_value(f"b{t.k} =", t.b, 5))
        for key, arr in (("z", t.z), ("a", t.a)):
            out.append(_line(t.equations[key], t.refs.get(key)))
            out.append(_value("=", arr, _eq_column(t.equations[key])))
        for note in t.notes:
            out += textwrap.wrap(note, 100, initial_indent="  note: ", subsequent_indent="    ")
    out.append(_line(e.loss_equations[0], loss_refs(e.loss_name)[0]))
    out.append(f"{'=':>{_eq_column(e.loss_equations[0]) + 1}} {e.loss!r}")
    out += ["", "=== Backward ==="]
    for t in reversed(e.layers):
        out.append(f"layer {t.k}" + (" (output)" if t.k == K else ""))
        errors = t.errors()
        for key, bp, fd in (
            ("dL_da", t.dL_da, t.dL_da_fd),
            ("delta", t.delta, t.delta_fd),
            ("dW", t.dW, t.dW_fd),
            ("db", t.db, t.db_fd),
        ):
            at = _eq_column(t.equations[key])
            out.append(_line(t.equations[key], t.refs.get(key)))
            out.append(_value("=", bp, at))
            out.append(_fd_line(fd, errors[key], at))
    out.append("")
    out.append(f"max relative error, back-propagation vs finite differences: {e.max_error:.1e}")
    if e.update is not None and e.update.steps:
        u = e.update
        out += ["", f"=== Update: one step of {u.optimizer}, lr = {u.lr!r} ==="]
        for layer in reversed(u.steps[0].layers):
            out += update_lines(layer, u.plain_sgd, K)
    return "\n".join(out)


def update_lines(u: LayerUpdate, plain_sgd: bool, K: int) -> list[str]:
    """The printed update of one layer: old value, gradient, rule and new value, for W and b."""
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
