"""Tests for nablanet.plot (headless, Agg backend)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nablanet import plot  # noqa: E402
from nablanet.plot.network import NEGATIVE, POSITIVE  # noqa: E402

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


# ------------------------------------------------------------- the fixes of issue 12
def test_history_markers_only_on_short_histories():
    short = plot.plot_history({"loss": np.linspace(1, 0.1, 10)})
    long = plot.plot_history({"loss": np.linspace(1, 0.1, 1000), "val_loss": np.ones(1000)})
    assert labelled_lines(short.axes[0])[0].get_marker() == "."
    assert all(line.get_marker() in ("None", "", None) for line in labelled_lines(long.axes[0]))
    one = plot.plot_history({"loss": [0.5]})
    one.canvas.draw()
    assert [float(t).is_integer() for t in one.axes[0].get_xticks()] == [True] * len(
        one.axes[0].get_xticks())  # fmt: skip


def test_history_names_the_held_out_curve():
    fig = plot.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, val_label="test")
    assert [line.get_label() for line in labelled_lines(fig.axes[0])] == ["training", "test"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["training", "test"]
    with pytest.raises(TypeError, match="val_label must be a non-empty string, got ''"):
        plot.plot_history({"loss": [1.0]}, val_label="")


def _points_inside(ax, points, marker_area):
    """Every point's marker, radius sqrt(area)/2 points, lies inside the axes' drawing area."""
    fig = ax.figure
    fig.canvas.draw()
    radius = np.sqrt(marker_area) / 2 * fig.dpi / 72  # in pixels
    box = ax.get_window_extent()
    xy = ax.transData.transform(points)
    inside_x = (xy[:, 0] - radius > box.x0) & (xy[:, 0] + radius < box.x1)
    inside_y = (xy[:, 1] - radius > box.y0) & (xy[:, 1] + radius < box.y1)
    return inside_x & inside_y


def test_decision_boundary_keeps_points_on_the_edge_whole():
    # XOR's four corners are the extremes of the data: each must be drawn whole, with room.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    fig = plot.plot_decision_boundary(Logistic(), X, y, resolution=20)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= -0.1 and x1 >= 1.1 and y0 <= -0.1 and y1 >= 1.1  # at least 10% of the range
    for scatter in ax.collections[-2:]:  # the two classes' points, drawn last
        offsets = np.asarray(scatter.get_offsets())
        assert _points_inside(ax, offsets, scatter.get_sizes()[0]).all()
    # The legend sits below the plot, hiding no point.
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0


def test_decision_boundary_on_xor_with_a_constant_input():
    # Seeds 003/004 give XOR a third input fixed at 1: the plane is the two varying columns.
    X = np.array([[0.0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    model = Logistic()
    fig = plot.plot_decision_boundary(model, X, np.array([0, 1, 1, 0]), resolution=10)
    np.testing.assert_array_equal(model.seen[0][:, 2], 1.0)
    assert fig.axes[0].get_xlabel() == "x1" and fig.axes[0].get_ylabel() == "x2"


def test_small_weight_panels_get_one_tick_per_unit_and_their_values():
    W1, W2 = np.arange(12.0).reshape(3, 4) - 6, np.array([[-7.5], [8.1], [-3.1], [-0.46]])
    fig = plot.plot_weights([W1, W2])
    panel = next(ax for ax in fig.axes if ax.get_title() == "W2 (4 x 1)")
    assert list(panel.get_xticks()) == [0]  # not -0.5, -0.4, ..., 0.5
    assert list(panel.get_yticks()) == [0, 1, 2, 3]
    assert [t.get_text() for t in panel.texts] == ["-7.5", "8.1", "-3.1", "-0.46"]
    assert [t.get_text() for t in plot.plot_weights([[[0.034, -0.0095]]]).axes[0].texts] == [
        "0.03", "-0.01"]  # fmt: skip
    x0, x1 = panel.get_xlim()
    y0, y1 = panel.get_ylim()
    assert abs(x1 - x0) == pytest.approx(1.0) and abs(y0 - y1) == pytest.approx(4.0)
    assert panel.get_aspect() == 1.0  # square cells


def test_large_weight_panels_keep_few_integer_ticks():
    fig = plot.plot_weights([np.ones((784, 32))])
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t for t in ax.get_yticks() if -0.5 <= t <= 783.5]
    assert 3 <= len(ticks) <= 10
    assert all(float(t).is_integer() for t in ticks)
    assert len(ax.texts) == 0  # no values written into 25,088 cells


def test_confusion_matrix_with_class_names():
    names = ["T-shirt/top", "Trouser", "Pullover"]
    fig = plot.plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], labels=[0, 1, 2],
                                     class_names=names)  # fmt: skip
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    with pytest.raises(ValueError, match=r"class_names has 3 names.*got label 7"):
        plot.plot_confusion_matrix([0, 7], [0, 7], class_names=names)


def test_wrong_predictions_name_the_true_class():
    fig = plot.plot_images(np.zeros((2, 4)), [1, 0], true=[1, 2], image_shape=(2, 2),
                           class_names=["T-shirt/top", "Trouser", "Pullover"])  # fmt: skip
    assert [ax.get_title() for ax in fig.axes] == [
        "pred: Trouser", "pred: T-shirt/top\ntrue: Pullover"]  # fmt: skip


# -------------------------------------------------------------------------- network
def _tiny_model(seed=0, sizes=(2, 3, 2), activation="tanh", output="sigmoid", loss="mse"):
    import nablanet as nn

    return nn.Sequential.from_sizes(list(sizes), activation=activation, output=output,
                                    loss=loss, seed=seed)  # fmt: skip


def _edges(fig):
    return {c.get_gid(): c for c in fig.axes[0].collections if (c.get_gid() or "")[:1] == "W"}


def _nodes(fig):
    return [c for c in fig.axes[0].collections if (c.get_gid() or "").startswith("units")]


def test_network_draws_every_unit_and_every_weight(tmp_path):
    model = _tiny_model()
    W1, W2 = model.layers[0].params["W"], model.layers[2].params["W"]
    fig = plot.plot_network(model, path=tmp_path / "net.png")
    assert_png(tmp_path / "net.png")
    assert [len(c.get_offsets()) for c in _nodes(fig)] == [2, 3, 2]
    edges = _edges(fig)
    assert sorted(edges) == ["W1", "W2"]
    assert len(edges["W1"].get_segments()) == 2 * 3
    assert len(edges["W2"].get_segments()) == 3 * 2
    # Edge (i, j) goes from unit i of the left layer to unit j of the right one, in order.
    for name, W in (("W1", W1), ("W2", W2)):
        collection = edges[name]
        colors = collection.get_colors()
        widths = collection.get_linewidths()
        for k, w in enumerate(W.ravel()):  # row-major: (i, j) -> k = i * n_out + j
            expected = POSITIVE if w > 0 else NEGATIVE
            np.testing.assert_allclose(colors[k][:3], to_rgb(expected))
        # widths grow with |w|: the order of the widths is the order of |w|
        assert np.array_equal(np.argsort(widths, kind="stable"),
                              np.argsort(np.abs(W.ravel()), kind="stable"))  # fmt: skip
    w_max = max(np.abs(W1).max(), np.abs(W2).max())
    widest = edges["W1"] if np.abs(W1).max() == w_max else edges["W2"]
    assert max(widest.get_linewidths()) == pytest.approx(5.0)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "input\n2" in texts and "hidden 1\n3 tanh" in texts and "output\n2 sigmoid" in texts
    assert {"x1", "x2"} <= set(texts)


def test_network_edge_colours_follow_the_signs_we_set():
    model = _tiny_model(sizes=(2, 2, 1))
    model.layers[0].params["W"][...] = [[1.0, -2.0], [0.5, -0.25]]
    model.layers[2].params["W"][...] = [[-3.0], [4.0]]
    fig = plot.plot_network(model, input_names=["a", "b"], output_names=["out"])
    edges = _edges(fig)
    red, blue = to_rgb(POSITIVE), to_rgb(NEGATIVE)
    assert [tuple(c[:3]) for c in edges["W1"].get_colors()] == [red, blue, red, blue]
    assert [tuple(c[:3]) for c in edges["W2"].get_colors()] == [blue, red]
    np.testing.assert_allclose(edges["W2"].get_linewidths(), [0.4 + 4.6 * 3 / 4, 5.0])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"a", "b", "out"} <= texts


def test_network_response_maps_are_each_units_activation():
    model = _tiny_model(sizes=(2, 3, 1), activation="tanh", output="sigmoid",
                        loss="binary_cross_entropy")  # fmt: skip
    X = np.array([[-1.0, -2.0], [3.0, 2.0]])
    fig = plot.plot_network(model, X, resolution=5)
    ax = fig.axes[0]
    maps = ax.child_axes
    assert len(maps) == 2 + 3 + 1  # one small image per unit
    W1 = model.layers[0].params["W"].astype(np.float64)
    b1 = model.layers[0].params["b"].astype(np.float64)
    # The plane spans the data's range and 12% more: x1 in [-1.48, 3.48], x2 in [-2.48, 2.48].
    g1, g2 = np.linspace(-1.48, 3.48, 5), np.linspace(-2.48, 2.48, 5)
    xx, yy = np.meshgrid(g1, g2)
    for j in range(3):
        image = maps[2 + j].images[0]
        expected = np.tanh(xx * W1[0, j] + yy * W1[1, j] + b1[j])  # row = x2, column = x1
        np.testing.assert_allclose(image.get_array(), expected, atol=1e-5)
        assert image.get_clim() == (-1.0, 1.0)
        assert image.origin == "lower"
    np.testing.assert_allclose(maps[0].images[0].get_array(), xx)  # input x1 over the plane
    assert maps[-1].images[0].get_clim() == (0.0, 1.0)  # the sigmoid output: P(class 1)
    assert "P(1)" in {t.get_text() for t in ax.texts}


def test_network_maps_for_relu_units_scale_by_their_largest_value():
    model = _tiny_model(sizes=(2, 2, 1), activation="relu", output="identity")
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    fig = plot.plot_network(model, X, resolution=4)
    image = fig.axes[0].child_axes[2].images[0]
    top = float(np.abs(image.get_array()).max())
    assert image.get_clim() == pytest.approx((-top, top))
    assert float(image.get_array().min()) >= 0.0  # ReLU: white (0) where the unit is off


def test_network_wide_layers_show_a_gap():
    model = _tiny_model(sizes=(30, 4, 3), activation="relu", output="softmax",
                        loss="categorical_cross_entropy")  # fmt: skip
    fig = plot.plot_network(model, max_units=8)
    assert [len(c.get_offsets()) for c in _nodes(fig)] == [8, 4, 3]
    assert len(_edges(fig)["W1"].get_segments()) == 8 * 4
    assert "22 more" in {t.get_text() for t in fig.axes[0].texts}
    assert "x30" in {t.get_text() for t in fig.axes[0].texts}  # the last unit is drawn


def test_network_maps_on_xor_with_a_constant_third_input():
    model = _tiny_model(sizes=(3, 4, 1), activation="sigmoid", output="sigmoid")
    X = np.array([[0.0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    fig = plot.plot_network(model, X, resolution=6)
    maps = fig.axes[0].child_axes
    np.testing.assert_array_equal(maps[2].images[0].get_array(), 1.0)  # x3, held at 1
    W, b = model.layers[0].params["W"].astype(float), model.layers[0].params["b"].astype(float)
    xx, yy = np.meshgrid(np.linspace(-0.12, 1.12, 6), np.linspace(-0.12, 1.12, 6))
    expected = sigmoid(xx * W[0, 0] + yy * W[1, 0] + 1.0 * W[2, 0] + b[0])
    np.testing.assert_allclose(maps[3].images[0].get_array(), expected, atol=1e-5)


def test_network_bad_input():
    model = _tiny_model()
    with pytest.raises(TypeError, match="built nablanet Sequential"):
        plot.plot_network(object())
    with pytest.raises(ValueError, match="X has 3 features but the model takes 2"):
        plot.plot_network(model, np.ones((4, 3)))
    with pytest.raises(ValueError, match="exactly 2 features"):
        plot.plot_network(_tiny_model(sizes=(3, 2, 1)), np.arange(12.0).reshape(4, 3) ** 2)
    with pytest.raises(ValueError, match="input_names must hold 2 names"):
        plot.plot_network(model, input_names=["a"])
    with pytest.raises(TypeError, match="output_names must be a list of 2 names, got 5"):
        plot.plot_network(model, output_names=5)
    with pytest.raises(ValueError, match="max_units"):
        plot.plot_network(model, max_units=1)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_network_of_a_fitted_estimator_names_its_classes():
    pytest.importorskip("sklearn")
    from nablanet.estimators import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0, "right", np.where(X[:, 1] > 0, "up", "down"))
    clf = MLPClassifier((3,), max_iter=5, random_state=0).fit(X, y)
    fig = plot.plot_network(clf, X, resolution=4)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"P(down)", "P(right)", "P(up)"} <= texts
    assert [len(c.get_offsets()) for c in _nodes(fig)] == [2, 3, 3]
