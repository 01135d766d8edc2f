// Pooling kernels, one invocation per output (forward) or per input element (backward).
// Backward gathers over the few windows that contain an input element instead of scattering
// into it: WGSL has no f32 atomics, and a gather is deterministic. The window arithmetic
// follows PyTorch's CPU kernels (aten/src/ATen/native/cpu/{MaxPool,AvgPool,AdaptiveAvgPool}
// Kernel.cpp) so padding, ceil_mode's ragged last window and the divisors match exactly.
// One kernel serves both families: the loops are tiny and there is nothing to tile.
import { defineKernel, linearIndex, uniformPreamble } from '@spine/tensor';

export type PoolKind = 'max' | 'avg' | 'adaptive';
export interface PoolKernelOptions {
  kind: PoolKind;
  backward: boolean;
}

export const POOL_WG = 64;

// Words: 0 total, 1 H, 2 W, 3 OH, 4 OW, 5 kh, 6 kw, 7 sh, 8 sw, 9 ph, 10 pw, 11 countIncludePad.
const DIMS = `  let H = pi(1u); let W = pi(2u); let OH = pi(3u); let OW = pi(4u);
  let kh = pi(5u); let kw = pi(6u); let sh = pi(7u); let sw = pi(8u); let ph = pi(9u); let pw = pi(10u);`;

/** Forward: position (plane, oh, ow) of output i. Backward: (plane, ih, iw) of input i. */
const OUT_POS = `  let ow = i32(i % u32(OW)); let oh = i32((i / u32(OW)) % u32(OH)); let plane = i / u32(OW * OH);
  let xb = plane * u32(H * W);`;
const IN_POS = `  let iw = i32(i % u32(W)); let ih = i32((i / u32(W)) % u32(H)); let plane = i / u32(W * H);
  let gb = plane * u32(OH * OW);`;

/** Output rows/cols whose strided window covers ih/iw: oh*s - p <= ih <= oh*s - p + k - 1. */
const COVERING = `  let ah = ih + ph - kh + 1; let aw = iw + pw - kw + 1;
  let oh0 = select(0, (ah + sh - 1) / sh, ah > 0); let oh1 = min(OH - 1, (ih + ph) / sh);
  let ow0 = select(0, (aw + sw - 1) / sw, aw > 0); let ow1 = min(OW - 1, (iw + pw) / sw);`;

/** The avg window of output (oh, ow) and its divisor, as in PyTorch's cpu_avg_pool. */
const AVG_WINDOW = `fn avgWindow(oh: i32, ow: i32) -> vec4<i32> {
  let H = pi(1u); let W = pi(2u); let kh = pi(5u); let kw = pi(6u);
  let hs = oh * pi(7u) - pi(9u); let ws = ow * pi(8u) - pi(10u);
  let he = min(hs + kh, H + pi(9u)); let we = min(ws + kw, W + pi(10u));
  // count_include_pad counts padding up to in + pad only, not the ceil_mode overhang.
  let padded = (he - hs) * (we - ws);
  let h0 = max(hs, 0); let w0 = max(ws, 0); let h1 = min(he, H); let w1 = min(we, W);
  let div = select((h1 - h0) * (w1 - w0), padded, pu(11u) != 0u);
  return vec4<i32>(h0, w0, h1 * 65536 + w1, div);
}`;

/** Adaptive windows: start = floor(o*in/out), end = ceil((o+1)*in/out). */
const ADAPTIVE_WINDOW = `fn adaptiveRange(o: i32, n: i32, out: i32) -> vec2<i32> {
  return vec2<i32>((o * n) / out, ((o + 1) * n + out - 1) / out);
}`;

function bindings(o: PoolKernelOptions): string {
  const names = o.backward ? (o.kind === 'max' ? ['G', 'I'] : ['G']) : ['X'];
  const outs = o.backward ? ['DX'] : o.kind === 'max' ? ['Y', 'I'] : ['Y'];
  const L: string[] = [];
  let b = 1;
  for (const n of names)
    L.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<${n === 'I' ? 'i32' : 'f32'}>;`);
  for (const n of outs)
    L.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: array<${n === 'I' ? 'i32' : 'f32'}>;`);
  return L.join('\n');
}

function body(o: PoolKernelOptions): string {
  if (o.kind === 'max' && !o.backward)
    // PyTorch: maxval = -inf, index = first valid position, replaced when `val > maxval ||
    // isnan(val)`: the first maximum wins ties, a NaN wins (the last NaN). Starting from the
    // first element instead of -inf gives the same result without an infinity literal.
    return `${OUT_POS}
  let hs = oh * sh - ph; let ws = ow * sw - pw;
  let h0 = max(hs, 0); let w0 = max(ws, 0); let h1 = min(hs + kh, H); let w1 = min(ws + kw, W);
  var at = h0 * W + w0;
  var best = X[xb + u32(at)];
  for (var y = h0; y < h1; y++) {
    for (var x = w0; x < w1; x++) {
      let v = X[xb + u32(y * W + x)];
      if (v > best || v != v) { best = v; at = y * W + x; }
    }
  }
  Y[i] = best;
  I[i] = at;`;
  if (o.kind === 'max')
    return `${IN_POS}
${COVERING}
  let me = ih * W + iw;
  var s = 0.0;
  for (var y = oh0; y <= oh1; y++) {
    for (var x = ow0; x <= ow1; x++) {
      let j = gb + u32(y * OW + x);
      if (I[j] == me) { s += G[j]; }
    }
  }
  DX[i] = s;`;
  if (o.kind === 'avg' && !o.backward)
    return `${OUT_POS}
  let win = avgWindow(oh, ow);
  let h1 = win.z / 65536; let w1 = win.z % 65536;
  var s = 0.0;
  for (var y = win.x; y < h1; y++) {
    for (var x = win.y; x < w1; x++) { s += X[xb + u32(y * W + x)]; }
  }
  Y[i] = select(s / f32(win.w), 0.0, win.w == 0);`;
  if (o.kind === 'avg')
    return `${IN_POS}
${COVERING}
  var s = 0.0;
  for (var y = oh0; y <= oh1; y++) {
    for (var x = ow0; x <= ow1; x++) {
      s += G[gb + u32(y * OW + x)] / f32(avgWindow(y, x).w);
    }
  }
  DX[i] = s;`;
  if (!o.backward)
    return `${OUT_POS}
  let rh = adaptiveRange(oh, H, OH); let rw = adaptiveRange(ow, W, OW);
  var s = 0.0;
  for (var y = rh.x; y < rh.y; y++) {
    for (var x = rw.x; x < rw.y; x++) { s += X[xb + u32(y * W + x)]; }
  }
  Y[i] = s / f32((rh.y - rh.x) * (rw.y - rw.x));`;
  return `${IN_POS}
  var s = 0.0;
  for (var y = (ih * OH) / H; y <= min(OH - 1, ((ih + 1) * OH + H - 1) / H); y++) {
    let rh = adaptiveRange(y, H, OH);
    if (ih < rh.x || ih >= rh.y) { continue; }
    for (var x = (iw * OW) / W; x <= min(OW - 1, ((iw + 1) * OW + W - 1) / W); x++) {
      let rw = adaptiveRange(x, W, OW);
      if (iw >= rw.x && iw < rw.y) { s += G[gb + u32(y * OW + x)] / f32((rh.y - rh.x) * (rw.y - rw.x)); }
    }
  }
  DX[i] = s;`;
}

export const poolKernel = defineKernel<PoolKernelOptions>({
  name: 'nn_pool2d',
  inputs: (o) => (o.backward && o.kind === 'max' ? 2 : 1),
  outputs: (o) => (!o.backward && o.kind === 'max' ? 2 : 1),
  source: (o) => `${uniformPreamble()}
${bindings(o)}
${o.kind === 'avg' ? AVG_WINDOW : o.kind === 'adaptive' ? ADAPTIVE_WINDOW : ''}
@compute @workgroup_size(${POOL_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(POOL_WG)};
  if (i >= pu(0u)) { return; }
${DIMS}
${body(o)}
}`,
});
