"""nablanet playground in headless Chromium: the controls past the first version.

Every expected number is computed here from the weights the engine reports (a forward and
backward pass written out in NumPy) or read from the engine itself (``/api/state`` reports
the optimizer's ``lr`` and the Dense layers' ``l2``), never from the page's code. Screenshots
go to ``$NABLANET_SCREENSHOTS`` when set (the docs' images in ``docs/_static/playground``
were made so: ``NABLANET_SCREENSHOTS=docs/_static/playground pytest
tests/test_playground_controls.py``), else to a temporary directory.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _browser import headless_chromium, playground_server
from nablanet.model import Sequential
from nablanet.playground.data import features as feature_columns
from nablanet.playground.session import grid_points

SURE = 0.7  # the plane's colour strength where the network is sure (app.js)
ORANGE, BLUE = (245, 147, 34), (8, 119, 189)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A playground server on a free port of 127.0.0.1, serving in a thread."""
    with playground_server() as address:
        yield address


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("NABLANET_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium via its chromedriver; Selenium Manager never downloads."""
    with headless_chromium("--window-size=1400,900", "--hide-scrollbars") as driver:
        yield driver


def api_state(url: str) -> Any:
    with urllib.request.urlopen(url + "api/state", timeout=60) as response:
        return json.loads(response.read())


class Page:
    """The playground page in ``browser``, with the waits every test needs."""

    def __init__(self, browser: Any, url: str, hash_: str = "") -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.b, self.By = browser, By
        self.wait = WebDriverWait(browser, 60)  # generous on a loaded machine; no time asserted
        browser.get("about:blank")
        browser.get(url + hash_)
        self.wait.until(lambda _: self.body("data-ready") == "true")
        self.idle()

    def body(self, attribute: str) -> str | None:
        return self.b.find_element(self.By.TAG_NAME, "body").get_attribute(attribute)

    def idle(self) -> None:
        self.wait.until(lambda _: self.body("data-busy") == "false")

    def el(self, element_id: str) -> Any:
        return self.b.find_element(self.By.ID, element_id)

    def set(self, element_id: str, value: str) -> None:
        """Type ``value`` into a field (a range slider: set it) and fire its change event."""
        self.b.execute_script(
            "const el = document.getElementById(arguments[0]); el.value = arguments[1];"
            "el.dispatchEvent(new Event('input', {bubbles: true}));"
            "el.dispatchEvent(new Event('change', {bubbles: true}));",
            element_id,
            value,
        )

    def check(self, element_id: str, on: bool) -> None:
        if self.el(element_id).is_selected() != on:
            self.el(element_id).click()

    def click(self, element_id: str) -> None:
        self.el(element_id).click()
        self.idle()

    def new(self, features: tuple[str, ...] = ("x1", "x2"), **fields: str) -> None:
        """Fill the form (``features``: the boxes to tick) and press New network."""
        from selenium.webdriver.support.ui import Select

        for box in self.b.find_elements(self.By.CSS_SELECTOR, "#features input"):
            if box.is_selected() != (box.get_attribute("value") in features):
                box.click()
        for key, value in fields.items():
            if key in ("dataset", "activation", "optimizer", "loss", "regularization"):
                Select(self.el(key)).select_by_value(value)
            else:
                self.set(key, value)
        self.click("new")
        assert self.el("message").text == ""

    def steps(self, n: int) -> None:
        """``n`` training steps: the Step button once, then the page's own update for the rest."""
        self.click("step")
        self.b.execute_script("return stepOnce(arguments[0])", n - 1)
        self.idle()

    def pixels(self, where: list[tuple[int, int]]) -> list[tuple[int, ...]]:
        """The canvas's RGB at each ``(x, y)``."""
        data = self.b.execute_script(
            "const ctx = document.getElementById('boundary').getContext('2d');"
            "return arguments[0].map(([x, y]) => Array.from(ctx.getImageData(x, y, 1, 1).data))",
            [list(p) for p in where],
        )
        return [tuple(int(c) for c in rgba[:3]) for rgba in data]


def forward(state: dict[str, Any], X: np.ndarray) -> list[np.ndarray]:
    """``a_0 .. a_K`` of the network of ``state`` (its hidden activation, a sigmoid output
    for classes, the identity for regression) on the features ``X``, by hand."""
    hidden = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
              "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[state["config"]["activation"]]  # fmt: skip
    out = [np.asarray(X, dtype=float)]
    for k, layer in enumerate(state["weights"]):
        z = out[-1] @ np.array(layer["W"]) + np.array(layer["b"])
        if k < len(state["weights"]) - 1:
            out.append(hidden(z))
        else:
            out.append(z if state["task"] == "regression" else 1 / (1 + np.exp(-z)))
    return out


def tint(rgb: tuple[int, int, int], strength: float) -> tuple[int, ...]:
    return tuple(round(255 + (c - 255) * strength) for c in rgb)


def swatches(page: Page) -> dict[str, tuple[int, ...]]:
    """The legend's entries: key -> the swatch's colour."""
    out = {}
    for item in page.b.find_elements(page.By.CSS_SELECTOR, "#legend .legend-item"):
        colour = item.find_element(page.By.CLASS_NAME, "swatch").value_of_css_property(
            "background-color"
        )
        out[item.get_attribute("data-key")] = tuple(
            int(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]
        )
    return out


def assert_canvas_shows(page: Page, state: dict[str, Any], colour_of: Any) -> int:
    """With "discretize output" on (no smoothing): at the centre of each grid cell far from
    the data points and the axis labels, the canvas shows ``colour_of(value)`` of the value
    the network (by hand) gives that cell's centre. Returns the number of cells checked."""
    size = int(page.el("boundary").get_attribute("width"))
    n = state["boundary"]["resolution"]
    cells = grid_points(tuple(state["extent"]), n)  # row by row from the top
    a = forward(state, feature_columns(cells, tuple(state["features"])))[-1][:, 0]
    x0, x1, _, y1 = state["extent"]  # a square: x1 - x0 == y1 - y0
    points = np.array(state["train"]["X"])
    pixel_of = (np.column_stack([points[:, 0] - x0, y1 - points[:, 1]]) / (x1 - x0)) * size
    ring = pixel_of[int(page.el("sample").get_attribute("value"))]  # the chosen sample's ring
    where, cells_used = [], []
    for index in range(0, n * n, 5):  # a spread of cells
        row, col = divmod(index, n)
        px, py = int((col + 0.5) * size / n), int((row + 0.5) * size / n)
        if py < 18 or py > size - 18 or np.min(np.hypot(*(pixel_of - [px, py]).T)) < 5:
            continue  # an axis label or a data point (radius 3, 1 px rim) is drawn there
        if np.hypot(*(ring - [px, py])) < 12:
            continue  # the ring of radius 8 around the chosen sample
        where.append((px, py))
        cells_used.append(index)
    for (px, py), index, shown in zip(where, cells_used, page.pixels(where), strict=True):
        assert shown == colour_of(a[index]), (px, py, a[index])
    return len(where)


def test_legend_and_discretized_output_match_the_engine(
    url: str, browser: Any, shots: Path
) -> None:
    page = Page(browser, url)
    page.new(dataset="gaussian", hidden="3", seed="1", lr="0.03", batch_size="10")
    page.steps(40)
    page.check("discretize", True)
    state = api_state(url)
    legend = swatches(page)
    assert legend == {"0": tint(ORANGE, SURE), "1": tint(BLUE, SURE)}
    texts = [e.text for e in browser.find_elements(page.By.CSS_SELECTOR, "#legend .legend-item")]
    assert texts == ["class 0", "class 1"]
    checked = assert_canvas_shows(page, state, lambda p: legend["1" if p > 0.5 else "0"])
    assert checked > 20
    # the histograms: W1's bars count the weights the engine reports
    W1 = np.array(state["weights"][0]["W"])
    bars = browser.find_elements(page.By.CSS_SELECTOR, "#hist-W-1 rect.bar")
    counts = [int(bar.get_attribute("data-count")) for bar in bars]
    assert counts == np.histogram(W1.ravel(), bins=len(counts))[0].tolist()
    # "show test data": a test point far from the training points is drawn in its class's
    # colour (its centre pixel), and the plane shows there again when it is off
    size = int(page.el("boundary").get_attribute("width"))
    x0, x1, _, y1 = state["extent"]

    def to_pixel(points: Any) -> np.ndarray:
        p = np.asarray(points, dtype=float)
        return np.column_stack([p[:, 0] - x0, y1 - p[:, 1]]) / (x1 - x0) * size

    train, test = to_pixel(state["train"]["X"]), to_pixel(state["test"]["X"])
    lonely = [i for i, q in enumerate(test) if np.min(np.hypot(*(train - q).T)) > 10
              and 20 < q[1] < size - 20 and np.hypot(*(train[0] - q)) > 14]  # fmt: skip
    assert lonely
    i = lonely[0]
    where = [(int(test[i][0]), int(test[i][1]))]
    colour = {0: ORANGE, 1: BLUE}[state["test"]["y"][i]]
    assert page.pixels(where) != [colour]
    page.check("show_test", True)
    assert page.pixels(where) == [colour]
    browser.save_screenshot(str(shots / "classification.png"))
    page.check("show_test", False)
    assert page.pixels(where) != [colour]

    # "regenerate": the seed + 1, new data, new weights
    page.click("regenerate")
    again = api_state(url)
    assert (
        again["config"]["seed"]
        == state["config"]["seed"] + 1
        == int(page.el("seed").get_attribute("value"))
    )
    assert again["train"]["X"] != state["train"]["X"] and again["step"] == 0

    # regression: the legend is a scale, the canvas the sign of the network's value
    page.new(dataset="plane", hidden="2", seed="2")
    page.steps(30)
    state = api_state(url)
    legend = swatches(page)
    assert legend == {"-1": tint(ORANGE, SURE), "0": (255, 255, 255), "1": tint(BLUE, SURE)}
    assert state["task"] == "regression" and page.el("stat-train-acc").text == "-"
    checked = assert_canvas_shows(page, state, lambda v: legend["1" if v >= 0 else "-1"])
    assert checked > 20
    page.check("discretize", False)


def test_live_lr_and_regularization_reach_the_engine(url: str, browser: Any) -> None:
    page = Page(browser, url)
    page.new(dataset="spiral", hidden="6,6", optimizer="sgd", lr="0.01", seed="3",
             regularization="none")  # fmt: skip
    assert api_state(url)["optimizer_lr"] == 0.01
    page.el("train").click()
    page.wait.until(lambda _: int(page.el("stat-step").text) > 0)
    page.set("lr", "0.25")  # while training
    page.wait.until(lambda _: page.el("stat-lr").text == "0.25")
    step = int(page.el("stat-step").text)
    page.wait.until(lambda _: int(page.el("stat-step").text) > step)  # and it goes on
    state = api_state(url)
    assert state["optimizer_lr"] == 0.25 and state["config"]["lr"] == 0.25
    page.set("reg_rate", "0.003")
    from selenium.webdriver.support.ui import Select

    Select(page.el("regularization")).select_by_value("l2")
    page.wait.until(lambda _: api_state(url)["l2"] == [0.003] * 3)
    Select(page.el("regularization")).select_by_value("l1")  # the engine's Dense(l1=)
    page.wait.until(
        lambda _: (api_state(url)["l1"], api_state(url)["l2"]) == ([0.003] * 3, [0.0] * 3)
    )
    Select(page.el("regularization")).select_by_value("l2")
    page.wait.until(lambda _: api_state(url)["l2"] == [0.003] * 3)
    # a setting that needs a new network is marked, and the engine keeps the old one
    Select(page.el("dataset")).select_by_value("xor")
    page.wait.until(lambda _: "Not applied yet: data set" in page.el("pending").text)
    label = page.el("dataset").find_element(page.By.XPATH, "..")
    assert "pending" in label.get_attribute("class")
    page.el("train").click()  # pause
    page.wait.until(lambda _: page.el("train").text == "Train")
    page.idle()
    assert api_state(url)["config"]["dataset"] == "spiral"
    page.click("new")
    assert page.el("pending").text == ""
    state = api_state(url)
    assert state["config"]["dataset"] == "xor" and state["l2"] == [0.003] * 3
    assert state["optimizer_lr"] == 0.25


def test_editing_a_weight_by_clicking_its_edge(url: str, browser: Any) -> None:
    page = Page(browser, url)
    page.new(dataset="circle", hidden="3", seed="4", regularization="none")
    edge = browser.find_element(
        page.By.CSS_SELECTOR, '#diagram line.edge[data-layer="2"][data-from="1"][data-to="0"]'
    )
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click'))", edge)
    assert page.el("weight-editor").is_displayed()
    before = api_state(url)["weights"][1]["W"][1][0]
    assert float(page.el("weight-value").get_attribute("value")) == before
    assert page.el("weight-name").text == "W2[1, 0]"
    page.el("weight-value").clear()
    page.el("weight-value").send_keys("-1.5")
    page.click("weight-set")
    state = api_state(url)
    assert state["weights"][1]["W"][1][0] == -1.5
    edge = browser.find_element(
        page.By.CSS_SELECTOR, '#diagram line.edge[data-layer="2"][data-from="1"][data-to="0"]'
    )
    assert edge.get_attribute("stroke") == "#f59322"  # negative: orange
    # the loss shown is the engine's at the edited weight
    X = feature_columns(np.array(state["train"]["X"]), tuple(state["features"]))
    p = forward(state, X)[-1][:, 0]
    y = np.array(state["train"]["y"])
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert state["history"]["train_loss"][-1] == pytest.approx(bce, rel=1e-9)
    assert float(page.el("stat-train-loss").text) == pytest.approx(bce, rel=1e-3)


def test_the_url_hash_restores_the_setting(url: str, browser: Any) -> None:
    page = Page(browser, url)
    page.set("noise", "20")
    page.set("ratio", "70")
    page.new(features=("x1", "x2", "x1*x2", "sin(x1)"), dataset="xor", hidden="5,2", activation="relu", seed="5", lr="0.1",
             regularization="l2", reg_rate="0.003", batch_size="8")  # fmt: skip
    page.check("discretize", True)
    page.check("show_test", True)
    shared = browser.current_url
    before = api_state(url)
    assert before["config"]["features"] == ["x1", "x2", "x1*x2", "sin(x1)"]
    assert len(before["train"]["y"]) == 350  # 70% of 500
    page.new(dataset="circle", hidden="2", seed="9")  # something else in between
    page.check("discretize", False)
    page.check("show_test", False)

    page = Page(browser, shared.split("#")[0], "#" + shared.split("#")[1])  # a fresh load
    after = api_state(url)
    assert after["config"] == before["config"]
    assert after["weights"] == before["weights"] and after["train"] == before["train"]
    assert page.el("hidden").get_attribute("value") == "5,2"
    assert page.el("noise-out").text == "20%" and page.el("ratio-out").text == "70%"
    assert page.el("feature-x1*x2").is_selected() and not page.el("feature-x2^2").is_selected()
    assert page.el("discretize").is_selected() and page.el("show_test").is_selected()
    assert page.el("pending").text == ""


def test_step_through_backprop_highlights_each_quantity(
    url: str, browser: Any, shots: Path
) -> None:
    page = Page(browser, url)
    page.set("noise", "0")
    page.set("ratio", "50")
    # seed 001's setting: sigmoid units, a sigmoid output and the squared error
    page.new(dataset="xor4", hidden="2", activation="sigmoid", loss="squared_error", seed="7",
             lr="0.5", regularization="none")  # fmt: skip
    page.steps(20)
    page.set("sample", "1")
    page.click("bp-start")
    state = api_state(url)
    x, y = np.array(state["train"]["X"][1], dtype=float), state["train"]["y"][1]
    # by hand: sigmoid hidden layer and output, L = (a2 - y)^2 for one sample (the mean over
    # n = 1 sample and m = 1 output), so dL/da2 = 2 (a2 - y) and delta2 = dL/da2 a2 (1 - a2)
    _, a1, a2 = forward(state, x[None, :])
    W2 = np.array(state["weights"][1]["W"])
    delta2 = 2 * (a2[0] - y) * a2[0] * (1 - a2[0])
    delta1 = (W2 @ delta2) * a1[0] * (1 - a1[0])
    W1, b1 = np.array(state["weights"][0]["W"]), np.array(state["weights"][0]["b"])
    expected = {(1, "z"): x @ W1 + b1, (1, "a"): a1[0], (2, "a"): a2[0],
                (2, "delta"): delta2, (2, "dW"): np.outer(a1[0], delta2), (1, "delta"): delta1,
                (1, "dW"): np.outer(x, delta1), (1, "db"): delta1}  # fmt: skip
    # the model's own equations and the tutorial numbers, as nablanet.explain gives them
    from nablanet.explain import explain

    model = Sequential.from_sizes([2, 2, 1], activation="sigmoid", output="sigmoid",
                                  loss="mse", dtype="float64",
                                  weights=[(w["W"], w["b"]) for w in state["weights"]])  # fmt: skip
    traced = explain(model, x, y, max_fd=1)
    seen = set()
    while True:
        title = page.el("bp-title")
        k, q = int(title.get_attribute("data-layer")), title.get_attribute("data-quantity")
        lit = {n.get_attribute("id") for n in browser.find_elements(
            page.By.CSS_SELECTOR, "#diagram .node.highlight")}  # fmt: skip
        if q == "L":
            assert lit == {"node-2-0"}
        else:
            assert lit == {f"node-{k}-{j}" for j in range(state["sizes"][k])}, (k, q)
            t = traced.layers[k - 1]
            assert page.el("bp-equation").text == t.equations[q]
            assert page.el("bp-ref").text == f"[{t.refs[q]}]"  # every one cites the seed
            assert t.refs[q].startswith("seed 001")
        if (k, q) in expected:
            shown = np.array(json.loads(page.el("bp-value").get_attribute("data-value")))
            np.testing.assert_allclose(shown, expected[k, q], rtol=1e-9, atol=1e-15)
            seen.add((k, q))
        if q == "delta" and k == 1:
            labels = browser.find_elements(page.By.CSS_SELECTOR, "#diagram text.bp-label")
            assert [float(t.text) for t in labels] == pytest.approx(delta1, rel=1e-3)
            page.b.save_screenshot(str(shots / "backprop.png"))
        if q == "dW":
            lit_edges = browser.find_elements(page.By.CSS_SELECTOR, "#diagram line.edge.highlight")
            assert {e.get_attribute("data-layer") for e in lit_edges} == {str(k)}
            assert len(lit_edges) == np.size(expected[k, "dW"])
        if page.el("bp-next").get_attribute("disabled"):
            break
        page.el("bp-next").click()
    assert seen == set(expected)
    assert page.el("bp-position").text == "step 13 of 13"  # 2 layers: 4 + 1 + 8 steps
    # training on: the open step (dL/db1) shows the numbers of the new weights
    page.steps(5)
    state = api_state(url)
    assert state["step"] == 25
    _, a1, a2 = forward(state, x[None, :])
    delta2 = 2 * (a2[0] - y) * a2[0] * (1 - a2[0])
    delta1 = (np.array(state["weights"][1]["W"]) @ delta2) * a1[0] * (1 - a1[0])
    shown = np.array(json.loads(page.el("bp-value").get_attribute("data-value")))
    np.testing.assert_allclose(shown, delta1, rtol=1e-9, atol=1e-15)
    assert page.el("bp-position").text == "step 13 of 13"
    page.click("bp-close")
    assert not browser.find_elements(page.By.CSS_SELECTOR, "#diagram .highlight")


def test_the_unit_panel_is_above_the_fold(url: str, browser: Any, shots: Path) -> None:
    page = Page(browser, url)
    page.set("noise", "10")
    page.set("ratio", "50")
    page.new(features=("x1", "x2", "x1^2", "x2^2"), dataset="spiral", hidden="6,4", seed="0",
             activation="tanh", optimizer="adam", lr="0.03", batch_size="10",
             regularization="none")  # fmt: skip
    page.steps(300)
    page.el("node-1-1").click()
    page.wait.until(lambda _: page.el("unit-title").text.startswith("Layer 1, unit 1"))
    top = browser.execute_script(
        "return document.getElementById('unit-table').getBoundingClientRect().top"
    )
    height = browser.execute_script("return window.innerHeight")
    assert top < height - 100  # the table's first rows show on a 1400 x 900 window
    browser.save_screenshot(str(shots / "unit.png"))
