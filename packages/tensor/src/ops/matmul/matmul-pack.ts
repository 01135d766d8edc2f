// B panels for the cpu-family matmul: op(B) rewritten k-major in column panels as wide as one
// workgroup's block (wx·tn columns), Bp[b][p][k][c] = op(B)[b][k][min(p·W + c, N - 1)].
//
// Why: with B row-major, each workgroup walked B's rows a full row apart (4 KiB at N = 1024),
// so every k step touched a new page, which the hardware prefetcher does not follow; profiling
// on lavapipe put the time on the first load of each row (docs/PERFORMANCE.md). In a panel the
// workgroup's reads are one sequential stream. The pack is one pass over B (K·N), small beside
// the product's M·N·K once M is a few row blocks, and it also turns transposed B into the same
// layout, so all four transpose variants share one main kernel per block size.
import { defineKernel, uniformPreamble } from '../../kernel.js';

export interface PackOptions {
  transB: boolean;
  /** Panel width in vec4s (wx·tn / 4), a compile-time constant so / and % are shifts. */
  w4: number;
}

/**
 * Pack only when the product has this many rows: below it the pass costs too large a share. At
 * 32 rows (two 16-row blocks, e.g. Winograd's GEMMs with 32 output channels) the 16x8 block runs
 * about as fast packed as in place, and packing lets those products take the tier-up's 32x32
 * block: about 1.6x at that shape (`bench/mm-shape-probe.mjs 16x32x128x3136`, docs/PERFORMANCE.md).
 */
export const PACK_MIN_ROWS = 32;
/** Rows of k per invocation of the pack kernel. */
export const PACK_K_CHUNK = 64;

/** Whether a product takes packed B: enough rows, vec4 reads of A along k, one row of lanes. */
export function canPackB(M: number, K: number, transA: boolean, tm: number, tn: number, wy: number): boolean {
  // Row blocks go along workgroup x (at most 65,535 of them).
  if (M < PACK_MIN_ROWS || wy !== 1 || tn % 4 !== 0 || K % 4 !== 0 || Math.ceil(M / tm) > 65535) return false;
  return !transA || (M % 4 === 0 && tm % 4 === 0);
}

// Uniform words: N, K, source stride per batch entry (elements), panels.
export const matmulPackKernel = defineKernel<PackOptions>({
  name: 'matmul-pack',
  inputs: 1,
  outputs: 1,
  source: (o) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read_write> P: array<vec4<f32>>;
@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let N = pu(0u); let K = pu(1u); let panels = pu(3u);
  let c4 = gid.x;
  if (c4 >= panels * ${o.w4}u) { return; }
  let p = c4 / ${o.w4}u; let cw = c4 % ${o.w4}u;
  let src = gid.z * pu(2u);
  let dst = gid.z * panels * K * ${o.w4}u + p * K * ${o.w4}u + cw;
  let c0 = min(c4 * 4u, N - 1u); let c1 = min(c4 * 4u + 1u, N - 1u);
  let c2 = min(c4 * 4u + 2u, N - 1u); let c3 = min(c4 * 4u + 3u, N - 1u);
  let k1 = min(gid.y * ${PACK_K_CHUNK}u + ${PACK_K_CHUNK}u, K);
  for (var k = gid.y * ${PACK_K_CHUNK}u; k < k1; k++) {
${
  o.transB
    ? '    P[dst + k * ' +
      o.w4 +
      'u] = vec4<f32>(S[src + c0 * K + k], S[src + c1 * K + k], S[src + c2 * K + k], S[src + c3 * K + k]);'
    : '    let r = src + k * N;\n    P[dst + k * ' +
      o.w4 +
      'u] = vec4<f32>(S[r + c0], S[r + c1], S[r + c2], S[r + c3]);'
}
  }
}
`,
});
