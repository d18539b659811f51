"""Tests for nablanet.plot (headless, Agg backend)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from nablanet import plot  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) read from the IHDR chunk, after checking the PNG signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_png(path):
    width, height = png_size(path)
    assert width > 100
    assert height > 100


def labelled_lines(ax):
    """Lines drawn with a label (axhline/axvline helpers have none)."""
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Logistic:
    """P(class 1) = sigmoid(x0 + x1); records the inputs it was asked about."""

    def __init__(self, shape="n"):
        self.shape = shape
        self.seen = []

    def predict_proba(self, X):
        self.seen.append(np.array(X))
        p = sigmoid(X[:, 0] + X[:, 1])
        return p if self.shape == "n" else p.reshape(-1, 1)


class Sign:
    """Only predict: label "pos" when x0 > 0 else "neg"."""

    def predict(self, X):
        return np.where(X[:, 0] > 0, "pos", "neg")


class ThreeClass:
    def predict_proba(self, X):
        scores = np.column_stack([X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]])
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))])
    y = np.repeat([0, 1], 30)
    return X, y


# -------------------------------------------------------------------------- history
def test_history_with_validation(tmp_path):
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3],
        "accuracy": [0.5, 0.7, 0.8, 0.9],
        "val_loss": [1.1, 0.7, 0.5, 0.45],
        "val_accuracy": [0.4, 0.6, 0.75, 0.8],
    }
    fig = plot.plot_history(history, path=tmp_path / "history.png")
    assert isinstance(fig, Figure)
    assert_png(tmp_path / "history.png")
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss"
    assert acc_ax.get_title() == "accuracy"
    lines = labelled_lines(loss_ax)
    assert [line.get_label() for line in lines] == ["training", "validation"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])  # epochs from 1
    np.testing.assert_allclose(lines[1].get_ydata(), [1.1, 0.7, 0.5, 0.45])
    assert len(labelled_lines(acc_ax)) == 2


def test_history_object_without_validation():
    class Run:
        def __init__(self):
            self.history = {"accuracy": [0.5, 0.6], "loss": [0.9, 0.8], "lr": [0.1, 0.05]}

    fig = plot.plot_history(Run())
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "lr"]  # loss first
    assert all(len(labelled_lines(ax)) == 1 for ax in fig.axes)


@pytest.mark.parametrize(
    ("history", "error", "match"),
    [
        ({}, ValueError, "history is empty"),
        ([1, 2, 3], TypeError, "history must be a mapping.*list"),
        ({"loss": ["a", "b"]}, TypeError, "history\\['loss'\\] must contain numbers"),
        ({"loss": [1.0, np.nan]}, ValueError, "NaN"),
    ],
)
def test_history_bad_input(history, error, match):
    with pytest.raises(error, match=match):
        plot.plot_history(history)


# ---------------------------------------------------------------- decision boundary
@pytest.mark.parametrize("shape", ["n", "n1"])
def test_decision_boundary_binary_proba(tmp_path, blobs, shape):
    X, y = blobs
    model = Logistic(shape)
    fig = plot.plot_decision_boundary(model, X, y, resolution=50, path=tmp_path / "db.png")
    assert_png(tmp_path / "db.png")
    assert len(fig.axes) == 2  # the plot and the P(class 1) colorbar
    grid = model.seen[0]
    assert grid.shape == (50 * 50, 2)
    assert grid[:, 0].min() < X[:, 0].min() and grid[:, 0].max() > X[:, 0].max()
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["0", "1"]


def test_decision_boundary_predict_only_with_perceptron(tmp_path, blobs):
    from nablanet.perceptron import Perceptron

    X, y = blobs
    clf = Perceptron(eta=0.1, seed=0).fit(X, y)
    fig = plot.plot_decision_boundary(clf, X, y, path=tmp_path / "perceptron.png")
    assert_png(tmp_path / "perceptron.png")
    assert len(fig.axes) == 1


def test_decision_boundary_string_labels_and_multiclass(blobs):
    X, _ = blobs
    fig = plot.plot_decision_boundary(Sign(), X, np.where(X[:, 0] > 0, "pos", "neg"))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["neg", "pos"]
    y3 = np.arange(len(X)) % 3
    fig = plot.plot_decision_boundary(ThreeClass(), X, y3, resolution=30)
    assert len(fig.axes) == 1


def test_decision_boundary_draws_on_given_axes(blobs):
    X, y = blobs
    own = Figure()
    ax = own.add_subplot(1, 2, 2)
    assert plot.plot_decision_boundary(Sign(), X, y, resolution=20, ax=ax) is own
    assert len(ax.collections) > 0


def test_decision_boundary_bad_input(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"exactly 2 features.*\(60, 3\) with 0 varying"):
        plot.plot_decision_boundary(Logistic(), np.ones((60, 3)), y)
    with pytest.raises(ValueError, match=r"exactly 2 features.*\(60, 3\) with 3 varying"):
        plot.plot_decision_boundary(Logistic(), np.column_stack([X, X[:, 0] * 2]), y)
    with pytest.raises(ValueError, match="2-D array, got 3-D"):
        plot.plot_decision_boundary(Logistic(), np.ones((60, 2, 1)), y)
    with pytest.raises(ValueError, match=r"y must have shape \(60,\)"):
        plot.plot_decision_boundary(Logistic(), X, y[:10])
    with pytest.raises(TypeError, match=r"predict_proba or predict.*object"):
        plot.plot_decision_boundary(object(), X, y)
    with pytest.raises(ValueError, match=r"resolution.*1"):
        plot.plot_decision_boundary(Logistic(), X, y, resolution=1)


# -------------------------------------------------------------------------- weights
def test_weights_heat_maps(tmp_path):
    rng = np.random.default_rng(1)
    W1, b1, W2 = rng.normal(size=(10, 3)), np.zeros(3), rng.normal(size=(3, 2))
    fig = plot.plot_weights([W1, b1, W2], path=tmp_path / "weights.png")
    assert_png(tmp_path / "weights.png")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["W1 (10 x 3)", "W2 (3 x 2)"]
    assert len(fig.axes) == 4  # two heat maps, two colorbars
    np.testing.assert_array_equal(panels[0].images[0].get_array(), W1)


def test_weights_from_dict_and_get_weights():
    W = np.arange(6.0).reshape(2, 3)

    class Model:
        def get_weights(self):
            return {"dense_0": {"W": W, "b": np.zeros(3)}, "dense_1": {"W": W.T}}

    fig = plot.plot_weights(Model())
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["W1 (2 x 3)", "W2 (3 x 2)"]
    fig = plot.plot_weights({"W1": W})
    assert fig.axes[0].get_title() == "W1 (2 x 3)"


def test_weights_from_sequential_style_list_of_dicts():
    # Sequential.get_weights() returns one dict per layer, empty for activation layers.
    W1, W2 = np.ones((4, 3)), np.full((3, 1), -2.0)
    layers = [{"W": W1, "b": np.zeros(3)}, {}, {"W": W2, "b": np.zeros(1)}, {}]
    fig = plot.plot_weights(layers)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["W1 (4 x 3)", "W2 (3 x 1)"]
    np.testing.assert_array_equal(panels[1].images[0].get_array(), W2)


def test_weights_bad_input():
    with pytest.raises(ValueError, match="no 2-D weight matrix"):
        plot.plot_weights([np.zeros(3)])
    with pytest.raises(TypeError, match=r"weights must be a list.*int"):
        plot.plot_weights(5)


# ----------------------------------------------------------------- confusion matrix
def test_confusion_matrix_counts_by_hand(tmp_path):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    # Rows are true classes, columns predictions:
    # true 0: predicted 0 once, 1 once          -> [1, 1, 0]
    # true 1: predicted 1 twice                  -> [0, 2, 0]
    # true 2: predicted 2 twice, 0 once          -> [1, 0, 2]
    expected = [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    fig = plot.plot_confusion_matrix(y_true, y_pred, path=tmp_path / "cm.png")
    assert_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for row in expected for v in row]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]


def test_confusion_matrix_normalized_and_labels():
    fig = plot.plot_confusion_matrix(
        ["cat", "cat", "dog", "dog"],
        ["cat", "dog", "dog", "dog"],
        labels=["dog", "cat"],
        normalize=True,
    )
    # Rows (true dog, true cat): dog -> [2, 0] / 2; cat -> [1, 1] / 2.
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.00", "0.50", "0.50"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dog", "cat"]
    with pytest.raises(TypeError, match=r"normalize.*'yes'"):
        plot.plot_confusion_matrix([0, 1], [0, 1], normalize="yes")


# --------------------------------------------------------------------------- images
def test_images_grid_titles_and_colours(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((20, 64))
    predicted = np.arange(20) % 10
    true = predicted.copy()
    true[[1, 5]] = 9  # two mistakes (predicted 1 and 5)
    fig = plot.plot_images(images, predicted, true, image_shape=(8, 8), path=tmp_path / "im.png")
    assert_png(tmp_path / "im.png")
    assert len(fig.axes) == 16
    titles = [ax.title for ax in fig.axes]
    assert titles[3].get_text() == "pred: 3"
    assert titles[3].get_color() == "green"
    assert titles[1].get_color() == "red"
    assert titles[5].get_color() == "red"
    assert sum(t.get_color() == "red" for t in titles) == 2
    # A wrong prediction also says what the image really is.
    assert titles[1].get_text() == "pred: 1\ntrue: 9"
    assert titles[5].get_text() == "pred: 5\ntrue: 9"
    assert sum("true" in t.get_text() for t in titles) == 2


def test_images_scores_class_names_and_no_truth():
    scores = np.eye(3)[[2, 0, 1]]  # arg-max: 2, 0, 1
    fig = plot.plot_images(
        np.zeros((3, 4, 4)), scores, image_shape=(4, 4), class_names=["a", "b", "c"]
    )
    assert [ax.get_title() for ax in fig.axes] == ["pred: c", "pred: a", "pred: b"]
    assert all(ax.title.get_color() == "black" for ax in fig.axes)


def test_images_bad_input():
    with pytest.raises(ValueError, match=r"cannot be reshaped to image_shape \(28, 28\)"):
        plot.plot_images(np.zeros((4, 10)), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="predicted has 3 labels for 4 images"):
        plot.plot_images(np.zeros((4, 4)), [0, 1, 2], image_shape=(2, 2))
    with pytest.raises(ValueError, match=r"image_shape.*\(0, 2\)"):
        plot.plot_images(np.zeros((4, 4)), [0, 1, 2, 3], image_shape=(0, 2))


# ---------------------------------------------------------------------- activations
def test_activations_and_derivatives(tmp_path):
    pytest.importorskip("nablanet.layers")
    fig = plot.plot_activations(path=tmp_path / "act.png")
    assert_png(tmp_path / "act.png")
    names = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
    assert [ax.get_title() for ax in fig.axes] == names
    assert all(len(labelled_lines(ax)) == 2 for ax in fig.axes)
    z = np.linspace(-6, 6, 400)
    # Reference values written independently of the library.
    expected = {
        "sigmoid": (sigmoid(z), sigmoid(z) * (1 - sigmoid(z))),
        "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
        "relu": (np.maximum(z, 0), (z > 0).astype(float)),
        "identity": (z, np.ones_like(z)),
    }
    for ax in fig.axes:
        if ax.get_title() in expected:
            f, df = expected[ax.get_title()]
            line_f, line_df = labelled_lines(ax)
            np.testing.assert_allclose(line_f.get_ydata(), f, atol=1e-6)
            np.testing.assert_allclose(line_df.get_ydata(), df, atol=1e-6)


def test_activations_unknown_name():
    pytest.importorskip("nablanet.layers")
    with pytest.raises(ValueError, match="nope"):
        plot.plot_activations(["nope"])


# -------------------------------------------------------------------------- general
def test_no_pyplot_state_leaks(blobs):
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    X, y = blobs
    plot.plot_decision_boundary(Logistic(), X, y, resolution=20)
    plot.plot_history({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == before


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install nablanet\[plot\]"):
        plot.plot_history({"loss": [1.0, 0.5]})
