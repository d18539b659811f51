"""The tutorials' notation, in one place: which seed equation each printed quantity implements.

Seed 001 writes its equations for its Figure 1, a 2-2-2-2 network: input layer 0, hidden layers
1 and 2, output layer 3. Its backward pass has three patterns, one per layer:

====================  ==========  ===================================================
seed 001 layer        equations   pattern
====================  ==========  ===================================================
3 (output)            (4)-(19)    ``delta^3`` from the loss: (7), (8), (17)
2 (one below output)  (20)-(35)   ``delta^2 . delta^3``: (23) ``dZ^3/da^2 = W^3``, (33)
1 (two below output)  (36)-(46)   ``delta^1 . delta^2 . delta^3``: (44), (45), (46)
====================  ==========  ===================================================

:func:`layer_notation` decides, for nablanet's Dense layer ``k`` of ``K`` (output ``K``), which
of these its printed quantities cite, from the actual network:

- the **backward chain** follows the layer's distance from the output, ``K - k``: 0 is the
  seed's layer 3, 1 its layer 2, 2 its layer 1. A 2-2-2 network's layer 1 is one below the
  output, so it follows the seed's layer 2, (23)-(35); it never cites (37)-(39), (41)-(46),
  which chain through a second hidden layer it does not have. A layer three or more below the
  output (2-3-3-3-1's layer 1) follows the seed's layer 1 *by analogy*, and says so: the seed
  stops there; each further layer adds one delta factor, the recursion
  ``delta_k = (delta_{k+1} @ W_{k+1}.T) * sigma'(z_k)``;
- the **update** follows the layer's position: the output's is (4), (13), the first layer's
  (the weights that meet ``x``, the seed's ``W^1``) (36), (40), any layer between (20), (28);
- equations that hold only for a sigmoid ((1), (3), (8), (24), (27), (32), (33), (39), (43),
  (44)) are cited only where the layer's activation is a true sigmoid, those of the squared error
  ((6), (7), (17)) only for a squared-error loss, the bias sums ((15), (19), (31), (35), (46))
  only where ``dL/db`` is the sum of delta; elsewhere the line cites seed 000's code (its
  ``cross_entropy``, ``dz = da * f'(z)``, ``db = mean(dz)``) or nothing.

Seed 000 numbers its layers as nablanet does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SQUARED = ("mse", "sum_squared_error", "half_squared_error", "summed_half_squared_error")
BINARY = ("binary_cross_entropy", "sigmoid_binary_cross_entropy", "seed000_cross_entropy")

#: The weight layout, printed under explain's header and by ``--tutorial``.
LAYOUT_NOTE = (
    "W_k[:, j] holds neuron j's weights and b_k[j] its bias (seed 001 lists them neuron by "
    "neuron); rows are samples."
)
#: How nablanet's arrays hold seed 001's neurons and deltas; printed under explain's header.
NOTES = (
    LAYOUT_NOTE,
    "Seed 001 writes a hidden layer's delta as a product along one path (delta^2 . delta^3, "
    "eqs. 33-35); here delta_k = dL/dz_k is the whole product, summed over every neuron of "
    "the next layer (the seed's Figure 2 remark).",
)
#: Losses whose model is cited in seed 000's code (its ``forward``, ``backward``, ``update``).
SEED000 = ("seed000_cross_entropy",)
SEED000_UPDATE = ("seed 000 update: W[l] -= eta * dW[l]", "seed 000 update: b[l] -= eta * db[l]")
#: The equation ranges of seed 001's three layer patterns.
RANGES = {3: "(4)-(19)", 2: "(20)-(35)", 1: "(36)-(46)"}


@dataclass(frozen=True)
class LayerNotation:
    """What nablanet's Dense layer ``k`` of ``K`` cites from seed 001.

    Attributes
    ----------
    k, K : int
        The layer and the number of Dense layers (``K`` is the output).
    chain : int
        Seed 001's layer whose backward pattern this layer follows (3 output, 2 one below it,
        1 two or more below it).
    analogy : bool
        True when the layer is three or more below the output, deeper than the seed writes.
    refs : dict of str to str
        The citation printed beside ``z``, ``a``, ``dL_da``, ``delta``, ``dW`` and ``db``
        (a quantity without one is missing).
    update : tuple of (str, str)
        Seed 001's update equations for ``W_k`` and ``b_k``.
    """

    k: int
    K: int
    chain: int
    analogy: bool
    refs: dict[str, str] = field(default_factory=dict)
    update: tuple[str, str] = ("", "")


def chain_layer(k: int, K: int) -> int:
    """Seed 001's layer whose backward pattern layer ``k`` of ``K`` follows: 3 for the output,
    2 one layer below it, 1 two or more below it."""
    return 3 - min(K - k, 2)


def update_refs(k: int, K: int, loss: str = "") -> tuple[str, str]:
    """Seed 001's update equations for ``W_k``, ``b_k``, by position: (4), (13) for the output,
    (36), (40) for the first layer, (20), (28) for a layer between; seed 000's ``update`` for a
    model trained on seed 000's loss."""
    if loss in SEED000:
        return SEED000_UPDATE
    if k == K:
        return "(4)", "(13)"
    return ("(36)", "(40)") if k == 1 else ("(20)", "(28)")


def loss_refs(loss: str) -> tuple[str | None, str | None]:
    """Where the tutorials write ``L`` and ``dL/da`` for ``loss``: seed 001's (6), (7) for the
    squared errors, seed 000's ``cross_entropy`` for the binary cross-entropies, else none."""
    if loss in SQUARED:
        halved = loss in ("half_squared_error", "summed_half_squared_error")
        half = ", halved as in its ATTENTION box" if halved else ""
        per_output = ", averaged over outputs too" if loss == "mse" else ""
        summed = ", summed over the samples" if loss == "summed_half_squared_error" else ""
        return (
            f"seed 001 (6){half}{per_output}{summed}",
            "seed 001 (7)" + (", halved" if halved else ""),
        )
    if loss == "seed000_cross_entropy":
        return "seed 000 cross_entropy", "seed 000 d_cross_entropy"
    if loss in BINARY:
        return (
            "seed 000 cross_entropy, a mean here, a sum there",
            "seed 000 d_cross_entropy, / n here",
        )
    return None, None


def _seed(numbers: str, analogy: str) -> str:
    return f"seed 001 {numbers}{analogy}"


def layer_notation(
    k: int, K: int, act: str = "Sigmoid", loss: str = "half_squared_error", bias_grad: str = "sum"
) -> LayerNotation:
    """The citations of Dense layer ``k`` of ``K``, whose activation class is ``act`` (the
    seeds' sigmoid equations hold only for ``"Sigmoid"``: pass another name for
    ``SeedSigmoid(derivative_scale=2)``), trained on ``loss``, with ``dL/db`` the ``"sum"`` or
    the ``"mean"`` (seed 000) of delta."""
    if not 1 <= k <= K:
        raise ValueError(f"layer k must be in 1..{K}, got {k}")
    if loss in SEED000:
        return LayerNotation(
            k, K, chain_layer(k, K), K - k > 2, _seed000_refs(k, K, bias_grad), SEED000_UPDATE
        )
    sig = act == "Sigmoid"
    chain = chain_layer(k, K)
    below = K - k
    analogy = f"; by analogy, {below} layers below the output" if below > 2 else ""
    refs: dict[str, str] = {}
    if sig:
        refs["a"] = "seed 001 (1)"
    if chain == 3:
        refs["z"] = "seed 001 (9), (10)"
        if loss_refs(loss)[1]:
            refs["dL_da"] = str(loss_refs(loss)[1])
        if sig:
            refs["delta"] = "seed 001 (3), (8)" + (", (17)" if loss in SQUARED else "")
        refs["dW"] = "seed 001 (11), (18)"
        refs["db"] = "seed 001 (15), (19)"
    elif chain == 2:
        refs["z"] = "seed 001 (9), (25)"
        refs["dL_da"] = f"seed 001 (23): dz{k + 1}/da{k} = W{k + 1}"
        if sig:
            refs["delta"] = "seed 001 (24), (33)"
        refs["dW"] = "seed 001 (26), " + ("(27), (34)" if sig else "(34)")
        refs["db"] = "seed 001 (31), " + ("(32), (35)" if sig else "(35)")
    else:  # two or more below the output: the seed's layer 1
        refs["z"] = "seed 001 (9)"
        refs["dL_da"] = _seed(f"(38), (42): dz{k + 1}/da{k} = W{k + 1}", analogy)
        if sig:
            refs["delta"] = _seed("(44)", analogy)
        refs["dW"] = _seed("(37), (39), (45)" if sig else "(37), (45)", analogy)
        refs["db"] = _seed("(41), (43), (46)" if sig else "(41), (46)", analogy)
    if "delta" not in refs:
        refs["delta"] = "seed 000's dz = da * f'(z)"
    if bias_grad == "mean":
        refs["db"] = "seed 000's db = mean(dz, axis=0)"
    return LayerNotation(k, K, chain, below > 2, refs, update_refs(k, K))


def _seed000_refs(k: int, K: int, bias_grad: str) -> dict[str, str]:
    """Seed 000's code lines (its ``forward`` and ``backward``), which it writes for any depth."""
    refs = {
        "z": "seed 000 forward: z[l] = a[l-1] @ W[l] + b[l]",
        "a": "seed 000 forward: a[l] = func(z[l])",
        "dL_da": "seed 000 d_cross_entropy"
        if k == K
        else "seed 000 backward: da[l-1] = dz[l] @ W[l].T",
        "delta": "seed 000 backward: dz[l] = da[l] * func(z[l])",
        "dW": "seed 000 backward: dW[l] = a[l-1].T @ dz[l]",
    }
    if bias_grad == "mean":
        refs["db"] = "seed 000 backward: db[l] = mean(dz[l], axis=0)"
    return refs


def layer_refs(k: int, K: int, act: str, loss: str, bias_grad: str = "sum") -> dict[str, str]:
    """:attr:`LayerNotation.refs` of :func:`layer_notation`."""
    return layer_notation(k, K, act, loss, bias_grad).refs


def describe_layer(k: int, K: int) -> str:
    """One line of the notation map: which seed 001 layer ``k`` of ``K`` corresponds to."""
    chain, below = chain_layer(k, K), K - k
    w_ref, b_ref = update_refs(k, K)
    if chain == 3:
        return (
            f"nablanet layer {k} (output) = seed 001 layer 3: W{k}, b{k}, z{k}, a{k} are W^3, "
            f"b^3, Z^3, a^3; equations {RANGES[3]}."
        )
    update = "its update is (36), (40), written for the seed's first layer W^1, b^1"
    if k != 1:
        update = f"its update is {w_ref}, {b_ref}, written for a layer between input and output"
    if chain == 2:
        line = (
            f"nablanet layer {k} is one layer below the output: its backward follows seed 001 "
            f"layer 2, equations {RANGES[2]} ((23): dz{k + 1}/da{k} = W{k + 1}, (25): z{k}, "
            f"(33): delta{k})"
        )
        if k == 1:
            line += (
                "; this network has one hidden layer, so the seed's (37)-(39), (41)-(46), which "
                "chain through a second one, are not cited"
            )
    else:
        line = (
            f"nablanet layer {k} is {below} layers below the output: its backward follows seed "
            f"001 layer 1, equations {RANGES[1]}"
        )
        if below > 2:
            line += (
                ", by analogy: the seed stops two layers below its output; each further layer "
                f"adds one delta factor, delta{k} = (delta{k + 1} @ W{k + 1}.T) * sigma'(z{k})"
            )
    return f"{line}; {update}."


def notation_map(K: int, loss: str = "") -> list[str]:
    """Lines that map seed 001's (and seed 000's) names onto nablanet's layers 1..K; for a model
    on seed 000's loss, seed 000's names alone."""
    if loss in SEED000:
        return [
            "seed 000 numbers its layers as nablanet does (a[0] = x, z[l], a[l], W[l], b[l]; its "
            "dz[l] is delta_l here), rows as samples in both; each line cites the line of its "
            "forward, backward or update code it implements (func is the layer's activation, "
            "its derivative in backward)."
        ]
    lines = [
        "seed 001's equations are written for its Figure 1, a 2-2-2-2 network: input layer 0, "
        "hidden layers 1 and 2, output layer 3; W^k_{i,j} joins unit i of layer k-1 to unit j of "
        "layer k, so W^k_{i,j} = W_k[i-1, j-1] here (1-based there, 0-based here).",
    ]
    lines += [describe_layer(k, K) for k in range(K, 0, -1)]
    lines.append(
        "seed 000 numbers its layers as nablanet does (a[0] = x, z[l], a[l], W[l], b[l]; its "
        "dz[l] is delta_l here), rows as samples in both."
    )
    return lines
