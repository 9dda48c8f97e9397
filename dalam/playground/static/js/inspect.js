// "Look inside one step": one training point through the forward pass, the
// loss, the backward pass (autograd's gradients, with the chain rule written
// out for one weight) and the optimiser's update.
import { fmt } from "./pictures.js";

const ACT = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", gelu: "GELU", linear: "identity" };

export class Inspector {
  constructor(network, output) {
    this.net = network;
    this.out = output;
    this.r = null;
    this.stage = "forward";
    this.body = document.getElementById("inspect-body");
    for (const b of document.querySelectorAll(".stage")) {
      b.addEventListener("click", () => this.show(b.dataset.stage));
    }
  }

  clear() {
    this.r = null;
    this.body.replaceChildren();
    document.getElementById("inspect-what").textContent = "";
    this.net.inspectGrads = null;
    document.getElementById("edge-note").hidden = true;
    this.net.clearValues();
    for (const b of document.querySelectorAll(".stage")) b.classList.remove("on");
  }

  set(result, cfg) {
    this.r = result;
    this.cfg = cfg;
    const c = result.chain;
    this.net.select([c.layer, c.to, c.from]);
    const where = result.x ? ` at (${result.x.map((v) => v.toFixed(2)).join(", ")})` : "";
    document.getElementById("inspect-what").textContent =
      `training point #${result.point}${where}, label ${result.label}; weight W${c.layer}[${c.to}, ${c.from}]`;
    this.show(this.stage);
  }

  show(stage) {
    this.stage = stage;
    for (const b of document.querySelectorAll(".stage")) b.classList.toggle("on", b.dataset.stage === stage);
    if (!this.r) return;
    this.net.inspectGrads = stage === "backward" ? this.r.backward.grads : null;
    document.getElementById("edge-note").hidden = stage !== "backward";
    this[stage]();
    this.net.drawEdges();
  }

  hotPath() {
    const c = this.r.chain;
    return [[c.layer, c.from], [c.layer + 1, c.to]];
  }

  forward() {
    const f = this.r.forward, digits = this.cfg.dataset === "digits";
    const outVals = digits ? f.z[f.z.length - 1] : [f.probability];
    this.net.showValues([f.inputs, ...f.a, outVals], this.hotPath());
    const rows = [];
    f.a.forEach((a, l) => a.forEach((v, j) => rows.push([`hidden ${l + 1}, neuron ${j}`, f.z[l][j], v])));
    const zo = f.z[f.z.length - 1];
    zo.forEach((v, j) => rows.push([digits ? `output ${j}` : "output", v, digits ? null : f.probability]));
    this.body.replaceChildren(
      para(`Each neuron computes z = W·a + b from the layer below, then a = ${ACT[this.cfg.activation]}(z). ` +
        (digits ? "The output layer's z are the 10 logits (softmax turns them into probabilities)." :
          "The output neuron's z is a logit; sigmoid(z) is the probability of class 1 (blue).") +
        (this.cfg.dropout > 0 ? " Dropout is off here, as in evaluation, so the pass is repeatable." : "")),
      wrap(table(["neuron", "z = W·a + b", digits ? "a" : "a (output: sigmoid(z))"], rows)));
  }

  loss() {
    const f = this.r.forward, L = this.r.loss, y = this.r.label;
    this.net.showValues([f.inputs, ...f.a, this.cfg.dataset === "digits" ? f.z[f.z.length - 1] : [f.probability]], this.hotPath());
    const parts = [];
    if (this.cfg.dataset === "digits") {
      parts.push(eq(`loss = −log softmax(z)[${y}] = ${fmt(L.data, 6)}`));
    } else {
      parts.push(eq(`p = sigmoid(z) = ${fmt(f.probability, 6)},   y = ${y}`));
      parts.push(eq(`loss = −[y·log p + (1 − y)·log(1 − p)] = ${fmt(L.data, 6)}`));
    }
    if (L.penalty) parts.push(eq(`+ ${this.cfg.regularization.toUpperCase()} penalty ${fmt(L.penalty, 6)}  →  total ${fmt(L.total, 6)}`));
    const what = this.cfg.dataset === "digits" ? "cross-entropy on the 10 logits, as nn.CrossEntropyLoss"
      : "binary cross-entropy on the logit, as nn.BCEWithLogitsLoss";
    this.body.replaceChildren(para(`How wrong the network is on this one point (${what}):`), ...parts);
  }

  backward() {
    const b = this.r.backward, c = this.r.chain;
    this.net.showValues([null, ...b.dL_dz], this.hotPath());
    const aName = c.layer > 0 ? `a(hidden ${c.layer}, neuron ${c.from})`
      : this.cfg.dataset === "digits" ? `pixel ${c.from}` : `input ${this.cfg.features[c.from]}`;
    const zName = c.layer === this.r.forward.z.length - 1 ? "z(output" + (this.cfg.dataset === "digits" ? ` ${c.to})` : ")") : `z(hidden ${c.layer + 1}, neuron ${c.to})`;
    const items = [
      para("loss.backward() sends the gradient from the loss back through every layer; the numbers next to the " +
        "neurons are ∂L/∂z, and the edges now show this point's ∂L/∂w. For the chosen weight (magenta), the chain rule:"),
    ];
    const lines = [
      `∂L/∂w  = ∂L/∂${zName} × ${aName}` + (c.reg_term ? ` + ${this.cfg.regularization.toUpperCase()} term` : "") + "\n",
      `        = ${fmt(c.dL_dz, 6)} × ${fmt(c.a_from, 6)}` + (c.reg_term ? ` + ${fmt(c.reg_term, 6)}` : "") + " = ",
      span(fmt(c.product + c.reg_term, 6), "chain-product", c.product + c.reg_term), "\n",
    ];
    if (c.output_rule) lines.push(`where ∂L/∂z at the output = ${c.output_rule}`);
    if (c.dL_da !== undefined) {
      lines.push(`where  ∂L/∂z = ∂L/∂a × ${ACT[this.cfg.activation]}'(z) = ${fmt(c.dL_da, 6)} × ${fmt(c.act_derivative, 6)} = ${fmt(c.dL_da * c.act_derivative, 6)}`);
    }
    items.push(eq(...lines));
    const match = Math.abs(c.autograd_grad - (c.product + c.reg_term)) <= 1e-5 * Math.max(1, Math.abs(c.autograd_grad));
    items.push(para("dalam's autograd says  ", span(`W${c.layer}.grad[${c.to}, ${c.from}] = ${fmt(c.autograd_grad, 6)}`, "chain-autograd", c.autograd_grad),
      match ? span("  ✓ the same", "", null, "ok") : span("  ✗ different", "", null)));
    this.body.replaceChildren(...items);
  }

  update() {
    const u = this.r.update;
    this.net.clearValues();
    this.body.replaceChildren(
      para(`The optimiser (${u.optimizer}, learning rate ${u.lr}) moves the weight against its gradient:`),
      eq(u.formula),
      eq(`w: ${fmt(u.old, 6)}  →  ${fmt(u.new, 6)}   (change ${fmt(u.delta, 4)})`),
      para("Shown on a copy of the model: training itself is not changed by looking inside."));
  }
}

function para(...children) { const p = document.createElement("p"); p.append(...children); return p; }
function eq(...children) { const s = document.createElement("span"); s.className = "eq"; s.append(...children); return s; }
function span(text, id, value, cls) {
  const s = document.createElement("span");
  s.textContent = text;
  if (id) s.id = id;
  if (value !== null && value !== undefined) s.dataset.value = String(value);
  if (cls) s.className = cls;
  return s;
}
function wrap(el) { const d = document.createElement("div"); d.className = "table-wrap"; d.append(el); return d; }
function table(head, rows) {
  const t = document.createElement("table");
  const tr = document.createElement("tr");
  for (const h of head) { const th = document.createElement("th"); th.textContent = h; tr.append(th); }
  t.append(tr);
  for (const r of rows) {
    const row = document.createElement("tr");
    for (const [i, v] of r.entries()) { const td = document.createElement("td"); td.textContent = i === 0 ? v : fmt(v, 4); row.append(td); }
    t.append(row);
  }
  return t;
}
