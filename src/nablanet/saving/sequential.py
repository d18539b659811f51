"""Save a trained :class:`~nablanet.Sequential` to one file and load it back; no pickle.

One model file (the ZIP container of :mod:`nablanet.saving.container`) holds everything needed
to use the model, or to keep training it exactly where it stopped:

=====================  ====================================================================
header key             content
=====================  ====================================================================
``kind``               ``"nablanet.Sequential"``
``config``             ``model.get_config()``: layers, loss, optimizer settings, task, classes
``parameters``         ``[[layer_index, name], ...]``; array ``params/<i>/<name>`` each
``optimizer_state``    names of the optimizer's buffers (momenta, ...); array ``optimizer/<name>``
``rng_state``          the model generator's ``bit_generator.state`` (shuffling, dropout)
``preprocessing``      ``{"class": "Standardizer", "config": {...}}`` or null
``metadata``           free JSON from the caller (the CLI records the data set, test accuracy)
=====================  ====================================================================

plus the container's ``format_version``. Numeric class labels are also stored as the array
``classes`` so that their dtype survives. :mod:`nablanet.saving.schema` checks every section
before anything is allocated. Loading only looks names up in fixed registries
(layers, losses, optimizers, bit generators, preprocessors): it never runs code from the file.

Examples
--------
>>> model.save("model.nbnet", preprocessing=scaler)          # doctest: +SKIP
>>> model = nablanet.saving.load("model.nbnet")               # doctest: +SKIP
>>> saved = nablanet.saving.read_model("model.nbnet")         # doctest: +SKIP
>>> saved.predict(X_raw)   # applies the stored Standardizer first  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import short_repr
from ..layers import Dropout
from ..model import Sequential
from ..preprocessing import Standardizer
from .container import ArraySpec, ModelFileError, check_json, write_model_file
from .reader import read_model_file
from .schema import MODEL_KIND, PREPROCESSORS, Schema, check_classes, check_header, check_task

__all__ = ["MODEL_KIND", "ModelFileError", "SavedModel", "load", "read_model", "save"]


PathLike = str | os.PathLike[str]


@dataclass
class SavedModel:
    """A model read from a file, with what it needs at inference.

    Attributes
    ----------
    model : Sequential
    preprocessing : Standardizer or None
        Applied to raw features before the network (``transform``).
    metadata : dict
        The JSON ``metadata`` given to :func:`save`.
    path : pathlib.Path
    """

    model: Sequential
    preprocessing: Standardizer | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: pathlib.Path | None = None

    def transform(self, X: Any) -> np.ndarray:
        """Raw features ``X`` of shape (n_samples, n_features) -> the network's input."""
        if self.preprocessing is None:
            return np.asarray(X)
        return self.preprocessing.transform(X)

    def predict(self, X: Any) -> np.ndarray:
        """Labels (from the stored classes) or values for raw ``X`` (n_samples, n_features)."""
        return self.model.predict(self.transform(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Network output, shape (n_samples, n_outputs), for raw ``X``."""
        return self.model.predict_proba(self.transform(X))


# -- saving -------------------------------------------------------------------------------
def _json_state(value: Any) -> Any:
    """A bit generator state with its NumPy arrays and integers turned into JSON lists/ints."""
    if isinstance(value, dict):
        return {str(k): _json_state(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


def save(
    model: Sequential,
    path: PathLike,
    *,
    preprocessing: Standardizer | None = None,
    metadata: dict[str, Any] | None = None,
) -> pathlib.Path:
    """Write ``model`` (architecture, weights, optimizer and RNG state, classes) to ``path``.

    The write is atomic: on any error nothing is written and an existing file is left intact.

    Parameters
    ----------
    model : Sequential
        A built model.
    path : str or path-like
        Target file, e.g. ``"model.nbnet"``.
    preprocessing : Standardizer, optional
        Fitted preprocessing to apply to raw features at inference. Defaults to the
        ``preprocessing_`` attribute that :func:`load` attaches, so load-then-save keeps it.
    metadata : dict, optional
        JSON-serialisable notes stored alongside (data set name, metrics, ...).

    Returns
    -------
    pathlib.Path
    """
    if not getattr(model, "built", False):
        raise ValueError("cannot save a model that is not built yet: fit it or call build() first")
    if preprocessing is None:
        preprocessing = getattr(model, "preprocessing_", None)
    pre_entry = None
    if preprocessing is not None:
        name = type(preprocessing).__name__
        if name not in PREPROCESSORS:
            raise TypeError(
                f"preprocessing must be one of {sorted(PREPROCESSORS)}, got {name} "
                f"{short_repr(preprocessing)}"
            )
        pre_config = preprocessing.get_config()
        pre_entry = {"class": name, "config": pre_config}
        n_features = len(pre_config["mean"])
        if n_features != model.input_dim:
            raise ValueError(
                f"preprocessing ({name}) was fitted on {n_features} features, but the model "
                f"takes {model.input_dim}; fit it on the model's training features"
            )
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    check_json(metadata, "metadata", depth=2)  # header.json holds it as model.metadata

    arrays: dict[str, np.ndarray] = {}
    parameters = []
    for i, layer_weights in enumerate(model.get_weights()):
        for name, value in layer_weights.items():
            parameters.append([i, name])
            arrays[f"params/{i}/{name}"] = value
    state = model.optimizer.get_state()
    for name, value in state.items():
        arrays[f"optimizer/{name}"] = np.asarray(value)
    classes = model.classes_
    classes_dtype = None
    if classes is not None and np.asarray(classes).dtype.kind in "biuf":
        arrays["classes"] = np.asarray(classes)
        classes_dtype = arrays["classes"].dtype.str
    header = {
        "kind": MODEL_KIND,
        "config": model.get_config(),
        "parameters": parameters,
        "optimizer_state": list(state),
        "rng_state": _json_state(model.rng.bit_generator.state),
        "classes_dtype": classes_dtype,
        "preprocessing": pre_entry,
        "metadata": metadata or {},
    }
    _check_loads_back(header, arrays, path)
    return write_model_file(path, header, arrays)


def _check_loads_back(header: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> None:
    """Refuse, before anything is written, a header that :func:`read_model` would refuse.

    The checks of loading, run on the header as JSON will give it back: the schema and the
    arrays' shapes (:func:`check_header`), then every layer, the loss and the optimizer rebuilt
    by name from their registries (nothing is allocated: the rebuilt model is not built).
    """
    where = f"cannot save model to '{os.fspath(path)}'; the file would not load back"
    check_json(header, "header", depth=1)
    as_read = json.loads(json.dumps(header, allow_nan=False))
    specs = {name: ArraySpec("", array.dtype, array.shape, "") for name, array in arrays.items()}
    check_header(as_read, specs, where)
    config = dict(as_read["config"], input_dim=None)
    try:
        Sequential.from_config(config, seed=0)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: its configuration cannot be rebuilt: {exc}") from exc


def _restore_rng(model: Sequential, state: Any, where: str) -> None:
    """Put the saved generator state back, keeping dropout layers on the same generator."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{where}: invalid random generator state ({exc})") from exc
    model.rng = np.random.Generator(bit_generator)
    for layer in model.layers:
        if isinstance(layer, Dropout) and layer.built:
            layer.rng = model.rng


def _rebuild(header: dict[str, Any], arrays: dict[str, np.ndarray], where: str) -> SavedModel:
    """Build the model of a header already checked by :func:`check_header`."""
    schema = Schema(where)
    config = header["config"]
    model = Sequential.from_config(config)
    check_task(model, schema)
    weights: list[dict[str, np.ndarray]] = [{} for _ in model.layers]
    for i, name in header["parameters"]:
        weights[int(i)][str(name)] = arrays[f"params/{i}/{name}"]
    for i, layer in enumerate(model.layers):
        for name in weights[i]:
            if name not in layer.params:
                raise schema.error("model.parameters", f"names {[i, name]}, which layer {i} lacks")
    model.set_weights(weights)
    built = model.optimizer.state
    for name in header["optimizer_state"]:
        value = arrays[f"optimizer/{name}"]
        if name in ("iterations", "epochs"):
            schema.int_in(int(value), f"model.optimizer_state ({name!r})", 0, 2**62)
            continue
        key, _, buffer = name.rpartition(".")
        if buffer not in built.get(key, {}):
            raise schema.error(
                f"model.optimizer_state ({name!r})",
                f"is not a buffer of the {type(model.optimizer).__name__} optimizer",
            )
    model.optimizer.set_state(
        {name: arrays[f"optimizer/{name}"] for name in header["optimizer_state"]}
    )
    _restore_rng(model, header["rng_state"], where)
    if "classes" in arrays:
        model.classes_ = arrays["classes"]
    elif config.get("classes") is not None:
        model.classes_ = np.asarray(config["classes"])
    if model.classes_ is not None:  # wherever they came from: as many as the outputs need
        labels = model.classes_.tolist()
        if any(isinstance(c, float) and not np.isfinite(c) for c in labels):
            raise schema.error("model.classes", f"must be finite labels, got {short_repr(labels)}")
        if len(set(labels)) != len(labels):
            raise schema.error("model.classes", f"names a class twice: {short_repr(labels)}")
        check_classes(labels, model.resolved_task(), model.n_outputs, schema)
    preprocessing = None
    entry = header.get("preprocessing")
    if entry is not None:
        preprocessing = PREPROCESSORS[entry["class"]].from_config(entry["config"])
    # Not a Sequential attribute of its own: attached so that load -> save keeps it.
    setattr(model, "preprocessing_", preprocessing)  # noqa: B010
    metadata = header.get("metadata") or {}
    return SavedModel(model, preprocessing, dict(metadata))


def read_model(path: PathLike) -> SavedModel:
    """Load a model file written by :func:`save`, with its preprocessing and metadata.

    Raises ``FileNotFoundError`` if ``path`` does not exist and :class:`ModelFileError` (a
    ``ValueError``) naming ``path`` if the file is truncated, corrupted, from a newer format
    version, holds pickled data, or does not describe a valid model.
    """
    path = pathlib.Path(path)
    header, arrays = read_model_file(path, check=check_header)
    where = f"model file '{path}'"
    try:
        saved = _rebuild(header, arrays, where)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        detail = f"missing entry {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ModelFileError(f"{where} does not describe a valid model: {detail}") from exc
    saved.path = path
    return saved


def load(path: PathLike) -> Sequential:
    """Load the model saved in ``path`` (see :func:`read_model` for the errors).

    The model predicts bitwise as it did when saved, and ``fit`` continues exactly as
    uninterrupted training would (optimizer state and random generator are restored). If the
    file holds preprocessing (``nablanet train`` stores its Standardizer), it is attached as
    ``model.preprocessing_``: apply ``model.preprocessing_.transform(X)`` to raw features before
    ``predict``, or use ``read_model(path).predict(X)``, which does it for you.
    """
    return read_model(path).model
