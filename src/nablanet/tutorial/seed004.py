r"""Seeds 003 and 004: the 3-4-1 network without biases on the three-input XOR.

Seed 004 (a question: "why does ``weight2 + lr * a1.T @ dC_dw2`` work when the textbook says
``W - lr * dC/dW``?") trains, from ``np.random.seed(1)``'s ``random((3, 4))`` and
``random((4, 1))`` weights, with learning rate 1 for 1000 iterations:

.. math::
    a_1 = \sigma(x W_1), \quad a_2 = \sigma(a_1 W_2), \quad
    W_2 \mathrel{+}= a_1^\top\big((y - a_2) \odot a_2(1 - a_2)\big), \quad
    W_1 \mathrel{+}= x^\top\big(((y - a_2) \odot a_2(1 - a_2)) W_2^\top \odot a_1(1 - a_1)\big)

That *is* gradient descent, ``W - lr * dL/dW``, on :math:`L = \frac12\sum_i (a_{2,i} - y_i)^2`
summed over the four samples: ``(y - a2) = -(a2 - y)`` carries the minus sign, and
``a1.T @`` is the chain rule's :math:`\partial z_2 / \partial W_2` (seed 001's eq. (11)) summed
over the samples. Seed 003's slides use the same biasless layers with the sum of squared errors
(``2 * diff``) and no learning rate. Tutorial mode: ``SeedDense(use_bias=False)``, the summed
loss, plain SGD at lr 1.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_positive_int
from ..explain.notation import LAYOUT_NOTE, LayerNotation, layer_notation, loss_refs
from ..explain.text import format_array
from ..model import Sequential
from ..optimizers import SGD
from .conventions import SeedDense, SeedSigmoid, SummedHalfSquaredError

Array = np.ndarray
X = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
Y = [0, 1, 1, 0]
ITERATIONS = 1000


def seed004_weights(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``np.random.seed(1); random((3, 4)); random((4, 1))``, from a private ``RandomState``."""
    legacy = np.random.RandomState(seed)
    return legacy.random((3, 4)), legacy.random((4, 1))


def seed004_model(lr: float = 1.0) -> Sequential:
    """Seed 004's network in float64: no biases, sigmoid units, summed half squared error."""
    W1, W2 = seed004_weights()
    model = Sequential(
        [
            SeedDense(4, use_bias=False, weights=W1), SeedSigmoid(),
            SeedDense(1, use_bias=False, weights=W2), SeedSigmoid(),
        ],
        loss=SummedHalfSquaredError(), optimizer=SGD(lr=lr), dtype="float64",
    )  # fmt: skip
    model.build(3)
    model.task = "regression"
    return model


def train_like_seed004(model: Sequential, iterations: int = ITERATIONS) -> np.ndarray:
    """The seed's loop: forward, then one step; returns ``a2`` of the last forward pass, which
    the seed prints as its "New ouput" (shape (4, 1))."""
    iterations = check_positive_int("iterations", iterations)
    Xa = np.asarray(X, dtype=float)
    Ya = np.asarray(Y, dtype=float).reshape(-1, 1)
    a2 = np.empty((4, 1))
    for _ in range(iterations):
        _, out = model.train_step(Xa, Ya)  # out: a2 before this step's update
        a2 = out.copy()
    return a2


# -- the sign question, with the numbers of one step -----------------------------------------
@dataclass
class SignStep:
    """One step of seed 004's network on its four samples, both ways.

    ``seed_*`` are computed as the seed's code does (``(y - a2)``, ``+``); the rest is nablanet's
    backward and its SGD step (:func:`nablanet.explain.explain`, one value per quantity).
    Shapes: ``x`` (4, 3), ``y`` and ``a2`` (4, 1), ``a1`` (4, 4), ``W1`` (3, 4), ``W2`` (4, 1).
    """

    x: Array
    y: Array
    lr: float
    W1: Array
    W2: Array
    a1: Array
    a2: Array
    delta2: Array
    dW2: Array
    delta1: Array
    dW1: Array
    W1_new: Array
    W2_new: Array
    seed_dC_dw2: Array
    seed_step2: Array
    seed_dC_dw1: Array
    seed_step1: Array
    refs: dict[int, LayerNotation] = field(default_factory=dict)

    @property
    def seed_W2_new(self) -> Array:
        """The seed's ``weight2 + learningRate * np.dot(a1.T, dC_dw2)``."""
        return self.W2 + self.lr * self.seed_step2

    @property
    def seed_W1_new(self) -> Array:
        """The seed's ``weight1 + learningRate * np.dot(a0.T, dC_dw1)``."""
        return self.W1 + self.lr * self.seed_step1

    def __str__(self) -> str:
        return render_sign_step(self)


def sign_step(lr: float = 1.0) -> SignStep:
    """Seed 004's first step, from its initial weights: the seed's ``+`` form beside nablanet's
    ``W - lr * dL/dW``, every array of both."""
    from ..explain import explain

    model = seed004_model(lr)
    x = np.asarray(X, dtype=float)
    y = np.asarray(Y, dtype=float).reshape(-1, 1)
    e = explain(model, x, y, max_fd=1)
    hidden, out = e.layers
    upd_hidden, upd_out = e.update.steps[0].layers  # type: ignore[union-attr]
    a1, a2, W2 = hidden.a, out.a, out.W
    # the seed's code, line by line
    dC_dw2 = (y - a2) * (a2 * (1 - a2))  # delta2 = (y - a2); dC_dw2 = delta2 * derv_sigmoid(a2)
    dC_dw1 = np.multiply(dC_dw2, W2.T) * (a1 * (1 - a1))  # (4, 1) * (1, 4) -> (4, 4)
    return SignStep(
        x, y, lr, hidden.W, W2, a1, a2, out.delta, out.dW, hidden.delta, hidden.dW,
        upd_hidden.W_new, upd_out.W_new, dC_dw2, a1.T @ dC_dw2, dC_dw1, x.T @ dC_dw1,
        {k: layer_notation(k, 2, "Sigmoid", model.loss.name) for k in (1, 2)},
    )  # fmt: skip


def render_sign_step(s: SignStep) -> str:
    """The sign derivation, ``(y - a2) = -(a2 - y)``, and ``a1.T`` as the sum over the samples,
    with the numbers of :func:`sign_step`."""
    out_refs, hid_refs = s.refs[2].refs, s.refs[1].refs

    def ref(text: str) -> str:
        return f"   [{text}]"

    def arr(label: str, value: Array) -> str:
        head = f"{label:>28} "
        return head + format_array(value, len(head))

    out = [
        "seed 004's question: why does weight2 + lr * a1.T @ ((y - a2) * a2 * (1 - a2)) train,",
        "when gradient descent is W2 - lr * dL/dW2? Its network: 3-4-1 sigmoid units without",
        f"biases, its np.random.seed(1) weights, lr {s.lr!r}, its 4 samples; one step, both ways.",
        *textwrap.wrap(f"note: {LAYOUT_NOTE}", 100, subsequent_indent="      "),
        "  L = sum over the samples of 1/2 (a2 - y)**2   (seed 004's answer: 1/2 sum (y - a2)**2)",
        "     " + ref(str(loss_refs("summed_half_squared_error")[0])).strip(),
        arr("x = a0 =", s.x),
        arr("y =", s.y),
        arr("W1 =", s.W1),
        arr("W2 =", s.W2),
        "  a1 = sigmoid(x @ W1), a2 = sigmoid(a1 @ W2)" + ref(out_refs["a"]),
        arr("a1 =", s.a1),
        arr("a2 =", s.a2),
        "",
        "1. The sign: (y - a2) = -(a2 - y).",
        "  dL/da2 = a2 - y" + ref(out_refs["dL_da"]),
        arr("a2 - y =", s.a2 - s.y),
        arr("the seed's delta2 = y - a2 =", s.y - s.a2),
        "  delta2 = (a2 - y) * a2 * (1 - a2)" + ref(out_refs["delta"]),
        arr("delta2 =", s.delta2),
        "  the seed's dC_dw2 = (y - a2) * a2 * (1 - a2) = -delta2",
        arr("dC_dw2 =", s.seed_dC_dw2),
        "",
        "2. a1.T sums over the samples: dL/dW2 = a1.T @ delta2 = sum_i a1[i]^T delta2[i]"
        + ref(out_refs["dW"]),
        "  (seed 004's (Eq B.3): dz2/dW2 = a1^T; one term per sample, W2 printed as a row)",
    ]
    for i in range(len(s.x)):
        out.append(arr(f"sample {i}: a1[{i}] * delta2[{i}] =", s.a1[i] * s.delta2[i, 0]))
    out += [
        arr("dL/dW2 =", s.dW2.T),
        "",
        "3. The update: weight2 + lr * a1.T @ dC_dw2 = W2 - lr * a1.T @ delta2 = W2 - lr * dL/dW2"
        + ref(f"seed 001 {s.refs[2].update[0]}"),
        arr("the seed's a1.T @ dC_dw2 =", s.seed_step2.T),
        arr("-dL/dW2 =", -s.dW2.T),
        arr("the seed's new W2 =", s.seed_W2_new.T),
        arr("W2 - lr * dL/dW2 =", s.W2_new.T),
        "",
        "4. The same for W1: the seed's dC_dw1 = (dC_dw2 * W2.T) * a1 * (1 - a1) = -delta1,",
        "  delta1 = (delta2 @ W2.T) * a1 * (1 - a1)"
        + ref(f"{hid_refs['dL_da']}; {hid_refs['delta']}"),
        arr("delta1 =", s.delta1),
        arr("the seed's dC_dw1 =", s.seed_dC_dw1),
        "  dL/dW1 = x.T @ delta1, a sum over the samples" + ref(hid_refs["dW"]),
        arr("dL/dW1 =", s.dW1),
        arr("the seed's x.T @ dC_dw1 =", s.seed_step1),
        "  weight1 + lr * x.T @ dC_dw1 = W1 - lr * dL/dW1" + ref(f"seed 001 {s.refs[1].update[0]}"),
        arr("the seed's new W1 =", s.seed_W1_new),
        arr("W1 - lr * dL/dW1 =", s.W1_new),
    ]
    return "\n".join(out)
