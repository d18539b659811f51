"""Whole system against PyTorch: the same network, the same data, in float64."""

# Loss values, every parameter gradient and the parameters after optimizer steps must agree to 1e-6.
# Our ``W`` is (n_in, n_out) and ``z = x W + b``; ``torch.nn.Linear`` stores (n_out, n_in) and
# computes ``x A^T + b``, so weights are copied transposed.

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nablanet as nn

torch = pytest.importorskip("torch")
F = torch.nn.functional

DT = torch.float64
TOL = {"rtol": 1e-6, "atol": 1e-9}
SIZES = [4, 5, 3]  # input, hidden, hidden; the output width depends on the loss

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=DT)


def torch_loss(name: str, out: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The loss of the *output* ``out`` (probabilities for BCE/CE) as torch computes it."""
    n = Y.shape[0]
    if name == "mse":
        return F.mse_loss(out, Y)  # mean over samples and outputs
    if name == "sum_squared_error":
        return ((out - Y) ** 2).sum() / n
    if name == "half_squared_error":
        return 0.5 * ((out - Y) ** 2).sum() / n
    if name == "binary_cross_entropy":
        return F.binary_cross_entropy(out, Y)
    if name == "categorical_cross_entropy":
        return -(Y * torch.log(out)).sum() / n
    raise AssertionError(name)


# loss -> (output activation, output width, how the targets look)
LOSS_SETUPS = {
    "mse": ("identity", 2, "regression"),
    "sum_squared_error": ("tanh", 2, "regression"),
    "half_squared_error": ("sigmoid", 1, "unit"),
    "binary_cross_entropy": ("sigmoid", 3, "multilabel"),
    "categorical_cross_entropy": ("softmax", 3, "onehot"),
}


def make_problem(loss: str, hidden: str, seed: int = 0, n: int = 7, l2: float = 0.0):
    """A float64 nablanet model, its torch twin (same weights) and prepared data."""
    output, k, kind = LOSS_SETUPS[loss]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, SIZES[0]))
    if kind == "regression":
        Y = rng.normal(size=(n, k))
    elif kind == "unit":
        Y = rng.uniform(0, 1, size=(n, k))
    elif kind == "multilabel":
        Y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        Y = np.eye(k)[rng.integers(0, k, size=n)]
    sizes = [*SIZES, k]
    model = nn.Sequential.from_sizes(
        sizes, [hidden, hidden, output], loss=loss, l2=l2, seed=seed, dtype="float64",
        bias_initializer="glorot_uniform",
    )  # fmt: skip
    linears = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        lin = torch.nn.Linear(n_in, n_out, dtype=DT)
        dense = model.layers[2 * i]
        with torch.no_grad():
            lin.weight.copy_(_t(dense.params["W"].T))  # (n_out, n_in)
            lin.bias.copy_(_t(dense.params["b"]))
        linears.append(lin)
    acts = [TORCH_ACTIVATIONS[hidden], TORCH_ACTIVATIONS[hidden], TORCH_ACTIVATIONS[output]]

    def torch_forward(x: torch.Tensor) -> torch.Tensor:
        for lin, act in zip(linears, acts, strict=True):
            x = act(lin(x))
        return x

    def torch_objective() -> torch.Tensor:
        value = torch_loss(loss, torch_forward(_t(X)), _t(Y))
        for lin in linears:
            value = value + 0.5 * l2 * (lin.weight**2).sum()
        return value

    return model, linears, torch_objective, X, Y


def assert_params_match(model: nn.Sequential, linears: list) -> None:
    for i, lin in enumerate(linears):
        dense = model.layers[2 * i]
        np.testing.assert_allclose(dense.params["W"], lin.weight.detach().numpy().T, **TOL)
        np.testing.assert_allclose(dense.params["b"], lin.bias.detach().numpy(), **TOL)


@pytest.mark.parametrize("hidden", list(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("loss", list(LOSS_SETUPS))
def test_loss_and_gradients_match_torch(loss, hidden):
    model, linears, torch_objective, X, Y = make_problem(loss, hidden)
    assert_params_match(model, linears)

    reference = torch_objective()
    reference.backward()

    # the plain (unfused) path: model.loss on model.forward
    plain = model.loss.forward(model.forward(X), Y)
    np.testing.assert_allclose(plain, reference.item(), **TOL)
    # the training path (fused from logits for sigmoid+BCE, softmax+CE); grads stay in the layers
    model.compile(optimizer=nn.SGD(lr=1e-3))
    value, _ = model.train_step(X, Y)
    np.testing.assert_allclose(value, reference.item(), **TOL)
    for i, lin in enumerate(linears):
        dense = model.layers[2 * i]
        np.testing.assert_allclose(dense.grads["W"], lin.weight.grad.numpy().T, **TOL)
        np.testing.assert_allclose(dense.grads["b"], lin.bias.grad.numpy(), **TOL)


def test_l2_penalty_matches_torch():
    model, linears, torch_objective, X, Y = make_problem("mse", "tanh", l2=0.3)
    reference = torch_objective()
    reference.backward()
    value, _ = model.train_step(X, Y)
    np.testing.assert_allclose(value, reference.item(), **TOL)
    for i, lin in enumerate(linears):
        np.testing.assert_allclose(model.layers[2 * i].grads["W"], lin.weight.grad.numpy().T, **TOL)


def test_fused_losses_match_torch_from_logits():
    rng = np.random.default_rng(5)
    z = 4 * rng.normal(size=(6, 3))
    y_multi = rng.integers(0, 2, size=(6, 3)).astype(float)
    y_soft = np.exp(rng.normal(size=(6, 3)))
    y_soft /= y_soft.sum(axis=1, keepdims=True)  # probability targets
    labels = rng.integers(0, 3, size=6)
    cases = [
        ("sigmoid_binary_cross_entropy", y_multi,
         lambda zt: F.binary_cross_entropy_with_logits(zt, _t(y_multi))),
        ("softmax_cross_entropy", y_soft, lambda zt: F.cross_entropy(zt, _t(y_soft))),
        ("softmax_cross_entropy", np.eye(3)[labels],
         lambda zt: F.cross_entropy(zt, torch.tensor(labels))),
    ]  # fmt: skip
    for name, y, reference_fn in cases:
        zt = _t(z).requires_grad_()
        reference = reference_fn(zt)
        reference.backward()
        loss = nn.get_loss(name)
        np.testing.assert_allclose(loss.forward(z, y), reference.item(), **TOL)
        np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), **TOL)


def test_categorical_cross_entropy_matches_torch_cross_entropy():
    """Our CE on softmax probabilities equals torch's cross_entropy on the logits."""
    model, linears, _, X, Y = make_problem("categorical_cross_entropy", "relu", seed=3)
    logits = _t(X)
    for i, lin in enumerate(linears):
        logits = lin(logits)
        if i < 2:
            logits = torch.relu(logits)
    reference = F.cross_entropy(logits, _t(Y))
    reference.backward()
    value, _ = model.train_step(X, Y)
    np.testing.assert_allclose(value, reference.item(), **TOL)
    np.testing.assert_allclose(model.layers[0].grads["W"], linears[0].weight.grad.numpy().T, **TOL)


# ------------------------------------------------------------------------ optimizer steps
def _adamw_groups(linears: list, lr: float, wd: float):
    weights = [lin.weight for lin in linears]
    biases = [lin.bias for lin in linears]
    return torch.optim.AdamW(
        [{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.85, 0.99),
        eps=1e-7,
    )


def _params(linears: list) -> list:
    return [p for lin in linears for p in (lin.weight, lin.bias)]


OPTIMIZERS = {
    "sgd": (lambda: nn.SGD(lr=0.1), lambda ps: torch.optim.SGD(_params(ps), lr=0.1)),
    "sgd_momentum": (
        lambda: nn.SGD(lr=0.1, momentum=0.9),
        lambda ps: torch.optim.SGD(_params(ps), lr=0.1, momentum=0.9),
    ),
    "sgd_nesterov": (
        lambda: nn.SGD(lr=0.05, momentum=0.8, nesterov=True),
        lambda ps: torch.optim.SGD(_params(ps), lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (
        lambda: nn.Adam(lr=0.01, beta_1=0.85, beta_2=0.99, epsilon=1e-7),
        lambda ps: torch.optim.Adam(_params(ps), lr=0.01, betas=(0.85, 0.99), eps=1e-7),
    ),
    "adamw": (
        lambda: nn.Adam(lr=0.01, beta_1=0.85, beta_2=0.99, epsilon=1e-7, weight_decay=0.1),
        lambda ps: _adamw_groups(ps, lr=0.01, wd=0.1),
    ),
    "rmsprop": (
        lambda: nn.RMSProp(lr=0.01, rho=0.8, epsilon=1e-7),
        lambda ps: torch.optim.RMSprop(_params(ps), lr=0.01, alpha=0.8, eps=1e-7),
    ),
}


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_match_torch(name, steps):
    make_ours, make_torch = OPTIMIZERS[name]
    model, linears, torch_objective, X, Y = make_problem("mse", "tanh", seed=1)
    model.compile(optimizer=make_ours())
    reference = make_torch(linears)
    W0 = model.layers[0].params["W"].copy()
    for _ in range(steps):
        reference.zero_grad()
        torch_objective().backward()
        reference.step()
        model.train_step(X, Y)
    assert np.abs(model.layers[0].params["W"] - W0).max() > 1e-4  # the weights really moved
    assert_params_match(model, linears)


def test_adamw_decays_weights_not_biases_like_torch_param_groups():
    """With zero gradients Adam's step is 0, so only the decoupled decay moves the weights."""
    model, linears, _, _, _ = make_problem("mse", "identity", seed=2)
    model.compile(
        optimizer=nn.Adam(lr=0.1, beta_1=0.85, beta_2=0.99, epsilon=1e-7, weight_decay=0.5)
    )
    reference = _adamw_groups(linears, lr=0.1, wd=0.5)
    before = model.get_weights()
    for p in _params(linears):
        p.grad = torch.zeros_like(p)
    reference.step()
    for layer in model.layers:
        for g in layer.grads.values():
            g[...] = 0.0
    model.optimizer.step()
    assert_params_match(model, linears)
    for old, layer in zip(before, model.layers, strict=True):
        if "W" in old:  # W <- W (1 - lr * wd) = 0.95 W; b untouched
            np.testing.assert_allclose(layer.params["W"], 0.95 * old["W"], rtol=1e-12)
            np.testing.assert_array_equal(layer.params["b"], old["b"])
