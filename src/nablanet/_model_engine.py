r"""The engine of :class:`~nablanet.model.Sequential`: forward, backward, loss and gradients.

``Sequential`` inherits these methods from :class:`SequentialEngine`; the attributes they read
(``layers``, the fused ``_train_layers`` and ``_train_loss``, the packed ``_flat`` buffers) are
set by ``Sequential.build`` in :mod:`nablanet.model`. When numba is installed the forward and
backward loops run compiled, Dense and activation fused, in :mod:`nablanet._fast.network`.


The objective of a batch of total sample weight :math:`S` (its size without weights) is

.. math::
    J(\theta) = \frac{1}{S}\sum_i s_i\, \ell_i(\theta)
               + \sum_k \Big(\frac{\lambda_k + \mu}{2}\|W_k\|^2 + \kappa_k \|W_k\|_1\Big)

with :math:`\lambda_k` and :math:`\kappa_k` the ``l2`` and ``l1`` of Dense layer :math:`k` (part
of the network's config) and
:math:`\mu` the ``l2`` a caller passes for one evaluation (the estimators pass scikit-learn's
``alpha / S``, so their network stays a plain one). The data term comes from ``backward``, the
penalty from ``penalty``/``penalty_gradients``; ``loss_and_grads`` adds them. Over chunks
:math:`c` of one data set, ``loss_and_grad_sums`` gives :math:`S_c`, :math:`S_c J_c` and
:math:`S_c \nabla J_c` of the data term; their sums divided by :math:`S = \sum_c S_c` are the
whole set's mean loss and gradient, to which the caller adds the penalty once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import _fast
from ._validation import check_positive_float
from .layers import Dense, Layer
from .losses import Loss
from .optimizers import Optimizer

Array = np.ndarray


def _copy_flat(flat: Array, vector: Any, what: str) -> None:
    """Copy ``vector`` into the flat buffer ``flat``, or raise naming what was received."""
    shape = np.shape(vector)
    if shape != flat.shape:
        raise ValueError(f"expected a vector of {flat.size} {what}, got shape {shape}")
    dtype = np.asarray(vector).dtype
    if dtype.kind not in "fiu":
        raise TypeError(f"expected a vector of real numbers for the {what}, got dtype {dtype}")
    np.copyto(flat, vector, casting="same_kind")


class SequentialEngine:
    """The engine section of :class:`~nablanet.model.Sequential` (a mixin, no state of its own)."""

    # set by Sequential.__init__, compile and build (nablanet.model)
    layers: list[Layer]
    optimizer: Optimizer
    _dense_layers: list[Dense]
    _train_layers: list[Layer]
    _train_loss: Loss
    _flat: tuple[Array, Array]

    if TYPE_CHECKING:

        def _require_built(self) -> None: ...

    @property
    def training_loss(self) -> Loss:
        """The loss training minimises: ``loss``, or its fused form from logits when the last
        layer is the matching activation (Sigmoid + BCE, Softmax + CE)."""
        self._require_built()
        return self._train_loss

    def forward(
        self,
        X: Array,
        training: bool = False,
        *,
        loss_input: bool = False,
        start: int = 0,
        trace: list[Array] | None = None,
    ) -> Array:
        """Run the layers on the prepared batch ``X`` of shape (n_samples, n_features).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Already checked (see :meth:`prepare`); the input of layer ``start``.
        training : bool
            Training mode: dropout is on.
        loss_input : bool
            Stop where :attr:`training_loss` takes over: before a fused output activation, so
            the result is the logits; the whole network otherwise.
        start : int
            Index of the first layer to run (``X`` is then that layer's input).
        trace : list, optional
            Receives a copy of every layer's output, in order (for teaching tools).
        """
        stop = len(self._train_layers) if loss_input else len(self.layers)
        if _fast.enabled() and trace is None:  # Dense + activation fused: nablanet._fast.network
            return _fast.network.forward(self.layers[start:stop], X, training)
        out = X
        for layer in self.layers[start:stop]:
            out = layer.forward(out, training)
            if trace is not None:
                trace.append(out.copy())
        return out

    def backward(
        self, grad: Array, *, loss_input: bool = False, trace: list[Array] | None = None
    ) -> Array:
        """Back-propagate ``dL/d(output)`` through the layers in reverse; return ``dL/dX``.

        Every layer's ``grads`` is filled on the way, with the gradient of the data term only:
        :meth:`penalty_gradients` adds the L2 term's (:meth:`loss_and_grads` calls both). With
        ``loss_input=True``, ``grad`` is ``dL/d(logits)`` from :attr:`training_loss` and a fused
        output activation is skipped. Call after :meth:`forward` on the same batch. ``trace``
        receives a copy of ``dL/d(input)`` of every layer, last layer first.
        """
        layers = self._train_layers if loss_input else self.layers
        if _fast.enabled() and trace is None:  # the compiled twin of the loop below
            return _fast.network.backward(layers, grad)
        for layer in reversed(layers):
            grad = layer.backward(grad)
            if trace is not None:
                trace.append(grad.copy())
        return grad

    def penalty(self, l2: float = 0.0) -> float:
        r"""The penalty of the objective,
        :math:`\sum_k \big(\frac{\lambda_k + \mu}{2}\|W_k\|^2 + \kappa_k \|W_k\|_1\big)`.

        Parameters
        ----------
        l2 : float
            :math:`\mu`, added to every Dense layer's own ``l2`` (:math:`\lambda_k`) for this
            call only; e.g. scikit-learn's ``alpha / S`` (``S`` the number of samples, or the
            sum of their weights). The L1 coefficients :math:`\kappa_k` are the layers' own
            ``l1``.
        """
        l2 = check_positive_float("l2", l2, allow_zero=True)
        total = 0.0
        for layer in self._dense_layers:
            total += layer.penalty(l2)  # 0.0 when lambda_k + mu and kappa_k are 0
        return total

    def penalty_gradients(self, l2: float = 0.0) -> None:
        r"""Add the gradient of :meth:`penalty` to the Dense layers' ``grads`` in place:
        :math:`dL/dW_k \mathrel{+}= (\lambda_k + \mu) W_k + \kappa_k \mathrm{sign}(W_k)`
        (the subgradient 0 where a weight is exactly 0). Call after :meth:`backward`.

        Parameters
        ----------
        l2 : float
            :math:`\mu`, as in :meth:`penalty`.
        """
        l2 = check_positive_float("l2", l2, allow_zero=True)
        for layer in self._dense_layers:
            layer.penalty_gradient(l2)  # nothing when lambda_k + mu and kappa_k are 0

    def compute_loss(
        self, X: Array, Y: Array, sample_weight: Array | None = None, *, l2: float = 0.0
    ) -> float:
        """The training objective on a prepared batch at the current weights, in inference mode
        (dropout off): :attr:`training_loss` (weighted by ``sample_weight``) plus
        :meth:`penalty` (``l2`` as there).
        """
        out = self.forward(X, loss_input=True)
        return self._train_loss.forward(out, Y, sample_weight) + self.penalty(l2)

    def loss_and_grads(
        self,
        X: Array,
        Y: Array,
        sample_weight: Array | None = None,
        *,
        training: bool = True,
        l2: float = 0.0,
    ) -> tuple[float, Array]:
        r"""Forward, loss and backward on one prepared batch, L2 term included.

        Fills every layer's ``grads`` with :math:`dJ/d\theta` of the batch's objective
        (:meth:`backward`'s data term, then :meth:`penalty_gradients`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as :meth:`prepare` returns them.
        sample_weight : ndarray of shape (n_samples,), optional
            The loss becomes the weighted mean over the batch.
        training : bool
            Training mode (dropout on); False gives the gradient of :meth:`compute_loss`.
        l2 : float
            An L2 coefficient added to the Dense layers' own for this batch (see
            :meth:`penalty`).

        Returns
        -------
        loss : float
            The batch loss plus :meth:`penalty`.
        output : ndarray of shape (n_samples, n_outputs)
            What the loss compared with ``Y`` (logits when the output activation is fused);
            a buffer that the next step overwrites.
        """
        l2 = check_positive_float("l2", l2, allow_zero=True)
        out = self.forward(X, training, loss_input=True)
        loss = self._train_loss.forward(out, Y, sample_weight)
        self.backward(self._train_loss.backward(), loss_input=True)
        self.penalty_gradients(l2)
        return loss + self.penalty(l2), out  # the penalty of the weights the loss was computed with

    def loss_and_grad_sums(
        self, X: Array, Y: Array, sample_weight: Array | None = None
    ) -> tuple[float, float, Array]:
        r"""The data term of one chunk as sums: ``(S_c, S_c * loss, S_c * grad)``.

        In inference mode (dropout off), without the L2 term. ``S_c`` is the chunk's number of
        rows, or the sum of its ``sample_weight``; ``loss`` is :attr:`training_loss` (its
        weighted mean over the chunk) and ``grad`` its gradient. Over the chunks of a data set,

        .. math::
            J = \frac{\sum_c S_c J_c}{\sum_c S_c},\qquad
            \nabla J = \frac{\sum_c S_c \nabla J_c}{\sum_c S_c}

        are the whole set's mean loss and gradient; the caller then adds :meth:`penalty` and
        :meth:`penalty_gradients` once (e.g. after :meth:`set_gradients`). Overwrites
        ``grads``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            A prepared chunk (see :meth:`prepare`).
        Y : ndarray of shape (n_samples, n_outputs)
        sample_weight : ndarray of shape (n_samples,), optional

        Returns
        -------
        sum_w : float
            :math:`S_c`; a chunk of zero total weight gives ``(0.0, 0.0, zeros)``.
        weighted_loss : float
            :math:`S_c J_c`.
        weighted_grad : ndarray of shape (n_params,)
            :math:`S_c \nabla J_c`, a new float64 array (whatever the model's dtype, so that
            sums over many chunks keep their precision) in :meth:`parameters_to_vector` order.
        """
        self._require_built()
        sum_w = float(len(X)) if sample_weight is None else float(np.sum(sample_weight))
        if sum_w == 0.0:
            return 0.0, 0.0, np.zeros(self._flat[1].size)
        out = self.forward(X, loss_input=True)
        loss = self._train_loss.forward(out, Y, sample_weight)
        self.backward(self._train_loss.backward(), loss_input=True)
        return sum_w, sum_w * loss, np.multiply(self._flat[1], sum_w, dtype=np.float64)

    def apply_gradients(self) -> None:
        """One optimizer step: update every parameter in place from its gradient."""
        self.optimizer.step()

    def train_step(
        self, X: Array, Y: Array, sample_weight: Array | None = None
    ) -> tuple[float, Array]:
        """One gradient step on a prepared batch: :meth:`loss_and_grads`, then
        :meth:`apply_gradients`. Returns what :meth:`loss_and_grads` returns."""
        loss, out = self.loss_and_grads(X, Y, sample_weight)
        self.apply_gradients()
        return loss, out

    def parameters_to_vector(self, out: Array | None = None) -> Array:
        """All parameters, layer by layer, as one flat array (a copy; written into ``out``
        if given). The order is that of :meth:`slots`."""
        self._require_built()
        if out is None:
            return self._flat[0].copy()
        np.copyto(out, self._flat[0])
        return out

    def vector_to_parameters(self, vector: Array) -> None:
        """Copy a flat array (as :meth:`parameters_to_vector` returns) into the parameters."""
        self._require_built()
        _copy_flat(self._flat[0], vector, "parameters")

    def gradients_to_vector(self) -> Array:
        """The gradients in ``grads`` (of the last :meth:`loss_and_grads`, say), as one flat
        array (a copy)."""
        self._require_built()
        return self._flat[1].copy()

    def set_gradients(self, vector: Array) -> None:
        """Copy a flat gradient, in :meth:`parameters_to_vector` order, into every layer's
        ``grads``, so that :meth:`apply_gradients` steps with it (e.g. a gradient averaged
        over chunks or workers).

        Parameters
        ----------
        vector : ndarray of shape (n_params,)
            Cast to the model's dtype.
        """
        self._require_built()
        _copy_flat(self._flat[1], vector, "gradients")
