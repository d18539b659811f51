"""Tutorial-mode models round-trip: every class of ``nablanet.tutorial`` saves, loads, clones
and exports to ONNX, with its options, and training resumes exactly after loading."""

from __future__ import annotations

import numpy as np
import pytest

import nablanet as nn
import nablanet.tutorial as tutorial
from nablanet.layers import Layer, ReLU
from nablanet.losses import Loss, get_loss
from nablanet.model_io import load
from nablanet.tutorial import SeedCrossEntropy, SeedDense, SeedSigmoid, SummedHalfSquaredError

RNG = np.random.default_rng(4)
X = RNG.normal(size=(24, 3))
Y = (X[:, 0] - X[:, 1] > 0).astype(np.float64)
#: float64 replays of the same operations on the same bits: only reassociation could differ
REPLAY_RTOL = 1e-12


def _model(loss: Loss, optimizer: str = "adam") -> nn.Sequential:
    layers = [
        SeedDense(5, bias_grad="mean", summation="bias_first"),
        ReLU(),
        SeedDense(1, use_bias=False, kernel_initializer="he_uniform"),
        SeedSigmoid(derivative_scale=2.0, clip=500.0),
    ]
    return nn.Sequential(layers, loss=loss, optimizer=optimizer, lr=0.01, seed=3, dtype="float64")


LOSSES = [SeedCrossEntropy(), SeedCrossEntropy(reduction="mean"), SummedHalfSquaredError()]


def test_every_tutorial_class_is_covered_here():
    public = {getattr(tutorial, name) for name in tutorial.__all__}
    classes = {c for c in public if isinstance(c, type) and issubclass(c, Layer | Loss)}
    assert classes == {SeedDense, SeedSigmoid, SeedCrossEntropy, SummedHalfSquaredError}


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_save_load_and_resume_training_exactly(tmp_path, loss):
    model = _model(loss)
    model.fit(X, Y, epochs=3, batch_size=8)  # Adam moments, shuffling: state to carry over
    model.save(tmp_path / "t.nbnet")
    loaded = load(tmp_path / "t.nbnet")

    assert loaded.get_config() == model.get_config()
    assert loaded.loss.get_config() == loss.get_config()
    first, last = loaded.layers[0], loaded.layers[-1]
    assert (type(first), first.bias_grad, first.summation) == (SeedDense, "mean", "bias_first")
    assert loaded.layers[2].use_bias is False
    assert (type(last), last.derivative_scale, last.clip) == (SeedSigmoid, 2.0, 500.0)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    model.fit(X, Y, epochs=3, batch_size=8)
    loaded.fit(X, Y, epochs=3, batch_size=8)
    np.testing.assert_allclose(
        loaded.parameters_to_vector(), model.parameters_to_vector(), rtol=REPLAY_RTOL, atol=0
    )


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_clone_keeps_the_options_and_trains_the_same(loss):
    model = _model(loss, optimizer="sgd")
    model.fit(X, Y, epochs=2)
    twin = model.clone()
    assert twin.get_config() == model.get_config()
    assert type(twin.loss) is type(loss) and twin.loss.get_config() == loss.get_config()
    model.fit(X, Y, epochs=3)  # full batch, plain SGD: no state that clone() leaves behind
    twin.fit(X, Y, epochs=3)
    np.testing.assert_allclose(
        twin.parameters_to_vector(), model.parameters_to_vector(), rtol=REPLAY_RTOL, atol=0
    )


def test_the_tutorial_losses_are_found_by_name_with_their_options():
    assert type(get_loss("summed_half_squared_error")) is SummedHalfSquaredError
    loss = get_loss({"name": "seed000_cross_entropy", "reduction": "mean"})
    assert type(loss) is SeedCrossEntropy and loss.reduction == "mean"


@pytest.mark.parametrize("clip", [500.0, 0.5, None])
def test_onnx_export_matches_predict_proba(tmp_path, clip):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = _model(SeedCrossEntropy())
    model.layers[-1].clip = clip  # 0.5: the clipping changes the output, so it must be exported
    model.fit(X, Y, epochs=2, batch_size=8)
    model.to_onnx(tmp_path / "t.onnx")
    session = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    # float32 graph against the float64 model
    np.testing.assert_allclose(got, model.predict_proba(X), rtol=1e-5, atol=1e-6)
    if clip == 0.5:  # the graph clips z to [-0.5, 0.5], as the layer does
        bound = 1 / (1 + np.exp(-0.5))
        assert 1 - bound - 1e-6 <= got.min() and got.max() <= bound + 1e-6
        assert np.isclose(got, bound, atol=1e-6).any()  # some z was clipped
