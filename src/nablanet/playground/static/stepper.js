// nablanet playground: "step through backprop". One training sample's forward and backward
// pass (GET /api/backprop, computed by nablanet.explain), one quantity at a time: the layer's
// units (or, for dL/dW, its edges) are highlighted in the diagram with their values, and the
// panel shows the equation and the tutorial equation numbers it cites.
"use strict";

let walk = null; // {steps, index, sample}

function stepNodes(step) {
  // the diagram layer a step lights up: the loss belongs to the output layer
  return step.phase === "loss" ? state.sizes.length - 1 : step.layer;
}

function showStepHighlight() {
  document.querySelectorAll("#diagram .highlight").forEach((el) => el.classList.remove("highlight"));
  document.querySelectorAll("#diagram .bp-label").forEach((el) => el.remove());
  if (!walk) return;
  const step = walk.steps[walk.index];
  const layer = stepNodes(step);
  const svg = $("diagram");
  const perUnit = ["z", "a", "dL_da", "delta", "db"].includes(step.quantity);
  for (let j = 0; j < state.sizes[layer]; j++) {
    const node = $(`node-${layer}-${j}`);
    if (!node) continue;
    node.classList.add("highlight");
    if (perUnit) {
      const frame = node.querySelector("rect.frame");
      const x = Number(frame.getAttribute("x")) + Number(frame.getAttribute("width")) + 2;
      const y = Number(frame.getAttribute("y")) + 10;
      const label = svgEl("text", { x, y, class: "bp-label", "data-unit": j }, svg);
      label.textContent = fmt(step.value[j]);
    }
  }
  if (step.quantity === "dW") {
    document.querySelectorAll(`#diagram line.edge[data-layer="${step.layer}"]`).forEach((edge) => {
      edge.classList.add("highlight");
      const i = Number(edge.dataset.from);
      const j = Number(edge.dataset.to);
      edge.querySelector("title").textContent += `; dL/dW = ${fmt(step.value[i][j])}`;
    });
  }
}

function showStep() {
  const step = walk.steps[walk.index];
  const where = step.phase === "loss" ? "the loss" : `${step.phase}, layer ${step.layer}`;
  $("bp-position").textContent = `step ${walk.index + 1} of ${walk.steps.length}`;
  $("bp-title").textContent = `${where}: ${step.title}`;
  $("bp-title").dataset.quantity = step.quantity;
  $("bp-title").dataset.layer = step.layer;
  $("bp-equation").textContent = step.equation;
  $("bp-ref").textContent = step.ref ? `[${step.ref}]` : "";
  const value = $("bp-value");
  value.dataset.value = JSON.stringify(step.value);
  const rows = Array.isArray(step.value) ? step.value : [step.value];
  value.textContent = rows.map((row) => (Array.isArray(row) ? row.map((v) => fmt(v, 6)).join("  ") : fmt(row, 6))).join("\n");
  $("bp-prev").disabled = walk.index === 0;
  $("bp-next").disabled = walk.index === walk.steps.length - 1;
  showStepHighlight();
}

async function startStepper() {
  stopTraining();
  const sample = Number($("sample").value);
  try {
    const answer = await api("GET", `/api/backprop?sample=${sample}`);
    walk = { steps: answer.steps, index: 0, sample };
  } catch (err) {
    showMessage(err.message);
    return;
  }
  $("stepper").hidden = false;
  showStep();
}

async function refreshStepper() {
  // the weights changed (training, an edited weight): the same step, with the new numbers
  if (!walk) return;
  try {
    const answer = await api("GET", `/api/backprop?sample=${walk.sample}`);
    walk.steps = answer.steps;
  } catch (err) {
    showMessage(err.message);
    return;
  }
  showStep();
}

function closeStepper() {
  walk = null;
  $("stepper").hidden = true;
  showStepHighlight();
}

function moveStep(by) {
  if (!walk) return;
  walk.index = Math.max(0, Math.min(walk.steps.length - 1, walk.index + by));
  showStep();
}

window.showStepHighlight = showStepHighlight;
window.closeStepper = closeStepper;
window.refreshStepper = refreshStepper;
$("bp-start").addEventListener("click", startStepper);
$("bp-next").addEventListener("click", () => moveStep(1));
$("bp-prev").addEventListener("click", () => moveStep(-1));
$("bp-close").addEventListener("click", closeStepper);
