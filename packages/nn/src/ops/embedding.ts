// torch.nn.functional.embedding: rows of a weight [V, D] picked by i32 indices of any shape,
// giving [...indices.shape, D]. The weight's gradient sums the upstream rows of every position
// holding an index (none for paddingIdx). Without float atomics that sum is a gather: when the
// indices are on the host (token ids usually are) their positions are grouped by index there
// (a CSR of M + V + 1 integers), and one invocation per (index, column) sums its group; for
// indices only on the device one invocation per row scans them all and adds the matching rows
// (V x M comparisons: fine for modest vocabularies and batches). Both sum in position order,
// so the result does not depend on scheduling.
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  ShapeError,
  tensor,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import { checkClassTargets } from './class-targets.js';

const WG = 64;

// Words: M * D, D, NaN.
const gatherKernel = defineKernel({
  name: 'embedding_gather',
  inputs: 2,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let D = pu(1u);
  let v = idx[i / D];
  let V = i32(arrayLength(&weight) / D);
  out[i] = select(pf(2u), weight[u32(v) * D + i % D], v >= 0 && v < V);
}`,
});

// Words: V * D, D, M, paddingIdx (i32; -1 for none). idx: the CSR's starts [V + 1], then the
// positions. One invocation per (row, column).
const csrSumKernel = defineKernel({
  name: 'embedding_backward_csr',
  inputs: 2,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let D = pu(1u);
  let v = i / D; let d = i % D;
  let V = pu(0u) / D;
  var s = 0.0;
  if (i32(v) != pi(3u)) {
    for (var k = u32(idx[v]); k < u32(idx[v + 1u]); k++) { s += g[u32(idx[V + 1u + k]) * D + d]; }
  }
  dw[i] = s;
}`,
});

// Words: V, D, M, paddingIdx. idx: the indices themselves. One invocation per row.
const scanSumKernel = defineKernel({
  name: 'embedding_backward_scan',
  inputs: 2,
  outputs: 1,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let v = ${linearIndex(WG)};
  if (v >= pu(0u)) { return; }
  let D = pu(1u);
  for (var d = 0u; d < D; d++) { dw[v * D + d] = 0.0; }
  if (i32(v) == pi(3u)) { return; }
  for (var m = 0u; m < pu(2u); m++) {
    if (idx[m] != i32(v)) { continue; }
    for (var d = 0u; d < D; d++) { dw[v * D + d] += g[m * D + d]; }
  }
}`,
});

/** Positions grouped by index: starts [V + 1] then the positions in index order. */
function csrOf(indices: Int32Array, V: number): Int32Array {
  const out = new Int32Array(V + 1 + indices.length);
  for (const v of indices) out[v + 1]!++;
  for (let v = 0; v < V; v++) out[v + 1]! += out[v]!;
  const fill = out.slice(0, V);
  indices.forEach((v, m) => (out[V + 1 + fill[v]!++] = m));
  return out;
}

const embeddingOp = defineOp({
  name: 'embedding',
  forward: (ctx: OpContext, weight: Tensor, indices: Tensor, paddingIdx: number) => {
    const [V, D] = weight.shape as [number, number];
    const out = empty([...indices.shape, D]);
    runKernel(
      gatherKernel,
      {},
      {
        inputs: [weight, indices],
        outputs: [out],
        uniforms: new Uniforms().u32(out.size, D).f32(NaN),
        workgroups: grid1d(out.size, WG),
      },
    );
    const known = ctx.recording ? (indices.cachedData() as Int32Array | null) : null;
    const csr = known ? tensor(csrOf(known, V)) : null;
    ctx.save(csr ?? indices);
    csr?.dispose();
    Object.assign(ctx, { V, D, M: indices.size, paddingIdx, csr: csr !== null });
    return out;
  },
  backward: (ctx, g) => {
    const [idx] = ctx.saved as [Tensor];
    const { V, D, M, paddingIdx, csr } = ctx as unknown as {
      V: number;
      D: number;
      M: number;
      paddingIdx: number;
      csr: boolean;
    };
    const dw = empty([V, D]);
    if (csr)
      runKernel(
        csrSumKernel,
        {},
        {
          inputs: [g, idx],
          outputs: [dw],
          uniforms: new Uniforms().u32(V * D, D, M).i32(paddingIdx),
          workgroups: grid1d(V * D, WG),
        },
      );
    else
      runKernel(
        scanSumKernel,
        {},
        {
          inputs: [g, idx],
          outputs: [dw],
          uniforms: new Uniforms().u32(V, D, M).i32(paddingIdx),
          workgroups: grid1d(V, WG),
        },
      );
    return [dw, null];
  },
});

export interface EmbeddingOptions {
  /** An index whose row receives no gradient (negative counts from the end, as PyTorch). */
  paddingIdx?: number | null;
}

/** The rows of `weight` [V, D] at `indices` (i32, any shape): [...indices.shape, D]. */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  if (weight.dtype !== 'f32' || weight.rank !== 2)
    throw new ShapeError(`embedding: weight must be f32 [V, D], got ${weight.dtype} [${weight.shape.join(', ')}]`);
  if (indices.dtype !== 'i32') throw new ShapeError(`embedding: indices must be i32, got ${indices.dtype}`);
  const V = weight.shape[0]!;
  let pad = options.paddingIdx ?? null;
  if (pad !== null) {
    if (!Number.isInteger(pad) || pad < -V || pad >= V)
      throw new TensorError(`embedding: paddingIdx must be an integer in [-${V}, ${V}), got ${pad}`);
    if (pad < 0) pad += V;
  }
  checkClassTargets('embedding', indices, V, null, 'index');
  return embeddingOp(weight, indices, pad ?? -1);
}
