"""Export a trained network to ONNX, built node by node with ``onnx.helper``.

The graph computes in float32 what :meth:`nablanet.Sequential.predict_proba` computes:

==========================  ================================================================
nablanet                    ONNX
==========================  ================================================================
Standardizer (optional)     ``Sub(X, mean)``, ``Div(., scale)``
``Dense``                   ``Gemm(a, W, b)`` with ``W`` of shape (n_in, n_out), as stored
``Sigmoid``, ``Tanh``,      ``Sigmoid``, ``Tanh``, ``Relu``, ``LeakyRelu(alpha)``,
``ReLU``, ``LeakyReLU``,    ``Softmax(axis=1)``, ``Exp``; ``Identity`` and ``Dropout``
``Softmax``, ``Exp``        (inference) add no node
the loss's link             ``Sigmoid``, ``Softmax(axis=1)`` or ``Exp`` after the last layer
                            (``loss.link``; none for ``"identity"``)
one-vs-rest scores          ``Div(p, ReduceSum(p, axis 1))``, ``Where(sum == 0, 1/k, .)``,
                            for a multiclass model with sigmoid outputs (``normalizes_proba``)
==========================  ================================================================

Input ``"X"``: float32 of shape (N, n_features). Outputs, as skl2onnx writes them for
scikit-learn models with ``zipmap=False``, from ``p``, the last layer's output through the
link (what :meth:`~nablanet.Sequential.predict_proba` returns):

- classifiers: ``"label"`` of shape (N,), the class labels stored exactly (below), and
  ``"probabilities"``, float32 of shape (N, n_classes); a binary model's single output ``p``
  becomes the two columns ``[1 - p, p]``. Multilabel: ``"label"`` is the int64 indicator
  matrix ``p > 0.5`` of shape (N, n_labels);
- regressors: ``"variable"``, float32 of shape (N, n_outputs).

The labels are an initializer indexed by ``Gather``: int64 for integer (and whole-number float)
classes, uint64 when a uint64 class exceeds the int64 range (e.g. ``2**63 + 1``), double for
other floats (and whole numbers beyond 2**63), strings otherwise (Python ints beyond both
ranges too, written in decimal), so every class comes out as ``predict`` gives it.

``onnx`` is an optional dependency (``pip install nablanet[onnx]``); ``onnxruntime`` runs the
result.

Examples
--------
>>> model.to_onnx("model.onnx")                         # doctest: +SKIP
>>> import onnxruntime as ort                           # doctest: +SKIP
>>> sess = ort.InferenceSession("model.onnx")           # doctest: +SKIP
>>> label, proba = sess.run(None, {"X": X.astype("float32")})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._atomic import atomic_write
from ._validation import check_positive_int
from .layers import Dense, Dropout, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .layers.activations import Exp
from .losses import check_link

if TYPE_CHECKING:
    from .model import Sequential

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax over one axis and Gemm with optional C need opset 13


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'nablanet[onnx]'"
        ) from exc
    return onnx


def _task(model: Sequential) -> str:
    """``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``."""
    return model.resolved_task()


class Graph:
    """Nodes and initializers under construction, with unique names (what a
    :data:`LAYER_EXPORTERS` function appends to)."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        name = self.name(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: Sequence[str], output: str | None = None, **attrs: Any) -> str:
        out = output or self.name(op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [out], **attrs))
        return out


#: Layer classes defined outside :mod:`nablanet.layers` that export themselves:
#: ``LAYER_EXPORTERS[cls](graph, layer, x)`` appends the layer's nodes after tensor ``x`` and
#: returns the output tensor's name. Keyed by the exact class; filled by
#: :func:`register_layer_exporter` (e.g. by :mod:`nablanet.tutorial.conventions`), so this module
#: never imports the packages that build on it.
LAYER_EXPORTERS: dict[type[Layer], Callable[[Graph, Any, str], str]] = {}


def register_layer_exporter(
    cls: type[Layer],
) -> Callable[[Callable[[Graph, Any, str], str]], Callable[[Graph, Any, str], str]]:
    """Decorator: export layers of exactly the class ``cls`` with the decorated function."""

    def decorate(fn: Callable[[Graph, Any, str], str]) -> Callable[[Graph, Any, str], str]:
        LAYER_EXPORTERS[cls] = fn
        return fn

    return decorate


def _layers(graph: Graph, model: Sequential, x: str) -> str:
    """Append the network's nodes after tensor ``x``; return the output tensor's name."""
    simple: dict[type[Layer], str] = {Sigmoid: "Sigmoid", Tanh: "Tanh", ReLU: "Relu", Exp: "Exp"}
    for i, layer in enumerate(model.layers):
        exporter = LAYER_EXPORTERS.get(type(layer))
        if exporter is not None:
            x = exporter(graph, layer, x)
        elif isinstance(layer, Dense):
            W = graph.const(f"W{i}", layer.params["W"].astype(np.float32))
            b = graph.const(f"b{i}", layer.params["b"].astype(np.float32))
            x = graph.node("Gemm", [x, W, b])
        elif isinstance(layer, LeakyReLU):
            x = graph.node("LeakyRelu", [x], alpha=float(layer.alpha))
        elif isinstance(layer, Softmax):
            x = graph.node("Softmax", [x], axis=1)
        elif type(layer) in simple:
            x = graph.node(simple[type(layer)], [x])
        elif not isinstance(layer, Identity | Dropout):
            raise TypeError(
                f"cannot export layer {i} ({type(layer).__name__}) to ONNX; supported: Dense, "
                "Dropout and the activations Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Exp"
            )
    return x


def _link(graph: Graph, model: Sequential, x: str) -> str:
    """Append the loss's link after tensor ``x`` (nothing for ``"identity"``), then the
    division of one-vs-rest scores by their row sum where the model has them."""
    link = check_link(model.loss)
    if link == "sigmoid":
        x = graph.node("Sigmoid", [x])
    elif link == "softmax":
        x = graph.node("Softmax", [x], axis=1)
    elif link == "exp":
        x = graph.node("Exp", [x])
    if model.normalizes_proba():  # apply_link(..., normalize=True): rows of scores sum to 1
        axis = graph.const("axis", np.array([1], dtype=np.int64))
        total = graph.node("ReduceSum", [x, axis], keepdims=1)  # (N, 1)
        ratio = graph.node("Div", [x, total])
        zero = graph.node("Equal", [total, graph.const("zero", np.zeros(1, np.float32))])
        uniform = graph.const("uniform", np.full(1, 1.0 / model.n_outputs, dtype=np.float32))
        x = graph.node("Where", [zero, uniform, ratio])  # a NaN sum stays NaN, as in NumPy
    return x


def _class_values(classes: Any) -> tuple[np.ndarray, int]:
    """Class labels as an ONNX-ready array and its tensor element type."""
    from onnx import TensorProto

    arr = np.asarray(classes)
    int64 = np.iinfo(np.int64)
    if arr.dtype.kind == "u" and arr.size and arr.max() > int64.max:
        return arr.astype(np.uint64), TensorProto.UINT64  # 2**63 and above: int64 would wrap
    if arr.dtype.kind in "biu":
        return arr.astype(np.int64), TensorProto.INT64
    if arr.dtype.kind == "f":
        # whole numbers as int64 (skl2onnx's labels), but only where the conversion is exact:
        # float64(2**63) and beyond would come out as INT64_MIN
        whole = np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2.0**63)
        if whole:
            return arr.astype(np.int64), TensorProto.INT64
        return arr.astype(np.float64), TensorProto.DOUBLE
    return arr.astype(str).astype(object), TensorProto.STRING


def _outputs(graph: Graph, model: Sequential, out: str, task: str) -> list[Any]:
    """The label/probabilities (or variable) outputs, as value infos."""
    helper, TensorProto = graph.onnx.helper, graph.onnx.TensorProto
    k = model.n_outputs
    if task == "regression":
        graph.node("Identity", [out], "variable")
        return [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", k])]
    if task == "multilabel":
        graph.node("Identity", [out], "probabilities")
        positive = graph.node(
            "Greater", [out, graph.const("half", np.array([0.5], dtype=np.float32))]
        )
        graph.node("Cast", [positive], "label", to=TensorProto.INT64)
        return [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N", k]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", k]),
        ]
    if task == "binary" and k == 1:
        one_minus = graph.node("Sub", [graph.const("one", np.array([1.0], dtype=np.float32)), out])
        graph.node("Concat", [one_minus, out], "probabilities", axis=1)
        positive = graph.node(
            "Greater", [out, graph.const("half", np.array([0.5], dtype=np.float32))]
        )
        index = graph.node("Cast", [positive], to=TensorProto.INT64)
        index = graph.node("Reshape", [index, graph.const("flat", np.array([-1], dtype=np.int64))])
        n_classes = 2
    else:
        graph.node("Identity", [out], "probabilities")
        index = graph.node("ArgMax", [out], axis=1, keepdims=0)
        n_classes = k
    classes = model.classes_ if model.classes_ is not None else np.arange(n_classes)
    values, label_type = _class_values(classes)
    graph.node("Gather", [graph.const("classes", values), index], "label", axis=0)
    return [
        helper.make_tensor_value_info("label", label_type, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_classes]),
    ]


def to_onnx(
    model: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    preprocessing: Any = None,
    opset: int = DEFAULT_OPSET,
    name: str = "nablanet",
) -> Any:
    """Convert a built ``Sequential`` (or a fitted nablanet estimator) to an ONNX model.

    Parameters
    ----------
    model : Sequential or estimator with ``model_``
    path : str or path-like, optional
        Where to write the ``.onnx`` file (atomically: on failure nothing is written).
    preprocessing : Standardizer, optional
        Folded into the graph so that it takes raw features; defaults to the
        ``preprocessing_`` that :func:`nablanet.model_io.load` attaches.
    opset : int
        ONNX operator set (13 or later; 17 by default).
    name : str
        The graph's name.

    Returns
    -------
    onnx.ModelProto
        Checked by ``onnx.checker.check_model(..., full_check=True)``.
    """
    onnx = _import_onnx()
    model = getattr(model, "model_", model)
    if not getattr(model, "built", False):
        raise ValueError(f"the model must be built (fitted) before export, got {model!r}")
    opset = check_positive_int("opset", opset, minimum=MIN_OPSET)
    max_opset = int(onnx.defs.onnx_opset_version())
    if opset > max_opset:
        raise ValueError(
            f"opset {opset} is out of range: the installed onnx {onnx.__version__} knows opsets "
            f"up to {max_opset}; nablanet exports opsets {MIN_OPSET} to {max_opset}"
        )
    if preprocessing is None:
        preprocessing = getattr(model, "preprocessing_", None)
    graph = Graph(onnx)
    x = "X"
    if preprocessing is not None:
        if getattr(preprocessing, "mean_", None) is None:
            raise ValueError(f"preprocessing must be a fitted Standardizer, got {preprocessing!r}")
        mean = np.asarray(preprocessing.mean_, dtype=np.float32)
        scale = np.asarray(preprocessing.scale_, dtype=np.float32)
        x = graph.node("Sub", [x, graph.const("mean", mean)])
        x = graph.node("Div", [x, graph.const("scale", scale)])
    out = _link(graph, model, _layers(graph, model, x))
    outputs = _outputs(graph, model, out, _task(model))
    inputs = [
        onnx.helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, ["N", model.input_dim])
    ]
    g = onnx.helper.make_graph(graph.nodes, name, inputs, outputs, graph.initializers)
    proto = onnx.helper.make_model(
        g,
        opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="nablanet",
        doc_string=f"nablanet {_task(model)} network: {model!r}",
    )
    # the oldest IR that allows the opset (8 up to opset 17): the widest runtime support
    ir_versions = getattr(onnx.helper, "OP_SET_ID_VERSION_MAP", {})
    proto.ir_version = max(8, int(ir_versions.get(("ai.onnx", opset), 8)))
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    _check_runtime(data, opset)
    if path is not None:
        try:
            with atomic_write(path) as file:
                file.write(data)
        except OSError as exc:
            if os.fspath(path) in str(exc):
                raise
            raise OSError(
                f"cannot write '{os.fspath(path)}': {exc.strerror or exc} (errno {exc.errno})"
            ) from exc
    return proto


def _check_runtime(data: bytes, opset: int) -> None:
    """If onnxruntime is installed, refuse a model it cannot load (e.g. an opset newer than
    it supports), rather than write a file that fails later."""
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - depends on the environment
        return
    try:
        onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception classes
        reason = " ".join(str(exc).split())[:300]
        raise ValueError(
            f"opset {opset} is not supported by the installed onnxruntime "
            f"{onnxruntime.__version__}, which cannot load the exported model ({reason}); "
            f"choose a lower opset (>= {MIN_OPSET}, e.g. the default {DEFAULT_OPSET})"
        ) from exc
