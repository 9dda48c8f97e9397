// The output column: decision-boundary heat map with the points, the loss
// curves, and (digits mode) a grid of test digits with the model's guesses.
import { decode, signedPicture, greyPicture, blit, fmt, ORANGE, BLUE } from "./pictures.js";

export class Output {
  constructor(onPickPoint) {
    this.heat = document.getElementById("heat");
    this.chart = document.getElementById("loss-chart");
    this.digitsOut = document.getElementById("digits-out");
    this.showTest = document.getElementById("show-test");
    this.curve = [];
    this.data = null;
    this.heatPicture = null;
    this.picked = null;
    this.hoverPicture = null;      // a neuron's picture while the pointer is on it
    this.onPickPoint = onPickPoint;
    this.showTest.addEventListener("change", () => this.drawHeat());
    this.heat.addEventListener("click", (e) => this.click(e));
    for (const cv of [this.heat, this.chart]) {         // sharp on high-DPI screens
      const r = window.devicePixelRatio || 1;
      cv.width = cv.clientWidth * r; cv.height = cv.clientHeight * r;
    }
  }

  setData(msg) {
    this.data = msg;
    this.picked = null;
    const digits = msg.dataset === "digits";
    document.getElementById("heat-wrap").hidden = digits;
    this.digitsOut.hidden = !digits;
    if (digits) {
      this.digitsOut.replaceChildren();
      this.digitCaptions = msg.digits.map((b64, i) => {
        const fig = document.createElement("figure");
        const cv = document.createElement("canvas");
        cv.width = cv.height = msg.side * 2;
        blit(cv, greyPicture(decode(b64), msg.side), false);
        const cap = document.createElement("figcaption");
        cap.textContent = `label ${msg.digits_label[i]}`;
        fig.append(cv, cap);
        this.digitsOut.append(fig);
        return [fig, cap];
      });
    }
  }

  toPx(x, y) {
    const e = this.data.extent, w = this.heat.width, h = this.heat.height;
    return [(x + e) / (2 * e) * w, (e - y) / (2 * e) * h];
  }

  drawHeat() {
    if (!this.data || this.data.dataset === "digits") return;
    const ctx = this.heat.getContext("2d");
    const picture = this.hoverPicture || this.heatPicture;
    if (picture) blit(this.heat, picture, true);
    else { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, this.heat.width, this.heat.height); }
    const r = (window.devicePixelRatio || 1);
    // axes
    ctx.strokeStyle = "rgba(0,0,0,0.12)"; ctx.lineWidth = r;
    const [cx, cy] = this.toPx(0, 0);
    ctx.beginPath(); ctx.moveTo(cx, 0); ctx.lineTo(cx, this.heat.height); ctx.moveTo(0, cy); ctx.lineTo(this.heat.width, cy); ctx.stroke();
    const draw = (pts, stroke) => {
      for (const [x, y, c] of pts) {
        const [px, py] = this.toPx(x, y);
        ctx.beginPath(); ctx.arc(px, py, 3.2 * r, 0, 2 * Math.PI);
        ctx.fillStyle = `rgb(${(c > 0.5 ? BLUE : ORANGE).join(",")})`;
        ctx.fill(); ctx.strokeStyle = stroke; ctx.lineWidth = 1 * r; ctx.stroke();
      }
    };
    draw(this.data.train, "#fff");
    if (this.showTest.checked) draw(this.data.test, "#000");
    if (this.picked !== null) {
      const [x, y] = this.data.train[this.picked];
      const [px, py] = this.toPx(x, y);
      ctx.beginPath(); ctx.arc(px, py, 8 * r, 0, 2 * Math.PI);
      ctx.strokeStyle = "#c2185b"; ctx.lineWidth = 2.5 * r; ctx.stroke();
    }
    if (this.hoverPicture && this.hoverLabel) {
      ctx.font = `bold ${12 * r}px sans-serif`;
      const wText = ctx.measureText(this.hoverLabel).width;
      ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(4 * r, 4 * r, wText + 10 * r, 18 * r);
      ctx.fillStyle = "#263238"; ctx.fillText(this.hoverLabel, 9 * r, 17 * r);
    }
    ctx.fillStyle = "rgba(0,0,0,0.45)"; ctx.font = `${10 * r}px sans-serif`;
    ctx.fillText("-6", 3 * r, cy - 3 * r); ctx.fillText("6", this.heat.width - 10 * r, cy - 3 * r);
    ctx.fillText("6", cx + 3 * r, 11 * r); ctx.fillText("-6", cx + 3 * r, this.heat.height - 3 * r);
  }

  click(e) {
    if (!this.data || !this.data.train) return;
    const rect = this.heat.getBoundingClientRect();
    const sx = (e.clientX - rect.left) / rect.width * this.heat.width;
    const sy = (e.clientY - rect.top) / rect.height * this.heat.height;
    let best = -1, bestD = Infinity;
    this.data.train.forEach(([x, y], i) => {
      const [px, py] = this.toPx(x, y);
      const d = (px - sx) ** 2 + (py - sy) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best >= 0) this.onPickPoint(best);
  }

  pick(i) { this.picked = i; this.drawHeat(); }

  hover(picture, label) { this.hoverPicture = picture; this.hoverLabel = label; this.drawHeat(); }

  reset() { this.curve = []; this.drawChart(); }

  frame(f) {
    const last = this.curve[this.curve.length - 1];
    if (!last || last[0] !== f.step) this.curve.push([f.step, f.train_loss, f.test_loss]);
    if (this.curve.length > 3000) this.curve = this.curve.filter((_, i) => i % 2 === 0 || i === this.curve.length - 1);
    document.getElementById("test-loss").textContent = fmt(f.test_loss);
    document.getElementById("train-loss").textContent = fmt(f.train_loss);
    const acc = document.getElementById("test-acc");
    acc.textContent = (100 * f.test_acc).toFixed(1) + "%";
    acc.dataset.value = f.test_acc;
    document.getElementById("train-acc").textContent = (100 * f.train_acc).toFixed(1) + "%";
    if (f.heat) {
      // bytes are 255 p: 127.5 (p = 0.5) is white, the boundary; 0 orange, 255 blue
      this.heatPicture = signedPicture(decode(f.heat), f.heat_side, 0.35);
      this.drawHeat();
    }
    if (f.digits_pred && this.digitCaptions) {
      f.digits_pred.forEach((p, i) => {
        const [fig, cap] = this.digitCaptions[i];
        const label = this.data.digits_label[i];
        cap.textContent = `${p} (${Math.round(100 * f.digits_conf[i])}%)`;
        fig.className = p === label ? "right" : "wrong";
        fig.title = `true label ${label}`;
      });
    }
    this.drawChart();
  }

  drawChart() {
    const cv = this.chart, ctx = cv.getContext("2d"), w = cv.width, h = cv.height;
    const r = window.devicePixelRatio || 1;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fafbfc"; ctx.fillRect(0, 0, w, h);
    if (this.curve.length < 1) return;
    const steps = this.curve.map((c) => c[0]);
    const x0 = steps[0], x1 = Math.max(steps[steps.length - 1], x0 + 1);
    let ymax = 0;
    for (const c of this.curve) ymax = Math.max(ymax, Number.isFinite(c[1]) ? c[1] : 0, Number.isFinite(c[2]) ? c[2] : 0);
    ymax = Math.min(Math.max(ymax, 1e-3), 1e6) * 1.05;
    const line = (k, colour) => {
      ctx.beginPath();
      this.curve.forEach((c, i) => {
        const x = (c[0] - x0) / (x1 - x0) * (w - 4 * r) + 2 * r;
        const y = h - Math.min(c[k], ymax) / ymax * (h - 14 * r) - 2 * r;
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.strokeStyle = colour; ctx.lineWidth = 1.6 * r; ctx.stroke();
    };
    line(1, "#9aa5ab");
    line(2, "#111");
    ctx.fillStyle = "#6b7780"; ctx.font = `${10 * r}px sans-serif`;
    ctx.fillText(`loss (max ${fmt(ymax / 1.05, 3)})`, 4 * r, 11 * r);
    ctx.textAlign = "right";
    ctx.fillText(`step ${x0} – ${x1}`, w - 4 * r, 11 * r);
    ctx.textAlign = "left";
  }
}
