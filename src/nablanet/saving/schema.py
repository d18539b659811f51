"""The schema of a Sequential model file's header: one check per section, all before loading.

:func:`check_header` is the ``check`` that :func:`~nablanet.saving.reader.read_model_file`
runs on the caller's header (the ``"model"`` object of ``header.json``) and the declared
array specs, before any array is read, so that building the model allocates only what the file
holds. Saving runs it too, on the header as it will be read back. The sections, in the order
they are checked (the first problem found is the one reported):

===========================  ===============================  ===============================
section                      check                            what it refuses
===========================  ===============================  ===============================
``kind``, required entries   :func:`check_kind`               another kind of file
``config``                   :func:`check_config`             a bad dtype, no ``input_dim``
``config.layers``            :func:`check_layers`             unknown classes, bad widths
``parameters``               :func:`check_parameters`         missing or misshapen weights
``optimizer_state``          :func:`check_optimizer_state`    buffers of no parameter
``config.task``/``classes``  :func:`check_task_and_classes`   classes the outputs cannot hold
array ``classes``            :func:`check_classes_array`      a non-numeric or wrong length
``rng_state``                :func:`check_rng_state`          a foreign or out-of-range state
``preprocessing``            :func:`check_preprocessing`      an unknown class, wrong widths
``metadata``                 :func:`check_metadata`           anything but an object
===========================  ===============================  ===============================

Every check raises :class:`~nablanet.saving.ModelFileError` naming the file and the field.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .._validation import short_repr
from ..layers import Dense
from ..layers.base import Layer
from ..preprocessing import Standardizer
from .container import ArraySpec, ModelFileError
from .limits import MAX_ARRAY_BYTES

MODEL_KIND = "nablanet.Sequential"
#: Preprocessing objects a model file may name (loading looks classes up here only).
PREPROCESSORS: dict[str, type[Standardizer]] = {"Standardizer": Standardizer}
#: Bit generators whose state may be restored (NumPy's own).
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
#: The tasks a model may be fitted on (``Sequential.task``).
TASKS = ("binary", "multiclass", "multilabel", "regression")
#: Most layers a model file may describe.
MAX_LAYERS = 10_000
_DTYPES = ("float32", "float64")
_STATE_NAME = re.compile(r"layers\.([0-9]{1,9})\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)")
# Exclusive upper bounds of the integers in a bit generator's state, by key (all are >= 0).
_RNG_INT_BOUNDS = {"has_uint32": 2, "uinteger": 2**32, "pos": 625, "buffer_pos": 5}

#: ``{(layer_index, parameter_name): shape}`` of every parameter the layers declare.
Shapes = dict[tuple[int, str], tuple[int, ...]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Schema:
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


def check_header(header: dict[str, Any], specs: dict[str, ArraySpec], where: str) -> None:
    """Check the model header against the schema of the module docstring and the arrays'
    declared shapes (so that building the model allocates only what the file holds)."""
    schema = Schema(where)
    check_kind(header, where)
    config = header["config"]
    dtype, input_dim = check_config(config, schema)
    expected, n_outputs = check_layers(config.get("layers"), input_dim, schema)
    check_parameters(header["parameters"], expected, specs, dtype, schema)
    check_optimizer_state(header["optimizer_state"], expected, specs, dtype, schema)
    check_task_and_classes(config, n_outputs, schema)
    check_classes_array(config.get("classes"), header.get("classes_dtype"), specs, schema)
    check_rng_state(header["rng_state"], schema)
    check_preprocessing(header.get("preprocessing"), input_dim, schema)
    check_metadata(header.get("metadata"), schema)


def check_kind(header: dict[str, Any], where: str) -> None:
    """The header describes a Sequential and has its four required entries."""
    if header.get("kind") != MODEL_KIND:
        raise ModelFileError(
            f"{where} holds {short_repr(header.get('kind'))}, not a {MODEL_KIND} model; was it "
            "written by nablanet.model_io.save?"
        )
    for key in ("config", "parameters", "optimizer_state", "rng_state"):
        if key not in header:
            raise ModelFileError(f"{where} does not describe a valid model: missing entry {key!r}")


def check_config(config: Any, schema: Schema) -> tuple[str, int]:
    """``config`` is an object with a float dtype and an input width; return both."""
    if not isinstance(config, dict):
        raise schema.error("model.config", f"must be an object, got {short_repr(config)}")
    dtype = config.get("dtype", "float32")
    if dtype not in _DTYPES:
        raise schema.error(
            "model.config.dtype", f"must be one of {list(_DTYPES)}, got {short_repr(dtype)}"
        )
    input_dim = config.get("input_dim")
    if input_dim is None or input_dim == 0:
        raise ModelFileError(
            f"{schema.where}: the stored model has no input_dim; it was never built"
        )
    return dtype, schema.int_in(input_dim, "model.config.input_dim", 1, MAX_ARRAY_BYTES)


def check_layers(layers: Any, input_dim: int, schema: Schema) -> tuple[Shapes, int]:
    """Every layer names a registered class; Dense widths chain from ``input_dim``.

    Returns the shapes of the parameters the layers will hold and the number of outputs.
    """
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise schema.error(
            "model.config.layers",
            f"must be a list of 1 to {MAX_LAYERS} layers, got {short_repr(layers)}",
        )
    width = input_dim
    expected: Shapes = {}
    for i, entry in enumerate(layers):
        field = f"model.config.layers[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("config", {}), dict):
            raise schema.error(
                field, f"must be {{'class': name, 'config': {{...}}}}, got {short_repr(entry)}"
            )
        name = entry.get("class")
        if not isinstance(name, str) or name not in Layer.registry:
            raise ModelFileError(
                f"{schema.where}: header field {field}.class: unknown layer class "
                f"{short_repr(name)}; known: {sorted(Layer.registry)}"
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
    return expected, width


def check_parameters(
    parameters: Any, expected: Shapes, specs: dict[str, ArraySpec], dtype: str, schema: Schema
) -> None:
    """``parameters`` lists exactly the layers' parameters; each array has its shape."""
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


def check_optimizer_state(
    state: Any, expected: Shapes, specs: dict[str, ArraySpec], dtype: str, schema: Schema
) -> None:
    """Each buffer is a counter or belongs to a parameter (``layers.<i>.<name>.<buffer>``)."""
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


def check_task_and_classes(config: dict[str, Any], n_outputs: int, schema: Schema) -> None:
    """``config.task`` is known; ``config.classes`` are distinct labels the outputs can hold."""
    task = config.get("task")
    if task is not None and task not in TASKS:
        raise schema.error(
            "model.config.task", f"must be null or one of {list(TASKS)}, got {short_repr(task)}"
        )
    classes = config.get("classes")
    if classes is None:
        return
    if not isinstance(classes, list) or not classes:
        raise schema.error(
            "model.config.classes", f"must be null or a non-empty list, got {short_repr(classes)}"
        )
    for j, label in enumerate(classes):
        if not isinstance(label, str | int | float):  # bool is an int
            raise schema.error(
                f"model.config.classes[{j}]", f"must be a label, got {short_repr(label)}"
            )
    if len({(type(c).__name__, c) for c in classes}) != len(classes):
        raise schema.error("model.config.classes", "names a class twice")
    if task is not None:
        check_classes(classes, task, n_outputs, schema)


def check_classes(classes: Any, task: str, n_outputs: int, schema: Schema) -> None:
    """As many class labels as a ``task`` model with ``n_outputs`` outputs predicts."""
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


def check_classes_array(
    classes: Any, classes_dtype: Any, specs: dict[str, ArraySpec], schema: Schema
) -> None:
    """The array ``classes`` (numeric labels, kept with their dtype) matches the config."""
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
                f"{schema.where}: the array 'classes' is {got.dtype} {got.shape}; it must be a "
                f"numeric vector of the {length} class labels of model.config.classes"
            )
    if classes_dtype is not None and (
        "classes" not in specs or classes_dtype != specs["classes"].dtype.str
    ):
        raise schema.error(
            "model.classes_dtype",
            f"is {short_repr(classes_dtype)}, but the array 'classes' is not of that dtype",
        )


def check_rng_state(rng_state: Any, schema: Schema) -> None:
    """A state of one of NumPy's bit generators, shaped like a fresh one's, in range."""
    if not isinstance(rng_state, dict) or rng_state.get("bit_generator") not in BIT_GENERATORS:
        found = rng_state.get("bit_generator") if isinstance(rng_state, dict) else rng_state
        raise ModelFileError(
            f"{schema.where}: header field model.rng_state: unknown random generator "
            f"{short_repr(found)}; expected one of {list(BIT_GENERATORS)}"
        )
    template = getattr(np.random, rng_state["bit_generator"])().state
    _check_rng(rng_state, template, "model.rng_state", schema)


def _check_rng(state: Any, template: Any, field: str, schema: Schema) -> None:
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


def check_preprocessing(entry: Any, input_dim: int, schema: Schema) -> None:
    """Null, or a known preprocessor with one mean and one scale per input feature."""
    if entry is None:
        return
    if not isinstance(entry, dict) or entry.get("class") not in PREPROCESSORS:
        found = entry.get("class") if isinstance(entry, dict) else entry
        raise ModelFileError(
            f"{schema.where}: unknown preprocessing {short_repr(found)}; expected one of "
            f"{sorted(PREPROCESSORS)}"
        )
    pre_config = entry.get("config")
    for key in ("mean", "scale"):
        values = pre_config.get(key) if isinstance(pre_config, dict) else None
        if not isinstance(values, list) or len(values) != input_dim:
            raise schema.error(
                f"model.preprocessing.config.{key}",
                f"must be a list of {input_dim} numbers (one per input feature), "
                f"got {short_repr(values)}",
            )


def check_metadata(metadata: Any, schema: Schema) -> None:
    """Null or a JSON object."""
    if metadata is not None and not isinstance(metadata, dict):
        raise schema.error("model.metadata", f"must be an object, got {short_repr(metadata)}")


def check_task(model: Any, schema: Schema) -> None:
    """The task must fit the output layer: one output for binary, several for the others."""
    task, n = model.task, model.n_outputs
    if (task == "binary" and n != 1) or (task in ("multiclass", "multilabel") and n < 2):
        raise schema.error(
            "model.config.task",
            f"is {task!r}, but the network has {n} output{'s' if n != 1 else ''}",
        )
