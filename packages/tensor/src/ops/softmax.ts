// softmax / logSoftmax along one axis: a row kernel (max, then sum of exp, then write) so the
// result is stable for large logits; other axes are moved last and back. Software adapters run
// one invocation per row; real GPUs one workgroup per row, whose threads stride along it (reads
// coalesce) and combine their partial max and sum in workgroup memory.
import { defineOp, type OpContext } from '../autograd.js';
import { TensorError } from '../errors.js';
import { getEngine } from '../device.js';
import { defineKernel, grid1d, linearIndex, runKernel, uniformPreamble, Uniforms } from '../kernel.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './creation.js';
import { map, mul, sub, exp } from './elementwise.js';
import { sum } from './reduce.js';
import { permute } from './shape-ops.js';

const WG = 64;

const softmaxKernel = defineKernel<{ log: boolean }>({
  name: 'softmax_rows',
  inputs: 1,
  outputs: 1,
  source: ({ log }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = ${linearIndex(WG)};
  if (row >= pu(0u)) { return; }
  let n = pu(1u);
  let base = row * n;
  var m = -3.402823e38;
  for (var i = 0u; i < n; i++) { m = max(m, x[base + i]); }
  var s = 0.0;
  for (var i = 0u; i < n; i++) { s += exp(x[base + i] - m); }
  ${log ? 'let ls = log(s);\n  for (var i = 0u; i < n; i++) { y[base + i] = x[base + i] - m - ls; }' : 'let inv = 1.0 / s;\n  for (var i = 0u; i < n; i++) { y[base + i] = exp(x[base + i] - m) * inv; }'}
}`,
});

const rowWorkgroupKernel = defineKernel<{ log: boolean }>({
  name: 'softmax_rows_wg',
  inputs: 1,
  outputs: 1,
  source: ({ log }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
fn combine(t: u32, isMax: bool) {
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { part[t] = select(part[t] + part[t + s], max(part[t], part[t + s]), isMax); }
    workgroupBarrier();
  }
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= pu(0u)) { return; }
  let n = pu(1u);
  let base = row * n;
  let t = lid.x;
  var m = -3.402823e38;
  for (var i = t; i < n; i += ${WG}u) { m = max(m, x[base + i]); }
  part[t] = m;
  workgroupBarrier();
  combine(t, true);
  let mx = part[0];
  workgroupBarrier();
  var s = 0.0;
  for (var i = t; i < n; i += ${WG}u) { s += exp(x[base + i] - mx); }
  part[t] = s;
  workgroupBarrier();
  combine(t, false);
  let total = part[0];
  ${log ? 'let ls = log(total);' : 'let inv = 1.0 / total;'}
  for (var i = t; i < n; i += ${WG}u) { y[base + i] = ${log ? 'x[base + i] - mx - ls' : 'exp(x[base + i] - mx) * inv'}; }
}`,
});

function rowsOp(log: boolean) {
  return defineOp({
    name: log ? 'logSoftmax' : 'softmax',
    forward: (ctx: OpContext, x: Tensor) => {
      if (x.dtype !== 'f32') throw new TensorError(`${log ? 'logSoftmax' : 'softmax'}: needs an f32 tensor`);
      const n = x.shape.at(-1) ?? 1;
      const rows = n === 0 ? 0 : x.size / n;
      const y = empty(x.shape);
      const uniforms = new Uniforms().u32(rows, n);
      if (getEngine().info.kernels === 'gpu')
        runKernel(rowWorkgroupKernel, { log }, { inputs: [x], outputs: [y], uniforms, workgroups: grid1d(rows, 1) });
      else runKernel(softmaxKernel, { log }, { inputs: [x], outputs: [y], uniforms, workgroups: grid1d(rows, WG) });
      ctx.save(y);
      return y;
    },
    backward: (ctx, g) => {
      const [y] = ctx.saved as [Tensor];
      if (log) {
        // d/dx logSoftmax: g - softmax(x) * sum(g)
        const s = sum(g, -1, true);
        const p = exp(y);
        return [sub(g, mul(p, s))];
      }
      // d/dx softmax: y * (g - sum(g * y))
      const gy = mul(g, y);
      const s = sum(gy, -1, true);
      return [map('b * (a - c)', [g, y, s])];
    },
  });
}

const softmaxLast = rowsOp(false);
const logSoftmaxLast = rowsOp(true);

function alongAxis(f: (x: Tensor) => Tensor, x: Tensor, axis: number, name: string): Tensor {
  const a = normalizeAxis(axis, x.rank, name);
  if (a === x.rank - 1 || x.rank === 0) return f(x);
  const dims = Array.from({ length: x.rank }, (_, i) => i);
  [dims[a], dims[x.rank - 1]] = [dims[x.rank - 1]!, dims[a]!];
  const moved = permute(x, dims);
  const r = f(moved);
  const out = permute(r, dims);
  moved.dispose();
  r.dispose();
  return out;
}

/** exp(x) / sum(exp(x)) along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(softmaxLast, x, axis, 'softmax');
}

/** x - logsumexp(x) along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(logSoftmaxLast, x, axis, 'logSoftmax');
}
