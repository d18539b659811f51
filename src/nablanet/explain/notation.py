"""The tutorials' notation, in one place: which seed equation each printed quantity implements.

Seed 001 writes its equations for its Figure 1, a 2-2-2-2 network: input layer 0, hidden layers
1 and 2, output layer 3. nablanet numbers its Dense layers ``1..K`` (output ``K``), so the map is
decided from the network: :func:`seed001_layer` gives the seed's layer for each of nablanet's,
and :func:`layer_refs`, :func:`loss_refs` and :data:`UPDATE_REFS` the equation numbers, cited only
where the network's real activation and loss match the seed's (a sigmoid, a squared error).
Seed 000 numbers its layers as nablanet does; its function names are cited where seed 001 has no
equation (the binary cross-entropy, ``dz = da * f'(z)``).
"""

from __future__ import annotations

#: Seed 001's update equations (W, b) by its layer number (1 first hidden, 3 output).
UPDATE_REFS = {3: ("(4)", "(13)"), 2: ("(20)", "(28)"), 1: ("(36)", "(40)")}

SQUARED = ("mse", "sum_squared_error", "half_squared_error")
BINARY = ("binary_cross_entropy", "sigmoid_binary_cross_entropy")

#: How nablanet's arrays hold seed 001's neurons and deltas; printed under explain's header.
NOTES = (
    "W_k[:, j] holds neuron j's weights and b_k[j] its bias (seed 001 lists them neuron by "
    "neuron); rows are samples.",
    "Seed 001 writes a hidden layer's delta as a product along one path (delta^2 . delta^3, "
    "eqs. 33-35); here delta_k = dL/dz_k is the whole product, summed over every neuron of "
    "the next layer (the seed's Figure 2 remark).",
)


def seed001_layer(k: int, K: int) -> int:
    """Seed 001's layer number for nablanet's Dense layer ``k`` of ``K``: its equations are
    written for a 2-2-2-2 network whose output is layer 3 and whose first hidden layer is 1;
    any layer in between follows its layer 2."""
    return 3 if k == K else 1 if k == 1 else 2


def notation_map(K: int) -> list[str]:
    """Lines that map seed 001's (and seed 000's) names onto nablanet's layers 1..K."""
    lines = [
        "seed 001's equations are written for its Figure 1, a 2-2-2-2 network: input layer 0, "
        "hidden layers 1 and 2, output layer 3; W^k_{i,j} joins unit i of layer k-1 to unit j of "
        "layer k, so W^k_{i,j} = W_k[i-1, j-1] here (1-based there, 0-based here).",
    ]
    for k in range(K, 0, -1):
        s = seed001_layer(k, K)
        eqs = {3: "(4)-(19)", 2: "(20)-(35)", 1: "(36)-(46)"}[s]
        line = f"nablanet layer {k}{' (output)' if k == K else ''} = seed 001 layer {s}: "
        line += f"W{k}, b{k}, z{k}, a{k} are W^{s}, b^{s}, Z^{s}, a^{s}; equations {eqs}"
        if k == 1 and K == 2:
            line += (
                "; its delta arrives straight from the output layer, by the pattern the seed "
                "writes for its layer 2 (eqs. (20)-(35), (23): dZ^3/da^2 = W^3): this network "
                "has no seed layer 2"
            )
        lines.append(line + ".")
    lines.append(
        "seed 000 numbers its layers as nablanet does (a[0] = x, z[l], a[l], W[l], b[l]; its "
        "dz[l] is delta_l here), rows as samples in both."
    )
    return lines


def loss_refs(loss: str) -> tuple[str | None, str | None]:
    """Where the tutorials write ``L`` and ``dL/da`` for ``loss``: seed 001's (6), (7) for the
    squared errors, seed 000's ``cross_entropy`` for the binary cross-entropies, else none."""
    if loss in SQUARED:
        halved = ", halved as in its ATTENTION box" if loss == "half_squared_error" else ""
        per_output = ", averaged over outputs too" if loss == "mse" else ""
        return f"seed 001 (6){halved}{per_output}", "seed 001 (7)" + (", halved" if halved else "")
    if loss in BINARY:
        return (
            "seed 000 cross_entropy, a mean here, a sum there",
            "seed 000 d_cross_entropy, / n here",
        )
    return None, None


def layer_refs(k: int, K: int, act: str, loss: str) -> dict[str, str]:
    """Seed equation numbers for layer ``k`` of ``K``, following its real activation and loss:
    seed 001's output layer is its layer 3 (eqs. 5-19), hidden 20-35, first 36-46; its sigmoid
    equations (1), (3), (8), (24) are cited only for a Sigmoid, its squared-error (7), (17)
    only for a squared-error loss."""
    sig = act == "Sigmoid"
    refs: dict[str, str] = {}
    if k == K:
        refs["z"] = "seed 001 (9), (10)"
        dl_da = loss_refs(loss)[1]
        if dl_da:
            refs["dL_da"] = dl_da
        if sig:
            refs["delta"] = "seed 001 (3), (8)" + (", (17)" if loss in SQUARED else "")
        refs |= {"dW": "seed 001 (11), (18)", "db": "seed 001 (15), (19)"}
    else:
        refs["z"] = "seed 001 (9), (25)"
        refs["dL_da"] = f"seed 001 (23): dz{k + 1}/da{k} = W{k + 1}"
        if sig:
            refs["delta"] = "seed 001 (24), (33)" + (", (44)" if k == 1 else "")
        first = k == 1
        refs["dW"] = "seed 001 (26), (34)" + (", (39), (45)" if first else "")
        refs["db"] = "seed 001 (31), (35)" + (", (46)" if first else "")
    if sig:
        refs["a"] = "seed 001 (1)"
    if "delta" not in refs:
        refs["delta"] = "seed 000's dz = da * f'(z)"
    return refs
