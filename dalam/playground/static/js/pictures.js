// Turning the server's bytes into pictures: the TF-Playground colour scale
// (orange = negative / class 0, white = zero, blue = positive / class 1).

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];

export function decode(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// t in [-1, 1] -> [r, g, b]; `soft` lightens the colours (backgrounds under points)
export function colour(t, soft = 0) {
  const c = t >= 0 ? BLUE : ORANGE;
  const k = Math.min(1, Math.abs(t)) * (1 - soft);
  return [255 + (c[0] - 255) * k, 255 + (c[1] - 255) * k, 255 + (c[2] - 255) * k];
}

// bytes (127.5 = zero) on a side x side grid -> an offscreen canvas
export function signedPicture(bytes, side, soft = 0) {
  const cv = document.createElement("canvas");
  cv.width = cv.height = side;
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const [r, g, b] = colour(bytes[i] / 127.5 - 1, soft);
    img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return cv;
}

// grey pictures (digits): 0 = white paper, 255 = ink
export function greyPicture(bytes, side) {
  const cv = document.createElement("canvas");
  cv.width = cv.height = side;
  const ctx = cv.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = 255 - bytes[i];
    img.data[4 * i] = v; img.data[4 * i + 1] = v; img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return cv;
}

// draw `src` (a small canvas) over the whole of `dst`, smoothly
export function blit(dst, src, smooth = true) {
  const ctx = dst.getContext("2d");
  ctx.imageSmoothingEnabled = smooth;
  ctx.imageSmoothingQuality = "high";
  ctx.clearRect(0, 0, dst.width, dst.height);
  ctx.drawImage(src, 0, 0, dst.width, dst.height);
}

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(digits - 1);
  return v.toFixed(digits);
}
