// layerNorm's kernels: rows of D values (the normalised trailing dims), one invocation per row
// for the forward (two passes: mean, then biased variance) and the input gradient, one per
// column for the weight and bias gradients (summing over the rows in order: deterministic).
//
//   forward:  xhat = (x - mean) rstd,  y = xhat w + b,  rstd = 1 / sqrt(var + eps)
//   backward: gw = g w;  dx = rstd (gw - mean(gw) - xhat mean(gw xhat));  dw = sum_rows g xhat;  db = sum_rows g
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  uniformPreamble,
  Uniforms,
  type OpContext,
  type Tensor,
} from '@spine/tensor';

const WG = 64;

interface Affine {
  weight: boolean;
  bias: boolean;
}

// Words: rows, D, eps. stats[r] = (mean, rstd).
const forwardKernel = defineKernel<Affine>({
  name: 'layer_norm_forward',
  inputs: (o) => 1 + Number(o.weight) + Number(o.bias),
  outputs: 2,
  source: (o) => {
    let b = 1;
    const decl = [`@group(0) @binding(${b++}) var<storage, read> x: array<f32>;`];
    if (o.weight) decl.push(`@group(0) @binding(${b++}) var<storage, read> w: array<f32>;`);
    if (o.bias) decl.push(`@group(0) @binding(${b++}) var<storage, read> bs: array<f32>;`);
    decl.push(
      `@group(0) @binding(${b++}) var<storage, read_write> y: array<f32>;`,
      `@group(0) @binding(${b++}) var<storage, read_write> stats: array<vec2<f32>>;`,
    );
    return `${uniformPreamble()}
${decl.join('\n')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(WG)};
  if (r >= pu(0u)) { return; }
  let D = pu(1u);
  let base = r * D;
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s += x[base + d]; }
  let mean = s / f32(D);
  var v = 0.0;
  for (var d = 0u; d < D; d++) { let c = x[base + d] - mean; v += c * c; }
  let rstd = inverseSqrt(v / f32(D) + pf(2u));
  stats[r] = vec2<f32>(mean, rstd);
  for (var d = 0u; d < D; d++) {
    y[base + d] = (x[base + d] - mean) * rstd${o.weight ? ' * w[d]' : ''}${o.bias ? ' + bs[d]' : ''};
  }
}`;
  },
});

// Words: rows, D.
const dxKernel = defineKernel<{ weight: boolean }>({
  name: 'layer_norm_dx',
  inputs: (o) => (o.weight ? 4 : 3),
  outputs: 1,
  source: (o) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<vec2<f32>>;
${o.weight ? '@group(0) @binding(4) var<storage, read> w: array<f32>;' : ''}
@group(0) @binding(${o.weight ? 5 : 4}) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = ${linearIndex(WG)};
  if (r >= pu(0u)) { return; }
  let D = pu(1u);
  let base = r * D;
  let st = stats[r];
  var a = 0.0; var c = 0.0;
  for (var d = 0u; d < D; d++) {
    let gw = g[base + d]${o.weight ? ' * w[d]' : ''};
    a += gw;
    c += gw * (x[base + d] - st.x) * st.y;
  }
  a /= f32(D); c /= f32(D);
  for (var d = 0u; d < D; d++) {
    let gw = g[base + d]${o.weight ? ' * w[d]' : ''};
    dx[base + d] = st.y * (gw - a - (x[base + d] - st.x) * st.y * c);
  }
}`,
});

// Words: rows, D. dw[d] = sum_rows g xhat, db[d] = sum_rows g.
const dwKernel = defineKernel({
  name: 'layer_norm_dw',
  inputs: 3,
  outputs: 2,
  source: () => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<storage, read_write> db: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let d = ${linearIndex(WG)};
  let D = pu(1u);
  if (d >= D) { return; }
  var sw = 0.0; var sb = 0.0;
  for (var r = 0u; r < pu(0u); r++) {
    let st = stats[r];
    let gv = g[r * D + d];
    sw += gv * (x[r * D + d] - st.x) * st.y;
    sb += gv;
  }
  dw[d] = sw;
  db[d] = sb;
}`,
});

const layerNormOp = defineOp({
  name: 'layerNorm',
  forward: (
    ctx: OpContext,
    x: Tensor,
    weight: Tensor | null,
    bias: Tensor | null,
    paramShape: readonly number[],
    eps: number,
  ) => {
    const D = paramShape.reduce((a, b) => a * b, 1);
    const rows = x.size / D;
    const y = empty(x.shape);
    const stats = empty([rows, 2]);
    const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
    runKernel(
      forwardKernel,
      { weight: weight !== null, bias: bias !== null },
      { inputs, outputs: [y, stats], uniforms: new Uniforms().u32(rows, D).f32(eps), workgroups: grid1d(rows, WG) },
    );
    ctx.save(x, stats, ...(weight ? [weight] : []));
    stats.dispose();
    Object.assign(ctx, { D, rows, paramShape, weighted: weight !== null, biased: bias !== null });
    return y;
  },
  backward: (ctx, g) => {
    const [x, stats, weight] = ctx.saved as [Tensor, Tensor, Tensor | undefined];
    const { D, rows, weighted, biased } = ctx as unknown as {
      D: number;
      rows: number;
      weighted: boolean;
      biased: boolean;
    };
    const u = new Uniforms().u32(rows, D);
    const dx = empty(x.shape);
    runKernel(
      dxKernel,
      { weight: weighted },
      {
        inputs: weight ? [x, g, stats, weight] : [x, g, stats],
        outputs: [dx],
        uniforms: u,
        workgroups: grid1d(rows, WG),
      },
    );
    const grads: (Tensor | null)[] = [dx];
    if (weighted || biased) {
      // The weight and bias have the normalised shape (D values).
      const shape = ctx.paramShape as number[];
      const [dw, db] = [empty(shape), empty(shape)];
      runKernel(dwKernel, {}, { inputs: [x, g, stats], outputs: [dw, db], uniforms: u, workgroups: grid1d(D, WG) });
      if (weighted) grads.push(dw);
      else dw.dispose();
      if (biased) grads.push(db);
      else db.dispose();
    }
    return grads;
  },
});

/** The fused layer norm of x over its trailing dims `normalizedShape` (shapes checked by the caller). */
export function layerNormFused(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  normalizedShape: readonly number[],
  eps: number,
): Tensor {
  return layerNormOp(x, weight, bias, normalizedShape, eps);
}
