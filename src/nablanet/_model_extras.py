"""The conveniences of :class:`~nablanet.model.Sequential`, apart from its engine.

``Sequential`` inherits these methods from :class:`SequentialExtras`: weights in and out,
the text description (:mod:`nablanet.describe`), the JSON configuration (weights travel
separately), and three facades that import their front end when called, as Keras's
``Model.save`` does (:mod:`nablanet.saving`, :mod:`nablanet.onnx_export`,
:mod:`nablanet.explain`): the deliberate upward imports of the engine layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._validation import check_array, check_dtype, short_repr
from .describe import info_text, summary_text
from .layers import Layer, layer_from_config
from .losses import Loss
from .optimizers import Optimizer, optimizer_from_config

if TYPE_CHECKING:
    from .model import Sequential

Array = np.ndarray
Weights = list[dict[str, Array]]


#: The tasks a model may be fitted on (``Sequential.task``).
TASKS = ("binary", "multiclass", "multilabel", "regression")


def _check_config(config: Any) -> None:
    """Refuse a ``config`` that :meth:`Sequential.get_config` could not have written, naming
    the entry (the layers' own settings are checked by the layers)."""
    if not isinstance(config, dict):
        raise TypeError(
            f"config must be a dict from Sequential.get_config(), got {short_repr(config)}"
        )
    missing = [key for key in ("layers", "loss", "optimizer") if key not in config]
    if missing:
        raise ValueError(f"config lacks the entries {missing} that Sequential.get_config() writes")
    if not isinstance(config["layers"], list | tuple):
        raise TypeError(f"config['layers'] must be a list, got {short_repr(config['layers'])}")
    for i, entry in enumerate(config["layers"]):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("class"), str)
            or not isinstance(entry.get("config", {}), dict)
        ):
            raise TypeError(
                f"config['layers'][{i}] must be {{'class': name, 'config': {{...}}}}, got "
                f"{short_repr(entry)}"
            )
    if not isinstance(config["optimizer"], dict):
        raise TypeError(
            f"config['optimizer'] must be a dict such as {{'name': 'sgd', 'lr': 0.01}}, got "
            f"{short_repr(config['optimizer'])}"
        )
    task = config.get("task")
    if task is not None and (not isinstance(task, str) or task not in TASKS):
        raise ValueError(
            f"config['task'] must be None or one of {list(TASKS)}, got {short_repr(task)}"
        )
    classes = config.get("classes")
    if classes is not None and (
        not isinstance(classes, list | tuple)
        or not classes
        or not all(isinstance(c, str | int | float | np.generic) for c in classes)
        or len(set(classes)) != len(classes)
    ):
        raise ValueError(
            f"config['classes'] must be None or a list of distinct labels, got {short_repr(classes)}"
        )


def _emit(text: str, print_fn: Any) -> str:
    if print_fn is not None:
        print_fn(text)
    return text


class SequentialExtras:
    """Weights, description, configuration and facades of :class:`~nablanet.model.Sequential`
    (a mixin, no state of its own)."""

    # set by Sequential.__init__, compile and build (nablanet.model)
    built: bool
    layers: list[Layer]
    loss: Loss
    optimizer: Optimizer
    metrics: list[str] | None
    label_smoothing: float
    dtype: np.dtype
    input_dim: int | None
    task: str | None
    classes_: np.ndarray | None

    if TYPE_CHECKING:

        def _require_built(self) -> None: ...

    # -- weights --------------------------------------------------------------------------
    def get_weights(self) -> Weights:
        """A copy of every layer's parameters, one dict per layer (empty for activations)."""
        return [{k: v.copy() for k, v in layer.params.items()} for layer in self.layers]

    def set_weights(self, weights: Weights) -> None:
        """Copy ``weights`` (as returned by :meth:`get_weights`) into the model, in place."""
        self._require_built()
        if not isinstance(weights, list | tuple):
            raise TypeError(
                f"weights must be a list of one dict per layer (as get_weights() returns), got "
                f"{type(weights).__name__} {short_repr(weights)}"
            )
        if len(weights) != len(self.layers):
            raise ValueError(f"expected weights for {len(self.layers)} layers, got {len(weights)}")
        largest = float(np.finfo(self.dtype).max)
        checked = []  # everything is checked before anything is copied: all or nothing
        for i, (layer, new) in enumerate(zip(self.layers, weights, strict=True)):
            if not isinstance(new, dict):
                raise TypeError(
                    f"weights[{i}] must be a dict of parameter name -> array, got "
                    f"{type(new).__name__} {short_repr(new)}"
                )
            if set(new) != set(layer.params):
                raise ValueError(
                    f"layer {i} has parameters {sorted(layer.params)}, got {sorted(new)}"
                )
            for key, value in new.items():
                value = check_array(value, f"layer {i} {key}", ndim=layer.params[key].ndim)
                if value.shape != layer.params[key].shape:
                    raise ValueError(
                        f"layer {i} {key} has shape {layer.params[key].shape}, got {value.shape}"
                    )
                # compared in float64: float64's largest cast to float32 would overflow
                big = np.flatnonzero(np.abs(value.astype(np.float64, copy=False)) > largest)
                if big.size:  # finite here, infinite once copied into the model's dtype
                    raise ValueError(
                        f"layer {i} {key} holds {float(value.flat[big[0]])!r}, more than "
                        f"{self.dtype} holds ({largest:.3g})"
                    )
                checked.append((layer.params[key], value))
        for param, value in checked:
            np.copyto(param, value, casting="same_kind")

    # -- description (text in nablanet.describe) -------------------------------------------
    def summary(self, print_fn: Any = print) -> str:
        """A table of layers, output shapes and parameter counts; printed and returned."""
        return _emit(summary_text(cast("Sequential", self)), print_fn)

    def info(self, print_fn: Any = print) -> str:
        """Every Dense layer's biases and weights, neuron by neuron, as the tutorial
        "Introduction to Deep Learning - Part 3" prints them."""
        self._require_built()
        return _emit(info_text(cast("Sequential", self)), print_fn)

    # -- configuration (weights travel separately) ----------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable description of the architecture and training setup."""
        loss_config = self.loss.get_config()
        return {
            "layers": [
                {"class": type(la).__name__, "config": la.get_config()} for la in self.layers
            ],
            # the name alone, or {"name": ..., setting: value} for a loss with settings
            "loss": self.loss.name if len(loss_config) == 1 else loss_config,
            "optimizer": self.optimizer.get_config(),
            "metrics": self.metrics,
            "label_smoothing": self.label_smoothing,
            "dtype": str(self.dtype),
            "input_dim": self.input_dim,
            "task": self.task,
            "classes": None if self.classes_ is None else self.classes_.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], seed: Any = None) -> Sequential:
        """Rebuild an (untrained, if it was built: freshly initialised) model from ``get_config``.

        Raises ``TypeError`` or ``ValueError`` naming the entry of ``config`` that is missing or
        not of the kind ``get_config`` writes.
        """
        _check_config(config)
        layers = []
        for i, entry in enumerate(config["layers"]):
            try:
                layers.append(layer_from_config(entry))
            except TypeError as exc:  # a setting the layer does not take, or lacks
                raise TypeError(f"config['layers'][{i}] ({entry['class']}): {exc}") from None
        model = cast("type[Sequential]", cls)(
            layers,
            loss=config["loss"],
            optimizer=optimizer_from_config(config["optimizer"]),
            metrics=config.get("metrics"),
            label_smoothing=config.get("label_smoothing", 0.0),
            seed=seed,
            dtype=config.get("dtype", "float32"),
        )
        if config.get("input_dim"):
            model.build(config["input_dim"])
        model.task = config.get("task")
        classes = config.get("classes")
        model.classes_ = None if classes is None else np.asarray(classes)
        return model

    def clone(self, dtype: Any = None) -> Sequential:
        """A copy with the same config and weights (optionally in another dtype)."""
        config = self.get_config()
        if dtype is not None:
            config["dtype"] = str(check_dtype(dtype))
        twin = type(self).from_config(config)  # type(self) is Sequential
        if self.classes_ is not None:  # the array, not its JSON list: 2**63 + 1 stays uint64
            twin.classes_ = self.classes_.copy()
        if self.built:
            twin.set_weights(self.get_weights())
        return twin

    # -- persistence and teaching (bodies in saving/, onnx_export.py and explain/) -------
    def save(self, path: Any, **extras: Any) -> Any:
        """Write the model to one file (no pickle); see :func:`nablanet.saving.sequential.save`.

        ``extras``: ``preprocessing=`` (a fitted Standardizer) and ``metadata=`` (a JSON dict).
        Returns the ``pathlib.Path`` written.
        """
        from .saving.sequential import save

        return save(cast("Sequential", self), path, **extras)

    def to_onnx(self, path: Any = None, **kwargs: Any) -> Any:
        """Export to ONNX (needs ``nablanet[onnx]``); see :func:`nablanet.onnx_export.to_onnx`.

        Writes ``path`` if given and returns the checked ``onnx.ModelProto``.
        """
        from .onnx_export import to_onnx

        return to_onnx(self, path, **kwargs)

    def explain(self, x: Any, y: Any, **kwargs: Any) -> Any:
        """Trace backprop on one sample ``x`` with target ``y``, layer by layer, beside finite
        differences; returns an :class:`nablanet.explain.Explanation` (``print`` it).
        """
        from .explain import explain

        return explain(cast("Sequential", self), x, y, **kwargs)
