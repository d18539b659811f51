"""The layer contract every layer follows.

A layer maps a batch ``x`` of shape ``(n_samples, n_in)`` to ``y`` of shape ``(n_samples, n_out)``.

- ``forward(x, training=False)`` computes ``y`` and caches what ``backward`` needs;
- ``backward(dy)`` takes ``dL/dy`` (same shape as ``y``) and returns ``dL/dx`` (same shape as
  ``x``), after filling ``grads`` with ``dL/dparam`` for every entry of ``params``;
- ``forward`` and ``backward`` return new arrays (a layer's own work buffers measured no faster:
  ``benchmarks/speed.py``-style epochs within 3%), and ``backward`` may be called more than once
  after one ``forward`` with the same result;
- ``params`` and ``grads`` are dicts with the same keys, e.g. ``{"W": ..., "b": ...}``;
- ``get_config()`` returns a JSON-serialisable dict from which ``from_config`` rebuilds the layer
  (weights travel separately, see :mod:`nablanet.saving`).

The gradient ``dL/dy`` a layer receives is never modified in place. ``grads`` are filled in place
(the model keeps them in one flat buffer). Copies and pickles of a layer leave out its gradients
and the caches of the last forward pass (``__getstate__``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import check_dtype

Array = np.ndarray


class Layer:
    """Base class: no parameters, identity shape unless a subclass says otherwise."""

    #: name -> class, filled by :func:`register`; used to rebuild layers from a config.
    registry: ClassVar[dict[str, type[Layer]]] = {}
    #: attributes holding caches of the last forward pass (dropped when copied or pickled)
    _transient: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.input_dim: int | None = None
        self.output_dim: int | None = None
        self.dtype: np.dtype[Any] = np.dtype(np.float32)
        self.built = False

    # -- building -------------------------------------------------------------------------
    def build(self, input_dim: int, rng: np.random.Generator, dtype: Any = np.float32) -> int:
        """Allocate parameters for inputs with ``input_dim`` features; return the output width."""
        self.input_dim = input_dim
        self.output_dim = self.compute_output_dim(input_dim)
        self.dtype = check_dtype(dtype)
        self.built = True
        return self.output_dim

    def compute_output_dim(self, input_dim: int) -> int:
        """Width of the output for inputs of width ``input_dim`` (identity by default)."""
        return input_dim

    # -- computation ----------------------------------------------------------------------
    def forward(self, x: Array, training: bool = False) -> Array:
        """Return the layer's output for the batch ``x`` of shape (n_samples, input_dim)."""
        raise NotImplementedError

    def backward(self, dy: Array) -> Array:
        """Return ``dL/dx`` from ``dL/dy``; fill ``self.grads``. Call after ``forward``."""
        raise NotImplementedError

    # -- bookkeeping ----------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer from :meth:`get_config`'s output."""
        return cls(**config)

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles carry the configuration and parameters, never scratch space.

        Gradients and the caches of the last forward pass (listed in ``_transient``) are left
        out: they can be as large as a training batch and are rebuilt on the next call
        (gradients as zeros).
        """
        state = self.__dict__.copy()
        state["grads"] = {}
        for name in self._transient:
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.grads = {key: np.zeros_like(p) for key, p in self.params.items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def register(cls: type[Layer]) -> type[Layer]:
    """Class decorator: make ``cls`` loadable by name from a saved config."""
    Layer.registry[cls.__name__] = cls
    return cls


def layer_from_config(entry: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``{"class": name, "config": {...}}``."""
    name = entry.get("class")
    if name not in Layer.registry:
        raise ValueError(f"unknown layer class {name!r}; known: {sorted(Layer.registry)}")
    return Layer.registry[name].from_config(entry.get("config", {}))
