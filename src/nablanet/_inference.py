r"""The fast path of :meth:`nablanet.Sequential.predict_proba`: what it skips, what it keeps.

``predict_proba`` on the checked path converts and checks ``X`` (:meth:`Sequential.check_X`),
walks the layers (each Dense caching its input, each activation its output, for a backward
that inference never runs) and applies the loss's link. For one sample of 784-256-128-10 that
walk is a dozen Python and NumPy calls around three small matrix products, and costs about as
much as the products. The fast path runs the same network as a :class:`Plan`: the Dense
layers' weights (views into the model's packed buffer) and one activation code per layer.

**When it runs.** ``X`` is already a C-contiguous ``numpy.ndarray`` of the model's dtype and
shape (n, n_features) with ``0 < n <= batch_size``, and the network is a chain of plain
:class:`~nablanet.layers.Dense` layers, each followed by nothing, Identity, ReLU, Sigmoid or
Tanh (the last one also by Softmax or Exp, or by the loss's link), Dropout layers anywhere
(the identity at inference). Anything else takes the checked path, unchanged.

**What it keeps.** The finiteness check: a NaN or an infinity in ``X`` sends the call to the
checked path, which raises its usual ``ValueError``. Up to :data:`KERNEL_ROWS` rows, the
compiled kernel :func:`nablanet._fast.infer.forward_rows` does it on the first layer's output
(every entry of ``x @ W + b`` is non-finite when an input is); above, the first layer's bias +
activation kernel does (:func:`nablanet._fast.infer.bias_act_finite`), saving a pass over
``X``; without numba, ``X`` is checked first (:func:`nablanet.functional.all_finite`). A
finite input that overflows there takes the checked path too, which computes the same
infinities. The result equals the checked path's to rounding
(float32: relative 1e-6 of the output's scale): the same formulas, the sums of the small
kernel in another order than BLAS's. It is a new array each call.

**What it skips.** The conversions and checks that a ready array does not need, the layers'
caches (the last forward pass's activations stay those of the last ``forward`` call), and the
Python walk over the layers. ``NABLANET_FAST=0`` keeps the plan but runs it with NumPy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _fast
from .functional import all_finite, sigmoid, softmax
from .layers.activations import Exp, Identity, ReLU, Sigmoid, Softmax, Tanh
from .layers.dense import Dense
from .layers.dropout import Dropout
from .losses import apply_link

if TYPE_CHECKING:
    from .model import Sequential

Array = np.ndarray
# the activation codes of nablanet._fast.dense and nablanet._fast.infer (kept equal by a test)
IDENTITY, RELU, SIGMOID, TANH, SOFTMAX, EXP = 0, 1, 2, 3, 4, 5
_CODES: dict[type, int] = {
    Identity: IDENTITY,
    ReLU: RELU,
    Sigmoid: SIGMOID,
    Tanh: TANH,
    Softmax: SOFTMAX,
    Exp: EXP,
}
_LINKS = {"identity": IDENTITY, "sigmoid": SIGMOID, "softmax": SOFTMAX, "exp": EXP}

#: Batches of at most this many rows run through the one-call kernel; larger ones through
#: BLAS matrix products. ``python benchmarks/latency.py --kernel-sweep --sizes 1 2 3 4 8 12 16
#: 32 64`` on the AMD EPYC (2026-12-07, load 11-12), 784-256-128-10: the kernel took 31, 37, 49,
#: 59, 110 and 118 us for 1-12 rows, BLAS 47, 97, 147, 84, 121 and 136 us (OpenBLAS is slow
#: for a few rows); from 16 rows on BLAS was the faster (167 against 242 us).
KERNEL_ROWS = 12


class Plan:
    """A model's Dense layers and activations, ready for inference.

    Parameters
    ----------
    model : Sequential
        Built; its Dense layers' parameters are views into ``model._flat[0]``.
    dense : list of (Dense, int)
        Each Dense layer and the code of the activation after it.
    """

    def __init__(self, model: Sequential, dense: list[tuple[Dense, int]]) -> None:
        flat = model._flat[0]
        self.flat = flat
        self.link = model.loss.link
        self.dtype = flat.dtype
        self.layers = [(layer, layer.params["W"], layer.params["b"], kind) for layer, kind in dense]
        rows = []
        for _layer, W, b, kind in self.layers:
            rows.append([W.shape[0], W.shape[1], _offset(flat, W), _offset(flat, b), kind])
        #: per Dense layer: n_in, n_out, offsets of W and b in ``flat``, activation code
        self.table = np.array(rows, dtype=np.int64)
        self.n_outputs = int(self.table[-1, 1])

    def current(self, model: Sequential) -> bool:
        """True while the model still computes with these arrays and this link."""
        if model._flat[0] is not self.flat or model.loss.link != self.link:
            return False
        for layer, W, b, _kind in self.layers:
            if layer.params["W"] is not W or layer.params["b"] is not b:
                return False
        return True

    def run(self, X: Array) -> Array | None:
        """The network's output for the ready ``X``, or None when ``X`` is not finite."""
        fast = _fast.enabled()
        if fast and len(X) <= KERNEL_ROWS:
            out = np.empty((len(X), self.n_outputs), dtype=self.dtype)
            return out if _fast.infer.forward_rows(X, self.flat, self.table, out) else None
        first = self.layers[0]
        if fast and first[3] <= TANH:  # the first layer's kernel checks finiteness as it goes
            with np.errstate(all="ignore"):  # a NaN or inf input: no warning, the error follows
                a = X @ first[1]
                if not _fast.infer.bias_act_finite(a, first[2], first[3]):
                    return None
            rest = self.layers[1:]
        elif not all_finite(X):
            return None
        else:
            a, rest = X, self.layers
        for _layer, W, b, kind in rest:
            a = a @ W  # (n, n_in) @ (n_in, n_out): a new array, changed in place below
            if fast and kind <= TANH:
                _fast.dense.bias_act(a, b, kind)  # a <- f(a + b), one pass
            elif fast and kind == SOFTMAX:
                _fast.infer.bias_softmax(a, b)
            else:
                a += b
                _activate(a, kind)
        return a


def _offset(flat: Array, part: Array) -> int:
    """Where the view ``part`` starts in ``flat``, in elements (ValueError if not a view)."""
    start = part.__array_interface__["data"][0] - flat.__array_interface__["data"][0]
    if not part.flags.c_contiguous or start < 0 or start + part.nbytes > flat.nbytes:
        raise ValueError("not a view into the packed buffer")
    return start // flat.itemsize


def _activate(a: Array, kind: int) -> None:
    """``a <- f(a)`` in place, as the activation layers compute it."""
    if kind == RELU:
        np.maximum(a, 0, out=a)
    elif kind == SIGMOID:
        sigmoid(a, out=a)
    elif kind == TANH:
        np.tanh(a, out=a)
    elif kind == EXP:
        np.exp(a, out=a)
    elif kind == SOFTMAX:
        a[...] = softmax(a, axis=1)


def make_plan(model: Sequential) -> Plan | None:
    """The model's :class:`Plan`, or None when its layers are not a plain Dense chain."""
    dense: list[tuple[Dense, int]] = []
    tail: list[int] = []  # the activations after the current Dense layer
    for layer in model.layers:
        kind = type(layer)
        if kind is Dropout:
            continue
        if type(layer) is Dense:
            if dense:
                if len(tail) > 1:
                    return None
                dense[-1] = (dense[-1][0], tail[0] if tail else IDENTITY)
            dense.append((layer, IDENTITY))
            tail = []
        elif kind in _CODES and dense:
            tail.append(_CODES[kind])
        else:
            return None
    if not dense or len(tail) > 1:
        return None
    last = tail[0] if tail else IDENTITY
    link = _LINKS.get(model.loss.link)
    if link is None or (last != IDENTITY and link != IDENTITY):
        return None  # an activation and a link after it: the checked path composes them
    dense[-1] = (dense[-1][0], last if link == IDENTITY else link)
    if any(k > TANH for _, k in dense[:-1]):
        return None
    try:
        return Plan(model, dense)
    except ValueError:
        return None


def fast_predict(model: Sequential, X: Any, batch_size: int) -> Array | None:
    """``predict_proba(X)`` by the fast path, or None when the checked path must run."""
    if not (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype == model.dtype
        and 0 < len(X) <= batch_size
        and X.shape[1] == model.input_dim
        and X.flags.c_contiguous
    ):
        return None
    plan: Plan | bool | None = model.__dict__.get("_inference")  # reset by Sequential._bind
    if plan is None or (isinstance(plan, Plan) and not plan.current(model)):
        plan = make_plan(model) or False  # False: the layers are not a plain Dense chain
        model.__dict__["_inference"] = plan
    out = plan.run(X) if isinstance(plan, Plan) else None
    if out is not None and model.normalizes_proba():  # one-vs-rest scores: rows sum to 1
        out = apply_link("identity", out, normalize=True)
    return out
