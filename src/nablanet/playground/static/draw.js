// nablanet playground: drawing what the server answered (the plane, its legend, the network
// diagram, the loss curve, the histograms). Plain functions of the page's state (app.js), which
// loads after this file and calls them from render().
"use strict";

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

