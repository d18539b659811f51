"""The tutorials' shorthand for a network: layer sizes plus activation names."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import check_memory, check_positive_int, format_count, format_sizes
from .layers import Dense, Dropout, Layer, get_activation


def layers_from_sizes(
    sizes: Sequence[int],
    activation: str | Sequence[str],
    output: str,
    kernel_initializer: str | None,
    bias_initializer: str,
    l2: float,
    dropout: float,
    weights: Sequence[tuple[Any, Any]] | None,
    l1: float = 0.0,
) -> tuple[list[Layer], int]:
    """The layers of :meth:`nablanet.Sequential.from_sizes` (see there) and the input width."""
    if isinstance(sizes, np.ndarray) and sizes.ndim == 1:
        sizes = sizes.tolist()
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 layer sizes, got {sizes!r}")
    sizes = [check_positive_int("layer size", s) for s in sizes]
    n_layers = len(sizes) - 1
    if isinstance(activation, str):
        acts = [activation] * (n_layers - 1) + [output]
    else:
        acts = list(activation)
        if len(acts) != n_layers:
            raise ValueError(
                f"got {len(acts)} activations for {n_layers} layers (sizes {sizes}); "
                "give one per layer, the last for the output"
            )
    if weights is not None and len(weights) != n_layers:
        raise ValueError(f"weights must hold {n_layers} (W, b) pairs, got {len(weights)}")
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        act = get_activation(acts[i])
        init = kernel_initializer or (
            "he_uniform" if acts[i] in ("relu", "leaky_relu") else "glorot_uniform"
        )
        W, b = weights[i] if weights is not None else (None, None)
        layers.append(
            Dense(
                n_out,
                input_dim=n_in if i == 0 else None,
                kernel_initializer=init,
                bias_initializer=bias_initializer,
                l2=l2,
                l1=l1,
                weights=W,
                bias=b,
            )
        )
        layers.append(act)
        if dropout and i < n_layers - 1:
            layers.append(Dropout(dropout))
    return layers, sizes[0]


def network_size(layers: Sequence[Layer], input_dim: int) -> tuple[list[int], int]:
    """The widths ``[input_dim, each Dense layer's units...]`` and the number of parameters
    the layers will have once built for ``input_dim`` features (exact Python ints)."""
    widths, n_params, width = [int(input_dim)], 0, int(input_dim)
    for layer in layers:
        count = getattr(layer, "count_params", None)
        if count is not None:
            n_params += int(count(width))
        width = int(layer.compute_output_dim(width))
        if isinstance(layer, Dense):
            widths.append(width)
    return widths, n_params


def check_network_memory(
    layers: Sequence[Layer], input_dim: int, dtype: Any, state_buffers: int = 2
) -> None:
    """Refuse a network that cannot fit in memory, before any of its layers allocates.

    The estimate is ``(3 + state_buffers) * n_params * itemsize``: the parameters, their
    gradients, the optimizer's scratch buffer and its ``state_buffers`` state buffers (Adam's
    ``m`` and ``v``), each one flat array of every parameter. See
    :func:`nablanet._validation.check_memory` for the limit.
    """
    widths, n_params = network_size(layers, input_dim)
    dt = np.dtype(dtype)
    check_memory(
        (3 + state_buffers) * n_params * dt.itemsize,
        f"the network {format_sizes(widths)} ({format_count(n_params)} {dt} parameters)",
        purpose=" for its parameters, gradients and optimizer state",
        hint="use smaller layers",
    )
