// nablanet playground: plain JavaScript, no framework. The server trains the network with
// nablanet's engine; this page only sends what the learner chose and draws what comes back.
"use strict";

const CLASS_RGB = [[245, 147, 34], [8, 119, 189], [40, 160, 70], [150, 80, 190]];
const POS = "#0877bd";
const NEG = "#f59322";
const SVG_NS = "http://www.w3.org/2000/svg";

let state = null; // the last /api/state answer (with the data points)
let running = false;
let selected = null; // {layer, unit}
let maxSteps = 1000; // from /api/options

const $ = (id) => document.getElementById(id);

function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "n/a";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? Number(x.toPrecision(digits)).toString() : x.toExponential(digits - 1);
}

let pending = 0; // requests in flight (document.body.dataset.busy says so, for tests)

async function api(method, path, body) {
  pending += 1;
  document.body.dataset.busy = "true";
  try {
    return await request(method, path, body);
  } finally {
    pending -= 1;
    if (pending === 0) document.body.dataset.busy = "false";
  }
}

async function request(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || response.statusText);
  return payload;
}

function showMessage(text) { $("message").textContent = text || ""; }

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

// -- the form --------------------------------------------------------------------------------
function fillSelect(id, values, chosen) {
  const select = $(id);
  select.innerHTML = "";
  for (const v of values) {
    const option = document.createElement("option");
    option.value = v;
    option.textContent = v;
    if (v === chosen) option.selected = true;
    select.appendChild(option);
  }
}

function readConfig() {
  const text = $("hidden").value.trim();
  const hidden = text === "" ? [] : text.split(",").map((s) => Number(s.trim()));
  return {
    dataset: $("dataset").value,
    hidden,
    activation: $("activation").value,
    optimizer: $("optimizer").value,
    lr: Number($("lr").value),
    momentum: Number($("momentum").value),
    batch_size: Number($("batch_size").value),
    seed: Number($("seed").value),
  };
}

// -- drawing ---------------------------------------------------------------------------------
function toPixel(x, y, size) {
  const [x0, x1, y0, y1] = state.extent;
  return [((x - x0) / (x1 - x0)) * size, ((y1 - y) / (y1 - y0)) * size];
}

function tintedImage(n, colourOf) {
  // an n x n canvas; pixel i (row by row) is white mixed with colourOf(i) = [rgb, strength 0..1]
  const image = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [rgb, strength] = colourOf(i);
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 + (rgb[c] - 255) * strength);
    image.data[4 * i + 3] = 255;
  }
  const canvas = document.createElement("canvas");
  canvas.width = n;
  canvas.height = n;
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

function drawBoundary() {
  const canvas = $("boundary");
  const ctx = canvas.getContext("2d");
  const size = canvas.width;
  const b = state.boundary;
  const n = b.resolution;
  const floor = 1 / state.n_classes;
  const small = tintedImage(n, (i) => [
    CLASS_RGB[b.label[i] % CLASS_RGB.length],
    0.15 + 0.55 * Math.max(0, (b.confidence[i] - floor) / (1 - floor)),
  ]);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, size, size);
  for (const [part, rim] of [["train", "#fff"], ["test", "#222"]]) {
    const data = state[part];
    for (let i = 0; i < data.y.length; i++) {
      const [px, py] = toPixel(data.X[i][0], data.X[i][1], size);
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      const rgb = CLASS_RGB[data.y[i] % CLASS_RGB.length];
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = rim;
      ctx.stroke();
    }
  }
  const sample = Number($("sample").value);
  if (sample >= 0 && sample < state.train.y.length) {
    const [px, py] = toPixel(state.train.X[sample][0], state.train.X[sample][1], size);
    ctx.beginPath();
    ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = "#000";
    ctx.stroke();
  }
  // axis labels: the extent of the plane
  const [x0, x1, y0, y1] = state.extent;
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  ctx.fillText(`x1: ${fmt(x0, 3)} .. ${fmt(x1, 3)}`, 4, size - 5);
  ctx.fillText(`x2: ${fmt(y0, 3)} .. ${fmt(y1, 3)}`, 4, 13);
}

function responseImage(values, n) {
  // a unit's activation over the plane: blue above 0, orange below, white at 0
  let top = 1e-12;
  for (const v of values) top = Math.max(top, Math.abs(v ?? 0));
  return tintedImage(n, (i) => {
    const t = (values[i] ?? 0) / top;
    return [t >= 0 ? CLASS_RGB[1] : CLASS_RGB[0], Math.min(1, Math.abs(t))];
  }).toDataURL();
}

function drawDiagram() {
  const svg = $("diagram");
  svg.innerHTML = "";
  const width = Number(svg.getAttribute("width"));
  const sizes = state.sizes;
  const maxUnits = Math.max(...sizes);
  const box = Math.min(44, Math.floor(350 / maxUnits) - 4);
  const height = 50 + maxUnits * (box + 4);
  svg.setAttribute("height", height);
  const xOf = (k) => 40 + (k * (width - 80 - box)) / (sizes.length - 1);
  const yOf = (k, j) => 25 + (height - 25) / 2 + (j - (sizes[k] - 1) / 2) * (box + 4) - box / 2;
  let wmax = 1e-12;
  for (const layer of state.weights) for (const row of layer.W) for (const w of row) wmax = Math.max(wmax, Math.abs(w));
  const edges = svgEl("g", { class: "edges" }, svg);
  state.weights.forEach((layer, k) => {
    layer.W.forEach((row, i) => row.forEach((w, j) => {
      const line = svgEl("line", {
        x1: xOf(k) + box, y1: yOf(k, i) + box / 2, x2: xOf(k + 1), y2: yOf(k + 1, j) + box / 2,
        stroke: w >= 0 ? POS : NEG, "stroke-width": (0.3 + 5 * Math.abs(w) / wmax).toFixed(2),
        "stroke-opacity": 0.75, class: "edge", "data-layer": k + 1, "data-from": i, "data-to": j,
      }, edges);
      svgEl("title", {}, line).textContent = `W${k + 1}[${i}, ${j}] = ${fmt(w)}`;
    }));
  });
  const n = Math.round(Math.sqrt(state.responses.length ? state.responses[0][0].length : 1));
  sizes.forEach((units, k) => {
    for (let j = 0; j < units; j++) {
      const g = svgEl("g", { class: "node", id: `node-${k}-${j}`, "data-layer": k, "data-unit": j }, svg);
      if (selected && selected.layer === k && selected.unit === j) g.classList.add("selected");
      const x = xOf(k);
      const y = yOf(k, j);
      if (k === 0) {
        svgEl("rect", { x, y, width: box, height: box, fill: "#eee" }, g);
        svgEl("text", { x: x + 3, y: y + box / 2 + 4 }, g).textContent = `x${j + 1}`;
      } else {
        svgEl("image", {
          x, y, width: box, height: box, href: responseImage(state.responses[k - 1][j], n),
          preserveAspectRatio: "none", style: "image-rendering: pixelated",
        }, g);
      }
      svgEl("rect", { x, y, width: box, height: box, class: "frame" }, g);
      const title = k === 0 ? `input x${j + 1}` : `layer ${k}, unit ${j}: b = ${fmt(state.weights[k - 1].b[j])}`;
      svgEl("title", {}, g).textContent = title + " (click to open)";
      g.addEventListener("click", () => selectUnit(k, j));
    }
    const label = k === 0 ? "input" : k === sizes.length - 1 ? `output ${k}` : `layer ${k}`;
    const centre = { x: xOf(k) + box / 2, "text-anchor": "middle" };
    svgEl("text", { ...centre, y: 14 }, svg).textContent = label;
    svgEl("text", { ...centre, y: 28 }, svg).textContent = k === 0 ? "x" : state.activations[k - 1];
  });
}

function drawLoss() {
  const svg = $("loss");
  svg.innerHTML = "";
  const W = Number(svg.getAttribute("width"));
  const H = Number(svg.getAttribute("height"));
  const left = 42, right = 8, top = 8, bottom = 28;
  const h = state.history;
  const steps = h.step;
  const values = h.train_loss.concat(h.test_loss).filter((v) => v !== null);
  const ymax = Math.max(1e-9, ...values);
  const xmax = Math.max(1, steps[steps.length - 1]);
  const px = (s) => left + (s / xmax) * (W - left - right);
  const py = (v) => top + (1 - v / ymax) * (H - top - bottom);
  svgEl("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, stroke: "#555" }, svg);
  svgEl("line", { x1: left, y1: top, x2: left, y2: H - bottom, stroke: "#555" }, svg);
  for (const v of [0, ymax / 2, ymax]) {
    svgEl("text", { x: 2, y: py(v) + 4 }, svg).textContent = fmt(v, 3);
  }
  svgEl("text", { x: left, y: H - 14 }, svg).textContent = "0";
  svgEl("text", { x: W - right, y: H - 14, "text-anchor": "end" }, svg).textContent = `step ${xmax}`;
  svgEl("text", { x: (left + W - right) / 2, y: H - 2, "text-anchor": "middle" }, svg).textContent = "training steps";
  const series = [["train_loss", "#222", "", "training loss"], ["test_loss", "#d9730d", "4 3", "test loss"]];
  series.forEach(([key, colour, dash, name], s) => {
    const points = steps.map((st, i) => (h[key][i] === null ? null : `${px(st).toFixed(1)},${py(h[key][i]).toFixed(1)}`)).filter(Boolean);
    svgEl("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 1.8,
      "stroke-dasharray": dash, id: `loss-${key}` }, svg);
    svgEl("line", { x1: W - 120, y1: top + 6 + 14 * s, x2: W - 100, y2: top + 6 + 14 * s, stroke: colour,
      "stroke-width": 2, "stroke-dasharray": dash }, svg);
    svgEl("text", { x: W - 96, y: top + 10 + 14 * s }, svg).textContent = name;
  });
}

function drawStats() {
  const h = state.history;
  const last = h.step.length - 1;
  $("stat-step").textContent = state.step;
  $("stat-epoch").textContent = fmt(state.epoch, 3);
  $("stat-train-loss").textContent = fmt(h.train_loss[last]);
  $("stat-test-loss").textContent = fmt(h.test_loss[last]);
  $("stat-train-acc").textContent = fmt(state.train_accuracy, 3);
  $("stat-test-acc").textContent = fmt(state.test_accuracy, 3);
  if (state.diverged) showMessage(state.diverged);
}

function showConfig(config) {
  for (const key of ["dataset", "activation", "optimizer", "lr", "momentum", "batch_size", "seed"]) {
    $(key).value = config[key];
  }
  $("hidden").value = config.hidden.join(",");
}

function render(update) {
  if (update.train) {
    state = update;
    showConfig(state.config);
  } else state = Object.assign({}, update, { train: state.train, test: state.test });
  drawStats();
  drawDiagram();
  drawBoundary();
  drawLoss();
}

// -- one unit, opened up ---------------------------------------------------------------------
const QUANTITIES = [
  ["z", "z (weighted input)"], ["a", "a (activation)"], ["dL_da", "dL/da"],
  ["delta", "delta = dL/dz"], ["dW", "dL/dW (this unit's column)"], ["db", "dL/db"],
];

async function selectUnit(layer, unit) {
  selected = { layer, unit };
  document.querySelectorAll("#diagram .node").forEach((g) => g.classList.remove("selected"));
  const node = $(`node-${layer}-${unit}`);
  if (node) node.classList.add("selected");
  await showUnit();
}

async function showUnit() {
  if (!selected) return;
  const sample = Number($("sample").value);
  let info;
  try {
    info = await api("GET", `/api/unit?layer=${selected.layer}&unit=${selected.unit}&sample=${sample}`);
  } catch (err) {
    showMessage(err.message);
    return;
  }
  const where = info.layer === 0 ? `Input x${info.unit + 1}` : `Layer ${info.layer}, unit ${info.unit} (${info.activation})`;
  $("unit-title").textContent = `${where}, training sample ${info.sample}`;
  $("sample-info").textContent = `x = (${info.x.map((v) => fmt(v)).join(", ")}), class ${info.label}`;
  const body = $("unit-body");
  body.innerHTML = "";
  if (info.loss) {
    const p = document.createElement("p");
    p.textContent = `Loss of this sample: ${fmt(info.loss.value)}, from ${info.loss.equations[0]} (n = 1 sample)`;
    body.appendChild(p);
  }
  const table = document.createElement("table");
  table.id = "unit-table";
  table.innerHTML = "<tr><th>quantity</th><th>value</th><th>equation</th><th>with this sample's numbers</th>" +
    "<th>tutorial eq.</th><th>finite-difference check</th></tr>";
  for (const [key, name] of QUANTITIES) {
    const q = info.quantities[key];
    if (!q) continue;
    const row = table.insertRow();
    row.id = `q-${key}`;
    row.insertCell().textContent = name;
    const cell = row.insertCell();
    cell.className = "value";
    const values = Array.isArray(q.value) ? q.value : [q.value];
    cell.dataset.value = JSON.stringify(q.value);
    cell.textContent = values.map((v) => fmt(v, 6)).join("\n");
    cell.style.whiteSpace = "pre";
    const eq = row.insertCell();
    eq.innerHTML = "<code></code>";
    eq.firstChild.textContent = q.equation;
    const numbers = row.insertCell();
    numbers.innerHTML = "<code></code>";
    numbers.firstChild.textContent = q.numbers;
    row.insertCell().textContent = q.ref || "";
    row.insertCell().textContent = q.fd_error === undefined || q.fd_error === null ? "" : `rel. error ${fmt(q.fd_error, 2)}`;
  }
  body.appendChild(table);
}

// -- actions ---------------------------------------------------------------------------------
async function newNetwork(event) {
  if (event) event.preventDefault();
  stopTraining();
  try {
    render(await api("POST", "/api/new", readConfig()));
    showMessage("");
    selected = null;
    $("unit-title").textContent = "Click a unit in the network to open it up";
    $("unit-body").innerHTML = "";
    $("sample").max = state.train.y.length - 1;
    if (Number($("sample").value) >= state.train.y.length) $("sample").value = 0;
  } catch (err) {
    showMessage(err.message);
  }
}

async function stepOnce(n) {
  render(await api("POST", `/api/step?n=${n}`));
  if (selected) await showUnit();
}

function stopTraining() {
  running = false;
  $("train").textContent = "Train";
  $("train").classList.remove("running");
}

async function trainLoop() {
  while (running) {
    try {
      await stepOnce(Math.max(1, Math.min(maxSteps, Number($("speed").value) || 1)));
    } catch (err) {
      showMessage(err.message);
      stopTraining();
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
}

function toggleTraining() {
  if (running) { stopTraining(); return; }
  running = true;
  $("train").textContent = "Pause";
  $("train").classList.add("running");
  trainLoop();
}

function pickSample(event) {
  // the training point nearest to the click becomes the sample
  const canvas = $("boundary");
  const rect = canvas.getBoundingClientRect();
  const cx = ((event.clientX - rect.left) / rect.width) * canvas.width;
  const cy = ((event.clientY - rect.top) / rect.height) * canvas.height;
  let best = 0, bestDist = Infinity;
  state.train.X.forEach((x, i) => {
    const [px, py] = toPixel(x[0], x[1], canvas.width);
    const d = (px - cx) ** 2 + (py - cy) ** 2;
    if (d < bestDist) { best = i; bestDist = d; }
  });
  $("sample").value = best;
  drawBoundary();
  showUnit();
}

async function start() {
  const options = await api("GET", "/api/options");
  const d = options.defaults;
  fillSelect("dataset", options.datasets, d.dataset);
  fillSelect("activation", options.activations, d.activation);
  fillSelect("optimizer", options.optimizers, d.optimizer);
  maxSteps = options.max_steps;
  $("speed").max = maxSteps;
  $("config").addEventListener("submit", newNetwork);
  $("train").addEventListener("click", toggleTraining);
  $("step").addEventListener("click", () => stepOnce(1).catch((err) => showMessage(err.message)));
  $("boundary").addEventListener("click", pickSample);
  $("sample").addEventListener("change", () => { drawBoundary(); showUnit(); });
  render(await api("GET", "/api/state"));
  $("sample").max = state.train.y.length - 1;
  document.body.dataset.ready = "true";
}

start().catch((err) => showMessage(err.message));
