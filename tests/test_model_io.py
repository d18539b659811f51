"""Tests for nablanet.model_io: model files predict bitwise as before and resume training."""

# Bad or hostile files are refused with an error naming the file.
#
# Hostile files are crafted by hand with ``zipfile``/``json``/``np.save`` from a genuine file, so
# the reader is checked against the format, not against itself.

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from _helpers import flip_trials, refused_cheaply
from nablanet import Sequential
from nablanet.model_io import SavedModel, load, read_model, save
from nablanet.preprocessing import Standardizer
from nablanet.saving import ModelFileError


def _data(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64) + (X[:, 3] > 1)
    return X, y


def _model(optimizer: str = "adam", dropout: float = 0.0, **kwargs) -> Sequential:
    opt_kwargs = {"lr": 0.01}
    return Sequential.from_sizes(
        [4, 8, 6, 3], activation="tanh", output="softmax", loss="categorical_cross_entropy",
        optimizer=optimizer, dropout=dropout, seed=3, **opt_kwargs, **kwargs,
    )  # fmt: skip


def _same_weights(a: Sequential, b: Sequential) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return all(np.array_equal(x[k], y[k]) for x, y in zip(wa, wb, strict=True) for k in x)


# -- round trip -------------------------------------------------------------------------------
def test_round_trip_predicts_bitwise_identically(tmp_path):
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=3, batch_size=16, verbose=False)
    model.classes_ = np.array([10, 20, 30], dtype=np.int32)

    path = model.save(tmp_path / "m.nbnet")
    loaded = load(path)

    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.predict_proba(X).dtype == np.float32
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.classes_.dtype == np.int32  # numeric labels keep their dtype
    assert set(loaded.predict(X)) <= {10, 20, 30}
    assert loaded.task == "multiclass"
    assert loaded.get_config() == model.get_config()


def test_string_classes_and_preprocessing_round_trip(tmp_path):
    X, y = _data()
    scaler = Standardizer().fit(X * 5 + 2)
    model = _model(optimizer="sgd")
    model.fit(scaler.transform(X * 5 + 2), y, epochs=2, verbose=False)
    model.classes_ = np.array(["cat", "dog", "emu"])
    model.save(tmp_path / "m.nbnet", preprocessing=scaler, metadata={"dataset": "toy"})

    saved = read_model(tmp_path / "m.nbnet")

    assert isinstance(saved, SavedModel)
    assert saved.metadata == {"dataset": "toy"}
    assert np.array_equal(saved.preprocessing.mean_, scaler.mean_)
    assert np.array_equal(saved.preprocessing.scale_, scaler.scale_)
    raw = X * 5 + 2
    assert np.array_equal(saved.predict(raw), model.predict(scaler.transform(raw)))
    assert saved.model.classes_.tolist() == ["cat", "dog", "emu"]
    # load() attaches the preprocessing, and a second save keeps it
    again = load(tmp_path / "m.nbnet")
    save(again, tmp_path / "again.nbnet")
    assert (
        read_model(tmp_path / "again.nbnet").preprocessing.mean_.tolist() == scaler.mean_.tolist()
    )


# -- resumed training ---------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_resumed_training_equals_uninterrupted(tmp_path, optimizer):
    X, y = _data()
    uninterrupted = _model(optimizer, dropout=0.2)
    uninterrupted.fit(X, y, epochs=6, batch_size=16, verbose=False)

    first = _model(optimizer, dropout=0.2)
    first.fit(X, y, epochs=3, batch_size=16, verbose=False)
    first.save(tmp_path / "m.nbnet")
    del first
    resumed = load(tmp_path / "m.nbnet")
    resumed.fit(X, y, epochs=3, batch_size=16, verbose=False)

    assert _same_weights(resumed, uninterrupted)


def test_control_resuming_without_the_saved_rng_state_differs(tmp_path):
    # Shows the test above can fail: the shuffling order depends on the generator's state.
    X, y = _data()
    uninterrupted = _model()
    uninterrupted.fit(X, y, epochs=4, batch_size=16, verbose=False)
    first = _model()
    first.fit(X, y, epochs=2, batch_size=16, verbose=False)
    first.save(tmp_path / "m.nbnet")
    resumed = load(tmp_path / "m.nbnet")
    resumed.rng = np.random.default_rng(3)

    resumed.fit(X, y, epochs=2, batch_size=16, verbose=False)

    assert not _same_weights(resumed, uninterrupted)


def test_other_bit_generators_are_restored(tmp_path):
    model = _model()
    model.rng = np.random.Generator(np.random.MT19937(5))
    model.save(tmp_path / "m.nbnet")

    loaded = load(tmp_path / "m.nbnet")

    assert loaded.rng.random(4).tolist() == model.rng.random(4).tolist()


# -- refusing bad files -------------------------------------------------------------------------
def _rewrite(path: Path, out: Path, edit_header=None, replace: dict | None = None) -> Path:
    """Copy the ZIP at ``path`` to ``out``, editing the JSON header and replacing members."""
    replace = dict(replace or {})
    with zipfile.ZipFile(path) as zin:
        header = json.loads(zin.read("header.json"))
        members = {name: zin.read(name) for name in zin.namelist()}
    for member, data in replace.items():
        members[member] = data
        for entry in header["arrays"].values():
            if entry["file"] == member:  # a valid checksum: only the content is hostile
                entry["sha256"] = hashlib.sha256(data).hexdigest()
    if edit_header is not None:
        edit_header(header)
    members["header.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(out, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return out


class _WritesMarker:
    """Unpickling this object creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def saved_path(tmp_path) -> Path:
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=1, verbose=False)
    return model.save(tmp_path / "good.nbnet")


def test_pickled_weights_are_refused_and_never_run(tmp_path, saved_path):
    marker = tmp_path / "marker"
    buffer = io.BytesIO()
    np.save(buffer, np.array([_WritesMarker(marker)], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(saved_path) as zf:
        header = json.loads(zf.read("header.json"))
    member = header["arrays"]["params/0/W"]["file"]
    evil = _rewrite(saved_path, tmp_path / "evil.nbnet", replace={member: buffer.getvalue()})

    with pytest.raises(ModelFileError, match="pickle") as info:
        load(evil)

    assert "evil.nbnet" in str(info.value)
    assert not marker.exists()


def test_a_layer_class_outside_the_registry_is_refused(tmp_path, saved_path):
    def edit(header):
        header["model"]["config"]["layers"][0]["class"] = "os.system"

    path = _rewrite(saved_path, tmp_path / "odd.nbnet", edit_header=edit)

    with pytest.raises(ModelFileError, match=r"odd\.nbnet.*unknown layer class 'os.system'"):
        load(path)


def test_a_header_that_is_not_a_model_is_refused(tmp_path, saved_path):
    def edit(header):
        header["model"] = {"kind": "something else"}

    path = _rewrite(saved_path, tmp_path / "other.nbnet", edit_header=edit)
    with pytest.raises(ModelFileError, match=r"other\.nbnet.*not a nablanet\.Sequential"):
        load(path)


def test_missing_header_entries_give_a_clear_error(tmp_path, saved_path):
    def edit(header):
        del header["model"]["optimizer_state"]

    path = _rewrite(saved_path, tmp_path / "partial.nbnet", edit_header=edit)
    with pytest.raises(ModelFileError, match=r"partial\.nbnet.*missing entry 'optimizer_state'"):
        load(path)


def test_newer_format_version_is_refused(tmp_path, saved_path):
    def edit(header):
        header["format_version"] = 99

    path = _rewrite(saved_path, tmp_path / "future.nbnet", edit_header=edit)
    with pytest.raises(ModelFileError, match=r"future\.nbnet.*upgrade nablanet"):
        load(path)


def test_truncated_and_corrupted_files_are_refused(tmp_path, saved_path):
    data = saved_path.read_bytes()
    truncated = tmp_path / "truncated.nbnet"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"truncated\.nbnet"):
        load(truncated)

    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF  # inside the weights
    corrupted = tmp_path / "corrupted.nbnet"
    corrupted.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError, match=r"corrupted\.nbnet.*corrupted"):
        load(corrupted)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.nbnet"):
        load(tmp_path / "nothing.nbnet")


# -- saving errors leave the previous file intact ---------------------------------------------
def test_failed_save_leaves_the_previous_file_intact(tmp_path, saved_path, monkeypatch):
    before = saved_path.read_bytes()
    model = _model()

    with pytest.raises(TypeError, match="metadata"):
        model.save(saved_path, metadata={"when": object()})
    with pytest.raises(TypeError, match="preprocessing"):
        model.save(saved_path, preprocessing="standardize")

    import nablanet.saving.container

    def half_written(file, header, arrays):
        file.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(nablanet.saving.container, "_write_archive", half_written)
    with pytest.raises(OSError, match="disk full"):
        model.save(saved_path)

    assert saved_path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["good.nbnet"]


def test_an_unbuilt_model_cannot_be_saved(tmp_path):
    from nablanet import Dense

    with pytest.raises(ValueError, match="not built"):
        Sequential([Dense(2)]).save(tmp_path / "m.nbnet")
    assert not (tmp_path / "m.nbnet").exists()


# -- the whole header is checked before the model is built ------------------------------------
def _edit(key_path, value):
    """An edit_header for _rewrite that sets header["model"][k1][k2]... = value."""

    def edit(header):
        node = header["model"]
        for key in key_path[:-1]:
            node = node[key]
        node[key_path[-1]] = value

    return edit


def _refused(path: Path, *named: str) -> str:
    return refused_cheaply(path, read_model, *named)


@pytest.mark.parametrize(
    ("key_path", "value", "named"),
    [
        (("config", "layers", 0, "config", "units"), 10**12, "layers[0].config.units"),
        (("config", "layers", 0, "config", "units"), 30000, "params/0/W"),
        (("config", "layers", 0, "config", "units"), -3, "layers[0].config.units"),
        (("config", "layers", 0, "config", "units"), 8.0, "layers[0].config.units"),
        (("config", "layers", 0, "config", "input_dim"), 30000, "layers[0].config.input_dim"),
        (("config", "input_dim"), 30000, "input_dim"),
        (("config", "input_dim"), -4, "config.input_dim"),
        (("config", "input_dim"), 10**60, "config.input_dim"),
        (("config", "layers"), [], "config.layers"),
        (("config", "layers"), "Dense", "config.layers"),
        (("config", "dtype"), "float16", "config.dtype"),
        (("config", "task"), "evil", "config.task"),
        (("config", "task"), 5, "config.task"),
        (("config", "classes"), ["only"], "config.classes"),
        (("config", "classes"), ["a", "b", "c", "d"], "config.classes"),
        (("config", "classes"), ["a", "a", "b"], "config.classes"),
        (("config", "classes"), [["a"], "b", "c"], "config.classes[0]"),
        (("config", "classes"), [], "config.classes"),
        (("rng_state", "state", "state"), -5, "rng_state.state.state"),
        (("rng_state", "state", "state"), 10**60, "rng_state.state.state"),
        (("rng_state", "state", "inc"), "1", "rng_state.state.inc"),
        (("rng_state", "has_uint32"), 7, "rng_state.has_uint32"),
        (("rng_state", "uinteger"), 2**40, "rng_state.uinteger"),
        (("rng_state", "state"), {"state": 1}, "rng_state.state"),
        (("rng_state", "bit_generator"), "os.system", "unknown random generator"),
        (("parameters",), [[0, "W"]], "parameters"),
        (("parameters",), [[0, "W"], [0, "b"], [3, "W"], [3, "b"], [9, "W"]], "parameters"),
        (("optimizer_state",), ["layers.0.W.m", "layers.9.W.m"], "optimizer_state"),
        (("optimizer_state",), "iterations", "optimizer_state"),
        (
            ("preprocessing",),
            {"class": "Standardizer", "config": {"mean": [0.0], "scale": [1.0]}},
            "preprocessing.config.mean",
        ),
        (("preprocessing",), {"class": "pickle", "config": {}}, "unknown preprocessing"),
        (("metadata",), [1, 2], "metadata"),
    ],
)
def test_header_values_of_the_wrong_kind_are_refused_naming_the_field(
    tmp_path, saved_path, key_path, value, named
):
    path = _rewrite(saved_path, tmp_path / "bad.nbnet", edit_header=_edit(key_path, value))
    _refused(path, named)


def test_a_regression_model_with_classes_is_refused(tmp_path, saved_path):
    def edit(header):
        header["model"]["config"]["task"] = "regression"
        header["model"]["config"]["classes"] = [0, 1, 2]

    _refused(_rewrite(saved_path, tmp_path / "r.nbnet", edit_header=edit), "config.classes")


def test_the_classes_array_must_match_the_class_list(tmp_path):
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=1, verbose=False)
    model.classes_ = np.array([10, 20, 30])
    path = model.save(tmp_path / "good.nbnet")
    buffer = io.BytesIO()
    np.save(buffer, np.array([10, 20]))
    with zipfile.ZipFile(path) as zf:
        member = json.loads(zf.read("header.json"))["arrays"]["classes"]["file"]
    bad = _rewrite(path, tmp_path / "c.nbnet", replace={member: buffer.getvalue()})
    _refused(bad, "'classes'")


def test_negative_optimizer_step_counter_is_refused(tmp_path, saved_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array(-5, dtype=np.int64))
    with zipfile.ZipFile(saved_path) as zf:
        member = json.loads(zf.read("header.json"))["arrays"]["optimizer/iterations"]["file"]
    bad = _rewrite(saved_path, tmp_path / "it.nbnet", replace={member: buffer.getvalue()})
    _refused(bad, "iterations")


def test_random_byte_flips_of_a_real_model_file_load_identically_or_raise_model_file_error(
    tmp_path,
):
    X, y = _data()
    model = _model(dropout=0.1)
    model.fit(X, y, epochs=1, verbose=False)
    model.classes_ = np.array(["a", "b", "c"])
    scaler = Standardizer().fit(X)
    path = model.save(tmp_path / "m.nbnet", preprocessing=scaler, metadata={"note": "x"})
    expected = model.get_weights()

    def same(saved) -> bool:
        got = saved.model.get_weights()
        return all(
            np.array_equal(a[k], b[k]) for a, b in zip(got, expected, strict=True) for k in a
        )

    outcomes = flip_trials(path, 1000, seed=2024, read=read_model, same=same)
    assert outcomes["refused"] > 900


def test_a_30000_by_30000_layer_declared_over_small_arrays_is_refused_unbuilt(tmp_path, saved_path):
    def edit(header):
        config = header["model"]["config"]
        config["input_dim"] = 30000
        config["layers"][0]["config"].update(input_dim=30000, units=30000)

    _refused(_rewrite(saved_path, tmp_path / "big.nbnet", edit_header=edit), "'params/0/W'")


@pytest.mark.parametrize(
    "labels", [np.array([5]), np.array([5, 5, 7]), np.array([np.nan, 1.0, 2.0])]
)
def test_a_classes_array_must_name_each_output_once_even_without_config_classes(tmp_path, labels):
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=1, verbose=False)
    model.classes_ = np.array([5, 7, 9])  # numeric labels travel as the array 'classes'
    path = model.save(tmp_path / "numeric.nbnet")
    with zipfile.ZipFile(path) as zf:
        entry = json.loads(zf.read("header.json"))["arrays"]["classes"]

    def edit(header):
        header["model"]["config"]["classes"] = None  # only the array says what the classes are
        header["arrays"]["classes"]["shape"] = list(labels.shape)
        header["arrays"]["classes"]["dtype"] = labels.dtype.str
        header["model"]["classes_dtype"] = labels.dtype.str

    buffer = io.BytesIO()
    np.save(buffer, labels)
    bad = _rewrite(path, tmp_path / "bad.nbnet", edit, replace={entry["file"]: buffer.getvalue()})
    _refused(bad, "classes")


def test_a_task_that_does_not_fit_the_outputs_is_refused(tmp_path, saved_path):
    bad = _rewrite(saved_path, tmp_path / "binary.nbnet", _edit(("config", "task"), "binary"))
    message = _refused(bad, "model.config.task")
    assert "'binary', but the network has 3 outputs" in message
