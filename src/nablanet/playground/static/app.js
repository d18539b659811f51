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
let options = null; // the /api/options answer
let editing = null; // the edge being edited: {layer, from, to}

// settings that need "New network" (the rest, LIVE, go to the running engine at once)
const NEEDS_NEW = ["dataset", "hidden", "activation", "optimizer", "loss", "momentum", "seed", "features", "noise", "ratio"];
const LIVE = ["lr", "regularization", "reg_rate", "batch_size"];
const VIEW = ["show_test", "discretize"]; // how the page draws, not the network
const LABELS = {
  dataset: "data set", hidden: "hidden layers", activation: "activation", optimizer: "optimizer",
  loss: "loss", momentum: "momentum", seed: "seed", features: "features", noise: "noise", ratio: "training share",
};

const $ = (id) => document.getElementById(id);

function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "n/a";
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? Number(x.toPrecision(digits)).toString() : x.toExponential(digits - 1);
}

let pending = 0; // requests in flight (document.body.dataset.busy says so, for tests)

async function busy(work) {
  // run work() with the page marked busy (requests chained in it included)
  pending += 1;
  document.body.dataset.busy = "true";
  try {
    return await work();
  } finally {
    pending -= 1;
    if (pending === 0) document.body.dataset.busy = "false";
  }
}

function api(method, path, body) {
  return busy(() => request(method, path, body));
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

function fillFeatures(names, chosen) {
  const box = $("features");
  box.innerHTML = "";
  for (const name of names) {
    const label = document.createElement("label");
    label.className = "check";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = name;
    input.id = `feature-${name}`;
    input.dataset.apply = "new";
    input.checked = chosen.includes(name);
    label.append(input, ` ${name}`);
    box.appendChild(label);
  }
}

function readConfig() {
  const text = $("hidden").value.trim();
  const hidden = text === "" ? [] : text.split(",").map((s) => Number(s.trim()));
  const features = Array.from(document.querySelectorAll("#features input:checked")).map((el) => el.value);
  return {
    dataset: $("dataset").value,
    hidden,
    activation: $("activation").value,
    optimizer: $("optimizer").value,
    loss: $("loss").value,
    lr: Number($("lr").value),
    momentum: Number($("momentum").value),
    batch_size: Number($("batch_size").value),
    seed: Number($("seed").value),
    features,
    noise: Number($("noise").value) / 100,
    ratio: Number($("ratio").value) / 100,
    regularization: $("regularization").value,
    reg_rate: Number($("reg_rate").value),
  };
}

function sliderLabels() {
  $("ratio-out").textContent = `${$("ratio").value}%`;
  $("noise-out").textContent = `${$("noise").value}%`;
}

function markPending() {
  // the form's settings that differ from the running network's, until "New network"
  if (!state) return;
  const form = readConfig();
  const differs = NEEDS_NEW.filter((key) => JSON.stringify(form[key]) !== JSON.stringify(state.config[key]));
  document.querySelectorAll("#config [data-apply=new]").forEach((el) => {
    const key = el.id.startsWith("feature-") ? "features" : el.id;
    el.closest("label").classList.toggle("pending", differs.includes(key));
  });
  $("pending").textContent = differs.length
    ? `Not applied yet: ${differs.map((k) => LABELS[k]).join(", ")}. Press New network (training continues with the old ones).`
    : "";
  $("new").classList.toggle("pending", differs.length > 0);
}

// -- the URL hash: the whole setting, to share it ---------------------------------------------
function writeHash() {
  const c = state.config;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(c)) params.set(key, Array.isArray(value) ? value.join(",") : value);
  for (const key of VIEW) params.set(key, $(key).checked ? "1" : "0");
  history.replaceState(null, "", `#${params.toString()}`);
}

function readHash() {
  // the hash's settings into the form; true if there were any
  const params = new URLSearchParams(location.hash.slice(1));
  if (![...params.keys()].length) return false;
  for (const [key, value] of params) {
    if (VIEW.includes(key)) $(key).checked = value === "1";
    else if (key === "features") {
      const chosen = value.split(",");
      document.querySelectorAll("#features input").forEach((el) => { el.checked = chosen.includes(el.value); });
    } else if (key === "noise" || key === "ratio") $(key).value = Math.round(Number(value) * 100);
    else if ($(key)) $(key).value = value;
  }
  sliderLabels();
  return true;
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

// The plane's colours: a class's colour mixed with white, SURE of it where the network is sure
// (and everywhere with "discretize output"); a regression value v: blue above 0, orange below,
// |v| (at most 1) of SURE.
const SURE = 0.7;

function valueColour(v) {
  return [v >= 0 ? CLASS_RGB[1] : CLASS_RGB[0], Math.min(1, Math.abs(v ?? 0))];
}

function pointColour(y) {
  if (state.task === "regression") {
    const [rgb, t] = valueColour(y);
    return rgb.map((c) => Math.round(255 + (c - 255) * Math.max(0.25, t)));
  }
  return CLASS_RGB[y % CLASS_RGB.length];
}

function tint(rgb, strength) {
  return rgb.map((c) => Math.round(255 + (c - 255) * strength));
}

function planeColour(i) {
  const b = state.boundary;
  const discrete = $("discretize").checked;
  if (state.task === "regression") {
    const [rgb, t] = valueColour(b.value[i]);
    return [rgb, discrete ? SURE : SURE * t];
  }
  const floor = 1 / state.n_classes;
  const sure = Math.max(0, (b.confidence[i] - floor) / (1 - floor));
  return [CLASS_RGB[b.label[i] % CLASS_RGB.length], discrete ? SURE : 0.15 + (SURE - 0.15) * sure];
}

function drawBoundary() {
  const canvas = $("boundary");
  const ctx = canvas.getContext("2d");
  const size = canvas.width;
  const n = state.boundary.resolution;
  const small = tintedImage(n, planeColour);
  ctx.imageSmoothingEnabled = !$("discretize").checked;
  ctx.drawImage(small, 0, 0, size, size);
  const parts = $("show_test").checked ? [["train", "#fff"], ["test", "#222"]] : [["train", "#fff"]];
  for (const [part, rim] of parts) {
    const data = state[part];
    for (let i = 0; i < data.y.length; i++) {
      const [px, py] = toPixel(data.X[i][0], data.X[i][1], size);
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      const rgb = pointColour(data.y[i]);
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

function drawLegend() {
  const legend = $("legend");
  legend.innerHTML = "";
  const entry = (key, rgb, text) => {
    const item = document.createElement("span");
    item.className = "legend-item";
    item.dataset.key = key;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = `rgb(${rgb.join(",")})`;
    item.append(swatch, text);
    legend.appendChild(item);
  };
  if (state.task === "regression") {
    entry("-1", tint(CLASS_RGB[0], SURE), " -1");
    entry("0", [255, 255, 255], " 0");
    entry("1", tint(CLASS_RGB[1], SURE), " +1 (predicted value; points: their target)");
  } else {
    for (let c = 0; c < state.n_classes; c++) {
      entry(String(c), tint(CLASS_RGB[c % CLASS_RGB.length], SURE), ` class ${c}`);
    }
    const note = document.createElement("span");
    note.className = "legend-note";
    note.textContent = $("discretize").checked ? "(the predicted class)" : "(paler where less sure; points: their class)";
    legend.appendChild(note);
  }
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
  const box = Math.min(36, Math.floor(260 / maxUnits) - 4);
  const height = 40 + maxUnits * (box + 4);
  svg.setAttribute("height", height);
  const xOf = (k) => 60 + (k * (width - 90 - box)) / (sizes.length - 1);
  const yOf = (k, j) => 32 + (height - 32) / 2 + (j - (sizes[k] - 1) / 2) * (box + 4) - box / 2;
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
      svgEl("title", {}, line).textContent = `W${k + 1}[${i}, ${j}] = ${fmt(w)} (click to edit)`;
      line.addEventListener("click", () => editWeight(k + 1, i, j));
    }));
  });
  const n = Math.round(Math.sqrt(state.responses.length ? state.responses[0][0].length : 1));
  sizes.forEach((units, k) => {
    for (let j = 0; j < units; j++) {
      const g = svgEl("g", { class: "node", id: `node-${k}-${j}`, "data-layer": k, "data-unit": j }, svg);
      if (selected && selected.layer === k && selected.unit === j) g.classList.add("selected");
      const x = xOf(k);
      const y = yOf(k, j);
      svgEl("image", {
        x, y, width: box, height: box, href: responseImage(state.responses[k][j], n),
        preserveAspectRatio: "none", style: "image-rendering: pixelated",
      }, g);
      if (k === 0) svgEl("text", { x: x - 4, y: y + box / 2 + 4, "text-anchor": "end" }, g).textContent = state.features[j];
      svgEl("rect", { x, y, width: box, height: box, class: "frame" }, g);
      const title = k === 0 ? `input ${state.features[j]}` : `layer ${k}, unit ${j}: b = ${fmt(state.weights[k - 1].b[j])}`;
      svgEl("title", {}, g).textContent = title + " (click to open)";
      g.addEventListener("click", () => selectUnit(k, j));
    }
    const label = k === 0 ? "input" : k === sizes.length - 1 ? `output ${k}` : `layer ${k}`;
    const centre = { x: xOf(k) + box / 2, "text-anchor": "middle" };
    svgEl("text", { ...centre, y: 14 }, svg).textContent = label;
    svgEl("text", { ...centre, y: 26 }, svg).textContent = k === 0 ? "features" : state.activations[k - 1];
  });
  if (window.showStepHighlight) window.showStepHighlight();
}

function drawLoss() {
  const svg = $("loss-curve");
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

function histogram(svg, hist, colour) {
  const W = Number(svg.getAttribute("width"));
  const H = Number(svg.getAttribute("height"));
  const top = Math.max(1, ...hist.counts);
  const bar = (W - 4) / hist.counts.length;
  hist.counts.forEach((count, i) => {
    const h = ((H - 14) * count) / top;
    svgEl("rect", { x: 2 + i * bar, y: H - 12 - h, width: Math.max(1, bar - 1), height: h, fill: colour,
      class: "bar", "data-count": count }, svg);
  });
  const [lo, hi] = [hist.edges[0], hist.edges[hist.edges.length - 1]];
  svgEl("text", { x: 2, y: H - 1 }, svg).textContent = fmt(lo, 2);
  svgEl("text", { x: W - 2, y: H - 1, "text-anchor": "end" }, svg).textContent = fmt(hi, 2);
}

function drawHistograms() {
  const box = $("histograms");
  box.innerHTML = "";
  state.histograms.forEach((layer, k) => {
    const row = document.createElement("div");
    row.className = "hist-row";
    row.textContent = `${k + 1}`;
    row.title = `layer ${k + 1}: W (blue), dL/dW (grey)`;
    for (const [key, colour] of [["W", POS], ["dW", "#555"]]) {
      const svg = svgEl("svg", { width: 118, height: 44, id: `hist-${key}-${k + 1}`, class: "hist" }, row);
      svgEl("title", {}, svg).textContent = `${key === "W" ? "W" : "dL/dW"}${k + 1}: ${layer[key].counts.reduce((a, b) => a + b, 0)} values`;
      histogram(svg, layer[key], colour);
    }
    box.appendChild(row);
  });
}

function drawStats() {
  const h = state.history;
  const last = h.step.length - 1;
  $("stat-step").textContent = state.step;
  $("stat-epoch").textContent = fmt(state.epoch, 3);
  $("stat-train-loss").textContent = fmt(h.train_loss[last]);
  $("stat-test-loss").textContent = fmt(h.test_loss[last]);
  $("stat-train-acc").textContent = state.train_accuracy === null ? "-" : fmt(state.train_accuracy, 3);
  $("stat-test-acc").textContent = state.test_accuracy === null ? "-" : fmt(state.test_accuracy, 3);
  $("stat-lr").textContent = fmt(state.optimizer_lr);
  if (state.diverged) showMessage(state.diverged);
}

function showConfig(config) {
  for (const key of ["dataset", "activation", "optimizer", "loss", "lr", "momentum", "batch_size", "seed",
    "regularization", "reg_rate"]) {
    $(key).value = config[key];
  }
  $("hidden").value = config.hidden.join(",");
  $("noise").value = Math.round(config.noise * 100);
  $("ratio").value = Math.round(config.ratio * 100);
  document.querySelectorAll("#features input").forEach((el) => { el.checked = config.features.includes(el.value); });
  sliderLabels();
}

function render(update) {
  if (update.train) {
    state = update;
    showConfig(state.config);
  } else state = Object.assign({}, update, { train: state.train, test: state.test });
  drawStats();
  drawDiagram();
  drawBoundary();
  drawLegend();
  drawLoss();
  drawHistograms();
  markPending();
  writeHash();
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
  const where = info.layer === 0 ? `Input ${state.features[info.unit]}` : `Layer ${info.layer}, unit ${info.unit} (${info.activation})`;
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
    if (window.closeStepper) window.closeStepper();
  } catch (err) {
    showMessage(err.message);
  }
}

async function applyLive() {
  // the live settings of the form into the running engine (POST /api/settings)
  const form = readConfig();
  const body = {};
  for (const key of LIVE) body[key] = form[key];
  try {
    render(await api("POST", "/api/settings", body));
    showMessage("");
  } catch (err) {
    showMessage(err.message);
  }
}

function editWeight(layer, from, to) {
  editing = { layer, from, to };
  $("weight-name").textContent = `W${layer}[${from}, ${to}]`;
  $("weight-value").value = state.weights[layer - 1].W[from][to];
  $("weight-editor").hidden = false;
  $("weight-value").focus();
}

async function setWeight(event) {
  event.preventDefault();
  if (!editing) return;
  await busy(() => sendWeight());
}

async function sendWeight() {
  try {
    render(await api("POST", "/api/weight", { ...editing, value: Number($("weight-value").value) }));
    showMessage("");
    $("weight-editor").hidden = true;
    editing = null;
    if (selected) await showUnit();
    if (window.refreshStepper) await window.refreshStepper();
  } catch (err) {
    showMessage(err.message);
  }
}

async function regenerate() {
  $("seed").value = Number($("seed").value) + 1;
  await newNetwork();
}

function stepOnce(n) {
  return busy(async () => {
    render(await api("POST", `/api/step?n=${n}`));
    if (selected) await showUnit();
    if (window.refreshStepper) await window.refreshStepper();
  });
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
  options = await api("GET", "/api/options");
  const d = options.defaults;
  fillSelect("dataset", options.datasets, d.dataset);
  fillSelect("activation", options.activations, d.activation);
  fillSelect("optimizer", options.optimizers, d.optimizer);
  fillSelect("regularization", options.regularizations, d.regularization);
  fillSelect("loss", options.losses, d.loss);
  fillFeatures(options.features, d.features);
  maxSteps = options.max_steps;
  $("speed").max = maxSteps;
  $("config").addEventListener("submit", newNetwork);
  $("train").addEventListener("click", toggleTraining);
  $("step").addEventListener("click", () => stepOnce(1).catch((err) => showMessage(err.message)));
  $("boundary").addEventListener("click", pickSample);
  $("sample").addEventListener("change", () => { drawBoundary(); showUnit(); });
  $("regenerate").addEventListener("click", regenerate);
  $("weight-editor").addEventListener("submit", setWeight);
  $("weight-cancel").addEventListener("click", () => { $("weight-editor").hidden = true; editing = null; });
  for (const key of LIVE) $(key).addEventListener("change", applyLive);
  $("config").addEventListener("input", () => { sliderLabels(); markPending(); });
  $("config").addEventListener("change", markPending);
  for (const key of VIEW) $(key).addEventListener("change", () => { drawBoundary(); drawLegend(); writeHash(); });
  if (readHash()) await newNetwork();
  else render(await api("GET", "/api/state"));
  $("sample").max = state.train.y.length - 1;
  document.body.dataset.ready = "true";
}

start().catch((err) => showMessage(err.message));
