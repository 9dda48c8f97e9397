// The network column: input features, hidden neurons (each with its own
// picture of what it computes over the plane), the output, and every weight
// as an edge whose width and colour show its value or its gradient.
import { decode, signedPicture, blit, fmt } from "./pictures.js";

const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)"];
const FEATURE_LABEL = { "x1": "X₁", "x2": "X₂", "x1^2": "X₁²", "x2^2": "X₂²", "x1x2": "X₁X₂", "sin(x1)": "sin(X₁)", "sin(x2)": "sin(X₂)" };
const SVGNS = "http://www.w3.org/2000/svg";

export class Network {
  constructor(handlers) {
    this.el = document.getElementById("net");
    this.h = handlers;            // {toggleFeature, setHidden, pickWeight}
    this.cfg = null;
    this.frame = null;
    this.mode = "weights";
    this.selected = null;         // [layer, to, from]
    this.featurePictures = null;
    this.inspectGrads = null;     // gradients of one point while the inspector shows "backward"
    document.getElementById("edge-mode").addEventListener("change", (e) => { this.mode = e.target.value; this.drawEdges(); });
    this.overlay = null;          // the inspector's values on the neurons, kept across rebuilds
    this.builtWidth = 0;
    window.addEventListener("resize", () => {
      if (this.cfg && this.el.clientWidth !== this.builtWidth) this.build(this.cfg);
    });
  }

  digits() { return this.cfg.dataset === "digits"; }

  // widths of all layers: inputs, hidden..., outputs
  widths() {
    const n_in = this.digits() ? 1 : this.cfg.features.length;
    return [n_in, ...this.cfg.hidden, this.digits() ? 10 : 1];
  }

  build(cfg) {
    if (this.cfg && JSON.stringify(cfg) !== JSON.stringify(this.cfg)) {   // a new model
      this.frame = null;
      this.selected = null;
    }
    this.cfg = cfg;
    this.el.replaceChildren();
    const widest = Math.max(this.digits() ? 10 : FEATURES.length, ...cfg.hidden);
    this.el.style.height = `${Math.max(430, 60 + widest * 34)}px`;     // room for 16 readable neurons
    const W = this.el.clientWidth || 600, H = this.el.clientHeight || 430;
    this.builtWidth = this.el.clientWidth;
    const hidden = cfg.hidden, L = hidden.length;
    const top = 40;
    const xIn = 70, xOut = W - 70;
    const xs = [xIn];
    for (let l = 0; l < L; l++) xs.push(xIn + (xOut - xIn) * (l + 1) / (L + 1));
    xs.push(xOut);
    const sizeFor = (n) => Math.max(12, Math.min(34, Math.floor((H - top - 10) / Math.max(n, 1) / 1.3)));
    this.pos = [];                 // pos[layer][i] = {x, y, s, node}
    this.svg = document.createElementNS(SVGNS, "svg");
    this.el.append(this.svg);

    // inputs
    const inputs = [];
    this.featureNodes = [];
    if (this.digits()) {
      const s = 56;
      inputs.push(this.node(xIn, top + 60, s, "196 pixels", "feature"));
    } else {
      const s = sizeFor(FEATURES.length);
      let k = 0;
      FEATURES.forEach((f, i) => {
        const on = cfg.features.includes(f);
        const n = this.node(xIn, top + i * s * 1.3, s, FEATURE_LABEL[f], "feature" + (on ? "" : " off"));
        n.title = `input ${FEATURE_LABEL[f]}`;
        n.node.title = on ? `input feature ${f} (click to switch off)` : `click to use ${f} as an input`;
        n.node.addEventListener("click", () => this.h.toggleFeature(f));
        n.feature = f;
        n.node.dataset.feature = f;
        if (on) { n.index = k++; inputs.push(n); }
        this.featureNodes.push(n);
      });
    }
    this.pos.push(inputs);
    // hidden layers
    hidden.forEach((n, l) => {
      const s = sizeFor(n);
      const col = [];
      for (let j = 0; j < n; j++) {
        const node = this.node(xs[l + 1], top + j * s * 1.3, s, "", "neuron");
        node.title = `hidden layer ${l + 1}, neuron ${j}: its output`;
        col.push(node);
      }
      this.pos.push(col);
      const ctl = document.createElement("div");
      ctl.className = "layer-ctrl";
      ctl.style.left = xs[l + 1] + "px";
      const minus = button("−", `remove a neuron from layer ${l + 1}`, () => this.h.setHidden(hidden.map((w, i) => i === l ? w - 1 : w).filter((w) => w > 0)));
      const plus = button("+", `add a neuron to layer ${l + 1}`, () => n < 16 && this.h.setHidden(hidden.map((w, i) => i === l ? w + 1 : w)));
      minus.dataset.layer = plus.dataset.layer = l;
      minus.className = "neuron-minus"; plus.className = "neuron-plus";
      const txt = document.createElement("span");
      txt.textContent = L > 4 ? `${n}` : `${n} neuron${n === 1 ? "" : "s"}`;
      txt.title = `${n} neuron${n === 1 ? "" : "s"}`;
      ctl.append(plus, minus, txt);
      this.el.append(ctl);
    });
    // outputs
    const nOut = this.digits() ? 10 : 1;
    const so = this.digits() ? sizeFor(10) : 48;
    const out = [];
    for (let j = 0; j < nOut; j++) {
      const n = this.node(xOut, top + (this.digits() ? j * so * 1.3 : 60), so, this.digits() ? String(j) : "output", "output-node");
      n.title = "the output: P(blue)";
      out.push(n);
    }
    this.pos.push(out);
    document.getElementById("n-hidden").textContent = `${L}`;
    this.drawEdges();
    if (this.frame) this.update(this.frame);
    if (this.featurePictures) this.setFeaturePictures(this.featurePictures);
    if (this.overlay) this.showValues(...this.overlay);
  }

  paint(n, picture, smooth = true) {
    n.picture = picture;
    blit(n.canvas, picture, smooth);
    if (this.hovered === n && this.h.hover) this.h.hover(picture, n.title);
  }

  node(x, y, s, label, cls) {
    const node = document.createElement("div");
    node.className = "node " + cls;
    node.style.left = (x - s / 2) + "px"; node.style.top = y + "px";
    node.style.width = s + "px"; node.style.height = s + "px";
    const cv = document.createElement("canvas");
    cv.width = cv.height = Math.round(s * (window.devicePixelRatio || 1));
    node.append(cv);
    if (label) { const lb = document.createElement("span"); lb.className = "label"; lb.textContent = label; node.append(lb); }
    const val = document.createElement("span"); val.className = "val"; val.hidden = true; node.append(val);
    this.el.append(node);
    const n = { x, y: y + s / 2, s, node, canvas: cv, val, picture: null };
    // hovering a neuron shows its picture big, in the output panel
    node.addEventListener("mouseenter", () => { this.hovered = n; if (n.picture && this.h.hover) this.h.hover(n.picture, n.title); });
    node.addEventListener("mouseleave", () => { this.hovered = null; if (this.h.hover) this.h.hover(null); });
    return n;
  }

  setFeaturePictures(msg) {
    this.featurePictures = msg;
    if (!this.cfg || this.digits() || !msg.feature_pictures) return;
    for (const n of this.featureNodes) this.paint(n, signedPicture(decode(msg.feature_pictures[n.feature]), msg.neuron_side));
  }

  setDigitInput(b64, side) {
    if (this.digits() && this.pos[0][0]) {
      const bytes = decode(b64), grey = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) grey[i] = 127.5 + bytes[i] / 2;   // ink as blue
      blit(this.pos[0][0].canvas, signedPicture(grey, side), false);
    }
  }

  update(f) {
    this.frame = f;
    if (!this.pos) return;
    const side = f.neuron_side;
    (f.neurons || []).forEach((layer, l) => layer.forEach((b64, j) => {
      const n = this.pos[l + 1] && this.pos[l + 1][j];
      if (n && b64) this.paint(n, signedPicture(decode(b64), side), !this.digits());
    }));
    if (f.output_picture && this.pos[this.pos.length - 1][0]) {
      this.paint(this.pos[this.pos.length - 1][0], signedPicture(decode(f.output_picture), side));
    }
    if (f.digits_pred) {
      // output nodes: how often each digit is guessed among the shown test digits
      const outs = this.pos[this.pos.length - 1];
      outs.forEach((n, j) => { n.node.title = `output ${j}`; });
    }
    this.drawEdges();
  }

  edgeValues(k) {
    if (this.inspectGrads) return this.inspectGrads[k];
    if (!this.frame) return null;
    return (this.mode === "grads" ? this.frame.grads : this.frame.weights)[k];
  }

  drawEdges() {
    if (!this.svg) return;
    this.svg.replaceChildren();
    let vmax = 1e-12;
    const nL = this.pos.length - 1;
    for (let k = 0; k < nL; k++) {
      const m = this.edgeValues(k);
      if (m) for (const row of m) for (const v of row) vmax = Math.max(vmax, Math.abs(v));
    }
    const showGrad = this.mode === "grads" || this.inspectGrads;
    for (let k = 0; k < nL; k++) {
      const m = this.edgeValues(k);
      const src = this.pos[k], dst = this.pos[k + 1];
      dst.forEach((b, j) => src.forEach((a, i) => {
        const v = m?.[j]?.[i] ?? null;
        const p = document.createElementNS(SVGNS, "path");
        const x0 = a.x + a.s / 2, x1 = b.x - b.s / 2, xm = (x0 + x1) / 2;
        p.setAttribute("d", `M${x0},${a.y} C${xm},${a.y} ${xm},${b.y} ${x1},${b.y}`);
        p.setAttribute("fill", "none");
        let width = 0.6, colour = "#c5ccd1";
        if (v !== null && v !== undefined) {
          width = 0.4 + 6 * Math.sqrt(Math.abs(v) / vmax);
          colour = v >= 0 ? "#0877bd" : "#f59322";
        }
        p.setAttribute("stroke", colour);
        p.setAttribute("stroke-width", width.toFixed(2));
        p.setAttribute("stroke-opacity", "0.8");
        p.classList.add("edge");
        if (!(this.digits() && k === 0)) {
          const w = this.frame?.weights?.[k]?.[j]?.[i] ?? null;
          const g = this.frame?.grads?.[k]?.[j]?.[i] ?? null;
          const t = document.createElementNS(SVGNS, "title");
          t.textContent = `weight W${k}[${j}, ${i}] = ${fmt(w, 4)}   gradient = ${fmt(g, 4)}` + (showGrad && this.inspectGrads ? `   (this point: ${fmt(v, 4)})` : "");
          p.append(t);
          p.dataset.w = `${k},${j},${i}`;
          if (this.selected && this.selected[0] === k && this.selected[1] === j && this.selected[2] === i) p.classList.add("selected");
          p.addEventListener("click", () => this.h.pickWeight([k, j, i]));
          // a wider invisible twin makes thin edges easy to click
          const hit = p.cloneNode(true);
          hit.setAttribute("stroke", "transparent"); hit.setAttribute("stroke-width", "8");
          hit.addEventListener("click", () => this.h.pickWeight([k, j, i]));
          this.svg.append(p, hit);
        } else {
          this.svg.append(p);
        }
      }));
    }
  }

  select(w) { this.selected = w; this.drawEdges(); }

  // inspector overlays: values next to the neurons, one hot path
  showValues(layers, hot) {
    this.clearValues();
    this.overlay = [layers, hot];
    layers.forEach((vals, l) => {
      if (!vals || !this.pos[l]) return;
      if (this.digits() && l === 0) return;
      vals.forEach((v, i) => {
        const n = this.pos[l][i];
        if (n) { n.val.hidden = false; n.val.textContent = fmt(v, 3); }
      });
    });
    for (const [l, i] of hot || []) { const n = this.pos[l] && this.pos[l][i]; if (n) n.node.classList.add("hot"); }
  }

  clearValues() {
    this.overlay = null;
    for (const col of this.pos || []) for (const n of col) { n.val.hidden = true; n.node.classList.remove("hot"); }
  }
}

function button(text, title, onclick) {
  const b = document.createElement("button");
  b.textContent = text; b.title = title;
  b.addEventListener("click", onclick);
  return b;
}
