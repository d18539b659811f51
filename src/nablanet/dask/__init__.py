r"""Data-parallel training on a Dask cluster, for data that outgrows one machine.

``DaskMLPClassifier`` and ``DaskMLPRegressor`` take Dask arrays or DataFrames (or a list of
delayed ``(X, y)`` chunks, one per file: :func:`read_files` makes it from a glob pattern); the data never comes to the client, whose memory
stays of the order of the parameters. Needs ``pip install 'nablanet[dask]'`` on the client and
on every worker.

**Full-batch L-BFGS** (``solver="lbfgs"``, Spark MLlib's algorithm): a setup pass fixes the
classes and the total weight :math:`S` and leaves the prepared chunks where they are; each
evaluation sends :math:`\theta` once (as a task's value, recomputable), runs one pure task per chunk returning
:math:`(S_k, S_k\bar L_k, S_k\nabla\bar L_k)`, sums them by a fixed pairwise tree on the
workers, and scipy's L-BFGS-B steps on the client. The L2 term is :math:`\alpha/(2S)\|W\|^2`
with the global :math:`S`, as scikit-learn's. With one chunk it is ``MLPClassifier(solver=
"lbfgs")``; with any number of chunks its result does not depend on timing or on lost workers.

**Stochastic solvers** (``"sgd"``, ``"adam"``): local SGD with periodic averaging. Each worker
holding data is one replica; it takes ``sync_every`` steps on its own rows, then the
parameters and the optimizer state of all replicas are averaged (weighted by their rows). With
``sync_every=1`` the gradients are averaged instead, at every step (synchronous data
parallelism, as PyTorch DDP). Definitions across workers:

- ``batch_size`` is the **global** batch, as in scikit-learn: each step of a replica with
  :math:`n_r` of the :math:`N` rows takes about ``batch_size * n_r / N`` of its rows, so an
  epoch has the same number of steps as in one process;
- an epoch is one pass of every replica over its rows; the rounds never straddle epochs, so the
  epoch's loss, ``tol``/``n_iter_no_change``, learning-rate rules and checkpoints are decided
  on the client between epochs, on averaged parameters;
- ``early_stopping`` holds out ``validation_fraction`` of the rows of every chunk (drawn per
  chunk, not stratified) and scores the averaged network on all held-out rows after each
  epoch; the best parameters come back at the end.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"nablanet.dask needs the 'dask' extra ({exc.name} is missing): "
        "pip install 'nablanet[dask]'"
    ) from exc

from ._files import read_files
from ._local_sgd import SYNC_EVERY
from .estimators import DaskMLPClassifier, DaskMLPRegressor

__all__ = ["SYNC_EVERY", "DaskMLPClassifier", "DaskMLPRegressor", "read_files"]
