// Reductions over any set of axes. The input is canonicalised to alternating runs of kept and
// reduced dimensions (merged where contiguous). Two variants: one invocation per output
// (many outputs, or short reductions) and one workgroup per (output, chunk) with a tree in
// workgroup memory (few outputs, long reductions); long single reductions go in two passes.
import {
  defineKernel,
  FAST_DIV_LIMIT,
  FAST_DIV_WGSL,
  grid1d,
  linearIndex,
  runKernel,
  uniformPreamble,
  Uniforms,
} from '../kernel.js';
import { contiguousStrides, mergeDims, type Shape } from '../shape.js';
import type { Tensor, DType } from '../tensor.js';
import { getEngine } from '../device.js';
import { TensorError } from '../errors.js';

export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

interface ReduceOptions {
  op: ReduceOp;
  dtype: DType;
  nk: number;
  nr: number;
  mode: 'thread' | 'group';
  /** Index decoding by float reciprocal (exact below FAST_DIV_LIMIT). */
  fastDiv: boolean;
}

const WG = 64;
const MAX_DIMS = 6;

function combine(op: ReduceOp): string {
  switch (op) {
    case 'sum':
      return 'acc = acc + v;';
    case 'max':
      return 'acc = max(acc, v);';
    case 'min':
      return 'acc = min(acc, v);';
    case 'argmax': // first index of the maximum, as torch.argmax
      return 'if (v > acc || (v == acc && r < idx)) { acc = v; idx = r; }';
    case 'argmin':
      return 'if (v < acc || (v == acc && r < idx)) { acc = v; idx = r; }';
  }
}

function initial(op: ReduceOp, dtype: DType): string {
  if (op === 'sum') return `${dtype}(0)`;
  const big = dtype === 'i32' ? '2147483647' : '3.402823e38';
  return op === 'max' || op === 'argmax' ? `-${big}` : big;
}

const reduceKernel = defineKernel<ReduceOptions>({
  name: 'reduce',
  inputs: 1,
  outputs: 1,
  source: (o) => {
    const isArg = o.op === 'argmax' || o.op === 'argmin';
    const outType = isArg ? 'i32' : o.dtype;
    // Words: nOut, nRed, chunkLen, scale, keptShape[nk], keptStrides[nk], redShape[nr], redStrides[nr]
    const ks = 4;
    const kst = ks + o.nk;
    const rs = kst + o.nk;
    const rst = rs + o.nr;
    // Reciprocals of the kept and reduced dims follow (fdiv: no per-lane integer division).
    const krec = rst + o.nr;
    const rrec = krec + o.nk;
    const digit = (v: string, sizeWord: number, recWord: number, d: number) =>
      d === 0
        ? `let c = ${v};`
        : o.fastDiv
          ? `let q = fdiv(${v}, pu(${sizeWord}u), pf(${recWord}u)); let c = ${v} - q * pu(${sizeWord}u); ${v} = q;`
          : `let c = ${v} % pu(${sizeWord}u); ${v} = ${v} / pu(${sizeWord}u);`;
    const decodeKept: string[] = ['  var rem = o; var base = 0u;'];
    for (let d = o.nk - 1; d >= 0; d--)
      decodeKept.push(`  { ${digit('rem', ks + d, krec + d, d)} base += c * pu(${kst + d}u); }`);
    const offsetOf = (r: string) => {
      if (o.nr === 1) return `base + ${r} * pu(${rst}u)`;
      return `red_offset(${r}) + base`;
    };
    const redFn: string[] = [`fn red_offset(r0: u32) -> u32 {`, '  var rem = r0; var off = 0u;'];
    for (let d = o.nr - 1; d >= 0; d--)
      redFn.push(`  { ${digit('rem', rs + d, rrec + d, d)} off += c * pu(${rst + d}u); }`);
    redFn.push('  return off;', '}');
    const head = `${uniformPreamble()}${FAST_DIV_WGSL}
@group(0) @binding(1) var<storage, read> x: array<${o.dtype}>;
@group(0) @binding(2) var<storage, read_write> out: array<${outType}>;
${redFn.join('\n')}`;
    if (o.mode === 'thread') {
      // One invocation per (output, chunk): no workgroup memory, no barriers.
      return `${head}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let chunks = max((pu(1u) + pu(2u) - 1u) / pu(2u), 1u);
  let t = ${linearIndex(WG)};
  if (t >= pu(0u) * chunks) { return; }
  let o = t / chunks;
  let start = (t % chunks) * pu(2u);
  let end = min(start + pu(2u), pu(1u));
${decodeKept.join('\n')}
  var acc: ${o.dtype} = ${initial(o.op, o.dtype)};
  var idx = 0u;
  for (var r = start; r < end; r++) {
    let v = x[${offsetOf('r')}];
    ${combine(o.op)}
  }
  out[t] = ${isArg ? 'i32(idx)' : o.op === 'sum' && o.dtype === 'f32' ? 'select(acc, acc * pf(3u), chunks == 1u)' : 'acc'};
}`;
    }
    // One workgroup per (output, chunk); workgroup id linearised like linearIndex.
    return `${head}
var<workgroup> sv: array<${o.dtype}, ${WG}>;
var<workgroup> si: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let chunks = (pu(1u) + pu(2u) - 1u) / pu(2u);
  let w = wid.x + wid.y * nwg.x;
  let o = w / chunks;
  let chunk = w % chunks;
  let valid = o < pu(0u);
  var acc: ${o.dtype} = ${initial(o.op, o.dtype)};
  var idx = 0u;
  if (valid) {
${decodeKept.join('\n')}
    let start = chunk * pu(2u);
    let end = min(start + pu(2u), pu(1u));
    for (var r = start + lid.x; r < end; r += ${WG}u) {
      let v = x[${offsetOf('r')}];
      ${combine(o.op)}
    }
  }
  sv[lid.x] = acc;
  si[lid.x] = idx;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      let v = sv[lid.x + s];
      let r = si[lid.x + s];
      acc = sv[lid.x];
      idx = si[lid.x];
      ${combine(o.op)}
      sv[lid.x] = acc;
      si[lid.x] = idx;
    }
    workgroupBarrier();
  }
  if (lid.x == 0u && valid) {
    acc = sv[0];
    idx = si[0];
    out[w] = ${isArg ? 'i32(idx)' : o.op === 'sum' && o.dtype === 'f32' ? 'select(acc, acc * pf(3u), chunks == 1u)' : 'acc'};
  }
}`;
  },
});

export interface ReducePlan {
  outShape: number[];
}

/**
 * Reduce `x` over `axes` (sorted, unique) into `out` (contiguous, kept dims in order).
 * `scale` multiplies a sum (mean = sum * 1/n). Returns after recording 1 or 2 dispatches.
 */
export function runReduce(
  op: ReduceOp,
  x: Tensor,
  axes: readonly number[],
  out: Tensor,
  scale: number,
  allocate: (shape: Shape, dtype: DType) => Tensor,
): void {
  const classes = x.shape.map((_, i) => (axes.includes(i) ? 1 : 0));
  const merged = mergeDims(x.shape, [contiguousStrides(x.shape)], classes);
  const kept: [number, number][] = [];
  const red: [number, number][] = [];
  merged.shape.forEach((d, i) => (merged.classes[i] ? red : kept).push([d, merged.strides[0]![i]!]));
  const nOut = kept.reduce((p, [d]) => p * d, 1);
  const nRed = red.reduce((p, [d]) => p * d, 1);
  if (nOut === 0) return;
  if (red.length === 0) red.push([1, 0]);
  if (kept.length > MAX_DIMS || red.length > MAX_DIMS)
    throw new TensorError(`reduce: too many non-mergeable dimensions (${kept.length} kept, ${red.length} reduced)`);
  const isArg = op === 'argmax' || op === 'argmin';
  if (nRed === 0 && op !== 'sum') throw new TensorError(`${op}: cannot reduce over an empty dimension`);
  // GPUs: few outputs with long reductions get a workgroup each (tree in workgroup memory).
  // Software adapters: workgroup memory and barriers are slow there, so long reductions are
  // split into chunks, one invocation each. Either way a split reduction takes a second pass
  // (not for arg ops, whose partial results would need their indices carried along).
  const family = getEngine().info.kernels;
  const grouped = family === 'gpu' && nRed >= 256 && nOut < 2048;
  let chunkLen = Math.max(nRed, 1);
  if (!isArg && grouped && nOut < 64 && nRed > 8192) chunkLen = Math.max(4096, Math.ceil(nRed / 256));
  if (!isArg && !grouped && nOut < 512 && nRed >= 2048)
    chunkLen = Math.max(256, Math.ceil(nRed / Math.ceil(512 / nOut)));
  const chunks = Math.ceil(Math.max(nRed, 1) / chunkLen);
  const u = new Uniforms().u32(nOut, nRed, chunkLen).f32(scale);
  u.u32(...kept.map(([d]) => d), ...kept.map(([, s]) => s), ...red.map(([d]) => d), ...red.map(([, s]) => s));
  u.f32(...kept.map(([d]) => 1 / d), ...red.map(([d]) => 1 / d));
  const options: ReduceOptions = {
    op,
    dtype: x.dtype,
    nk: kept.length,
    nr: red.length,
    mode: grouped ? 'group' : 'thread',
    fastDiv: Math.max(nOut, nRed) < FAST_DIV_LIMIT,
  };
  const target = chunks > 1 ? allocate([nOut, chunks], x.dtype) : out;
  const workgroups = grouped ? grid1d(nOut * chunks, 1) : grid1d(nOut * chunks, WG);
  runKernel(reduceKernel, options, { inputs: [x], outputs: [target], uniforms: u, workgroups });
  if (chunks > 1) {
    runReduce(op, target, [1], out, scale, allocate);
    target.dispose();
  }
}
