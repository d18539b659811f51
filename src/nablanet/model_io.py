"""Save a trained :class:`~nablanet.Sequential` to one file and load it back; no pickle.

One model file (the ZIP container of :mod:`nablanet.saving`) holds everything needed to use the
model, or to keep training it exactly where it stopped:

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
``classes`` so that their dtype survives. Loading only looks names up in fixed registries
(layers, losses, optimizers, bit generators, preprocessors): it never runs code from the file.

Examples
--------
>>> model.save("model.nbnet", preprocessing=scaler)          # doctest: +SKIP
>>> model = nablanet.model_io.load("model.nbnet")             # doctest: +SKIP
>>> saved = nablanet.model_io.read_model("model.nbnet")       # doctest: +SKIP
>>> saved.predict(X_raw)   # applies the stored Standardizer first  # doctest: +SKIP
"""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .layers import Dropout
from .preprocessing import Standardizer
from .saving import ModelFileError, read_model_file, write_model_file

if TYPE_CHECKING:
    from .model import Sequential

__all__ = ["MODEL_KIND", "ModelFileError", "SavedModel", "load", "read_model", "save"]

MODEL_KIND = "nablanet.Sequential"
#: Preprocessing objects a model file may name (loading looks classes up here only).
PREPROCESSORS: dict[str, type[Standardizer]] = {"Standardizer": Standardizer}
#: Bit generators whose state may be restored (NumPy's own).
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

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
                f"{preprocessing!r}"
            )
        pre_entry = {"class": name, "config": preprocessing.get_config()}
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")

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
    return write_model_file(path, header, arrays)


# -- loading ------------------------------------------------------------------------------
def _restore_rng(model: Sequential, state: Any, where: str) -> None:
    """Put the saved generator state back, keeping dropout layers on the same generator."""
    if not isinstance(state, dict) or state.get("bit_generator") not in BIT_GENERATORS:
        found = state.get("bit_generator") if isinstance(state, dict) else state
        raise ModelFileError(
            f"{where}: unknown random generator {found!r}; expected one of {list(BIT_GENERATORS)}"
        )
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{where}: invalid random generator state ({exc})") from exc
    model.rng = np.random.Generator(bit_generator)
    for layer in model.layers:
        if isinstance(layer, Dropout) and layer.built:
            layer.rng = model.rng


def _rebuild(header: dict[str, Any], arrays: dict[str, np.ndarray], where: str) -> SavedModel:
    from .model import Sequential

    if header.get("kind") != MODEL_KIND:
        raise ModelFileError(
            f"{where} holds {header.get('kind')!r}, not a {MODEL_KIND} model; was it written "
            "by nablanet.model_io.save?"
        )
    config = header["config"]
    model = Sequential.from_config(config)
    if not getattr(model, "built", False):
        raise ModelFileError(f"{where}: the stored model has no input_dim; it was never built")
    weights: list[dict[str, np.ndarray]] = [{} for _ in model.layers]
    for i, name in header["parameters"]:
        key = f"params/{i}/{name}"
        if key not in arrays:
            raise ModelFileError(f"{where}: the array {key!r} is missing")
        weights[int(i)][str(name)] = arrays[key]
    model.set_weights(weights)
    model.optimizer.set_state(
        {name: arrays[f"optimizer/{name}"] for name in header["optimizer_state"]}
    )
    _restore_rng(model, header["rng_state"], where)
    if "classes" in arrays:
        model.classes_ = arrays["classes"]
    elif config.get("classes") is not None:
        model.classes_ = np.asarray(config["classes"])
    preprocessing = None
    entry = header.get("preprocessing")
    if entry is not None:
        cls = PREPROCESSORS.get(entry.get("class"))
        if cls is None:
            raise ModelFileError(
                f"{where}: unknown preprocessing {entry.get('class')!r}; "
                f"expected one of {sorted(PREPROCESSORS)}"
            )
        preprocessing = cls.from_config(entry["config"])
        if preprocessing.n_features_in_ != model.input_dim:
            raise ModelFileError(
                f"{where}: the preprocessing expects {preprocessing.n_features_in_} features "
                f"but the model {model.input_dim}"
            )
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
    header, arrays = read_model_file(path)
    where = f"model file '{path}'"
    try:
        saved = _rebuild(header, arrays, where)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
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
