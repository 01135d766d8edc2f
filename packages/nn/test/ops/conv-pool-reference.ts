// Float64 CPU references for conv2d and the pools (NCHW, plain loops), written from PyTorch's
// definitions, used by the finite-difference gradient checks.
export interface Arr {
  shape: number[];
  data: Float64Array;
}

export interface ConvRefOptions {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

export function conv2dRef(x: Arr, w: Arr, b: Arr | null, o: ConvRefOptions): Arr {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, , kh, kw] = w.shape as [number, number, number, number];
  const [sh, sw] = o.stride;
  const [ph, pw] = o.padding;
  const [dh, dw] = o.dilation;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const y = new Float64Array(n * oc * oh * ow);
  let at = 0;
  for (let b0 = 0; b0 < n; b0++)
    for (let o0 = 0; o0 < oc; o0++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b ? b.data[o0]! : 0;
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < kh; u++) {
              const ih = i * sh - ph + u * dh;
              if (ih < 0 || ih >= h) continue;
              for (let v = 0; v < kw; v++) {
                const iw = j * sw - pw + v * dw;
                if (iw < 0 || iw >= wd) continue;
                s += x.data[((b0 * c + ci) * h + ih) * wd + iw]! * w.data[((o0 * c + ci) * kh + u) * kw + v]!;
              }
            }
          y[at++] = s;
        }
  return { shape: [n, oc, oh, ow], data: y };
}

/** Exact gradients of sum(conv2d(x, w) * r) with respect to x and w. */
export function conv2dGradRef(x: Arr, w: Arr, r: Arr, o: ConvRefOptions): { dx: Arr; dw: Arr } {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, , kh, kw] = w.shape as [number, number, number, number];
  const [, , oh, ow] = r.shape as [number, number, number, number];
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length);
  for (let b0 = 0; b0 < n; b0++)
    for (let o0 = 0; o0 < oc; o0++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const g = r.data[((b0 * oc + o0) * oh + i) * ow + j]!;
          for (let ci = 0; ci < c; ci++)
            for (let u = 0; u < kh; u++) {
              const ih = i * o.stride[0] - o.padding[0] + u * o.dilation[0];
              if (ih < 0 || ih >= h) continue;
              for (let v = 0; v < kw; v++) {
                const iw = j * o.stride[1] - o.padding[1] + v * o.dilation[1];
                if (iw < 0 || iw >= wd) continue;
                const xi = ((b0 * c + ci) * h + ih) * wd + iw;
                const wi = ((o0 * c + ci) * kh + u) * kw + v;
                dx[xi] += g * w.data[wi]!;
                dw[wi] += g * x.data[xi]!;
              }
            }
        }
  return { dx: { shape: x.shape, data: dx }, dw: { shape: w.shape, data: dw } };
}

type Window = (o: number, size: number, outSize: number) => [number, number, number];

/** Apply `reduce` over per-axis windows [start, end) (clipped to the input), divisor per cell. */
function poolRef(
  x: Arr,
  oh: number,
  ow: number,
  winH: Window,
  winW: Window,
  kind: 'max' | 'mean',
  divisor: (ah: number, aw: number, ch: number, cw: number) => number,
): Arr {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const y = new Float64Array(n * c * oh * ow);
  let at = 0;
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const [h0, h1, ah] = winH(i, h, oh);
        const [w0, w1, aw] = winW(j, w, ow);
        let s = kind === 'max' ? -Infinity : 0;
        for (let u = h0; u < h1; u++)
          for (let v = w0; v < w1; v++) {
            const val = x.data[(p * h + u) * w + v]!;
            s = kind === 'max' ? Math.max(s, val) : s + val;
          }
        y[at++] = kind === 'max' ? s : s / divisor(ah, aw, h1 - h0, w1 - w0);
      }
  return { shape: [n, c, oh, ow], data: y };
}

/** Strided window with padding: clipped [start, end) and the count up to in + pad. */
function strided(k: number, s: number, p: number): Window {
  return (o, size) => {
    const start = o * s - p;
    const end = Math.min(start + k, size + p);
    return [Math.max(start, 0), Math.min(end, size), end - start];
  };
}

export function maxPoolRef(x: Arr, k: number, s: number, p: number, oh: number, ow: number): Arr {
  return poolRef(x, oh, ow, strided(k, s, p), strided(k, s, p), 'max', () => 1);
}

export function avgPoolRef(
  x: Arr,
  k: number,
  s: number,
  p: number,
  oh: number,
  ow: number,
  countIncludePad: boolean,
): Arr {
  return poolRef(x, oh, ow, strided(k, s, p), strided(k, s, p), 'mean', (ah, aw, ch, cw) =>
    countIncludePad ? ah * aw : ch * cw,
  );
}

export function adaptiveAvgPoolRef(x: Arr, oh: number, ow: number): Arr {
  const win: Window = (o, size, out) => [Math.floor((o * size) / out), Math.ceil(((o + 1) * size) / out), 0];
  return poolRef(x, oh, ow, win, win, 'mean', (_ah, _aw, ch, cw) => ch * cw);
}
