// The page: one WebSocket to this tab's session in the server.  Controls send
// configuration changes; the server trains with dalam and streams frames,
// which are drawn on the next animation frame (the newest one only).
import { Network } from "./network.js";
import { Output } from "./output.js";
import { Inspector } from "./inspect.js";
import { decode, signedPicture, greyPicture, blit } from "./pictures.js";

const DATASETS = [["circles", "Circle"], ["xor", "Exclusive or"], ["gauss", "Gaussian"],
  ["spiral", "Spiral"], ["moons", "Moons"], ["digits", "Digits"]];
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];

const state = { cfg: null, playing: false, lessons: [], session: null, pending: null, point: null, weight: null, nextId: 1 };
const $ = (id) => document.getElementById(id);
window.playground = state;     // for the curious (and the browser tests)

let ws;
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.onmessage = (e) => receive(JSON.parse(e.data));
  ws.onclose = () => { state.closed = true; setPlaying(false); toast("connection to the server closed: reload the page to start a new session"); };
}
function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  msg.id = state.nextId++;
  ws.send(JSON.stringify(msg));
}
const setConfig = (partial) => send({ type: "config", config: partial });

const network = new Network({
  toggleFeature: (f) => {
    const on = state.cfg.features.includes(f);
    const feats = on ? state.cfg.features.filter((x) => x !== f) : [...state.cfg.features, f];
    if (feats.length === 0) return toast("keep at least one input feature");
    setConfig({ features: feats });
  },
  setHidden: (hidden) => setConfig({ hidden }),
  hover: (picture, label) => output.hover(picture, label),
  pickWeight: (w) => { state.weight = w; network.select(w); if (state.point === null) pickPoint(0); else inspect(); },
});
const output = new Output((i) => pickPoint(i));
const inspector = new Inspector(network, output);
state.output = output;

function pickPoint(i) { state.point = i; output.pick(i); inspect(); }
function inspect() {
  if (state.point === null) return;
  const msg = { type: "inspect", point: state.point };
  if (state.weight) msg.weight = state.weight;
  send(msg);
}

function receive(m) {
  switch (m.type) {
    case "hello":
      state.session = m.session; state.lessons = m.lessons;
      for (const l of m.lessons) { const o = document.createElement("option"); o.value = l.id; o.textContent = l.title; $("lesson").append(o); }
      break;
    case "config":
      state.cfg = m.config;
      state.point = null; state.weight = null;
      inspector.clear();
      showConfig(m.config);
      network.build(m.config);
      break;
    case "dataset":
      state.dataset = m;
      output.setData(m);
      network.setFeaturePictures(m);
      if (m.dataset === "digits") {
        network.setDigitInput(m.train_preview[0], m.side);
        const prev = $("digit-preview"); prev.hidden = false; prev.replaceChildren();
        m.train_preview.forEach((b64, i) => {
          const fig = document.createElement("figure"); const cv = document.createElement("canvas");
          cv.width = cv.height = m.side * 2; blit(cv, greyPicture(decode(b64), m.side), false);
          const cap = document.createElement("figcaption"); cap.textContent = m.train_preview_label[i];
          fig.append(cv, cap); prev.append(fig);
        });
      } else $("digit-preview").hidden = true;
      break;
    case "frame":
      if (m.reset) output.reset();
      state.pending = m;
      requestAnimationFrame(draw);
      break;
    case "state":
      setPlaying(m.playing);
      if (m.reason === "diverged") {
        toast("The loss is no longer a number: the weights blew up. Training paused; lower the learning rate.");
      }
      break;
    case "inspect":
      state.point = m.point; output.pick(m.point);
      inspector.set(m, state.cfg);
      break;
    case "export":
      showExport(m);
      break;
    case "error":
    case "expired":
      toast(m.error);
      break;
  }
}

function draw() {
  const f = state.pending;
  if (!f) return;
  state.pending = null;
  state.frame = f;
  $("step-count").textContent = f.step;
  $("epoch").textContent = f.epoch.toFixed(1);
  output.frame(f);
  network.update(f);
  drawGradBars(f.grad_norms);
}

function drawGradBars(norms) {
  const box = $("grad-bars"); box.replaceChildren();
  const logs = norms.map((g) => (g && g > 0 ? Math.log10(g) : -12));
  const lo = -10, hi = Math.max(0, ...logs);
  norms.forEach((g, k) => {
    const row = document.createElement("div"); row.className = "bar";
    const name = document.createElement("span"); name.textContent = k === norms.length - 1 ? "output" : `layer ${k + 1}`;
    const bar = document.createElement("i");
    bar.style.width = `${Math.max(1, 160 * (Math.max(lo, logs[k]) - lo) / (hi - lo))}px`;
    const val = document.createElement("span"); val.textContent = g === null ? "–" : g.toExponential(1);
    row.append(name, bar, val); box.append(row);
  });
}

function setPlaying(p) {
  state.playing = p;
  $("play").classList.toggle("playing", p);
  $("play").innerHTML = p ? "&#10074;&#10074;" : "&#9654;";
  $("play").title = p ? "Pause (space)" : "Play (space)";
}

// ---- controls -------------------------------------------------------------------------------
function fillSelect(id, values, label = (v) => String(v)) {
  const s = $(id);
  for (const v of values) { const o = document.createElement("option"); o.value = String(v); o.textContent = label(v); s.append(o); }
}
function setSelect(id, v) {
  const s = $(id);
  if (![...s.options].some((o) => o.value === String(v))) {
    const o = document.createElement("option"); o.value = String(v); o.textContent = String(v); s.append(o);
  }
  s.value = String(v);
}

function showConfig(c) {
  for (const b of $("datasets").children) b.classList.toggle("on", b.dataset.name === c.dataset);
  for (const id of ["optimizer", "activation", "regularization"]) $(id).value = c[id];
  setSelect("lr", c.lr); setSelect("reg_rate", c.reg_rate); setSelect("dropout", c.dropout);
  $("batch_size").value = c.batch_size; $("batch_size_out").textContent = c.batch_size;
  $("noise").value = Math.round(c.noise * 100); $("noise_out").textContent = `${Math.round(c.noise * 100)}%`;
  $("train_ratio").value = Math.round(c.train_ratio * 100); $("train_ratio_out").textContent = `${Math.round(c.train_ratio * 100)}%`;
  $("n-hidden").textContent = c.hidden.length;
  const digits = c.dataset === "digits";
  $("train_ratio").disabled = digits;
}

function setupControls() {
  for (const [name, label] of DATASETS) {
    const b = document.createElement("button");
    b.dataset.name = name; b.title = label; b.id = `ds-${name}`;
    const cv = document.createElement("canvas"); cv.width = cv.height = 52;
    thumbnail(cv, name);
    const t = document.createElement("span"); t.textContent = label;
    b.append(cv, t);
    b.addEventListener("click", () => setConfig({ dataset: name }));
    $("datasets").append(b);
  }
  fillSelect("lr", LRS);
  fillSelect("reg_rate", REG_RATES);
  fillSelect("dropout", DROPOUTS);
  $("lr").addEventListener("change", (e) => setConfig({ lr: Number(e.target.value) }));
  $("reg_rate").addEventListener("change", (e) => setConfig({ reg_rate: Number(e.target.value) }));
  $("dropout").addEventListener("change", (e) => setConfig({ dropout: Number(e.target.value) }));
  for (const id of ["optimizer", "activation", "regularization"]) $(id).addEventListener("change", (e) => setConfig({ [id]: e.target.value }));
  $("batch_size").addEventListener("input", (e) => { $("batch_size_out").textContent = e.target.value; });
  $("batch_size").addEventListener("change", (e) => setConfig({ batch_size: Number(e.target.value) }));
  $("noise").addEventListener("input", (e) => { $("noise_out").textContent = `${e.target.value}%`; });
  $("noise").addEventListener("change", (e) => setConfig({ noise: Number(e.target.value) / 100 }));
  $("train_ratio").addEventListener("input", (e) => { $("train_ratio_out").textContent = `${e.target.value}%`; });
  $("train_ratio").addEventListener("change", (e) => setConfig({ train_ratio: Number(e.target.value) / 100 }));
  $("regenerate").addEventListener("click", () => setConfig({ seed: Math.floor(Math.random() * 1e6) }));
  $("play").addEventListener("click", () => send({ type: state.playing ? "pause" : "play" }));
  $("step").addEventListener("click", () => send({ type: "step" }));
  $("reset").addEventListener("click", () => send({ type: "reset" }));
  $("lesson").addEventListener("change", (e) => {
    const l = state.lessons.find((x) => x.id === e.target.value);
    $("lesson-box").hidden = !l;
    if (!l) return;
    $("lesson-title").textContent = l.title + ".";
    $("lesson-text").textContent = l.text;
    send({ type: "preset", name: l.id });
  });
  // the layer +/- buttons in the network title
  const lb = $("layer-buttons");
  const plus = document.createElement("button"); plus.textContent = "+"; plus.id = "add-layer"; plus.title = "add a hidden layer";
  const minus = document.createElement("button"); minus.textContent = "−"; minus.id = "remove-layer"; minus.title = "remove the last hidden layer";
  plus.addEventListener("click", () => state.cfg.hidden.length < 8 && setConfig({ hidden: [...state.cfg.hidden, 2] }));
  minus.addEventListener("click", () => setConfig({ hidden: state.cfg.hidden.slice(0, -1) }));
  lb.append(plus, minus);
  $("random-point").addEventListener("click", () => state.dataset && pickPoint(Math.floor(Math.random() * state.dataset.n_train)));
  $("export").addEventListener("click", () => send({ type: "export" }));
  $("close-export").addEventListener("click", () => $("export-dialog").close());
  $("copy-code").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText($("export-code").textContent));
}

// small pictures of each data set's shape for the buttons (drawn, not downloaded)
function thumbnail(cv, name) {
  const ctx = cv.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 52, 52);
  const dot = (x, y, c) => { ctx.fillStyle = c ? "#0877bd" : "#f59322"; ctx.fillRect(26 + x * 4 - 1, 26 - y * 4 - 1, 2.5, 2.5); };
  let seed = 7; const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  if (name === "digits") {
    ctx.fillStyle = "#263238"; ctx.font = "bold 30px sans-serif"; ctx.fillText("7", 8, 38); ctx.fillText("2", 26, 38); return;
  }
  for (let i = 0; i < 120; i++) {
    const u = rnd() * 2 - 1, v = rnd() * 2 - 1;
    if (name === "circles") { const r = Math.hypot(u, v) * 5.5; const t = Math.atan2(v, u); if (r < 2 || (r > 3.5 && r < 5.5)) dot(r * Math.cos(t), r * Math.sin(t), r < 2); }
    else if (name === "xor") dot(u * 5.5, v * 5.5, u * v > 0);
    else if (name === "gauss") { const c = i % 2; dot((c ? 2 : -2) + u, (c ? 2 : -2) + v, c); }
    else if (name === "spiral") { const c = i % 2, k = i / 120, r = k * 5.5, t = 1.75 * k * 2 * Math.PI + (c ? 0 : Math.PI); dot(r * Math.sin(t), r * Math.cos(t), c); }
    else if (name === "moons") { const c = i % 2, t = rnd() * Math.PI; dot(c ? (Math.cos(t) - 0.5) * 3.2 : (0.5 - Math.cos(t)) * 3.2, c ? (Math.sin(t) - 0.25) * 3.2 : (0.25 - Math.sin(t)) * 3.2, c); }
  }
}

function showExport(m) {
  $("export-code").textContent = m.code;
  $("download-code").href = URL.createObjectURL(new Blob([m.code], { type: "text/x-python" }));
  $("download-weights").href = m.weights_url;
  $("export-dialog").showModal();
}

let toastTimer;
function toast(text) {
  const t = $("toast"); t.textContent = text; t.hidden = false;
  clearTimeout(toastTimer); toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
}

// keyboard: space plays / pauses, "s" steps, "r" resets (not while typing in a control)
document.addEventListener("keydown", (e) => {
  if (e.target.closest("select, input, textarea, dialog, button, a") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === " ") { e.preventDefault(); send({ type: state.playing ? "pause" : "play" }); }
  else if (e.key === "s") send({ type: "step" });
  else if (e.key === "r") send({ type: "reset" });
});

setupControls();
connect();
