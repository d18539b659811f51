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

import json
import os
import pathlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import short_repr
from .layers import Dense, Dropout
from .layers.base import Layer
from .preprocessing import Standardizer
from .saving import (
    MAX_ARRAY_BYTES,
    ArraySpec,
    ModelFileError,
    check_json,
    read_model_file,
    write_model_file,
)

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
    arrays' shapes (:func:`_check_header`), then every layer, the loss and the optimizer rebuilt
    by name from their registries (nothing is allocated: the rebuilt model is not built).
    """
    where = f"cannot save model to '{os.fspath(path)}'; the file would not load back"
    check_json(header, "header", depth=1)
    as_read = json.loads(json.dumps(header, allow_nan=False))
    specs = {name: ArraySpec("", array.dtype, array.shape, "") for name, array in arrays.items()}
    _check_header(as_read, specs, where)
    from .model import Sequential

    config = dict(as_read["config"], input_dim=None)
    try:
        Sequential.from_config(config, seed=0)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: its configuration cannot be rebuilt: {exc}") from exc


# -- loading: the whole header is checked before anything is allocated ----------------------
#: The tasks a model may be fitted on (``Sequential.task``).
TASKS = ("binary", "multiclass", "multilabel", "regression")
#: Most layers a model file may describe.
MAX_LAYERS = 10_000
_DTYPES = ("float32", "float64")
_STATE_NAME = re.compile(r"layers\.([0-9]{1,9})\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)")
# Exclusive upper bounds of the integers in a bit generator's state, by key (all are >= 0).
_RNG_INT_BOUNDS = {"has_uint32": 2, "uinteger": 2**32, "pos": 625, "buffer_pos": 5}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Schema:
    """Raises ModelFileError naming the file and the header field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, field: str, detail: str) -> ModelFileError:
        return ModelFileError(f"{self.where}: header field {field} {detail}")

    def int_in(self, value: Any, field: str, low: int, high: int) -> int:
        """``value`` as an int with ``low <= value <= high``."""
        if not _is_int(value) or not low <= value <= high:
            raise self.error(
                field, f"must be a whole number in [{low}, {high}], got {short_repr(value)}"
            )
        return int(value)

    def spec(
        self, specs: dict[str, ArraySpec], name: str, field: str, shape: tuple[int, ...], dtype: Any
    ) -> None:
        """The array ``name`` exists with ``shape`` and ``dtype`` (dtype None: any integer)."""
        if name not in specs:
            raise ModelFileError(f"{self.where}: the array {name!r} ({field}) is missing")
        got = specs[name]
        kind_ok = got.dtype.kind in "iu" if dtype is None else got.dtype == np.dtype(dtype)
        if got.shape != shape or not kind_ok:
            want = f"{'an integer' if dtype is None else np.dtype(dtype)} array of shape {shape}"
            raise ModelFileError(
                f"{self.where}: the array {name!r} ({field}) is {got.dtype} {got.shape}; the "
                f"model's configuration needs {want}"
            )


def _check_rng(state: Any, template: Any, field: str, schema: _Schema) -> None:
    """``state`` has the structure of a fresh generator's ``template`` state, in range."""
    if isinstance(template, dict):
        if not isinstance(state, dict) or set(state) != set(template):
            keys = sorted(state) if isinstance(state, dict) else short_repr(state)
            raise schema.error(field, f"must have the keys {sorted(template)}, got {keys}")
        for key, sub in template.items():
            _check_rng(state[key], sub, f"{field}.{key}", schema)
    elif isinstance(template, np.ndarray):
        if not isinstance(state, list) or len(state) != template.size:
            raise schema.error(field, f"must be a list of {template.size} whole numbers")
        high = 2 ** (8 * template.dtype.itemsize) - 1
        for i, item in enumerate(state):
            schema.int_in(item, f"{field}[{i}]", 0, high)
    elif isinstance(template, str):
        if state != template:
            raise schema.error(field, f"must be {template!r}, got {short_repr(state)}")
    else:
        key = field.rpartition(".")[2]
        schema.int_in(state, field, 0, _RNG_INT_BOUNDS.get(key, 2**128) - 1)


def _check_classes(classes: Any, task: str, n_outputs: int, schema: _Schema) -> None:
    field = "model.config.classes"
    if classes is None:
        return
    if task == "regression":
        raise schema.error(field, f"must be null for a regression model, got {short_repr(classes)}")
    expected = n_outputs if task == "multiclass" else 2
    if len(classes) != expected:
        why = f"{n_outputs} outputs" if task == "multiclass" else "one 0/1 output per label"
        raise schema.error(
            field, f"has {len(classes)} names; a {task} model with {why} needs {expected}"
        )


def _check_task(model: Any, schema: _Schema) -> None:
    """The task must fit the output layer: one output for binary, several for the others."""
    task, n = model.task, model.n_outputs
    if (task == "binary" and n != 1) or (task in ("multiclass", "multilabel") and n < 2):
        raise schema.error(
            "model.config.task",
            f"is {task!r}, but the network has {n} output{'s' if n != 1 else ''}",
        )


def _check_header(header: dict[str, Any], specs: dict[str, ArraySpec], where: str) -> None:
    """Check the model header against the schema of the module docstring and the arrays'
    declared shapes (so that building the model allocates only what the file holds)."""
    schema = _Schema(where)
    if header.get("kind") != MODEL_KIND:
        raise ModelFileError(
            f"{where} holds {short_repr(header.get('kind'))}, not a {MODEL_KIND} model; was it "
            "written by nablanet.model_io.save?"
        )
    for key in ("config", "parameters", "optimizer_state", "rng_state"):
        if key not in header:
            raise ModelFileError(f"{where} does not describe a valid model: missing entry {key!r}")
    config = header["config"]
    if not isinstance(config, dict):
        raise schema.error("model.config", f"must be an object, got {short_repr(config)}")
    dtype = config.get("dtype", "float32")
    if dtype not in _DTYPES:
        raise schema.error(
            "model.config.dtype", f"must be one of {list(_DTYPES)}, got {short_repr(dtype)}"
        )
    input_dim = config.get("input_dim")
    if input_dim is None or input_dim == 0:
        raise ModelFileError(f"{where}: the stored model has no input_dim; it was never built")
    width = schema.int_in(input_dim, "model.config.input_dim", 1, MAX_ARRAY_BYTES)
    layers = config.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise schema.error(
            "model.config.layers",
            f"must be a list of 1 to {MAX_LAYERS} layers, got {short_repr(layers)}",
        )
    expected: dict[tuple[int, str], tuple[int, ...]] = {}
    for i, entry in enumerate(layers):
        field = f"model.config.layers[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
            raise schema.error(
                field, f"must be {{'class': name, 'config': {{...}}}}, got {short_repr(entry)}"
            )
        name = entry.get("class")
        if not isinstance(name, str) or name not in Layer.registry:
            raise ModelFileError(
                f"{where}: header field {field}.class: unknown layer class {short_repr(name)}; "
                f"known: {sorted(Layer.registry)}"
            )
        if issubclass(Layer.registry[name], Dense):  # Dense and its subclasses (SeedDense)
            layer_config = entry.get("config", {})
            units = schema.int_in(
                layer_config.get("units"), f"{field}.config.units", 1, MAX_ARRAY_BYTES
            )
            declared = layer_config.get("input_dim")
            if declared is not None and declared != width:
                raise schema.error(
                    f"{field}.config.input_dim",
                    f"is {short_repr(declared)}, but its input has {width} features",
                )
            expected[(i, "W")] = (width, units)
            expected[(i, "b")] = (units,)
            width = units
    n_outputs = width
    parameters = header["parameters"]
    if not isinstance(parameters, list) or not all(
        isinstance(p, list) and len(p) == 2 and _is_int(p[0]) and isinstance(p[1], str)
        for p in parameters
    ):
        raise schema.error(
            "model.parameters",
            f"must be a list of [layer, name] pairs, got {short_repr(parameters)}",
        )
    listed = [(int(i), str(name)) for i, name in parameters]
    if sorted(listed) != sorted(expected):
        raise schema.error(
            "model.parameters",
            f"lists {sorted(listed)}, but the layers have the parameters {sorted(expected)}",
        )
    for (i, name), shape in expected.items():
        schema.spec(specs, f"params/{i}/{name}", "model.parameters", shape, dtype)
    state = header["optimizer_state"]
    if not isinstance(state, list) or not all(isinstance(s, str) for s in state):
        raise schema.error(
            "model.optimizer_state", f"must be a list of names, got {short_repr(state)}"
        )
    for name in state:
        field = f"model.optimizer_state ({name!r})"
        if name in ("iterations", "epochs"):
            schema.spec(specs, f"optimizer/{name}", field, (), None)
            continue
        match = _STATE_NAME.fullmatch(name)
        slot = (int(match.group(1)), match.group(2)) if match else None
        if slot is None or slot not in expected:
            raise schema.error(field, "names no parameter of the model")
        schema.spec(specs, f"optimizer/{name}", field, expected[slot], dtype)
    task = config.get("task")
    if task is not None and task not in TASKS:
        raise schema.error(
            "model.config.task", f"must be null or one of {list(TASKS)}, got {short_repr(task)}"
        )
    classes = config.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not classes:
            raise schema.error(
                "model.config.classes",
                f"must be null or a non-empty list, got {short_repr(classes)}",
            )
        for j, label in enumerate(classes):
            if not isinstance(label, str | int | float):  # bool is an int
                raise schema.error(
                    f"model.config.classes[{j}]", f"must be a label, got {short_repr(label)}"
                )
        if len({(type(c).__name__, c) for c in classes}) != len(classes):
            raise schema.error("model.config.classes", "names a class twice")
        if task is not None:
            _check_classes(classes, task, n_outputs, schema)
    if "classes" in specs:
        n = len(classes) if classes is not None else specs["classes"].shape[0:1] or (0,)
        length = n if isinstance(n, int) else n[0]
        got = specs["classes"]
        if (
            len(got.shape) != 1
            or got.dtype.kind not in "biuf"
            or (classes is not None and got.shape != (length,))
        ):
            raise ModelFileError(
                f"{where}: the array 'classes' is {got.dtype} {got.shape}; it must be a numeric "
                f"vector of the {length} class labels of model.config.classes"
            )
    classes_dtype = header.get("classes_dtype")
    if classes_dtype is not None and (
        "classes" not in specs or classes_dtype != specs["classes"].dtype.str
    ):
        raise schema.error(
            "model.classes_dtype",
            f"is {short_repr(classes_dtype)}, but the array 'classes' is not of that dtype",
        )
    rng_state = header["rng_state"]
    if not isinstance(rng_state, dict) or rng_state.get("bit_generator") not in BIT_GENERATORS:
        found = rng_state.get("bit_generator") if isinstance(rng_state, dict) else rng_state
        raise ModelFileError(
            f"{where}: header field model.rng_state: unknown random generator {short_repr(found)}; "
            f"expected one of {list(BIT_GENERATORS)}"
        )
    template = getattr(np.random, rng_state["bit_generator"])().state
    _check_rng(rng_state, template, "model.rng_state", schema)
    entry = header.get("preprocessing")
    if entry is not None:
        if not isinstance(entry, dict) or entry.get("class") not in PREPROCESSORS:
            found = entry.get("class") if isinstance(entry, dict) else entry
            raise ModelFileError(
                f"{where}: unknown preprocessing {short_repr(found)}; expected one of {sorted(PREPROCESSORS)}"
            )
        pre_config = entry.get("config")
        for key in ("mean", "scale"):
            values = pre_config.get(key) if isinstance(pre_config, dict) else None
            if not isinstance(values, list) or len(values) != input_dim:
                raise schema.error(
                    f"model.preprocessing.config.{key}",
                    f"must be a list of {input_dim} numbers (one per input feature), got {short_repr(values)}",
                )
    metadata = header.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise schema.error("model.metadata", f"must be an object, got {short_repr(metadata)}")


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
    """Build the model of a header already checked by :func:`_check_header`."""
    from .model import Sequential

    schema = _Schema(where)
    config = header["config"]
    model = Sequential.from_config(config)
    _check_task(model, schema)
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
        _check_classes(labels, model.resolved_task(), model.n_outputs, schema)
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
    header, arrays = read_model_file(path, check=_check_header)
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
