"""Every equation number `nablanet explain` prints, checked against the network shown, and the
`--example seed000|seed001|seed004` printouts checked against NumPy by hand.

The expected sets below are read from seed 001 ("Introduction to Deep Learning - Part 3"), not
from nablanet.explain.notation: its output layer 3 is (4)-(19), the layer one below the output
(its layer 2) is (20)-(35), the layer two below (its layer 1) is (36)-(46). (37)-(39) and
(41)-(46) chain through a second hidden layer.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nablanet import Sequential, cli
from nablanet.explain import explain, seed001_example

# -- reading the printout ------------------------------------------------------------------------
REF = re.compile(r"\[(seed .*)\]\s*$")  # seed 000's refs hold brackets: z[l]


def _layer_of(lhs: str) -> int | str:
    """The layer a printed equation belongs to: z1, a1, dL/dW1, delta1, W1 <- ... -> 1."""
    if lhs == "L":
        return "loss"
    digits = re.search(r"(\d+)$", lhs)
    assert digits is not None, lhs
    return int(digits.group(1))


def cited(text: str) -> dict[int | str, set[int]]:
    """Seed 001's equation numbers cited on each layer's lines, by layer (``"loss"`` for L)."""
    out: dict[int | str, set[int]] = {}
    for line in text.splitlines():
        ref = REF.search(line)
        if ref is None or not ref.group(1).startswith("seed 001"):
            continue
        lhs = line.split()[0]
        numbers = {int(n) for n in re.findall(r"\((\d+)\)", ref.group(1))}
        out.setdefault(_layer_of(lhs), set()).update(numbers)
    return out


def refs_on(text: str, lhs: str) -> str:
    """The bracketed citation of the printed equation whose left side is ``lhs``."""
    for line in text.splitlines():
        if line.split()[:1] == [lhs] and REF.search(line):
            return REF.search(line).group(1)  # type: ignore[union-attr]
    raise AssertionError(f"no cited line for {lhs}")


def array_after(lines: list[str], start: int) -> np.ndarray:
    """The array printed from ``lines[start]`` on (after its '= '), over as many lines as its
    brackets span."""
    text = lines[start].split("= ", 1)[1] if "= [" in lines[start] else ""
    i = start
    if not text:  # the equation line: the value follows on the next line
        i += 1
        text = lines[i].split("= ", 1)[1]
    while text.count("[") > text.count("]"):
        i += 1
        text += lines[i]
    return np.array(json.loads(text))  # repr'd floats in nested lists: valid JSON


def printed(text: str, label: str, *, occurrence: int = 0) -> np.ndarray:
    """The ``occurrence``-th array printed after a line starting with ``label``."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip().startswith(label)]
    return array_after(lines, hits[occurrence])


def printed_raw(text: str, label: str) -> list[str]:
    """Every printed value of ``label`` as text (whitespace removed), in order."""
    lines = text.splitlines()
    values = []
    for i, line in enumerate(lines):
        if line.strip().startswith(label):
            value = line.split("= ", 1)[1] if "= [" in line else lines[i + 1].split("= ", 1)[1]
            j = i if "= [" in line else i + 1
            while value.count("[") > value.count("]"):
                j += 1
                value += lines[j]
            values.append("".join(value.split()))
    return values


# -- item 1: the numbers follow the network ------------------------------------------------------
OUTPUT = {1, 3, 4, 7, 8, 9, 10, 11, 13, 15, 17, 18, 19}  # sigmoid output, squared error
ONE_BELOW = {1, 9, 23, 24, 25, 26, 27, 31, 32, 33, 34, 35}  # the seed's layer-2 pattern
TWO_BELOW = {1, 9, 37, 38, 39, 41, 42, 43, 44, 45, 46}  # the seed's layer-1 pattern
SECOND_HIDDEN_CHAIN = {37, 38, 39, 41, 42, 43, 44, 45, 46}
SIGMOID_ONLY = {1, 3, 8, 24, 27, 32, 33, 39, 43, 44}
SQUARED_ONLY = {6, 7, 17}


def _seed_like(sizes: list[int], loss: str = "half_squared_error") -> Sequential:
    model = Sequential.from_sizes(sizes, "sigmoid", "sigmoid", loss=loss, seed=1, dtype="float64")
    model.build(sizes[0])
    return model


def test_2_2_2_layer_1_follows_the_one_hidden_layer_pattern():
    """`--example seed001`'s 2-2-2 network: layer 1 is one below the output, so it cites (25),
    (26), (33), (27)/(34), (31), (32)/(35) and the updates (36), (40); never (39), (43)-(46)."""
    model, x, y = seed001_example()
    refs = cited(str(explain(model, x, y)))
    assert refs[2] == OUTPUT
    assert refs[1] == ONE_BELOW | {36, 40}
    assert refs["loss"] == {6}
    assert {n for layer in refs.values() for n in layer}.isdisjoint(SECOND_HIDDEN_CHAIN)
    text = str(explain(model, x, y))
    assert refs_on(text, "dL/dW1") == "seed 001 (26), (27), (34)"
    assert refs_on(text, "dL/db1") == "seed 001 (31), (32), (35)"
    assert refs_on(text, "delta1") == "seed 001 (24), (33)"


def test_2_2_2_2_layer_1_cites_36_to_46_as_the_seed_does():
    model = _seed_like([2, 2, 2, 2])
    refs = cited(str(explain(model, [1.2, 1.6], [0.05, 0.95])))
    assert refs[3] == OUTPUT
    assert refs[2] == ONE_BELOW | {20, 28}
    assert refs[1] == {1, 9} | set(range(36, 47))


def test_2_3_3_3_1_follows_the_general_recursion_by_analogy():
    """Two below the output: the seed's layer-1 chain (44)-(46), updates (20), (28) (a layer
    between); three below: the same, said to be by analogy; updates (36), (40)."""
    model = _seed_like([2, 3, 3, 3, 1], loss="mse")
    text = str(explain(model, [0.3, -0.7], [0.8]))
    refs = cited(text)
    assert refs[4] == OUTPUT
    assert refs[3] == ONE_BELOW | {20, 28}
    assert refs[2] == TWO_BELOW | {20, 28}
    assert refs[1] == TWO_BELOW | {36, 40}
    for lhs in ("dL/da1", "delta1", "dL/dW1", "dL/db1"):
        assert "by analogy, 3 layers below the output" in refs_on(text, lhs)
    for lhs in ("dL/da2", "delta2", "dL/dW2", "dL/db2", "dL/dW3"):
        assert "analogy" not in refs_on(text, lhs)


def test_other_activations_and_losses_drop_the_seed_001_equations_that_do_not_hold():
    model = Sequential.from_sizes(
        [2, 3, 3, 3, 1], "tanh", "sigmoid", loss="binary_cross_entropy", seed=0, dtype="float64"
    )
    text = str(explain(model, [0.1, 0.2], 1))
    refs = cited(text)
    for k in (1, 2, 3):
        assert refs[k].isdisjoint(SIGMOID_ONLY), (k, refs[k])
    assert refs[1] == {9, 37, 38, 41, 42, 45, 46, 36, 40}
    assert refs[3] == {9, 23, 25, 26, 31, 34, 35, 20, 28}
    assert all(refs[k].isdisjoint(SQUARED_ONLY) for k in refs)
    assert refs_on(text, "delta1") == "seed 000's dz = da * f'(z)"


# -- item 2: one value per quantity --------------------------------------------------------------
def test_each_quantity_is_printed_with_one_value():
    """A softmax output is explained unfused but trains fused: the update used to recompute dW2
    that way, a last bit away from the dW2 printed in the backward section."""
    weights = [
        (np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.5, 0.2, 0.1]]), np.zeros(3)),
        (np.array([[0.2, -0.3, 0.1, 0.7], [-0.4, 0.5, 0.3, -0.1], [0.6, 0.1, -0.2, 0.3]]),
         np.array([0.1, -0.1, 0.0, 0.2])),
    ]  # fmt: skip
    model = Sequential.from_sizes(
        [3, 3, 4], "tanh", "softmax", loss="categorical_cross_entropy", weights=weights,
        dtype="float64",
    )  # fmt: skip
    e = explain(model, [0.3, -1.2, 0.5], 2)
    for t, u in zip(e.layers, e.update.steps[0].layers, strict=True):
        np.testing.assert_array_equal(u.dW, t.dW)  # the same numbers, not a recomputation
        np.testing.assert_array_equal(u.db, t.db)
        np.testing.assert_array_equal(u.W_old, t.W)
    text = str(e)
    for k in (1, 2):
        for label in (f"dL/dW{k} =", f"dL/db{k} =", f"W{k} =", f"b{k} ="):
            values = printed_raw(text, label)
            assert len(values) == 2, (label, values)  # once in its section, once in the update
            assert values[0] == values[1], label


# -- item 3: the layout note in --tutorial --------------------------------------------------------
def test_tutorial_prints_the_weight_layout_note(capsys):
    assert cli.main(["explain", "--example", "seed001", "--tutorial", "--steps", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "W_k[:, j] holds neuron j's weights" in out
    assert "neuron j's list is column j" in out


# -- item 4: the three examples ------------------------------------------------------------------
def _run(capsys, *args: str) -> str:
    assert cli.main(["explain", *args]) == 0
    return capsys.readouterr().out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def test_example_seed001_numbers_and_references(capsys):
    out = _run(capsys, "--example", "seed001")
    refs = cited(out)
    assert (refs[2], refs[1]) == (OUTPUT, ONE_BELOW | {36, 40})
    # NumPy by hand from Output.4 (W[:, j] = neuron j): float64 through exp and small sums, so
    # 1e-12 relative allows for another CPU's exp and summation order
    W1 = np.array(
        [[0.6852769816973125, 0.8936130796833973], [0.8338968626360765, 0.7215438617683047]]
    )
    b1 = np.array([0.17152165622510307, 0.3069662196722378])
    W2 = np.array(
        [[0.5542275911247871, 0.7856017618643588], [0.3521319540266141, 0.9654832224119693]]
    )
    b2 = np.array([0.18993895420479678, 0.18189240266007867])
    x, t = np.array([[1.2, 1.6]]), np.array([[0.05, 0.95]])
    a1 = _sigmoid(x @ W1 + b1)
    a2 = _sigmoid(a1 @ W2 + b2)
    d2 = (a2 - t) * a2 * (1 - a2)
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    np.testing.assert_allclose(printed(out, "dL/dW2 = a1.T"), a1.T @ d2, rtol=1e-12)
    np.testing.assert_allclose(printed(out, "dL/dW1 = a0.T"), x.T @ d1, rtol=1e-12)
    np.testing.assert_allclose(printed(out, "new W1 ="), W1 - 0.05 * x.T @ d1, rtol=1e-12)


def test_example_seed000_numbers_and_references(capsys):
    """Seed 000's network is cited in seed 000's own code, never in seed 001's numbers; its loss,
    delta and db follow the seed's conventions (summed loss, doubled dsigmoid, mean db)."""
    out = _run(capsys, "--example", "seed000")
    explained = out.split("nablanet explain:", 1)[1]
    assert "seed 001 (" not in explained
    for lhs in ("z1", "a3", "dL/da3", "delta3", "dL/dW3", "dL/db3", "dL/da1", "dL/dW1", "W1"):
        assert refs_on(explained, lhs).startswith("seed 000"), lhs
    assert refs_on(explained, "dL/db2") == "seed 000 backward: db[l] = mean(dz[l], axis=0)"
    # the seed's first log line, typed from the seed: its loss to the 8 decimals it prints
    line = re.search(r"Iteration 0 - loss value \[\[([\d.]+)\]\] accuracy 0.5\n", out)
    assert line is not None
    assert float(line.group(1)) == pytest.approx(693.62972747, abs=5e-9)
    # NumPy by hand on the first 4 points: the seed's weights drawn here from RandomState(42)
    from nablanet.tutorial.seed000 import seed000_data

    X, y = seed000_data()
    X, Y = X[:4], y[:4].reshape(-1, 1).astype(float)
    legacy = np.random.RandomState(42)
    params = []
    for n_in, n_out in ((2, 4), (4, 3), (3, 1)):
        params.append((legacy.randn(n_in, n_out) * 0.1, legacy.randn(1, n_out) * 0.1))
    a = [X]
    for i, (W, b) in enumerate(params):
        z = a[-1] @ W + b
        a.append(np.maximum(z, 0) if i < 2 else _sigmoid(z))
    yhat = a[-1]
    loss = -(Y.T @ np.log(yhat) + (1 - Y.T) @ np.log(1 - yhat)).item()
    dz3 = (-Y / yhat + (1 - Y) / (1 - yhat)) * 2 * yhat * (1 - yhat)  # the seed's dsigmoid
    # float64 through BLAS and exp on 4 rows: 1e-12 relative covers another CPU's kernels
    assert float(printed(explained, "L = -sum")) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(printed(explained, "dL/dW3 = a2.T"), a[2].T @ dz3, rtol=1e-12)
    np.testing.assert_allclose(printed(explained, "dL/db3 ="), dz3.mean(axis=0), rtol=1e-12)


def test_example_seed004_sign_derivation(capsys):
    out = _run(capsys, "--example", "seed004")
    flat = " ".join(out.split())
    all_cited = {int(n) for ref in re.findall(r"\[seed 001 [^\]]*\]", flat)
                 for n in re.findall(r"\((\d+)\)", ref)}  # fmt: skip
    # 3-4-1, sigmoid, summed half squared error, no biases: no bias equation, no 2nd hidden layer
    assert all_cited == {1, 3, 4, 6, 7, 8, 11, 17, 18, 23, 24, 26, 27, 33, 34, 36}
    assert "(y - a2) = -(a2 - y)" in out and "a1.T sums over the samples" in out
    # NumPy by hand: the seed's own code from np.random.seed(1)'s weights
    legacy = np.random.RandomState(1)
    W1, W2 = legacy.random((3, 4)), legacy.random((4, 1))
    x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    a1 = _sigmoid(x @ W1)
    a2 = _sigmoid(a1 @ W2)
    dC_dw2 = (y - a2) * a2 * (1 - a2)
    dC_dw1 = (dC_dw2 * W2.T) * a1 * (1 - a1)
    # float64 through exp and 4-term sums: 1e-12 relative covers another CPU's kernels
    np.testing.assert_allclose(
        printed(out, "the seed's new W2 ="), (W2 + a1.T @ dC_dw2).T, rtol=1e-12
    )
    np.testing.assert_allclose(
        printed(out, "W2 - lr * dL/dW2 ="), (W2 + a1.T @ dC_dw2).T, rtol=1e-12
    )
    np.testing.assert_allclose(printed(out, "W1 - lr * dL/dW1 ="), W1 + x.T @ dC_dw1, rtol=1e-12)
    np.testing.assert_allclose(printed(out, "-dL/dW2 ="), (a1.T @ dC_dw2).T, rtol=1e-12)
    # a1.T sums over the samples: the four per-sample terms add up to dL/dW2
    terms = [printed(out, f"sample {i}: a1[{i}] * delta2[{i}] =") for i in range(4)]
    np.testing.assert_allclose(sum(terms), printed(out, "dL/dW2 =").ravel(), rtol=1e-12)
    np.testing.assert_allclose(terms[0], -a1[0] * dC_dw2[0, 0], rtol=1e-12)


def test_example_choices_and_refusals(capsys):
    with pytest.raises(SystemExit):  # argparse: not a choice
        cli.main(["explain", "--example", "seed003"])
    assert "invalid choice: 'seed003'" in capsys.readouterr().err
    assert cli.main(["explain", "--example", "seed004", "--tutorial"]) != 0
    assert "use it with --example seed001" in capsys.readouterr().err
    out = _run(capsys, "--example", "seed004", "--steps", "2")
    assert "--- step 2" in out and "on 4 sample(s)" in out
