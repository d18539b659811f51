"""nablanet playground: the JSON API over HTTP, and the page in a real headless Chromium.

Expected numbers are computed here, by hand in NumPy from the weights the API reports, never
by the code under test. The browser test drives Debian's /usr/bin/chromium through
/usr/bin/chromedriver (Selenium Manager is kept offline) and is skipped when either is absent.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from _browser import headless_chromium, playground_server
from nablanet.cli import main
from nablanet.playground import make_server
from nablanet.playground.config import MAX_BODY, MAX_STEPS
from nablanet.playground.session import grid_points, square_extent

XOR = {"dataset": "xor4", "hidden": [3], "activation": "tanh", "optimizer": "adam", "lr": 0.1,
       "batch_size": 4, "seed": 3}  # fmt: skip


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A playground server on a free port of 127.0.0.1, serving in a thread."""
    with playground_server() as address:
        yield address


def call(url: str, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    """``(status, decoded JSON)`` of one request; ``body`` is JSON-encoded unless bytes, and
    sent as ``Content-Type: application/json`` unless ``headers`` say otherwise."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- the network by hand: tanh hidden layers, a sigmoid output, binary cross-entropy ---------
def by_hand(weights: list[dict[str, Any]], x: np.ndarray, y: int) -> list[dict[str, np.ndarray]]:
    """z, a, dL/da, delta, dW and db of every layer for one sample, from the weights alone."""
    Ws = [np.array(layer["W"]) for layer in weights]
    bs = [np.array(layer["b"]) for layer in weights]
    a, layers = np.asarray(x, dtype=float), []
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = a @ W + b
        out = 1 / (1 + np.exp(-z)) if k == len(Ws) - 1 else np.tanh(z)
        layers.append({"a_prev": a, "z": z, "a": out})
        a = out
    for k in reversed(range(len(Ws))):
        t = layers[k]
        if k == len(Ws) - 1:  # BCE of one sample: dL/da = (a - y) / (a (1 - a)); delta = a - y
            t["dL_da"] = (t["a"] - y) / (t["a"] * (1 - t["a"]))
            t["delta"] = t["a"] - y
        else:
            t["dL_da"] = Ws[k + 1] @ layers[k + 1]["delta"]
            t["delta"] = t["dL_da"] * (1 - t["a"] ** 2)
        t["dW"] = np.outer(t["a_prev"], t["delta"])
        t["db"] = t["delta"]
    return layers


# -- HTTP API ----------------------------------------------------------------------------------
def test_options_offer_the_2d_data_sets(url: str) -> None:
    status, options = call(url, "GET", "/api/options")
    assert status == 200
    assert {"xor4", "circles", "moons", "blobs", "spiral"} <= set(options["datasets"])
    assert "digits" not in options["datasets"]
    assert options["max_steps"] == MAX_STEPS


def test_new_builds_the_network_asked_for(url: str) -> None:
    status, state = call(url, "POST", "/api/new", {**XOR, "hidden": [5, 2]})
    assert status == 200
    assert state["sizes"] == [2, 5, 2, 1]
    assert [np.shape(w["W"]) for w in state["weights"]] == [(2, 5), (5, 2), (2, 1)]
    assert state["config"]["hidden"] == [5, 2] and state["step"] == 0
    assert state["train"]["X"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert state["train"]["y"] == [0, 1, 1, 0]
    b = state["boundary"]
    assert len(b["label"]) == len(b["confidence"]) == b["resolution"] ** 2
    assert [len(m) for m in state["responses"]] == [2, 5, 2, 1]  # inputs first


def test_training_lowers_the_loss_and_learns_xor(url: str) -> None:
    call(url, "POST", "/api/new", XOR)
    status, state = call(url, "POST", "/api/step?n=300")
    assert status == 200 and state["step"] == 300
    assert "train" not in state  # the step answer leaves out the points
    loss = state["history"]["train_loss"]
    assert state["history"]["step"] == [0, 300]
    assert loss[1] < 0.5 * loss[0]
    assert state["train_accuracy"] == 1.0
    # the reported loss is the mean binary cross-entropy of the reported weights
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([0, 1, 1, 0])
    p = np.array([by_hand(state["weights"], x, t)[-1]["a"][0] for x, t in zip(X, y, strict=True)])
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert loss[1] == pytest.approx(bce, rel=1e-9)


def test_the_boundary_is_the_networks_prediction_on_the_grid(url: str) -> None:
    call(url, "POST", "/api/new", {**XOR, "dataset": "moons", "batch_size": 32})
    _, state = call(url, "POST", "/api/step?n=50")
    n = state["boundary"]["resolution"]
    grid = grid_points(tuple(state["extent"]), n)
    p = np.array([by_hand(state["weights"], g, 0)[-1]["a"][0] for g in grid])
    assert state["boundary"]["label"] == (p > 0.5).astype(int).tolist()
    np.testing.assert_allclose(state["boundary"]["confidence"], np.maximum(p, 1 - p), atol=6e-4)


def test_the_same_seed_replays_the_same_run(url: str) -> None:
    runs = []
    for seed in (7, 7, 8):
        call(url, "POST", "/api/new", {**XOR, "dataset": "circles", "seed": seed})
        runs.append(call(url, "POST", "/api/step?n=20")[1]["weights"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize(
    ("layer", "unit", "sample"), [(1, 0, 0), (1, 2, 3), (2, 0, 1)], ids=["hidden", "hidden2", "out"]
)
def test_unit_numbers_match_a_hand_computation(
    url: str, layer: int, unit: int, sample: int
) -> None:
    call(url, "POST", "/api/new", XOR)
    _, state = call(url, "POST", "/api/step?n=7")
    status, info = call(url, "GET", f"/api/unit?layer={layer}&unit={unit}&sample={sample}")
    assert status == 200
    _, full = call(url, "GET", "/api/state")
    x, y = full["train"]["X"][sample], full["train"]["y"][sample]
    t = by_hand(state["weights"], np.array(x), y)[layer - 1]
    q = info["quantities"]
    for name in ("z", "a", "dL_da", "delta", "db"):
        assert q[name]["value"] == pytest.approx(t[name][unit], rel=1e-9, abs=1e-15), name
    np.testing.assert_allclose(q["dW"]["value"], t["dW"][:, unit], rtol=1e-9, atol=1e-15)
    assert q["z"]["equation"].startswith(f"z{layer} = a{layer - 1} @ W{layer} + b{layer}")
    assert q["z"]["numbers"].endswith(f"= {t['z'][unit]:.4g}")
    assert q["delta"]["numbers"].startswith(f"delta{layer}[{unit}] = dL/da{layer}[{unit}]")
    assert all(q[name]["fd_error"] < 1e-5 for name in ("dL_da", "delta", "dW", "db"))


def test_a_softmax_output_unit_matches_a_hand_computation(url: str) -> None:
    call(url, "POST", "/api/new", {**XOR, "dataset": "blobs", "hidden": [2], "batch_size": 32})
    _, state = call(url, "POST", "/api/step?n=5")
    _, full = call(url, "GET", "/api/state")
    x, y = np.array(full["train"]["X"][7]), full["train"]["y"][7]
    (W1, b1), (W2, b2) = [(np.array(w["W"]), np.array(w["b"])) for w in state["weights"]]
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    a = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    delta = a - np.eye(3)[y]  # softmax with cross-entropy, one sample
    for j in range(3):
        _, info = call(url, "GET", f"/api/unit?layer=2&unit={j}&sample=7")
        q = info["quantities"]
        assert q["z"]["value"] == pytest.approx(z[j], rel=1e-9)
        assert q["a"]["value"] == pytest.approx(a[j], rel=1e-9)
        assert q["delta"]["value"] == pytest.approx(delta[j], rel=1e-8, abs=1e-12)
        np.testing.assert_allclose(q["dW"]["value"], h * delta[j], rtol=1e-8, atol=1e-12)
        assert q["a"]["numbers"].startswith(f"a2[{j}] = exp(z2[{j}]) / sum_m exp(z2[m])")


def test_the_loss_curve_is_thinned_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from nablanet.playground import Session, parse_config
    from nablanet.playground import session as session_module

    monkeypatch.setattr(session_module, "MAX_HISTORY", 6)
    session = Session(parse_config(XOR))
    for _ in range(20):
        session.step(1)
    steps = session.history["step"]
    assert len(steps) <= 6 and steps[0] == 0 and steps[-1] == 20
    assert steps == sorted(steps) and len(session.history["train_loss"]) == len(steps)


def test_an_input_unit_shows_the_feature(url: str) -> None:
    call(url, "POST", "/api/new", XOR)
    _, info = call(url, "GET", "/api/unit?layer=0&unit=1&sample=1")
    assert info["quantities"]["a"]["value"] == info["x"][1]
    assert info["quantities"]["a"]["numbers"] == f"a0[1] = x[1] = {info['x'][1]:.4g}"


def test_divergence_is_caught_and_the_weights_restored(url: str) -> None:
    bad = {"dataset": "blobs", "hidden": [16] * 6, "activation": "identity", "optimizer": "sgd",
           "lr": 10, "batch_size": 64, "seed": 0}  # fmt: skip
    _, before = call(url, "POST", "/api/new", bad)
    status, state = call(url, "POST", f"/api/step?n={MAX_STEPS}")
    assert status == 200
    assert state["diverged"].startswith("training diverged at step")
    assert state["weights"] == before["weights"] and state["step"] == 0
    status, answer = call(url, "POST", "/api/step?n=1")
    assert status == 409 and "start a new network" in answer["error"]


BAD_REQUESTS = [
    ("POST", "/api/new", {"dataset": "digits"}, 400, "unknown dataset 'digits'"),
    ("POST", "/api/new", {"hidden": [17]}, 400, "hidden layer size must be an integer from 1 to 16, got 17"),
    ("POST", "/api/new", {"hidden": [2] * 7}, 400, "at most 6 layer sizes"),
    ("POST", "/api/new", {"hidden": "4,4"}, 400, "got '4,4'"),
    ("POST", "/api/new", {"hidden": [2.5]}, 400, "got 2.5"),
    ("POST", "/api/new", {"lr": -1}, 400, "lr must be in (0.0, 10.0], got -1.0"),
    ("POST", "/api/new", {"lr": "fast"}, 400, "lr must be a number, got 'fast'"),
    ("POST", "/api/new", b'{"lr": NaN}', 400, "got nan"),
    ("POST", "/api/new", {"momentum": 1}, 400, "momentum must be in [0.0, 0.999], got 1.0"),
    ("POST", "/api/new", {"batch_size": 0}, 400, "batch_size must be an integer from 1"),
    ("POST", "/api/new", {"seed": -1}, 400, "seed must be an integer from 0 to 4294967295, got -1"),
    ("POST", "/api/new", {"activation": "step"}, 400, "unknown activation 'step'"),
    ("POST", "/api/new", {"optimizer": "lbfgs"}, 400, "unknown optimizer 'lbfgs'"),
    ("POST", "/api/new", {"epochs": 3}, 400, "unknown parameter 'epochs'"),
    ("POST", "/api/new", [1, 2], 400, "must be a JSON object, got [1, 2]"),
    ("POST", "/api/new", b"{not json", 400, "not valid JSON"),
    ("POST", "/api/new", b" " * (MAX_BODY + 1), 413, f"at most {MAX_BODY}"),
    ("POST", "/api/step?n=0", None, 400, "n must be an integer from 1 to 1000, got 0"),
    ("POST", f"/api/step?n={MAX_STEPS + 1}", None, 400, f"got {MAX_STEPS + 1}"),
    ("POST", "/api/step?n=ten", None, 400, "got 'ten'"),
    ("POST", "/api/step", None, 400, "missing query parameter 'n'"),
    ("POST", "/api/step?n=1&n=2", None, 400, "'n' given 2 times"),
    ("POST", "/api/step?n=1&steps=2", None, 400, "unknown query parameter 'steps'"),
    ("GET", "/api/unit?layer=9&unit=0&sample=0", None, 400, "layer must be from 0 to 2, got 9"),
    ("GET", "/api/unit?layer=1&unit=3&sample=0", None, 400, "unit must be from 0 to 2 in layer 1, got 3"),
    ("GET", "/api/unit?layer=1&unit=0&sample=4", None, 400, "sample must be from 0 to 3, got 4"),
    ("GET", "/api/unit?layer=1&unit=0", None, 400, "missing query parameter 'sample'"),
    ("GET", "/api/step", None, 405, "/api/step takes POST, not GET"),
    ("GET", "/api/nothing", None, 404, "no such page or endpoint '/api/nothing'"),
    ("GET", "/../../etc/passwd", None, 404, "no such page"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), BAD_REQUESTS)
def test_bad_requests_get_a_clear_json_error(
    url: str, method: str, path: str, body: Any, status: int, message: str
) -> None:
    _, before = call(url, "POST", "/api/new", XOR)
    got, answer = call(url, method, path, body)
    assert got == status
    assert message in answer["error"]
    _, after = call(url, "GET", "/api/state")  # nothing changed
    assert after["weights"] == before["weights"] and after["config"] == before["config"]


def test_a_foreign_host_header_is_refused(url: str) -> None:
    status, answer = call(url, "GET", "/api/state", Host="attacker.example:80")
    assert status == 403 and "attacker.example" in answer["error"]


def test_a_refused_request_leaves_the_connection_usable(url: str) -> None:
    """On one keep-alive connection: refused POSTs with bodies, then a normal request."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        body = json.dumps({"dataset": "xor"})
        for path, headers, status in [("/api/nothing", {}, 404),
                                      ("/api/new", {"Host": "elsewhere:1"}, 403),
                                      ("/api/step?n=0", {}, 400)]:  # fmt: skip
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
            )
            response = connection.getresponse()
            assert response.status == status and "error" in json.loads(response.read())
        connection.request("GET", "/api/options")
        response = connection.getresponse()
        assert response.status == 200 and "datasets" in json.loads(response.read())
    finally:
        connection.close()


def test_the_static_files_are_served() -> None:
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0
        for path, kind, text in [("/", "text/html", b'<script src="app.js">'),
                                 ("/app.js", "text/javascript", b"/api/step?n="),
                                 ("/style.css", "text/css", b"#diagram")]:  # fmt: skip
            with urllib.request.urlopen(server.url.rstrip("/") + path, timeout=30) as response:
                assert response.headers["Content-Type"].startswith(kind)
                assert text in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_square_extent_and_grid() -> None:
    X = np.array([[0.0, 0.0], [2.0, 1.0]])
    x0, x1, y0, y1 = square_extent(X, margin=0.5)  # side 2, widened by 1 on each edge
    assert (x0, x1, y0, y1) == (-1.0, 3.0, -1.5, 2.5)
    g = grid_points((0.0, 4.0, 0.0, 2.0), 2)  # rows from the top, left to right
    np.testing.assert_array_equal(g, [[1.0, 1.5], [3.0, 1.5], [1.0, 0.5], [3.0, 0.5]])


def test_cli_prints_the_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nablanet", "playground", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("nablanet playground: http://127.0.0.1:"), line
        address = line.split()[2]
        status, state = call(address, "GET", "/api/state")
        assert status == 200 and state["config"]["dataset"] == "circles"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("flag", [[], ["--open"]])
def test_cli_opens_a_browser_only_when_asked(
    flag: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import webbrowser

    from nablanet.playground.server import PlaygroundServer

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    monkeypatch.setattr(PlaygroundServer, "serve_forever", lambda self: None)  # return at once
    assert main(["playground", "--port", "0", *flag]) == 0
    url = capsys.readouterr().out.split()[2]
    assert url.startswith("http://127.0.0.1:")
    assert opened == ([url] if flag else [])


def test_cli_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", "--port", "70000"]) == 2
    assert "--port must be from 0 to 65535, got 70000" in capsys.readouterr().err


def test_cli_names_the_address_it_cannot_bind(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port)]) == 2
    assert f"cannot serve the playground at 127.0.0.1:{port}" in capsys.readouterr().err


# -- the page in headless Chromium -------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium via its chromedriver; Selenium Manager never downloads."""
    with headless_chromium("--window-size=1400,1400") as driver:
        yield driver


def _number(text: str) -> float:
    return float(text.strip())


def test_page_trains_and_opens_a_unit(url: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 60)  # generous on a loaded machine; no assertion on time
    by_id = browser.find_element

    def body(attribute: str) -> str | None:
        return browser.find_element(By.TAG_NAME, "body").get_attribute(attribute)

    def set_value(element_id: str, value: str) -> None:
        field = by_id(By.ID, element_id)
        field.clear()
        field.send_keys(value)

    browser.get(url)
    wait.until(lambda _: body("data-ready") == "true")
    # a bad value: the server's message shows on the page, and nothing else changes
    set_value("lr", "-1")
    by_id(By.ID, "new").click()
    wait.until(lambda _: "lr must be in" in by_id(By.ID, "message").text)
    assert "got -1.0" in by_id(By.ID, "message").text
    browser.save_screenshot("/tmp/playground_error.png")
    # XOR, one hidden layer of 3 tanh units
    Select(by_id(By.ID, "dataset")).select_by_value("xor4")
    for key, value in [("hidden", "3"), ("lr", "0.1"), ("batch_size", "4"), ("seed", "3")]:
        set_value(key, value)
    by_id(By.ID, "new").click()  # the request starts in the click handler: busy until drawn
    wait.until(lambda _: body("data-busy") == "false")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#diagram .node")) == 2 + 3 + 1
    assert by_id(By.ID, "stat-step").text == "0"
    assert by_id(By.ID, "message").text == ""
    first_loss = _number(by_id(By.ID, "stat-train-loss").text)
    by_id(By.ID, "train").click()
    wait.until(lambda _: _number(by_id(By.ID, "stat-train-loss").text) < 0.8 * first_loss)
    by_id(By.ID, "train").click()  # pause, and let the request in flight land
    wait.until(lambda _: by_id(By.ID, "train").text == "Train" and body("data-busy") == "false")
    _, state = call(url, "GET", "/api/state")
    assert int(by_id(By.ID, "stat-step").text) == state["step"] > 0
    history = state["history"]
    assert _number(by_id(By.ID, "stat-train-loss").text) == pytest.approx(
        history["train_loss"][-1], rel=1e-3
    )
    browser.save_screenshot("/tmp/playground_trained.png")

    # the loss curve: one vertex per recorded point, ending lower than it starts (SVG y is down)
    points = by_id(By.ID, "loss-train_loss").get_attribute("points").split()
    assert len(points) == len(history["step"]) >= 3
    assert float(points[-1].split(",")[1]) > float(points[0].split(",")[1])

    # the diagram: a node per unit, an edge per weight, coloured by its sign, widest = largest
    edges = browser.find_elements(By.CSS_SELECTOR, "#diagram line.edge")
    assert len(edges) == 2 * 3 + 3 * 1
    drawn = []  # (|w|, stroke width) per edge
    for edge in edges:
        k, i, j = (int(edge.get_attribute(a)) for a in ("data-layer", "data-from", "data-to"))
        w = state["weights"][k - 1]["W"][i][j]
        assert edge.get_attribute("stroke") == ("#0877bd" if w >= 0 else "#f59322")
        drawn.append((abs(w), float(edge.get_attribute("stroke-width"))))
    # The page writes widths rounded to 0.01 px, so two weights within ~0.1% of each other
    # (it happens at some steps, and where training pauses depends on the machine's load) can
    # share the widest width; "the first widest edge has the largest |w|" then depends on the
    # order of the edges. Rounding keeps the order, so this holds exactly: the largest |w| is
    # drawn widest, and a larger |w| is never drawn thinner.
    drawn.sort()
    widths = [width for _, width in drawn]  # in order of |w|
    assert widths[-1] == max(widths), drawn
    assert widths == sorted(widths), drawn

    # the boundary: where the network (computed here from the weights) is sure, the canvas
    # shows that class's colour (blue for class 1, orange for class 0)
    size = int(by_id(By.ID, "boundary").get_attribute("width"))
    x0, x1, y0, y1 = state["extent"]
    checked = {0: 0, 1: 0}
    for px in range(10, size - 10, 24):
        for py in range(20, size - 20, 24):
            plane = np.array(
                [x0 + (px + 0.5) / size * (x1 - x0), y1 - (py + 0.5) / size * (y1 - y0)]
            )
            if min(np.hypot(*(plane - p)) for p in state["train"]["X"]) < 0.1 * (x1 - x0):
                continue  # a data point is drawn there
            p = by_hand(state["weights"], plane, 0)[-1]["a"][0]
            if abs(p - 0.5) < 0.3:
                continue  # near the boundary the colour is pale and smoothed
            r, _, b = browser.execute_script(
                "return Array.from(document.getElementById('boundary').getContext('2d')"
                f".getImageData({px}, {py}, 1, 1).data)"
            )[:3]
            assert (b > r) == (p > 0.5), (px, py, p, r, b)
            checked[int(p > 0.5)] += 1
    assert checked[0] > 0 and checked[1] > 0, checked

    # choose sample 2, open hidden unit 1 of layer 1: its numbers equal the hand computation
    set_value("sample", "2")
    browser.execute_script("document.getElementById('sample').dispatchEvent(new Event('change'))")
    x, y = state["train"]["X"][2], state["train"]["y"][2]
    hand = by_hand(state["weights"], np.array(x), y)
    for layer, unit in [(1, 1), (2, 0)]:
        by_id(By.ID, f"node-{layer}-{unit}").click()
        wait.until(
            lambda _, k=layer, j=unit: (
                by_id(By.ID, "unit-title").text.startswith(f"Layer {k}, unit {j}")
                and "training sample 2" in by_id(By.ID, "unit-title").text
            )
        )
        t = hand[layer - 1]
        for name in ("z", "a", "dL_da", "delta", "dW", "db"):
            row = by_id(By.ID, f"q-{name}")
            cells = row.find_elements(By.TAG_NAME, "td")
            shown = json.loads(cells[1].get_attribute("data-value"))
            expected = t[name][:, unit] if name == "dW" else t[name][unit]
            np.testing.assert_allclose(shown, expected, rtol=1e-9, atol=1e-15, err_msg=name)
            printed = [float(v) for v in cells[1].text.split()]  # 6 significant digits
            np.testing.assert_allclose(printed, np.ravel(expected), rtol=1e-5, err_msg=name)
        cells = {name: by_id(By.ID, f"q-{name}").find_elements(By.TAG_NAME, "td")
                 for name in ("z", "delta", "dW")}  # fmt: skip
        assert cells["z"][2].text.startswith(f"z{layer} = a{layer - 1} @ W{layer} + b{layer}")
        assert cells["z"][3].text.endswith(f"= {t['z'][unit]:.4g}")
        assert f"dL/dW{layer} = a{layer - 1}.T @ delta{layer}" in cells["dW"][2].text
        assert cells["delta"][3].text.startswith(f"delta{layer}[{unit}] = ")
        browser.save_screenshot(f"/tmp/playground_unit_{layer}_{unit}.png")


def test_a_page_of_another_origin_cannot_drive_the_playground(url: str, browser: Any) -> None:
    """The CSRF the corpus found, sent by Chromium itself: a page at another port of
    127.0.0.1 posts a new session with ``mode: "no-cors"`` and ``text/plain`` (no preflight)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from selenium.webdriver.support.ui import WebDriverWait

    page = f"""<!doctype html><title>loading</title><script>
    const options = {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}}};
    Promise.all([
      fetch("{url}api/new", {{...options, body: '{{"dataset": "moons", "seed": 9}}'}}),
      fetch("{url}api/step?n=7", options),
    ]).then(() => {{ document.title = "sent"; }}, (e) => {{ document.title = "failed " + e; }});
    </script>""".encode()

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    _, before = call(url, "POST", "/api/new", XOR)
    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{other.server_address[1]}/")
        WebDriverWait(browser, 60).until(lambda b: b.title != "loading")
        assert browser.title == "sent"  # the requests left (their answers are opaque to the page)
    finally:
        other.shutdown()
        other.server_close()
    _, after = call(url, "GET", "/api/state")
    assert after["config"] == before["config"] and after["weights"] == before["weights"]
    assert after["history"] == before["history"]
