"""What DaskMLPClassifier and DaskMLPRegressor share: fit on chunks, lazy inference, to_local.

State kept on the estimator after ``fit``: the network (``model_``), the classes and the
fitted attributes; never the client's futures, which are released when ``fit`` returns.
"""

from __future__ import annotations

import copy
import os
import uuid
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .. import saving
from ..estimators._base import build_network
from ..estimators._optimizers import new_optimizer
from ..estimators._params import check_mlp_params, random_state_of
from ..layers import Dense
from . import _lbfgs, _local_sgd, _setup, _tasks
from ._network import local_estimator

Array = np.ndarray
#: the parameters only nablanet.dask has (not passed to the plain estimator)
DASK_PARAMS = ("client", "sync_every", "checkpoint", "checkpoint_every")


def current_client(client: Any) -> Any:
    """``client``, or the current ``distributed.Client``; a clear error without one."""
    if client is not None:
        return client
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        raise ValueError(
            "nablanet.dask needs a distributed.Client: start one first "
            "(client = distributed.Client(...)) or pass client=..."
        ) from None


class DaskMLPBase(BaseEstimator):
    """Shared machinery; use :class:`DaskMLPClassifier` or :class:`DaskMLPRegressor`."""

    _classifier = False
    classes_: Array
    n_outputs_: int
    out_activation_: str

    # -- scikit-learn plumbing: the client is a handle, never copied nor pickled ------------
    def __sklearn_clone__(self) -> DaskMLPBase:
        params = self.get_params(deep=False)
        client = params.pop("client")
        return type(self)(client=client, **{k: clone(v, safe=False) for k, v in params.items()})

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["client"] = None  # a client is a live connection, not state
        return state

    def _local_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params(deep=False).items() if k not in DASK_PARAMS}

    # -- fitted views ------------------------------------------------------------------------
    @property
    def coefs_(self) -> list[Array]:
        """Weight matrices, ``coefs_[i]`` of shape (n_units[i], n_units[i + 1])."""
        check_is_fitted(self, "model_")
        return [la.params["W"] for la in self.model_.layers if isinstance(la, Dense)]

    @property
    def intercepts_(self) -> list[Array]:
        """Bias vectors, ``intercepts_[i]`` of shape (n_units[i + 1],)."""
        check_is_fitted(self, "model_")
        return [la.params["b"] for la in self.model_.layers if isinstance(la, Dense)]

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, *, resume: Any = None) -> Any:
        """Train on data that stays on the workers.

        Parameters
        ----------
        X : Dask array or DataFrame of shape (n_samples, n_features), or a list of delayed
            objects each computing ``(X_k, y_k)`` or ``(X_k, y_k, w_k)`` (then ``y=None``).
        y : Dask array or Series of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : Dask array or Series of shape (n_samples,), optional
        resume : str or path-like, optional
            A checkpoint written by ``checkpoint=``: training starts from its weights (and,
            for ``sgd``/``adam``, its optimizer state and epoch count).

        Returns
        -------
        self
        """
        self._validate_params()
        settings = check_mlp_params(self)
        client = current_client(self.client)
        random = random_state_of(self.random_state)
        stochastic = settings.stochastic
        parts = _setup.raw_parts(X, y, sample_weight)
        validation = None
        if stochastic and self.early_stopping:
            validation = (float(self.validation_fraction), _draw_seed(random))
        chunks = _setup.setup(
            client, parts, self._classifier, lambda facts: self._spec(facts, validation)
        )
        try:
            if not (self.warm_start and hasattr(self, "model_")):
                units = [chunks.n_features, *settings.hidden, self.n_outputs_]
                self.model_ = build_network(
                    settings, units, self.out_activation_, self.dropout, chunks.dtype, random
                )
                self.model_.task = self._task()
                self.model_.classes_ = self._model_classes()
                self.n_layers_ = len(units)
                self.n_iter_, self.t_, self.epochs_ = 0, 0, 0
                self.loss_curve_: list[float] = []
                self.optimizer_state_: dict[str, Array] | None = None
            self.n_features_in_ = chunks.n_features
            self.n_samples_ = chunks.n_samples
            if resume is not None:
                self._resume(resume)
            engine = _tasks.Engine(
                uuid.uuid4().hex, self.model_.get_config(), self._new_optimizer()
            )
            if stochastic:
                _local_sgd.fit(self, client, engine, chunks, settings, random)
            else:
                self._fit_lbfgs(client, engine, chunks)
        finally:
            chunks.release()
        if not np.isfinite(self.model_.parameters_to_vector()).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. Scale the inputs or lower "
                f"learning_rate_init (got {self.learning_rate_init!r})."
            )
        return self

    def _fit_lbfgs(self, client: Any, engine: Any, chunks: _setup.Chunks) -> None:
        scale = 1.0 / self.n_outputs_ if self.out_activation_ == "identity" else 1.0
        objective = _lbfgs.DistributedObjective(
            client, engine, chunks.train, self.model_, self.alpha, data_scale=scale
        )
        done = self.n_iter_

        def on_iteration(k: int, theta: Array) -> None:
            if self.checkpoint is not None and k % self.checkpoint_every == 0:
                self.model_.vector_to_parameters(theta)
                self.n_iter_ = done + k
                self.save_checkpoint(self.checkpoint)

        theta, loss, n_iter = _lbfgs.minimize(
            objective,
            self.model_.parameters_to_vector(),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=bool(self.verbose),
            on_iteration=on_iteration,
        )
        self.model_.vector_to_parameters(theta)
        self.n_iter_ = done + n_iter
        self.loss_ = loss
        self.evaluations_ = objective.evaluations

    def _new_optimizer(self) -> Any:
        """The stochastic rule (None for L-BFGS), chosen as the plain estimator chooses it."""
        return None if self.solver == "lbfgs" else new_optimizer(self)

    # -- checkpoints ---------------------------------------------------------------------------
    def save_checkpoint(self, path: Any) -> Any:
        """Write the current network, optimizer state and progress to a nablanet model file
        (atomically), readable by :func:`nablanet.estimators.from_model` and ``resume=``."""
        progress = {
            "n_iter_": int(self.n_iter_),
            "t_": int(self.t_),
            "epochs_": int(self.epochs_),
            "loss_curve_": [float(v) for v in self.loss_curve_],
            "solver": self.solver,
        }
        return self.to_local().save(path, metadata={"nablanet.dask": progress})

    def _resume(self, path: Any) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"resume must be a path to a checkpoint, got {type(path).__name__}")
        saved = saving.read_model(path)
        progress = (saved.metadata or {}).get("nablanet.dask")
        if not isinstance(progress, dict):
            raise ValueError(f"{os.fspath(path)!r} is not a nablanet.dask checkpoint")
        theirs = [la["config"] for la in saved.model.get_config()["layers"]]
        ours = [la["config"] for la in self.model_.get_config()["layers"]]
        if theirs != ours or saved.model.dtype != self.model_.dtype:
            raise ValueError(
                f"the checkpoint {os.fspath(path)!r} holds another network "
                f"({saved.model.n_params} parameters, {saved.model.dtype}); this fit builds "
                f"{self.model_.n_params} parameters, {self.model_.dtype}"
            )
        self.model_.vector_to_parameters(saved.model.parameters_to_vector())
        self.n_iter_, self.t_ = int(progress["n_iter_"]), int(progress["t_"])
        self.epochs_ = int(progress["epochs_"])
        self.loss_curve_ = [float(v) for v in progress["loss_curve_"]]
        if progress["solver"] == self.solver and self.solver != "lbfgs":
            self.optimizer_state_ = saved.model.optimizer.get_state()

    # -- inference: lazy, one task per block -----------------------------------------------------
    def _output(self, X: Any, logits: bool = False) -> Any:
        """The network's output as a Dask array of shape (n_samples, n_outputs)."""
        import dask

        check_is_fitted(self, "model_")
        Xa = _setup.as_array(X, "X")
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in_}), got {Xa.shape}"
            )
        Xa = Xa.rechunk({1: -1})
        model = dask.delayed(copy.deepcopy(self.model_), pure=False)
        return Xa.map_blocks(
            _tasks.forward_block,
            model,
            logits,
            dtype=self.model_.dtype,
            meta=np.empty((0, 0), dtype=self.model_.dtype),
            chunks=(Xa.chunks[0], (self.n_outputs_,)),
        )

    def to_local(self) -> Any:
        """The plain :mod:`nablanet.estimators` estimator with these weights and parameters
        (``MLPClassifier`` or ``MLPRegressor``): predicts in memory, saves, exports to ONNX."""
        check_is_fitted(self, "model_")
        fitted = {"loss_curve_": list(self.loss_curve_), "n_iter_": self.n_iter_, "t_": self.t_}
        if hasattr(self, "loss_"):
            fitted["loss_"] = self.loss_
        optimizer = None
        if self.solver != "lbfgs" and self.optimizer_state_ is not None:
            optimizer = self._new_optimizer()
            optimizer.set_state(self.optimizer_state_)
        return local_estimator(self.model_, self._local_params(), optimizer, fitted)

    # -- hooks -----------------------------------------------------------------------------------
    def _spec(self, facts: list[dict[str, Any]], validation: Any) -> _tasks.PrepareSpec:
        raise NotImplementedError

    def _task(self) -> str:
        raise NotImplementedError

    def _model_classes(self) -> Array | None:
        return None


def _draw_seed(random: Any) -> int:
    if isinstance(random, np.random.Generator):
        return int(random.integers(2**31 - 1))
    return int(random.randint(2**31 - 1))


def data_dtype(facts: list[dict[str, Any]]) -> str:
    """float32 when every chunk of X is float32 (it trains in float32, as in scikit-learn)."""
    return "float32" if all(f["float32"] for f in facts) else "float64"
