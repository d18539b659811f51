"""The small measurements of ``speed.py``: seed 003's XOR step and inference through
784-256-128-10, each timed by the shared protocol (``_protocol.interleave``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import _protocol as protocol
import numpy as np
from _common import SIZES, make_nablanet

XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)  # seed 003
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


# -- the tiny network: seed 003's 3-4-1 sigmoid XOR net, full batch ---------------------------
def numpy_xor_steps(params: list[np.ndarray], steps: int, lr: float = 1.0) -> float:
    """The hand-written loop: forward, backward, update (sum-of-squares loss, mean over rows)."""
    W1, b1, W2, b2 = params
    X, Y = XOR_X, XOR_Y
    n = len(X)
    loss = 0.0
    for _ in range(steps):
        h = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))  # (4, 4)
        out = 1.0 / (1.0 + np.exp(-(h @ W2 + b2)))  # (4, 1)
        loss = float(np.sum((out - Y) ** 2)) / n
        d2 = (2.0 / n) * (out - Y) * out * (1.0 - out)  # delta of the output layer
        d1 = (d2 @ W2.T) * h * (1.0 - h)  # delta of the hidden layer
        W2 -= lr * (h.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (X.T @ d1)
        b1 -= lr * d1.sum(axis=0)
    return loss


def tiny_xor(steps: int, rounds: int) -> dict:
    """Seconds per call of ``steps`` full-batch steps, interleaved rounds, CPU time."""
    from nablanet import SGD, Sequential

    def model() -> Any:
        return Sequential.from_sizes(
            [3, 4, 1], "sigmoid", "sigmoid", loss="sum_squared_error", optimizer=SGD(lr=1.0),
            seed=0,
        )  # fmt: skip

    stepper = model()
    fitter = model()
    params = [
        p.copy()
        for layer in stepper.get_weights()
        for p in (layer.get("W"), layer.get("b"))
        if p is not None
    ]

    def run_steps() -> None:
        for _ in range(steps):
            stepper.train_step(XOR_X, XOR_Y)

    def run_fit() -> None:
        fitter.fit(XOR_X, XOR_Y, epochs=steps, verbose=False)

    runs = {
        "nablanet_train_step": run_steps,
        "nablanet_fit": run_fit,
        "numpy": lambda: numpy_xor_steps(params, steps),
    }
    notes = {}
    try:
        runs["torch"] = _torch_xor(steps)
    except ImportError as exc:
        notes["torch"] = f"skipped: {exc}"
    result = protocol.interleave(runs, rounds, 1)  # one call = ``steps`` steps
    result["steps"], result["notes"] = steps, notes
    result["final_loss"] = {
        "nablanet_train_step": float(stepper.train_step(XOR_X, XOR_Y)[0]),
        "numpy": numpy_xor_steps(params, 1),
    }
    return result


def _torch_xor(steps: int) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1), torch.nn.Sigmoid()
    )
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    Xt, Yt = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)

    def run() -> None:
        for _ in range(steps):
            opt.zero_grad()
            loss = ((net(Xt) - Yt) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
            loss.item()

    return run


# -- inference through 784-256-128-10 ---------------------------------------------------------
def numpy_forward(X: np.ndarray, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The hand-written forward pass: ReLU hidden layers, then a row-max-shifted softmax."""
    a = X
    for W, b in weights[:-1]:
        a = a @ W  # (n, n_in) @ (n_in, n_out)
        a += b
        np.maximum(a, 0, out=a)
    z = a @ weights[-1][0]
    z += weights[-1][1]
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _onnx_session(weights: list[tuple[np.ndarray, np.ndarray]], threads: int) -> Any:
    """An onnxruntime session for the same network, built inline with ``onnx.helper``."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "x"
    for i, (W, b) in enumerate(weights):
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"b{i}"], [f"z{i}"]))
        prev = f"z{i}"
        if i < len(weights) - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"a{i}"]))
            prev = f"a{i}"
    nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=1))
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", SIZES[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", SIZES[-1]])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def inference(threads: int, rounds: int, min_time: float, batches: tuple[int, ...] = (1, 1000)):
    """Seconds per call of each library's forward pass, for each batch size (interleaved
    rounds of timeit-style loops of >= ``min_time`` seconds)."""
    model = make_nablanet("sgd")
    model.task = "multiclass"
    weights = [(lay["W"], lay["b"]) for lay in model.get_weights() if lay]
    X = np.random.default_rng(1).random((max(batches), SIZES[0]), dtype=np.float32)
    fns: dict[str, Callable[[np.ndarray], Any]] = {
        "nablanet": model.predict_proba,
        "numpy": lambda x: numpy_forward(x, weights),
    }
    notes: dict[str, str] = {}
    try:
        import torch

        net = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
            torch.nn.ReLU(), torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1),
        )  # fmt: skip
        with torch.no_grad():
            linears = [m for m in net if isinstance(m, torch.nn.Linear)]
            for layer, (W, b) in zip(linears, weights, strict=True):
                layer.weight.copy_(torch.from_numpy(W.T))
                layer.bias.copy_(torch.from_numpy(b))
        net.eval()
        tensors = {n: torch.from_numpy(X[:n]) for n in batches}
        fns["torch"] = lambda x: net(tensors[len(x)])  # the tensor is made once, outside the loop
    except ImportError as exc:
        notes["torch"] = f"skipped: {exc}"
    try:
        session = _onnx_session(weights, threads)
        fns["onnxruntime"] = lambda x: session.run(None, {"x": x})[0]
    except ImportError as exc:
        notes["onnxruntime"] = f"skipped: {exc}"
    result: dict[str, Any] = {"notes": notes, "batches": {}}
    with _no_grad():
        for n in batches:
            x = X[:n]
            reference = numpy_forward(x, weights)
            calls: dict[str, Callable[[], Any]] = {
                name: functools.partial(fn, x) for name, fn in fns.items()
            }
            timing = protocol.interleave(calls, rounds, threads, min_time=min_time)
            timing["max_abs_diff"] = {
                name: float(np.max(np.abs(np.asarray(fn(x)) - reference)))
                for name, fn in fns.items()
            }
            result["batches"][str(n)] = timing
    return result


def _no_grad() -> Any:
    try:
        import torch
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return torch.no_grad()
