"""Text descriptions of a model: ``summary`` (a Keras-style table) and ``info`` (the print of the
tutorial "Introduction to Deep Learning - Part 3")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .layers import Dense

if TYPE_CHECKING:
    from .model import Sequential


def summary_text(model: Sequential) -> str:
    """A table of layers, output shapes and parameter counts, then totals and the setup."""
    rows = [("Layer", "Output shape", "Params")]
    for i, layer in enumerate(model.layers):
        width = layer.output_dim if layer.built else "?"
        rows.append((f"{i}: {type(layer).__name__}", f"(None, {width})", f"{layer.n_params:,}"))
    widths = [max(len(row[c]) for row in rows) + 2 for c in range(3)]
    line = "-" * sum(widths)

    def fmt(row: tuple[str, str, str]) -> str:
        return "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))

    out = [line, fmt(rows[0]), line, *(fmt(row) for row in rows[1:]), line]
    out += [
        f"Total params: {model.n_params:,}",
        f"Loss: {model.loss.name}  Optimizer: {model.optimizer!r}  dtype: {model.dtype}",
        line,
    ]
    return "\n".join(out)


def info_text(model: Sequential) -> str:
    """Every Dense layer's biases and weights, neuron by neuron, as the ``info()`` of the tutorial
    "Introduction to Deep Learning - Part 3" prints them.

    Neuron ``j`` of a layer owns column ``j`` of ``W`` (shape (n_in, n_out)) and ``b[j]``.
    """
    lines = ["========= [ Neural Network ] =========", f"Optimizer: {model.optimizer!r}"]
    k = 0
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Dense):
            continue
        k += 1
        act = model.layers[i + 1] if i + 1 < len(model.layers) else None
        lines.append(f"~~~~~~ [ Layer - {k} ] ~~~~~~")
        lines.append(
            f"No. of Neurons: {layer.units}  Activation: {type(act).__name__ if act else '-'}"
        )
        W, b = layer.params["W"], layer.params["b"]
        for j in range(layer.units):
            lines.append("--- [ Neuron ] ---")
            lines.append(f"No. of Inputs: {W.shape[0]}")
            lines.append(f"Bias: {float(b[j])!r} , Weights: {W[:, j].tolist()}")
    lines.append("======================================")
    return "\n".join(lines)
