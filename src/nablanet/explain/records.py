"""The records :func:`~nablanet.explain.explain` and :func:`~nablanet.explain.trace` return.

:class:`Explanation` holds one forward and backward pass, a :class:`LayerTrace` per Dense layer
with every quantity beside its finite difference; :class:`Trace` holds ``N`` optimizer steps, a
:class:`Step` each with a :class:`LayerUpdate` per Dense layer. ``str()`` of either prints it
(:mod:`nablanet.explain.text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import relative_error
from .text import render, render_trace

Array = np.ndarray


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


@dataclass
class LayerTrace:
    """Layer ``k`` (a Dense layer and its activation) of an :class:`Explanation`.

    Every array has the shape noted, for ``n`` samples, ``n_in`` inputs and ``n_out`` units;
    the ``*_fd`` arrays hold central finite differences (NaN where not checked).

    Attributes
    ----------
    k : int
        1 for the first Dense layer.
    activation : str
        Class name of the activation (``"Identity"`` when the Dense layer has none).
    a_prev : ndarray of shape (n, n_in)
        ``a_{k-1}`` (the input ``x`` for ``k = 1``).
    W : ndarray of shape (n_in, n_out)
        ``W[:, j]`` holds neuron ``j``'s weights.
    b : ndarray of shape (n_out,)
    z, a, dL_da, delta, dL_da_fd, delta_fd : ndarray of shape (n, n_out)
    dW, dW_fd : ndarray of shape (n_in, n_out)
    db, db_fd : ndarray of shape (n_out,)
    equations : dict of str to str
        The equation behind ``z``, ``a``, ``dL_da``, ``delta``, ``dW`` and ``db``.
    refs : dict of str to str
        Matching equation numbers in seed 001, where it has them.
    notes : list of str
    """

    k: int
    activation: str
    a_prev: Array
    W: Array
    b: Array
    z: Array
    a: Array
    dL_da: Array
    delta: Array
    dW: Array
    db: Array
    dL_da_fd: Array
    delta_fd: Array
    dW_fd: Array
    db_fd: Array
    equations: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def errors(self) -> dict[str, float]:
        """Max relative error of each gradient against its finite difference (checked entries)."""
        pairs = {
            "dL_da": (self.dL_da, self.dL_da_fd),
            "delta": (self.delta, self.delta_fd),
            "dW": (self.dW, self.dW_fd),
            "db": (self.db, self.db_fd),
        }
        return {name: max_error(bp, fd) for name, (bp, fd) in pairs.items()}


@dataclass
class Explanation:
    """A full forward and backward pass, as :func:`~nablanet.explain.explain` returns it;
    ``str()`` prints it.

    Attributes
    ----------
    x : ndarray of shape (n, n_features)
    y : ndarray of shape (n, n_outputs)
        The targets as the loss compares them (one-hot rows for class labels).
    loss_name : str
    loss : float
        ``L`` (plus the L2 penalty when a layer has one).
    layers : list of LayerTrace
        ``layers[k - 1]`` is layer ``k``.
    notes : list of str
    update : Trace or None
        One step of the model's optimizer from these gradients: learning rate, old weights,
        gradient and new weights of every layer (``update.steps[0]``).
    notation : list of str
        How seed 001's layer numbers and symbols map onto these layers.
    """

    x: Array
    y: Array
    loss_name: str
    loss: float
    loss_equations: tuple[str, str]
    layers: list[LayerTrace]
    notes: list[str] = field(default_factory=list)
    update: Trace | None = None
    notation: list[str] = field(default_factory=list)

    @property
    def max_error(self) -> float:
        """Largest relative error between a back-propagated and a numerical gradient."""
        return max((max(t.errors().values()) for t in self.layers), default=0.0)

    def __str__(self) -> str:
        return render(self)


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
    """``N`` optimizer steps, as :func:`~nablanet.explain.trace` returns them; ``str()`` prints
    them."""

    optimizer: str
    lr: float
    plain_sgd: bool
    loss_name: str
    n_samples: int
    steps: list[Step]

    def __str__(self) -> str:
        return render_trace(self)
