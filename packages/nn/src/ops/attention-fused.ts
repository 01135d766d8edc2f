// Scaled dot-product attention as one op with its own kernels: the [L, S] probabilities are
// never stored. Forward, per query row (one invocation): the row's max and exp-sum over the
// keys, then out = sum_j p_j v_j with p_j = exp(s_j - lse); lse is kept for backward. Backward
// recomputes p from lse (FlashAttention's rule):
//
//   D_i = dO_i . O_i       dS_ij = p_ij (dO_i . v_j - D_i)
//   dQ_i = scale sum_j dS_ij k_j      dK_j = scale sum_i dS_ij q_i      dV_j = sum_i p_ij dO_i
//
// one kernel per query row (D and dQ), one per key row (dK and dV). Every sum runs in index
// order in one invocation: deterministic. The work per invocation is serial in the sequence
// length, which suits software adapters and short sequences; long sequences on GPUs want
// FlashAttention's tiling.
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  reshape,
  runKernel,
  ShapeError,
  TensorError,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';

const WG = 64;

// Words: B*L (rows), L, S, E, Ev, scale (f32), maskBatchStride (elements; 0: one [L, S] mask).
const PRELUDE = `
  let L = pu(1u); let S = pu(2u); let E = pu(3u); let Ev = pu(4u); let scale = pf(5u);`;

interface Variant {
  mask: boolean;
  causal: boolean;
}

const decl = (bindings: [string, string][], firstOut: number) =>
  bindings
    .map(
      ([name, type], k) =>
        `@group(0) @binding(${k + 1}) var<storage, ${k + 1 >= firstOut ? 'read_write' : 'read'}> ${name}: ${type};`,
    )
    .join('\n');

/** WGSL for score s(i, j) of batch b (q row at qo, k row at ko); -inf where masked out. */
const scoreFn = (o: Variant) => `
fn score(b: u32, i: u32, j: u32, qo: u32, ko: u32) -> f32 {
  let E = pu(3u);
  ${o.causal ? 'if (j > i) { return -3.0e38; }' : ''}
  var s = 0.0;
  for (var e = 0u; e < E; e++) { s += q[qo + e] * k[ko + e]; }
  s *= pf(5u);
  ${o.mask ? 's += mask[b * pu(6u) + i * pu(2u) + j];' : ''}
  return s;
}`;

const forwardKernel = defineKernel<Variant>({
  name: 'sdpa_forward',
  inputs: (o) => (o.mask ? 4 : 3),
  outputs: 2,
  source: (o) => {
    const ins: [string, string][] = [
      ['q', 'array<f32>'],
      ['k', 'array<f32>'],
      ['v', 'array<f32>'],
      ...(o.mask ? [['mask', 'array<f32>'] as [string, string]] : []),
    ];
    return `${uniformPreamble()}
${decl([...ins, ['out', 'array<f32>'], ['lse', 'array<f32>']], ins.length + 1)}
${scoreFn(o)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(WG)};
  if (r >= pu(0u)) { return; }${PRELUDE}
  let b = r / L; let i = r % L;
  let qo = r * E;
  var m = -3.402823e38;
  for (var j = 0u; j < S; j++) { m = max(m, score(b, i, j, qo, (b * S + j) * E)); }
  var l = 0.0;
  for (var j = 0u; j < S; j++) { l += exp(score(b, i, j, qo, (b * S + j) * E) - m); }
  let ls = m + log(l);
  lse[r] = ls;
  for (var e = 0u; e < Ev; e++) { out[r * Ev + e] = 0.0; }
  for (var j = 0u; j < S; j++) {
    let p = exp(score(b, i, j, qo, (b * S + j) * E) - ls);
    for (var e = 0u; e < Ev; e++) { out[r * Ev + e] += p * v[(b * S + j) * Ev + e]; }
  }
}`;
  },
});

// Per query row: D_i and dQ_i.
const dqKernel = defineKernel<Variant>({
  name: 'sdpa_backward_q',
  inputs: (o) => (o.mask ? 7 : 6),
  outputs: 2,
  source: (o) => {
    const ins: [string, string][] = [
      ['q', 'array<f32>'],
      ['k', 'array<f32>'],
      ['v', 'array<f32>'],
      ['o', 'array<f32>'],
      ['lse', 'array<f32>'],
      ['dO', 'array<f32>'],
      ...(o.mask ? [['mask', 'array<f32>'] as [string, string]] : []),
    ];
    return `${uniformPreamble()}
${decl([...ins, ['dq', 'array<f32>'], ['dd', 'array<f32>']], ins.length + 1)}
${scoreFn(o)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(WG)};
  if (r >= pu(0u)) { return; }${PRELUDE}
  let b = r / L; let i = r % L;
  let qo = r * E;
  var d = 0.0;
  for (var e = 0u; e < Ev; e++) { d += dO[r * Ev + e] * o[r * Ev + e]; }
  dd[r] = d;
  for (var e = 0u; e < E; e++) { dq[qo + e] = 0.0; }
  for (var j = 0u; j < S; j++) {
    let p = exp(score(b, i, j, qo, (b * S + j) * E) - lse[r]);
    var dp = 0.0;
    for (var e = 0u; e < Ev; e++) { dp += dO[r * Ev + e] * v[(b * S + j) * Ev + e]; }
    let ds = p * (dp - d) * scale;
    for (var e = 0u; e < E; e++) { dq[qo + e] += ds * k[(b * S + j) * E + e]; }
  }
}`;
  },
});

// Per key row: dK_j and dV_j. Words: B*S (rows) in word 0 instead of B*L.
const dkvKernel = defineKernel<Variant>({
  name: 'sdpa_backward_kv',
  inputs: (o) => (o.mask ? 7 : 6),
  outputs: 2,
  source: (o) => {
    const ins: [string, string][] = [
      ['q', 'array<f32>'],
      ['k', 'array<f32>'],
      ['v', 'array<f32>'],
      ['lse', 'array<f32>'],
      ['dd', 'array<f32>'],
      ['dO', 'array<f32>'],
      ...(o.mask ? [['mask', 'array<f32>'] as [string, string]] : []),
    ];
    return `${uniformPreamble()}
${decl([...ins, ['dk', 'array<f32>'], ['dv', 'array<f32>']], ins.length + 1)}
${scoreFn(o)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = ${linearIndex(WG)};
  if (c >= pu(0u)) { return; }${PRELUDE}
  let b = c / S; let j = c % S;
  let ko = c * E;
  for (var e = 0u; e < E; e++) { dk[ko + e] = 0.0; }
  for (var e = 0u; e < Ev; e++) { dv[c * Ev + e] = 0.0; }
  for (var i = 0u; i < L; i++) {
    let r = b * L + i;
    let p = exp(score(b, i, j, r * E, ko) - lse[r]);
    var dp = 0.0;
    for (var e = 0u; e < Ev; e++) {
      dp += dO[r * Ev + e] * v[c * Ev + e];
      dv[c * Ev + e] += p * dO[r * Ev + e];
    }
    let ds = p * (dp - dd[r]) * scale;
    for (var e = 0u; e < E; e++) { dk[ko + e] += ds * q[r * E + e]; }
  }
}`;
  },
});

interface Dims {
  B: number;
  L: number;
  S: number;
  E: number;
  Ev: number;
  scale: number;
  maskStride: number;
}

const uniforms = (rows: number, d: Dims) =>
  new Uniforms().u32(rows, d.L, d.S, d.E, d.Ev).f32(d.scale).u32(d.maskStride);

const fusedOp = defineOp({
  name: 'scaledDotProductAttention',
  forward: (ctx: OpContext, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, d: Dims, causal: boolean) => {
    const variant = { mask: mask !== null, causal };
    const out = empty([d.B, d.L, d.Ev]);
    const lse = empty([d.B, d.L]);
    runKernel(forwardKernel, variant, {
      inputs: mask ? [q, k, v, mask] : [q, k, v],
      outputs: [out, lse],
      uniforms: uniforms(d.B * d.L, d),
      workgroups: grid1d(d.B * d.L, WG),
    });
    ctx.save(q, k, v, out, lse, ...(mask ? [mask] : []));
    lse.dispose();
    Object.assign(ctx, { d, variant });
    return out;
  },
  backward: (ctx, dO) => {
    const [q, k, v, o, lse, mask] = ctx.saved as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
    const d = ctx.d as Dims;
    const variant = ctx.variant as Variant;
    const m = mask ? [mask] : [];
    const dq = empty(q.shape);
    const dd = empty([d.B, d.L]);
    runKernel(dqKernel, variant, {
      inputs: [q, k, v, o, lse, dO, ...m],
      outputs: [dq, dd],
      uniforms: uniforms(d.B * d.L, d),
      workgroups: grid1d(d.B * d.L, WG),
    });
    const dk = empty(k.shape);
    const dv = empty(v.shape);
    runKernel(dkvKernel, variant, {
      inputs: [q, k, v, lse, dd, dO, ...m],
      outputs: [dk, dv],
      uniforms: uniforms(d.B * d.S, d),
      workgroups: grid1d(d.B * d.S, WG),
    });
    dd.dispose();
    return [dq, dk, dv, null];
  },
});

export interface FusedAttentionOptions {
  /** Additive mask [L, S] or [..., L, S] with q's leading dims (-Infinity masks a pair out). */
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** Score scale (default 1 / sqrt(E)). */
  scale?: number;
}

/**
 * softmax(q kᵀ · scale + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev] (one set of
 * leading dims), without storing the probabilities. Differentiable in q, k and v.
 */
export function fusedAttention(q: Tensor, k: Tensor, v: Tensor, options: FusedAttentionOptions = {}): Tensor {
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank)
    throw new ShapeError(
      `fusedAttention: q, k and v must have one rank >= 2, got [${q.shape.join(', ')}], [${k.shape.join(', ')}], [${v.shape.join(', ')}]`,
    );
  const lead = q.shape.slice(0, -2);
  const [L, E] = q.shape.slice(-2) as [number, number];
  const [S, Ek] = k.shape.slice(-2) as [number, number];
  const Ev = v.shape.at(-1)!;
  const same = (t: Tensor) => t.shape.slice(0, -2).every((n, i) => n === lead[i]);
  if (Ek !== E || v.shape.at(-2) !== S || !same(k) || !same(v))
    throw new ShapeError(
      `fusedAttention: k must be [${[...lead, 'S', E].join(', ')}] and v [${[...lead, 'S', 'Ev'].join(', ')}] for q [${q.shape.join(', ')}], got k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`,
    );
  const B = lead.reduce((a, b) => a * b, 1);
  const { attnMask = null, isCausal = false, scale = 1 / Math.sqrt(E) } = options;
  if (!Number.isFinite(scale)) throw new TensorError(`fusedAttention: scale must be finite, got ${scale}`);
  let maskStride = 0;
  if (attnMask) {
    const ok2 = attnMask.rank === 2 && attnMask.shape[0] === L && attnMask.shape[1] === S;
    const okFull = attnMask.rank === q.rank && attnMask.shape.every((n, i) => n === [...lead, L, S][i]);
    if (!ok2 && !okFull)
      throw new ShapeError(
        `fusedAttention: attnMask must be [${L}, ${S}] or [${[...lead, L, S].join(', ')}], got [${attnMask.shape.join(', ')}]`,
      );
    maskStride = ok2 ? 0 : L * S;
  }
  const flat = (t: Tensor, rows: number) => reshape(t, [B, rows, t.shape.at(-1)!]);
  const out = fusedOp(flat(q, L), flat(k, S), flat(v, S), attnMask, { B, L, S, E, Ev, scale, maskStride }, isCausal);
  const shaped = reshape(out, [...lead, L, Ev]);
  out.dispose();
  return shaped;
}
