// Staging for the texture matmul (matmul-texture.ts): op(A) and op(B) written into rgba32float
// scratch textures, transposes folded in and both padded to whole blocks:
//   A texture: texel (k4, b·Mp + r) = op(A)[b][r][4·k4 .. 4·k4 + 3]   (Mp = M rounded up to tm)
//   B texture: texel (c4, b·Kp + k) = op(B)[b][k][4·c4 .. 4·c4 + 3]   (Kp = K rounded up to 4)
// Rows of whole 256-byte multiples are copied (copyBufferToTexture); the rest go through the
// stage kernel.
import { getEngine } from '../../device.js';
import { defineKernel, runKernel, uniformPreamble, Uniforms } from '../../kernel.js';
import type { ScratchTexture } from '../../scratch-textures.js';
import type { Tensor } from '../../tensor.js';

export interface StageOptions {
  /**
   * The source holds the logical [R, C] matrix transposed (as [C, R] row-major). The lanes then
   * run along r, the source's contiguous axis, so a workgroup touches 4 cache lines, not 32.
   */
  trans: boolean;
  /**
   * Not transposed, C and the batch stride multiples of 4: one vec4 load per texel (one pass of
   * llvmpipe's per-lane load loop instead of four), about 2x faster. Transposed, R and the
   * stride multiples of 4: a lane stages 4 rows from 4 vec4 loads along r (a 4x4 transpose in
   * registers) instead of 16 scalar loads.
   */
  vec4: boolean;
  /**
   * Invocations per workgroup, along r (trans) or along the texels. 64: llvmpipe runs a
   * workgroup's SIMD passes in one call, so fewer, larger workgroups save its per-workgroup
   * cost; 1.4-2.3x faster than 8 on DenseNet's larger operands (measured with the kernel profiler).
   */
  lanes: number;
  /**
   * Not transposed: rows per workgroup (a power of two dividing lanes), so that a matrix of few
   * texels per row (Winograd's 32-column transformed weights: 8) does not leave most of a
   * workgroup's lanes past the row's end.
   */
  rows?: number;
  /** Stage v · scale + shift per stored row of the source, then ReLU if uniform word 5 says so (BAffine). */
  affine?: boolean;
  /** The source holds f16 (needs 'shader-f16'): loads widen to f32, the texture is f32 as ever. */
  half?: boolean;
}

/**
 * A per-row affine map, optionally followed by ReLU, applied to B as it is staged: row i of b as
 * stored (its second-to-last dim, whether or not the product reads it transposed) becomes
 * b · scale[i] + shift[i], then max(·, 0) with relu. coef is f32 [rows, 4] with each row's scale in
 * column 2 and shift in column 3; columns 0 and 1 are not read, so a caller that keeps two more
 * per-row values beside them (a normalisation's mean and inverse deviation) passes its buffer as it
 * is. A per-channel normalisation and activation in front of a 1x1 convolution then costs no pass
 * of its own, and its output is never stored.
 */
export interface BAffine {
  coef: Tensor;
  relu: boolean;
}

let stageLanes = 64;

/** Probes only: invocations per workgroup of the stage kernel (default 64). */
export function setStageLanes(n: number): void {
  stageLanes = n;
}

let copies = true;

/**
 * Probes only (bench/texture-staging-probe.mjs): false stages every operand with the kernel (and
 * reads B in place below STAGE_B_MIN_ROWS rows).
 */
export function setTextureCopies(on: boolean): void {
  copies = on;
}

export function textureCopies(): boolean {
  return copies;
}

/** The stage kernel's workgroup: (x, y) invocations. */
function workgroupShape(o: StageOptions): [number, number] {
  return o.trans ? [1, o.lanes] : [o.lanes / (o.rows ?? 1), o.rows ?? 1];
}

// Uniform words: R, C, source stride per batch entry, texels per row, rows per entry (padded),
// relu (with affine).
export const matmulStageKernel = defineKernel<StageOptions>({
  name: 'matmul-stage',
  inputs: (o) => (o.affine ? 2 : 1),
  outputs: 0,
  textures: ['storage'],
  source: (o) => {
    const [wx, wy] = workgroupShape(o);
    return `${o.half ? 'enable f16;\n' : ''}${uniformPreamble()}
${stageDecls(o)}
@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
${stageBody(o)}
}
`;
  },
});

function stageDecls(o: StageOptions): string {
  const element = o.vec4 ? 'vec4<f32>' : 'f32';
  const stored = o.half ? element.replace('f32', 'f16') : element;
  const affine = `@group(0) @binding(2) var<storage, read> coef: array<vec4<f32>>;
fn affine(v: vec4<f32>, k: vec4<f32>) -> vec4<f32> { let y = v * vec4<f32>(k.z) + vec4<f32>(k.w); return select(y, max(y, vec4<f32>(0.0)), pu(5u) != 0u); }
fn affine4(v: vec4<f32>, s: vec4<f32>, t: vec4<f32>) -> vec4<f32> { let y = v * s + t; return select(y, max(y, vec4<f32>(0.0)), pu(5u) != 0u); }`;
  return `@group(0) @binding(1) var<storage, read> S: array<${stored}>;
fn load(i: u32) -> ${element} { return ${element}(S[i]); }
${o.affine ? affine : ''}
@group(0) @binding(${o.affine ? 3 : 2}) var T: texture_storage_2d<rgba32float, write>;`;
}

/** The stage of invocation gid. */
function stageBody(o: StageOptions): string {
  const head = `  let R = pu(0u); let C = pu(1u);
  let src = gid.z * pu(2u);`;
  // The source element of logical (r, c) in entry gid.z.
  const at = (r: string, c: string): string => (o.trans ? `src + ${c} * R + ${r}` : `src + ${r} * C + ${c}`);
  const q = [0, 1, 2, 3];
  if (o.trans && o.vec4) {
    // A lane writes texels (x, r0 .. r0 + 3). Each vec4 holds 4 rows r0.. of one stored row
    // (channel) 4x + j: one affine map for all 4.
    const affine = (j: number) => (o.affine ? ` v${j} = affine(v${j}, coef[4u * x + ${j}u]);` : '');
    return `${head}
  let x = gid.x; let r0 = 4u * gid.y;
  if (x >= pu(3u) || r0 >= pu(4u)) { return; }
${q.map((j) => `  var v${j} = vec4<f32>(0.0);`).join('\n')}
  if (r0 < R) {
${q.map((j) => `    if (4u * x + ${j}u < C) { v${j} = load((${at('r0', `(4u * x + ${j}u)`)}) / 4u);${affine(j)} }`).join('\n')}
  }
  let row = gid.z * pu(4u) + r0;
${q.map((i) => `  textureStore(T, vec2<u32>(x, row + ${i}u), vec4<f32>(v0[${i}], v1[${i}], v2[${i}], v3[${i}]));`).join('\n')}`;
  }
  // One texel per lane: (x, r) from 4 loads (or one vec4 load), zero past the matrix.
  const load = o.vec4
    ? `    if (4u * x < C) { v = load((${at('r', '4u * x')}) / 4u); }`
    : `    let c0 = 4u * x;
${q.map((j) => `    if (c0 + ${j}u < C) { v.${'xyzw'[j]} = load(${at('r', `(c0 + ${j}u)`)}); }`).join('\n')}`;
  // Stored rows: r (not transposed) or the texel's four columns (transposed).
  const k = (j: number) => `coef[min(4u * x + ${j}u, C - 1u)]`;
  const map = o.trans
    ? `affine4(v, vec4<f32>(${q.map((j) => `${k(j)}.z`).join(', ')}), vec4<f32>(${q.map((j) => `${k(j)}.w`).join(', ')}))`
    : 'affine(v, coef[r])';
  const affine = o.affine ? `\n    v = ${map};` : '';
  return `${head}
  let x = gid.x; let r = gid.y;
  if (x >= pu(3u) || r >= pu(4u)) { return; }
  var v = vec4<f32>(0.0);
  if (r < R) {
${load}${affine}
  }
  textureStore(T, vec2<u32>(x, gid.z * pu(4u) + r), v);`;
}

/** What stages one operand: its matrix, the texture and its layout there. */
export interface StageJob {
  src: Tensor;
  dst: ScratchTexture;
  /** The logical matrix [R, C] per batch entry, `stride` elements apart in src (0: shared). */
  R: number;
  C: number;
  stride: number;
  trans: boolean;
  /** Texels per row and rows per entry in the texture (padded), and entries staged. */
  texels: number;
  rowsPerEntry: number;
  entries: number;
  affine?: BAffine | null;
}

/**
 * Write the logical [R, C] matrices of the job's `src` into its texture, zero-padded. Rows of whole
 * 256-byte multiples (C % 64 == 0, not transposed) are copied instead, about 2-3x faster than the
 * stage kernel on lavapipe; the copy leaves the padding (rows past R, texels past C/4) as earlier
 * products left it, which only ever reaches outputs that are not stored: rows past R are rows of
 * C past M (A) and texels past C/4 are columns of C past N (B), while the padding along K, which
 * does reach stored outputs, does not exist when C (= K for A) is a multiple of 4.
 */
export function stage(job: StageJob): void {
  const { src, dst, R, C, stride, trans, texels, rowsPerEntry, entries } = job;
  const affine = job.affine ?? null;
  const half = src.dtype === 'f16';
  // Texture copies move bytes: f16 values must go through the stage kernel to become f32.
  if (!affine && !half && copies && !trans && C % 64 === 0 && stride % 4 === 0 && R % 4 === 0) {
    const engine = getEngine();
    if (rowsPerEntry === R && (entries === 1 || stride === R * C))
      engine.copyToTexture(src.buffer, 0, C * 4, dst.texture, 0, C / 4, entries * R);
    else
      for (let e = 0; e < entries; e++)
        engine.copyToTexture(src.buffer, e * stride * 4, C * 4, dst.texture, e * rowsPerEntry, C / 4, R);
    return;
  }
  // rowsPerEntry (the padded M or K) is always a multiple of 4, so a lane's 4 rows stay in one entry.
  const vec4 = (trans ? R % 4 === 0 && rowsPerEntry % 4 === 0 : C % 4 === 0) && stride % 4 === 0;
  const lanes = stageLanes;
  // Narrow rows: a workgroup spans several rows, each at least as wide as the texels of a row.
  const rows = trans ? 1 : Math.max(1, lanes / Math.max(4, 2 ** Math.ceil(Math.log2(texels))));
  const opts: StageOptions = {
    trans,
    vec4,
    lanes,
    ...(rows > 1 ? { rows } : {}),
    ...(affine ? { affine: true } : {}),
    ...(half ? { half } : {}),
  };
  const workgroups: [number, number, number] = trans
    ? [texels, Math.ceil(rowsPerEntry / (vec4 ? 4 * lanes : lanes)), entries]
    : [Math.ceil(texels / (lanes / rows)), Math.ceil(rowsPerEntry / rows), entries];
  runKernel(matmulStageKernel, opts, {
    inputs: affine ? [src, affine.coef] : [src],
    outputs: [],
    textures: [dst.view],
    uniforms: new Uniforms().u32(R, C, stride, texels, rowsPerEntry, affine?.relu ? 1 : 0),
    workgroups,
  });
}
