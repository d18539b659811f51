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
