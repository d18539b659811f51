"""Text for :mod:`nablanet.explain`: the equation behind each quantity, in seed 001's
notation, and the printed trace."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from .gradcheck import relative_error
from .layers import Layer
from .losses import Loss, get_loss

if TYPE_CHECKING:
    from .explain import Explanation

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


def max_error(bp: Array, fd: Array) -> float:
    """Largest relative error between ``bp`` and the checked (non-NaN) entries of ``fd``.

    As in :func:`nablanet.gradcheck.gradcheck`, the denominator is at least a thousandth of
    the array's largest gradient, so that round-off on entries that are almost zero does not
    read as a large relative error.
    """
    mask = ~np.isnan(fd)
    if not mask.any():
        return 0.0
    floor = max(1e-8, 1e-3 * float(np.abs(bp).max()))
    return float(relative_error(bp[mask], fd[mask], floor).max())


def loss_equations(name: str, K: int) -> tuple[str, str]:
    """``(L = ..., dL/da_K = ...)`` for the loss ``name`` and output layer ``K``."""
    L, dL = LOSSES.get(name, (f"L = {name}({{a}}, y)", "dL/d{a} = the loss's derivative"))
    return L.format(a=f"a{K}"), dL.format(a=f"a{K}")


def equations_for(
    k: int, K: int, act: str, l2: float, loss: str, bias_grad: str = "sum"
) -> tuple[dict[str, str], dict[str, str]]:
    """The equations of layer ``k`` of ``K`` (activation class ``act``), and the numbers of the
    matching equations in seed 001 (output layer: 5-19, hidden: 20-35, first: 36-46)."""
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
    eq["db"] = f"dL/db{k} = sum(delta{k}, axis=0)"
    if bias_grad == "mean":  # nablanet.tutorial.SeedDense(bias_grad="mean"): seed 000's db
        eq["db"] = f"dL/db{k} = mean(delta{k}, axis=0)   (seed 000's db: 1/n of the gradient)"
    refs = layer_refs(k, K, act, loss)
    return eq, refs


SQUARED = ("mse", "sum_squared_error", "half_squared_error")
BINARY = ("binary_cross_entropy", "sigmoid_binary_cross_entropy")


def loss_refs(loss: str) -> tuple[str | None, str | None]:
    """Where the tutorials write ``L`` and ``dL/da`` for ``loss``: seed 001's (6), (7) for the
    squared errors, seed 000's ``cross_entropy`` for the binary cross-entropies, else none."""
    if loss in SQUARED:
        halved = ", halved as in its ATTENTION box" if loss == "half_squared_error" else ""
        per_output = ", averaged over outputs too" if loss == "mse" else ""
        return f"seed 001 (6){halved}{per_output}", "seed 001 (7)" + (", halved" if halved else "")
    if loss in BINARY:
        return (
            "seed 000 cross_entropy, a mean here, a sum there",
            "seed 000 d_cross_entropy, / n here",
        )
    return None, None


def layer_refs(k: int, K: int, act: str, loss: str) -> dict[str, str]:
    """Seed equation numbers for layer ``k`` of ``K``, following its real activation and loss:
    seed 001's output layer is its layer 3 (eqs. 5-19), hidden 20-35, first 36-46; its sigmoid
    equations (1), (3), (8), (24) are cited only for a Sigmoid, its squared-error (7), (17)
    only for a squared-error loss."""
    sig = act == "Sigmoid"
    refs: dict[str, str] = {}
    if k == K:
        refs["z"] = "seed 001 (9), (10)"
        dl_da = loss_refs(loss)[1]
        if dl_da:
            refs["dL_da"] = dl_da
        if sig:
            refs["delta"] = "seed 001 (3), (8)" + (", (17)" if loss in SQUARED else "")
        refs |= {"dW": "seed 001 (11), (18)", "db": "seed 001 (15), (19)"}
    else:
        refs["z"] = "seed 001 (9), (25)"
        refs["dL_da"] = f"seed 001 (23): dz{k + 1}/da{k} = W{k + 1}"
        if sig:
            refs["delta"] = "seed 001 (24), (33)" + (", (44)" if k == 1 else "")
        first = k == 1
        refs["dW"] = "seed 001 (26), (34)" + (", (39), (45)" if first else "")
        refs["db"] = "seed 001 (31), (35)" + (", (46)" if first else "")
    if sig:
        refs["a"] = "seed 001 (1)"
    if "delta" not in refs:
        refs["delta"] = "seed 000's dz = da * f'(z)"
    return refs


def model_notes(loss: str | Loss, output: Layer | None, K: int) -> list[str]:
    """Notes printed under the trace's header (``loss``: a name or the model's Loss)."""
    notes = [
        "W_k[:, j] holds neuron j's weights and b_k[j] its bias (seed 001 lists them neuron by "
        "neuron); rows are samples.",
        "Seed 001 writes a hidden layer's delta as a product along one path (delta^2 . delta^3, "
        "eqs. 33-35); here delta_k = dL/dz_k is the whole product, summed over every neuron of "
        "the next layer (the seed's Figure 2 remark).",
    ]
    loss = get_loss(loss)
    if output is not None and loss.fused_with(type(output).__name__) is not None:
        notes.append(
            f"Training fuses {type(output).__name__} with {loss.name}: it computes "
            f"delta{K} directly from the logits, which gives the same delta{K} as above."
        )
    return notes


# -- printing -----------------------------------------------------------------------------
def _fmt(arr: Array, indent: int) -> str:
    """Every digit (Python's repr) for small arrays, as seed 001 prints; 6 digits for big ones."""
    fmt: Any = {"float_kind": (lambda v: repr(float(v))) if arr.size <= 16 else "{:.6g}".format}
    with np.printoptions(threshold=64, edgeitems=3, linewidth=100):
        return np.array2string(arr, separator=", ", prefix=" " * indent, formatter=fmt)


def _value(label: str, arr: Array, at: int) -> str:
    """``label`` right-aligned so that its ``=`` sits in column ``at``, then the array."""
    head = f"{label:>{at + 1}} "
    return head + _fmt(arr, len(head))


def _fd_line(bp: Array, fd: Array, at: int) -> str:
    mask = ~np.isnan(fd)
    err = max_error(bp, fd)
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
        for key, bp, fd in (
            ("dL_da", t.dL_da, t.dL_da_fd),
            ("delta", t.delta, t.delta_fd),
            ("dW", t.dW, t.dW_fd),
            ("db", t.db, t.db_fd),
        ):
            at = _eq_column(t.equations[key])
            out.append(_line(t.equations[key], t.refs.get(key)))
            out.append(_value("=", bp, at))
            out.append(_fd_line(bp, fd, at))
    out.append("")
    out.append(f"max relative error, back-propagation vs finite differences: {e.max_error:.1e}")
    if e.update is not None and e.update.steps:
        from ._explain_steps import update_lines

        u = e.update
        out += ["", f"=== Update: one step of {u.optimizer}, lr = {u.lr!r} ==="]
        for layer in reversed(u.steps[0].layers):
            out += update_lines(layer, u.plain_sgd, K)
    return "\n".join(out)
