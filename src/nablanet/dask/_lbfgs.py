r"""Full-batch L-BFGS over chunks on the workers: Spark MLlib's algorithm.

The objective is scikit-learn's, over the whole data set of total weight :math:`S`
(:math:`S = N` without sample weights):

.. math::
    f(\theta) = \frac{1}{S}\sum_k S_k\,\bar L_k(\theta) + \frac{\alpha}{2S}\sum_l \|W_l\|^2,
    \qquad
    \nabla f(\theta) = \frac{1}{S}\sum_k S_k\,\nabla\bar L_k(\theta) + \frac{\alpha}{S}\,W

where :math:`\bar L_k` is the (weighted) mean loss of chunk :math:`k` and :math:`S_k` its weight.
One evaluation:

1. the client sends :math:`\theta` once, as a task's value (:func:`._setup.put`: a new key
   each time, which the scheduler can recompute, unlike a scattered value); the workers
   fetch it from each other;
2. one task per chunk returns :math:`(S_k, S_k\bar L_k, S_k\nabla\bar L_k)`, a pure function of
   (:math:`\theta`, chunk), computed where the chunk lives;
3. a pairwise tree of additions on the workers, in chunk order, sums them, so the client
   receives one vector, and the floating-point sum does not depend on which task finishes first
   or on which worker it ran;
4. the client divides by :math:`S` and adds the penalty; scipy's L-BFGS-B takes its step there.

With one chunk this is scikit-learn's objective evaluated in one process (the products
:math:`S\cdot g / S` round to within an ulp), so ``MLPClassifier(solver="lbfgs")`` and this
solver take the same iterations. An evaluation that fails because a worker died is run again
(the tasks are pure, so the retry returns the same bits).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from .._log import Reporter, get_logger
from ..model import Sequential
from . import _tasks
from ._setup import put, tree_sum

Array = np.ndarray
#: errors that mean bad data or a bug, not a lost worker: never retried
NOT_TRANSIENT = (ValueError, TypeError, ArithmeticError, MemoryError, KeyError, AttributeError)


class DistributedObjective:
    """:math:`f(\\theta)` and :math:`\\nabla f(\\theta)` of the data set held in ``chunks``.

    Parameters
    ----------
    client : distributed.Client
    engine : _tasks.Engine
        The network's config, rebuilt once per worker thread.
    chunks : list of futures of (X, Y, sw)
        Prepared chunks; their order fixes the order of the sum.
    model : Sequential
        The client's copy of the network (for the penalty; holds no data).
    alpha : float
        scikit-learn's L2 coefficient; the penalty uses ``alpha / S`` with the global ``S``.
    data_scale : float
        Factor on the data term as reported (``1 / n_outputs`` for scikit-learn's squared
        error with several outputs, whose gradient stays that of the sum).
    retries : int
        Times an evaluation is run again after losing a worker.
    """

    def __init__(
        self,
        client: Any,
        engine: _tasks.Engine,
        chunks: list[Any],
        model: Sequential,
        alpha: float,
        data_scale: float = 1.0,
        retries: int = 3,
    ) -> None:
        self.client = client
        self.engine = engine
        self.chunks = chunks
        self.model = model
        self.alpha = float(alpha)
        self.data_scale = float(data_scale)
        self.retries = int(retries)
        self.evaluations = 0

    def sums(self, theta: Array) -> tuple[float, float, Array]:
        """:math:`(\\sum_k S_k, \\sum_k S_k\\bar L_k, \\sum_k S_k\\nabla\\bar L_k)` at ``theta``
        (float64), summed on the workers; retried after a lost worker."""
        vector = np.asarray(theta).astype(self.model.dtype)
        for attempt in range(self.retries + 1):
            try:
                result = self._sums_once(vector)
                break
            except NOT_TRANSIENT:
                raise
            except (Exception, asyncio.CancelledError) as exc:
                if attempt == self.retries:
                    raise RuntimeError(
                        f"evaluation {self.evaluations + 1} failed {attempt + 1} times; "
                        f"last error: {exc!r}"
                    ) from exc
        self.evaluations += 1
        return result

    def _sums_once(self, vector: Array) -> tuple[float, float, Array]:
        client = self.client
        theta = put(client, vector)
        parts = [
            client.submit(_tasks.chunk_sums, self.engine, theta, chunk, pure=False)
            for chunk in self.chunks
        ]
        total = tree_sum(client, parts).result()
        return float(total[0]), float(total[1]), np.asarray(total[2], dtype=np.float64)

    def l2(self, total_weight: float) -> float:
        return self.alpha / total_weight

    def __call__(self, theta: Array) -> tuple[float, Array]:
        """``(f(theta), grad f(theta))`` as scipy's ``minimize(jac=True)`` takes them."""
        total, loss_sum, grad_sum = self.sums(theta)
        l2 = self.l2(total)
        model = self.model
        model.vector_to_parameters(theta)
        model.set_gradients(grad_sum / total)
        model.penalty_gradients(l2)
        loss = self.data_scale * (loss_sum / total) + model.penalty(l2)
        return loss, model.gradients_to_vector().astype(np.float64)


def minimize(
    objective: DistributedObjective,
    theta0: Array,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool,
    on_iteration: Callable[[int, Array], None] | None = None,
) -> tuple[Array, float, int]:
    """scikit-learn's L-BFGS-B call on ``objective``; ``(theta, loss, n_iter)``.

    ``on_iteration(k, theta)`` runs after iteration ``k`` (checkpoints). Each iteration logs
    scikit-learn's verbose line, ``Iteration k, loss = ...``, at INFO on ``"nablanet.dask"``;
    ``verbose`` shows it on the current ``sys.stdout`` too (:class:`nablanet._log.Reporter`).
    """
    count = 0
    report = Reporter(get_logger("dask"), verbose)

    def callback(intermediate_result: Any) -> None:
        nonlocal count
        count += 1
        report.info("Iteration %d, loss = %.8f", count, intermediate_result.fun)
        if on_iteration is not None:
            on_iteration(count, np.asarray(intermediate_result.x))

    result = scipy.optimize.minimize(
        objective,
        np.asarray(theta0, dtype=np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    report.close()
    n_iter = min(int(result.nit), max_iter)
    if result.status != 0:  # scikit-learn's _check_optimize_result, in words
        warnings.warn(
            f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}): "
            f"{result.message}. Increase the number of iterations (max_iter) or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return np.asarray(result.x), float(result.fun), n_iter
