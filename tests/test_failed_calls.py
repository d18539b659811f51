"""A failed call changes nothing: bad input to fit, evaluate, compile, build and save raises a
one-line error naming the value, and leaves the model (or the file) exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nablanet as nn
from nablanet.layers import Dense, Dropout, ReLU, Sigmoid
from nablanet.losses import Loss
from nablanet.model_io import read_model
from nablanet.preprocessing import Standardizer
from nablanet.saving import MAX_JSON_DEPTH

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 3))
Y = (X[:, 0] > 0).astype(np.int64)


def _unbuilt(seed: int = 0, last: Dense | None = None) -> nn.Sequential:
    layers = [Dense(4), ReLU(), Dropout(0.5), last or Dense(1), Sigmoid()]
    return nn.Sequential(layers, loss="binary_cross_entropy", seed=seed)


def _fitted() -> nn.Sequential:
    model = _unbuilt()
    model.fit(X, Y, epochs=2, batch_size=5)
    return model


def _snapshot(model: nn.Sequential) -> dict:
    """What a failed call must not change: weights, generator, task, optimizer, attributes."""
    return {
        "attributes": sorted(vars(model)),
        "built": getattr(model, "built", False),
        "input_dim": model.input_dim,
        "task": model.task,
        "rng": model.rng,
        "rng_state": model.rng.bit_generator.state,
        "dropout_rng": [getattr(la, "rng", None) for la in model.layers],
        "layers_built": [la.built for la in model.layers],
        "weights": model.get_weights(),
        "optimizer": model.optimizer,
        "optimizer_state": model.optimizer.get_state(),
        "loss": model.loss,
    }


def _assert_unchanged(model: nn.Sequential, before: dict) -> None:
    after = _snapshot(model)
    for key in ("attributes", "built", "input_dim", "task", "rng_state", "layers_built"):
        assert after[key] == before[key], key
    for key in ("rng", "optimizer", "loss"):
        assert after[key] is before[key], key
    assert all(a is b for a, b in zip(after["dropout_rng"], before["dropout_rng"], strict=True))
    for old, new in zip(before["weights"], after["weights"], strict=True):
        assert old.keys() == new.keys()
        for name in old:
            np.testing.assert_array_equal(new[name], old[name])
    assert before["optimizer_state"].keys() == after["optimizer_state"].keys()
    for name, value in before["optimizer_state"].items():
        np.testing.assert_array_equal(after["optimizer_state"][name], value)


# -- fit, evaluate, compile, build ------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        {"y": Y[:5]},  # 5 labels for 20 samples: found after the model is built
        {"y": Y, "sample_weight": np.zeros(20)},
        {"y": Y, "class_weight": {0: 0.0, 1: 0.0}},
        {"y": Y, "validation_data": (X[:, :2], Y)},  # found after the training data passed
        # one sample weighs: whichever part lacks it weighs nothing
        {"y": Y, "validation_split": 0.2, "sample_weight": np.eye(20)[0]},
        {"y": Y, "callbacks": [nn.EarlyStopping(monitor="val_acuracy")]},
    ],
    ids=["y-length", "zero-sw", "zero-cw", "val-width", "split-zero", "monitor"],
)
@pytest.mark.parametrize("fitted", [False, True], ids=["unbuilt", "fitted"])
def test_a_failed_fit_leaves_the_model_as_it_was(bad, fitted):
    model = _fitted() if fitted else _unbuilt()
    before = _snapshot(model)
    bad = dict(bad)
    y = bad.pop("y")
    with pytest.raises((ValueError, TypeError)) as info:
        model.fit(X, y, epochs=2, batch_size=5, seed=7, **bad)  # seed= would replace the rng
    assert "\n" not in str(info.value)
    _assert_unchanged(model, before)


def test_a_layer_refusing_its_input_unbuilds_the_layers_before_it():
    # the 4th layer's explicit weights need 5 inputs; the first Dense (and the Dropout after
    # it) are built, drawing from the generator, before it refuses
    model = _unbuilt(last=Dense(1, weights=np.ones((5, 1))))
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"initial weights must have shape \(4, 1\), got \(5, 1\)"):
        model.fit(X, Y)
    _assert_unchanged(model, before)
    assert not model.layers[0].params
    with pytest.raises(ValueError, match="initial weights"):
        model.build(3)
    _assert_unchanged(model, before)


def test_all_zero_weights_are_refused_by_name_not_divided_by():
    model = _fitted()
    before = _snapshot(model)
    with pytest.raises(
        ValueError, match="sample_weight gives every one of the 20 samples weight 0"
    ):
        model.fit(X, Y, sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match=r"class_weight \{0: 0, 1: 0\} gives every one"):
        model.fit(X, Y, class_weight={0: 0, 1: 0})
    with pytest.raises(ValueError, match="sample_weight times class_weight"):
        model.fit(X, Y, sample_weight=(Y == 0).astype(float), class_weight={0: 0.0})
    # evaluate used to report a perfect loss of 0.0
    with pytest.raises(
        ValueError, match="sample_weight gives every one of the 20 samples weight 0"
    ):
        model.evaluate(X, Y, sample_weight=np.zeros(20))
    with pytest.raises(ValueError, match="weight 0"):
        model.fit(X, Y, validation_data=(X, Y, np.zeros(20)))
    _assert_unchanged(model, before)


def test_class_weights_are_checked_one_by_one_with_their_value():
    model = _fitted()
    before = _snapshot(model)
    with pytest.raises(
        ValueError, match=r"class_weight\[0\] must be a finite number >= 0, got 2\*\*"
    ):
        model.fit(X, Y, class_weight={0: 10**5000})  # used to overflow float()
    with pytest.raises(TypeError, match=r"class_weight\[1\] must be a number, got 'heavy'"):
        model.fit(X, Y, class_weight={1: "heavy"})
    with pytest.raises(ValueError, match=r"class_weight\[0\] is 1e\+300, more than float32 holds"):
        model.fit(X, Y, class_weight={0: 1e300})  # used to train on infinite weights
    _assert_unchanged(model, before)


def test_weights_whose_sum_overflows_are_refused():
    model = _fitted()
    with pytest.raises(ValueError, match="sum to inf in float32"):
        model.fit(X, Y, sample_weight=np.full(20, 1e38))


def test_evaluate_does_not_fix_the_task_of_an_unfitted_model():
    model = _unbuilt()
    model.build(3)
    model.evaluate(X, Y)
    assert model.task is None
    with pytest.raises(ValueError, match="weight 0"):
        model.evaluate(X, Y, sample_weight=np.zeros(20))
    assert model.task is None


def test_a_failed_compile_keeps_the_loss_and_optimizer():
    model = _fitted()
    before = _snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the logits-after-Sigmoid warning, raised after the change
        with pytest.raises(UserWarning, match="takes logits"):
            model.compile(loss="bce_with_logits", optimizer="adam")
    _assert_unchanged(model, before)


# -- save -------------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path: Path) -> tuple[nn.Sequential, Path, bytes]:
    model = _fitted()
    path = tmp_path / "good.nbnet"
    model.save(path)
    return model, path, path.read_bytes()


@pytest.mark.parametrize("suffix", [os.sep, os.sep + ".", os.sep + ".."])
def test_save_to_a_path_naming_a_directory_is_refused(tmp_path, suffix):
    model = _fitted()
    target = str(tmp_path / "newdir") + suffix
    with pytest.raises(IsADirectoryError, match="names a directory") as info:
        model.save(target)
    assert repr(target) in str(info.value)
    assert sorted(os.listdir(tmp_path)) == []  # used to write a file named "newdir"


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (_nested(5000), r"metadata\['a'\]\['a'\]\['a'\]\.\.\. nests deeper than the 64 levels"),
        (_nested(MAX_JSON_DEPTH), "nests deeper"),  # 64 levels in metadata: 66 in header.json
        ({"note": "caf\udce9"}, r"metadata\['note'\] is 'caf\\udce9'.*lone surrogate"),
        ({"caf\udce9": 1}, r"has a key 'caf\\udce9'.*lone surrogate"),
        ({"n": 10**5000}, r"metadata\['n'\] is 2\*\*16609, an integer too long"),
        ({"n": [1, {"m": float("nan")}]}, r"metadata\['n'\]\[1\]\['m'\] is nan"),
    ],
    ids=["deep", "deep-limit", "surrogate", "surrogate-key", "huge-int", "nan"],
)
def test_bad_metadata_is_one_line_naming_the_value_and_keeps_the_file(saved, metadata, message):
    model, path, before = saved
    with pytest.raises((ValueError, TypeError), match=message) as info:
        model.save(path, metadata=metadata)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["good.nbnet"]


def test_metadata_at_the_depth_limit_round_trips(tmp_path):
    model = _fitted()
    deepest = _nested(MAX_JSON_DEPTH - 2)  # header.json: model -> metadata -> 62 levels
    model.save(tmp_path / "m.nbnet", metadata=deepest)
    assert read_model(tmp_path / "m.nbnet").metadata == deepest


def test_a_standardizer_of_another_width_is_refused_before_writing(saved):
    model, path, before = saved
    X5 = np.random.default_rng(1).normal(size=(10, 5))
    with pytest.raises(ValueError, match="fitted on 5 features, but the model takes 3"):
        model.save(path, preprocessing=Standardizer().fit(X5))
    assert path.read_bytes() == before  # used to be replaced by a file read_model refuses
    read_model(path)


class _Unregistered(Loss):
    name = "my_own_loss"

    def forward(self, y_pred, y_true, sample_weight=None):
        self._d = y_pred - y_true
        return float((self._d**2).mean())

    def backward(self):
        return 2 * self._d / self._d.size


def test_a_model_that_would_not_load_back_is_not_written(saved):
    model, path, before = saved
    model.compile(loss=_Unregistered())
    with pytest.raises(ValueError, match=r"would not load back.*unknown loss 'my_own_loss'"):
        model.save(path)
    assert path.read_bytes() == before


def test_saved_tutorial_models_load_in_a_fresh_process(tmp_path):
    from nablanet.tutorial import SeedCrossEntropy, SeedDense, SeedSigmoid

    model = nn.Sequential(
        [SeedDense(3), ReLU(), SeedDense(1), SeedSigmoid(clip=500.0)], loss=SeedCrossEntropy()
    )
    model.fit(X, Y, epochs=1)
    model.save(tmp_path / "t.nbnet")
    code = "import sys, nablanet; print(nablanet.load(sys.argv[1]).loss.name)"
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.nbnet")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "seed000_cross_entropy"


# -- set_weights, from_config and huge values: found hunting beyond the corpus -----------------
BIG = 10**5000  # repr() of it raises ValueError (the 4300-digit limit)


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        (None, TypeError, "weights must be a list of one dict per layer"),
        ((w for w in range(5)), TypeError, "got generator"),
        ([[np.ones((3, 4))], {}, {}, {}, {}], TypeError, r"weights\[0\] must be a dict"),
        (
            [
                {"W": np.full((3, 4), 1e39), "b": np.zeros(4)},
                {},
                {},
                {"W": np.ones((4, 1)), "b": [0.0]},
                {},
            ],
            ValueError,
            r"layer 0 W holds 1e\+39, more than float32 holds",  # used to become inf silently
        ),
    ],
    ids=["none", "generator", "list-of-lists", "beyond-float32"],
)
def test_set_weights_refuses_bad_weights_and_changes_nothing(weights, error, message):
    model = _fitted()
    before = _snapshot(model)
    with pytest.raises(error, match=message) as info:
        model.set_weights(weights)
    assert "\n" not in str(info.value)
    _assert_unchanged(model, before)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (None, TypeError, "config must be a dict"),
        ({"optimizer": None}, TypeError, r"config\['optimizer'\] must be a dict"),
        ({"layers": ["Dense"]}, TypeError, r"config\['layers'\]\[0\] must be \{'class'"),
        ({"layers": [{"class": "Dense", "config": {"units": 2, "bias": 1, "x": 1}}]}, TypeError,
         r"config\['layers'\]\[0\] \(Dense\).*unexpected keyword argument 'x'"),
        ({"input_dim": 2.5}, TypeError, "input_dim must be an integer >= 1, got 2.5"),  # was 2
        ({"task": "classification"}, ValueError, r"config\['task'\] must be None or one of"),
        ({"classes": 5}, ValueError, r"config\['classes'\] must be None or a list"),
        ({"classes": [0, 0]}, ValueError, "distinct labels"),
    ],
    ids=["none", "optimizer", "layer-entry", "layer-setting", "input-dim", "task", "classes", "twice"],
)  # fmt: skip
def test_from_config_names_the_bad_entry(change, error, message):
    config = None if change is None else {**_fitted().get_config(), **change}
    with pytest.raises(error, match=message):
        nn.Sequential.from_config(config)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.compile(metrics=[BIG]),
        lambda m: m.fit(X, Y, validation_split=BIG),
        lambda m: m.fit(X, Y, callbacks=[BIG]),
        lambda m: m.clone(dtype=BIG),
        lambda m: nn.Sequential([Dense(1)], label_smoothing=BIG),
    ],
    ids=["metric", "validation-split", "callback", "clone-dtype", "label-smoothing"],
)
def test_a_4300_digit_int_is_quoted_not_a_conversion_error(call):
    model = _fitted()
    before = _snapshot(model)
    with pytest.raises((TypeError, ValueError), match=r"2\*\*16609"):
        call(model)
    _assert_unchanged(model, before)
