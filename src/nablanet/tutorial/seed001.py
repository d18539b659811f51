r"""Seed 001 ("Introduction to Deep Learning - Part 3"), its own training step, replayed exactly.

The seed's ``MyNeuralNetwork(2, [2], 2)`` starts from the weights it prints as Output.4 and,
after ``fit`` (eta 0.05, 100 epochs, the 10 points below), prints Output.5. Its ``fit`` is
*not* gradient descent on its loss; one epoch does:

1. for every sample ``i``: forward, and add ``dL/da = a_i - t_i`` into a total (its loss
   :math:`L = \sum_i \frac12\sum_j (a_{ij} - t_{ij})^2` is summed over the samples, no ``1/n``);
2. ``back_propagation(total)``: every delta and every ``dL/dW = a_{k-1}^T \delta_k`` uses
   the activations of the **last sample forwarded** (``[6.5, 4.8]``) for all ten;
3. it updates the output layer first, then computes the hidden deltas through the output
   weights **already updated** in this step.

The true gradient uses each sample's own activations and the weights before the step.
:func:`replay` runs the seed's step on a nablanet network (seed 001's summation order and
sigmoid, :mod:`nablanet.tutorial.conventions`), records both gradients at every step, and prints
Output.5 digit for digit. The seed's targets map label 0 to ``[0.05, 0.95]`` and label 1 to
``[0.95, 0.05]``, and its ``predict`` returns the argmax index, so label 1 is predicted when
output 0 is larger.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_positive_int
from ..explain.notation import LAYOUT_NOTE, chain_layer, update_refs
from ..explain.text import format_array
from ..layers import Dense
from ..model import Sequential
from ..optimizers import SGD
from .conventions import SeedDense, SeedSigmoid, SummedHalfSquaredError
from .examples import SEED001_LAYERS

Array = np.ndarray

X = [
    [1.2, 1.6], [7.6, 6.8], [3.4, 4.4], [6.9, 8.8], [3.0, 3.2],
    [5.6, 6.8], [2.2, 1.8], [5.8, 5.2], [1.8, 2.2], [6.5, 4.8],
]  # fmt: skip
Y = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
X_TEST = [[5.2, 6.2], [2.1, 2.0], [7.1, 6.5]]
Y_TEST = [1, 0, 1]
ETA, EPOCHS = 0.05, 100


def seed001_targets(y: Any) -> Array:
    """The seed's ``probabilities_of_target``: 0 -> [0.05, 0.95], 1 -> [0.95, 0.05]; (n, 2)."""
    y = np.asarray(y).reshape(-1, 1)
    return np.where(y == 1, [0.95, 0.05], [0.05, 0.95])


def seed001_model(eta: float = ETA) -> Sequential:
    """Seed 001's 2-2-2 sigmoid network with Output.4's weights, float64, summed loss, in the
    seed's summation order (``z = b + x_1 W_1 + x_2 W_2``) and sigmoid form."""
    layers: list[Any] = []
    for neurons in SEED001_LAYERS:
        W = np.array([w for _, w in neurons]).T  # W[:, j] is neuron j's weights
        b = np.array([bias for bias, _ in neurons])
        layers += [SeedDense(2, summation="bias_first", weights=W, bias=b), SeedSigmoid(exp="math")]
    model = Sequential(
        layers, loss=SummedHalfSquaredError(), optimizer=SGD(lr=eta), dtype="float64"
    )
    model.build(2)
    model.task = "regression"  # targets are the seed's probability rows, given as such
    return model


def _sum_rows(rows: Array) -> Array:
    """Rows added one at a time from 0.0, as the seed's ``accumulate_into_total`` (NumPy's
    ``sum`` adds in a different order and can differ in the last digit)."""
    total = np.zeros(rows.shape[1])
    for row in rows:
        total = total + row
    return total


@dataclass
class LayerStep:
    """Layer ``k`` in one step: weights before and after, and both gradients.

    ``dW_seed``, ``db_seed`` are what the seed multiplies by eta (its update is
    ``W - eta * dW_seed``); ``dW_true``, ``db_true`` are the gradient of its summed loss at the
    weights before the step. ``W`` is (n_in, n_out), ``b`` (n_out,).
    """

    k: int
    W_old: Array
    b_old: Array
    dW_seed: Array
    db_seed: Array
    dW_true: Array
    db_true: Array
    W_new: Array
    b_new: Array


@dataclass
class Step:
    """One epoch of the seed's ``fit``: its loss per output, the summed dL/da, each layer."""

    epoch: int
    loss: list[float]
    dl_da: Array
    layers: list[LayerStep] = field(default_factory=list)


def seed_step(model: Sequential, X: Array, T: Array, epoch: int = 1) -> tuple[Step, list[Array]]:
    """One epoch of seed 001's ``fit`` on ``model`` (built by :func:`seed001_model`).

    Returns the :class:`Step` and the forward values ``[a0, z1, a1, z2, a2, ...]`` of the last
    sample (what the seed's ``info()`` prints afterwards).
    """
    denses = [layer for layer in model.layers if isinstance(layer, Dense)]
    lr = model.optimizer.lr
    model.loss_and_grads(X, T)  # fills grads: the exact gradient of the summed loss, for contrast
    true = [(d.grads["W"].copy(), d.grads["b"].copy()) for d in denses]
    outputs: list[Array] = []
    model.forward(X, trace=outputs)  # every layer's output for every sample
    a = [X, *outputs[1::2]]  # a0 = x, a1, a2, ...
    diff = a[-1] - T  # the seed: (2.0 * (a - t)) / 2.0, which is exactly a - t
    step = Step(epoch, _sum_rows(diff * diff / 2.0).tolist(), _sum_rows(diff))
    last = [v[-1] for v in a]  # the last sample's a_k, used for every gradient below
    K = len(denses)
    old = [(d.params["W"].copy(), d.params["b"].copy()) for d in denses]
    seed_grads: list[tuple[Array, Array]] = [(old[0][0], old[0][1])] * K
    g = step.dl_da  # dL/da_K, summed over the samples: (n_out,)
    deltas: list[Array] = [g] * K
    for k in range(K - 1, -1, -1):
        s = last[k + 1] * (1 - last[k + 1])  # sigma'(z) from the last sample's a: (n_out,)
        if k == K - 1:
            deltas[k] = s * g  # da_dz * dl_da
        else:  # through the next layer's weights -- already updated when that is the output
            terms = (s[:, None] * denses[k + 1].params["W"]) * deltas[k + 1][None, :]
            deltas[k] = _sum_rows(terms.T)  # delta_j = sum_i sigma'_j W[j, i] delta_i
        seed_grads[k] = (np.outer(last[k], deltas[k]), deltas[k])
        if k == K - 1:  # the seed adjusts the output layer before the hidden deltas
            _adjust(denses[k], lr, last[k], deltas[k])
    for k in range(K - 2, -1, -1):
        _adjust(denses[k], lr, last[k], deltas[k])
    for k, dense in enumerate(denses):
        step.layers.append(
            LayerStep(
                k + 1, *old[k], *seed_grads[k], *true[k],
                dense.params["W"].copy(), dense.params["b"].copy(),
            )
        )  # fmt: skip
    forward = [X[-1]] + [v[-1] for v in outputs]
    return step, forward


def _adjust(dense: Dense, lr: float, a_prev: Array, delta: Array) -> None:
    """The seed's ``adjust_weight``/``adjust_bias``: ``W[i, j] -= (eta * a_i) * delta_j``."""
    dense.params["W"] -= (lr * a_prev)[:, None] * delta[None, :]
    dense.params["b"] -= lr * delta


@dataclass
class Replay:
    """Seed 001's ``fit`` replayed: every :class:`Step`, and the network afterwards."""

    model: Sequential
    steps: list[Step]
    forward: list[Array]
    eta: float

    def predict(self, X: Any) -> list[int]:
        """The seed's ``predict``: the index of the larger output, per row."""
        return np.argmax(self.model.predict_proba(np.asarray(X, dtype=float)), axis=1).tolist()

    def info(self) -> str:
        """The seed's ``mynn.info()`` text after training: Output.5, digit for digit."""
        return seed001_info(self.model, self.forward, self.eta, len(self.steps))


def replay(epochs: int = EPOCHS, eta: float = ETA) -> Replay:
    """Run seed 001's ``fit`` from Output.4 for ``epochs`` epochs (the seed's 100 -> Output.5)."""
    epochs = check_positive_int("epochs", epochs)
    model = seed001_model(eta)
    Xa, T = np.asarray(X, dtype=float), seed001_targets(Y)
    steps: list[Step] = []
    forward: list[Array] = []
    for epoch in range(1, epochs + 1):
        step, forward = seed_step(model, Xa, T, epoch)
        steps.append(step)
    return Replay(model, steps, forward, eta)


def seed001_info(model: Sequential, forward: list[Array] | None, eta: float, epochs: int) -> str:
    """The seed's ``info()`` text: Output.4 (``forward=None``: nothing forwarded yet) or
    Output.5 (``forward = [a0, z1, a1, z2, a2]`` of the last sample)."""
    denses = [layer for layer in model.layers if isinstance(layer, Dense)]
    lines = ["========= [ Neural Network ] =========", f"Learning Rate (eta): {eta}"]
    lines += [f"Maximum Iterations (epoch): {epochs}"]
    lines += [f"Hidden Layer Sizes: {[d.units for d in denses[:-1]]}"]
    for k, dense in enumerate(denses):
        W, b = dense.params["W"], dense.params["b"]
        n_in = W.shape[0]
        if forward is None:
            inp, z, a = [0.0] * n_in, [0.0] * dense.units, [0.0] * dense.units
        else:
            inp, z, a = (forward[2 * k + i].tolist() for i in range(3))
        lines += [f"~~~~~~ [ Layer - {k + 1} ] ~~~~~~", f"No. of Neurons: {dense.units}"]
        lines += [f"Input: {inp}", f"Z Values: {z}", f"A Values: {a}"]
        for j in range(dense.units):
            lines += ["--- [ Neuron ] ---", f"No. of Inputs: {n_in}"]
            lines.append(f"Bias: {float(b[j])!r} , Weights: {W[:, j].tolist()}")
    lines.append("======================================")
    return "\n".join(lines)


# -- printing -------------------------------------------------------------------------------
DEPARTURES = (
    "the seed sums dL/da over the 10 samples, then multiplies it by sigma'(z) and a_{k-1} of the "
    "last sample forwarded ([6.5, 4.8]) for every gradient; the true gradient sums "
    "a_{k-1}^T delta_k over the samples, each with its own activations.",
    "it adjusts the output layer first and then sends the deltas back through the output "
    "weights it has just changed; the true gradient uses the weights before the step.",
    "its loss is a sum over the samples (no 1/n), so eta 0.05 here is eta 0.5 on the mean loss.",
)


def _arr(label: str, value: Array, width: int) -> str:
    head = f"{label:>{width}} "
    return head + format_array(np.atleast_1d(value), len(head))


def render_step(step: Step, eta: float) -> str:
    """One epoch of the seed's step: its gradient and the true one, layer by layer."""
    K = len(step.layers)
    out = [f"--- epoch {step.epoch}: the seed's update beside the true gradient of its loss ---"]
    out.append("  L = sum over samples of 1/2 sum_j (a2_j - t_j)**2   [seed 001 (6), halved]")
    out.append(_arr("loss per output =", np.array(step.loss), 24))
    out.append(_arr("summed dL/da =", step.dl_da, 24))
    for u in reversed(step.layers):
        w_ref, b_ref = update_refs(u.k, K)
        s = chain_layer(u.k, K)
        out.append(f"layer {u.k}{' (output)' if u.k == K else ''}: backward as seed 001 layer {s}")
        for p, old, seed_g, true_g, new, ref in (
            (f"W{u.k}", u.W_old, u.dW_seed, u.dW_true, u.W_new, w_ref),
            (f"b{u.k}", u.b_old, u.db_seed, u.db_true, u.b_new, b_ref),
        ):
            out.append(_arr(f"{p} =", old, 24))
            out.append(_arr(f"seed's dL/d{p} =", seed_g, 24))
            out.append(_arr(f"true dL/d{p} =", true_g, 24))
            out.append(f"  {p} <- {p} - eta * (seed's dL/d{p}),  eta = {eta}   [seed 001 {ref}]")
            out.append(_arr(f"new {p} =", new, 24))
    out.append("where the seed's step departs from the true gradient:")
    for i, text in enumerate(DEPARTURES, 1):
        out += textwrap.wrap(text, 100, initial_indent=f"  {i}. ", subsequent_indent="     ")
    return "\n".join(out)


def render_replay(r: Replay) -> str:
    """Output.4, the first epoch in detail, the seed's per-epoch log, Output.5 and Output.6."""
    out = [
        f"seed 001's own fit, replayed on nablanet layers: eta {r.eta}, {len(r.steps)} epochs, "
        "its 10 training points, full batch",
        *textwrap.wrap(
            f"note: {LAYOUT_NOTE} The seed's info() printouts below list each neuron's weights; "
            "the epoch prints the arrays W_k, where neuron j's list is column j.",
            100,
            subsequent_indent="      ",
        ),
        "Output.4 (before training):",
        seed001_info(seed001_model(r.eta), None, r.eta, len(r.steps)),
        "",
    ]
    if r.steps:
        out += [render_step(r.steps[0], r.eta), ""]
        out.append("every epoch (the seed's debug line: its loss summed over the samples):")
        out += [f"*** Iteration: {s.epoch} , Average Loss: {s.loss}" for s in r.steps]
    n = len(r.steps)
    seeds = n == EPOCHS  # the seed prints Output.5 and Output.6 after its 100 epochs
    title = (
        "Output.5"
        if seeds
        else f"after {n} epoch{'s' if n != 1 else ''} (Output.5 is after {EPOCHS})"
    )
    out += ["", f"{title}:", r.info(), ""]
    out.append(f"{'Output.6: ' if seeds else ''}Predicted: {r.predict(X_TEST)}  Actual: {Y_TEST}")
    return "\n".join(out)
