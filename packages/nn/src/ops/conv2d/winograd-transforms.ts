// The five transform kernels of Winograd's minimal filtering F(m x m, 3x3) (Lavin & Gray 2015),
// generated from the transform matrices for m = 2 (4x4 patches, 16 products per tile) or m = 4
// (6x6 patches, 36 per tile): an m x m output tile is A^T [(G g G^T) ⊙ (B^T d B)] A. The
// GEMMs between them run on the tensor matmul (conv2d-winograd.ts).
//
//   weights      U = G g G^T per (out, in) channel pair           [α², R, K]
//   input        V = B^T d B per input channel and tile           [α², K, cols]
//   output       Y = A^T M A (+ bias) from the products M          [N, R, OH, OW]
//   grad-output  dM = A dY A^T, the adjoint of output (weight gradient)
//   weight-grad  dw = G^T dU G, the adjoint of weights
//
// The weights, input and grad-output transforms are generated as parts that one kernel runs
// in turn over one invocation range (partsSource): a convolution's input and weight transforms
// take one dispatch (inputWeightsKernel), and a padding-1 convolution's backward transforms
// (the upstream gradient's input and grad-output transforms, the flipped weights') one more
// (backwardTransformsKernel).
//
// Tiles are grouped TILES_PER_LANE along a row: one invocation transforms a group and writes
// one vec4 per ξ (the GEMM's 4-column loads line up with it); neighbouring patches share the
// columns they overlap. Out-of-image reads are the zero padding; tiles past the row end are
// zeros, and outputs past the image edge are not written.
import { defineKernel, linearIndex, uniformPreamble } from '@spine/tensor';
import { range } from './conv2d-kernel.js';

export const WG = 64;
/** Output tiles per invocation of the transforms, along a row. */
export const TILES_PER_LANE = 4;

export type WinogradTile = 2 | 4;

/** A part's written binding type for a storage texture (TransformPart.writes). */
const TEXTURE = 'texture';

interface Matrices {
  /** α x α. */
  BT: number[][];
  /** α x 3. */
  G: number[][];
  /** m x α. */
  AT: number[][];
}

// F(2x2, 3x3): interpolation points 0, 1, -1, ∞.
const F2: Matrices = {
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};

// F(4x4, 3x3): points 0, 1, -1, 2, -2, ∞ (Lavin & Gray's matrices). The transforms scale by up
// to 8 and 1/24, so it rounds more than F(2x2); test/ops/conv2d/conv2d-winograd.test.ts holds it to
// 1e-5 of the largest output against float64 at 128 input channels.
const F4: Matrices = {
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

export const matricesOf = (m: WinogradTile): Matrices => (m === 2 ? F2 : F4);
export const alphaOf = (m: WinogradTile): number => m + 2;

const literal = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));

/** Σ coeffs[i] · terms[i] as WGSL, zero terms left out and ±1 without a multiply. */
export function lin(coeffs: readonly number[], terms: readonly string[]): string {
  let out = '';
  coeffs.forEach((c, i) => {
    if (c === 0) return;
    const body = Math.abs(c) === 1 ? terms[i]! : `${literal(Math.abs(c))} * ${terms[i]}`;
    out += out ? `${c < 0 ? ' - ' : ' + '}${body}` : c < 0 ? `-${body}` : body;
  });
  return out ? `(${out})` : '0.0';
}

const column = (M: number[][], j: number): number[] => M.map((row) => row[j]!);

/** The entry point of every transform: one invocation per linear index `i`. */
const ENTRY = [
  `@compute @workgroup_size(${WG})`,
  'fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
  `  let i = ${linearIndex(WG)};`,
];

/** A transform as a part of a kernel: its storage bindings, uniform words and statements. */
interface TransformPart {
  /** Read-only storage bindings, [name, element type]; parts that name the same one share it. */
  reads: [string, string][];
  /**
   * Written bindings, bound after every part's reads: storage buffers, then (type TEXTURE) rgba32f
   * storage textures in a texture matmul's operand layout (conv2d-winograd.ts, prepareTextureProduct).
   */
  writes: [string, string][];
  /** Uniform words the part reads, word 0 its invocation count. */
  words: number;
  /** Statements for invocation `i`, its words read as pu(k)/pi(k) from its own word 0. */
  body: string[];
}

/** WGSL of a kernel made of `parts` in turn over one invocation range, words in that order. */
function partsSource(parts: readonly TransformPart[]): string {
  const reads = new Map<string, string>();
  for (const p of parts) for (const [name, type] of p.reads) reads.set(name, type);
  // Bindings: reads, buffer writes, then texture writes (the engine binds textures last).
  const writes = parts.flatMap((p) => p.writes);
  const ordered = [...reads, ...writes.filter(([, t]) => t !== TEXTURE), ...writes.filter(([, t]) => t === TEXTURE)];
  const decls = ordered.map(([name, type], b) =>
    type === TEXTURE
      ? `@group(0) @binding(${b + 1}) var ${name}: texture_storage_2d<rgba32float, write>;`
      : `@group(0) @binding(${b + 1}) var<storage, ${b < reads.size ? 'read' : 'read_write'}> ${name}: array<${type}>;`,
  );
  const L = [uniformPreamble(), ...decls];
  if (parts.length === 1) {
    L.push(...ENTRY, ...parts[0]!.body, '}');
    return L.join('\n');
  }
  // Each part in a function of its own, its word k read from the part's offset + k; invocation
  // i of the kernel is the first part's i, or the next part's i less the first's count, ...
  let offset = 0;
  const starts: number[] = [];
  parts.forEach((p, k) => {
    starts.push(offset);
    const body = p.body.map((line) =>
      line.replace(/\bp([uif])\((\d+)u\)/g, (_, t: string, w: string) => `p${t}(${Number(w) + offset}u)`),
    );
    L.push(`fn part${k}(i: u32) {`, ...body, '}');
    offset += p.words;
  });
  L.push(...ENTRY.slice(0, 2), `  var i = ${linearIndex(WG)};`);
  parts.forEach((_, k) => {
    if (k === parts.length - 1) L.push(`  part${k}(i);`);
    else L.push(`  if (i < pu(${starts[k]}u)) { part${k}(i); return; }`, `  i -= pu(${starts[k]}u);`);
  });
  L.push('}');
  return L.join('\n');
}

/** Tile-group coordinates from the linear index; words 6-8 are groups per row, g0, Gc. */
function groupCoordinates(channel: string): string[] {
  return [
    '  let TXG = pu(6u); let Gc = pu(8u);',
    '  if (i >= pu(0u)) { return; }',
    `  let gl = i % Gc; let ${channel} = i / Gc; let gg = pu(7u) + gl;`,
    '  let txg = gg % TXG; let rowg = gg / TXG; let ty = rowg % tH; let n = rowg / tH;',
    `  let tx0 = txg * ${TILES_PER_LANE}u;`,
  ];
}

/**
 * U[ξ, r, k] = (G g G^T)[ξ] for the 3x3 kernel g from input channel k to output channel r.
 * `flip` (the data gradient, a convolution of the upstream gradient): g[i][j] = w[k, r, 2-i, 2-j].
 * Words: total (R*K), R, K. `texture`: U is the A operand of a texture product, texel
 * (k / 4, ξ · rows + r) with rows word 3; an invocation transforms the 4 kernels of one texel and
 * the total is R*K/4 (K a multiple of 4).
 */
function weightPart(m: WinogradTile, flip: boolean, texture = false): TransformPart {
  const a = alphaOf(m);
  const L: string[] = [];
  L.push('  let R = pu(1u); let K = pu(2u);');
  L.push('  if (i >= pu(0u)) { return; }');
  if (!texture) {
    L.push('  let k = i % K; let r = i / K;');
    L.push(...weightValues(m, flip, 'k', ''));
    for (const p of range(a)) for (const q of range(a)) L.push(`  U[(${p * a + q}u * R + r) * K + k] = u${p}_${q};`);
    return { reads: [['wts', 'f32']], writes: [['U', 'f32']], words: 3, body: L };
  }
  L.push('  let K4 = K / 4u; let k0 = 4u * (i % K4); let r = i / K4;');
  for (const j of range(4)) L.push(...weightValues(m, flip, `k0 + ${j}u`, `_${j}`));
  for (const p of range(a))
    for (const q of range(a)) {
      const v = range(4).map((j) => `u${p}_${q}_${j}`);
      L.push(`  textureStore(U, vec2<u32>(k0 / 4u, ${p * a + q}u * pu(3u) + r), vec4<f32>(${v.join(', ')}));`);
    }
  return { reads: [['wts', 'f32']], writes: [['U', TEXTURE]], words: 4, body: L };
}

/** Statements defining u{p}_{q}{suffix} = (G g G^T)[p·α + q] for input channel `k` and output channel r. */
function weightValues(m: WinogradTile, flip: boolean, k: string, suffix: string): string[] {
  const { G } = matricesOf(m);
  const a = alphaOf(m);
  const L: string[] = [];
  L.push(flip ? `  let base${suffix} = ((${k}) * R + r) * 9u;` : `  let base${suffix} = (r * K + ${k}) * 9u;`);
  for (const x of range(3))
    for (const y of range(3))
      L.push(`  let g${x}${y}${suffix} = wts[base${suffix} + ${flip ? (2 - x) * 3 + (2 - y) : x * 3 + y}u];`);
  // G g (α x 3), then each row times G^T.
  for (const p of range(a))
    for (const y of range(3))
      L.push(
        `  let t${p}_${y}${suffix} = ${lin(
          G[p]!,
          range(3).map((x) => `g${x}${y}${suffix}`),
        )};`,
      );
  for (const p of range(a))
    for (const q of range(a))
      L.push(
        `  let u${p}_${q}${suffix} = ${lin(
          G[q]!,
          range(3).map((y) => `t${p}_${y}${suffix}`),
        )};`,
      );
  return L;
}

/**
 * V[ξ, c, col] = (B^T d B)[ξ] for the α x α patch d of input channel c under one tile; column
 * col = (g - g0) * TILES_PER_LANE + t for tile group g. Words: total (C*Gc), C, H, W, tH, tW,
 * groups per row, g0, Gc, ph, pw.
 * `bnRelu`: d is relu(x · scale + shift) of the input x, with the per-channel (mean, invstd,
 * scale, shift) of a second input (batchnorm.ts's stats, the same expression as its apply
 * kernel), so a BN-ReLU before the convolution is never written out; the padding stays zero.
 */
function inputPart(m: WinogradTile, bnRelu: boolean, texture = false): TransformPart {
  const { BT } = matricesOf(m);
  const a = alphaOf(m);
  const T = TILES_PER_LANE;
  const cols = m * T + 2;
  const L: string[] = [];
  L.push('  let C = pu(1u); let H = pi(2u); let W = pi(3u); let tH = pu(4u); let tW = pu(5u);');
  L.push(...groupCoordinates('c'));
  if (bnRelu) L.push('  let st = stats[c];');
  const load = (addr: string) => (bnRelu ? `max(src[${addr}] * st.z + st.w, 0.0)` : `src[${addr}]`);
  L.push(`  let top = i32(${m}u * ty) - pi(9u); let left = i32(${m}u * tx0) - pi(10u);`);
  L.push('  let base = (n * C + c) * u32(H * W);');
  for (const b of range(cols))
    L.push(
      `  let iw${b} = left + ${b}; let okw${b} = iw${b} >= 0 && iw${b} < W; let cw${b} = u32(clamp(iw${b}, 0, W - 1));`,
    );
  for (const p of range(a)) {
    L.push(
      `  let ih${p} = top + ${p}; let okh${p} = ih${p} >= 0 && ih${p} < H; let rb${p} = base + u32(clamp(ih${p}, 0, H - 1) * W);`,
    );
    for (const b of range(cols))
      L.push(`  let d${p}_${b} = select(0.0, ${load(`rb${p} + cw${b}`)}, okh${p} && okw${b});`);
  }
  // B^T d for every loaded column, then (B^T d) B per tile over its α columns.
  for (const p of range(a))
    for (const b of range(cols))
      L.push(
        `  let e${p}_${b} = ${lin(
          BT[p]!,
          range(a).map((x) => `d${x}_${b}`),
        )};`,
      );
  for (const t of range(T)) {
    L.push(`  let live${t} = tx0 + ${t}u < tW;`);
    for (const p of range(a))
      for (const q of range(a))
        L.push(
          `  let v${t}_${p}_${q} = ${lin(
            BT[q]!,
            range(a).map((y) => `e${p}_${m * t + y}`),
          )};`,
        );
  }
  L.push('  let plane = C * Gc;');
  for (const p of range(a))
    for (const q of range(a)) {
      const parts = range(T).map((t) => `select(0.0, v${t}_${p}_${q}, live${t})`);
      const value = `vec4<f32>(${parts.join(', ')})`;
      L.push(
        texture
          ? `  textureStore(V, vec2<u32>(gl, ${p * a + q}u * pu(11u) + c), ${value});`
          : `  V[${p * a + q}u * plane + c * Gc + gl] = ${value};`,
      );
    }
  const reads: [string, string][] = [['src', 'f32']];
  if (bnRelu) reads.push(['stats', 'vec4<f32>']);
  return { reads, writes: [['V', texture ? TEXTURE : 'vec4<f32>']], words: texture ? 12 : 11, body: L };
}

export const inputKernel = defineKernel<{ m: WinogradTile; bnRelu?: boolean }>({
  name: 'nn_winograd_input',
  inputs: (o) => (o.bnRelu ? 2 : 1),
  outputs: 1,
  source: ({ m, bnRelu }) => partsSource([inputPart(m, bnRelu ?? false)]),
});

/**
 * Y tiles from the GEMM products M[ξ, oc, col]: Y = A^T m A, plus the bias; outputs past the
 * image edge are not written. Words: total (OC*Gc), OC, OH, OW, tH, tW, groups per row, g0, Gc.
 */
function outputPart(m: WinogradTile, bias: boolean): TransformPart {
  const { AT } = matricesOf(m);
  const a = alphaOf(m);
  const L: string[] = [];
  L.push('  let OC = pu(1u); let OH = pu(2u); let OW = pu(3u); let tH = pu(4u); let tW = pu(5u);');
  L.push(...groupCoordinates('oc'));
  L.push('  let plane = OC * Gc;');
  for (const x of range(a * a)) L.push(`  let m${x} = M[${x}u * plane + oc * Gc + gl];`);
  // A^T m: m rows of α, then times A: m values each.
  for (const r of range(m))
    for (const q of range(a))
      L.push(
        `  let r${r}_${q} = ${lin(
          AT[r]!,
          range(a).map((p) => `m${p * a + q}`),
        )};`,
      );
  L.push(bias ? '  let bv = vec4<f32>(bias[oc]);' : '  let bv = vec4<f32>(0.0);');
  for (const r of range(m))
    for (const s of range(m))
      L.push(
        `  let y${r}${s} = ${lin(
          AT[s]!,
          range(a).map((q) => `r${r}_${q}`),
        )} + bv;`,
      );
  L.push(`  let oh0 = ${m}u * ty; let yb = ((n * OC + oc) * OH + oh0) * OW;`);
  for (const t of range(TILES_PER_LANE)) {
    const comp = 'xyzw'[t]!;
    L.push(`  if (tx0 + ${t}u < tW) {`);
    L.push(`    let ow = ${m}u * (tx0 + ${t}u);`);
    for (const r of range(m)) {
      L.push(`    if (oh0 + ${r}u < OH) {`);
      for (const s of range(m))
        L.push(`      if (ow + ${s}u < OW) { Y[yb + ${r}u * OW + ow + ${s}u] = y${r}${s}.${comp}; }`);
      L.push('    }');
    }
    L.push('  }');
  }
  const reads: [string, string][] = [['M', 'vec4<f32>']];
  if (bias) reads.push(['bias', 'f32']);
  return { reads, writes: [['Y', 'f32']], words: 9, body: L };
}

export const outputKernel = defineKernel<{ m: WinogradTile; bias: boolean }>({
  name: 'nn_winograd_output',
  inputs: (o) => (o.bias ? 2 : 1),
  outputs: 1,
  source: ({ m, bias }) => partsSource([outputPart(m, bias)]),
});

/**
 * The weight gradient's transform of the upstream gradient: dM[ξ, r, col] = (A dy A^T)[ξ] for
 * the m x m gradient tile dy of output channel r (the adjoint of outputKernel). Outputs past the
 * image edge, and tiles past the row end, contribute zeros, as the forward never wrote them.
 * Words: total (R*Gc), R, OH, OW, tH, tW, groups per row, g0, Gc.
 */
function gradOutputPart(m: WinogradTile, texture = false): TransformPart {
  const { AT } = matricesOf(m);
  const a = alphaOf(m);
  const T = TILES_PER_LANE;
  const L: string[] = [];
  L.push('  let R = pu(1u); let OH = pu(2u); let OW = pu(3u); let tH = pu(4u); let tW = pu(5u);');
  L.push(...groupCoordinates('r'));
  L.push(`  let oh0 = ${m}u * ty; let base = (n * R + r) * OH * OW;`);
  for (const x of range(m))
    L.push(`  let okh${x} = oh0 + ${x}u < OH; let rb${x} = base + min(oh0 + ${x}u, OH - 1u) * OW;`);
  for (const t of range(T)) {
    L.push(`  let live${t} = tx0 + ${t}u < tW; let ow${t} = ${m}u * (tx0 + ${t}u);`);
    for (const y of range(m))
      L.push(`  let okw${t}_${y} = live${t} && ow${t} + ${y}u < OW; let cw${t}_${y} = min(ow${t} + ${y}u, OW - 1u);`);
    for (const x of range(m))
      for (const y of range(m))
        L.push(`  let dy${t}_${x}${y} = select(0.0, src[rb${x} + cw${t}_${y}], okh${x} && okw${t}_${y});`);
    // dy A^T per row (α values), then A (dy A^T): dM[p][q] = Σ_x AT[x][p] h[x][q].
    for (const x of range(m))
      for (const q of range(a))
        L.push(
          `  let h${t}_${x}_${q} = ${lin(
            column(AT, q),
            range(m).map((y) => `dy${t}_${x}${y}`),
          )};`,
        );
  }
  L.push('  let plane = R * Gc;');
  for (const p of range(a))
    for (const q of range(a)) {
      const parts = range(T).map((t) =>
        lin(
          column(AT, p),
          range(m).map((x) => `h${t}_${x}_${q}`),
        ),
      );
      const value = `vec4<f32>(${parts.join(', ')})`;
      L.push(
        texture
          ? `  textureStore(D, vec2<u32>(gl, ${p * a + q}u * pu(9u) + r), ${value});`
          : `  D[${p * a + q}u * plane + r * Gc + gl] = ${value};`,
      );
    }
  return {
    reads: [['src', 'f32']],
    writes: [['D', texture ? TEXTURE : 'vec4<f32>']],
    words: texture ? 10 : 9,
    body: L,
  };
}

export const gradOutputKernel = defineKernel<{ m: WinogradTile }>({
  name: 'nn_winograd_grad_output',
  inputs: 1,
  outputs: 1,
  source: ({ m }) => partsSource([gradOutputPart(m)]),
});

/**
 * A convolution's input and weight transforms in one dispatch: the input's (inputPart, words
 * 0-10) and the weights' (weightPart, words 11-13). Bindings: x[, stats], w -> V, U.
 */
export const inputWeightsKernel = defineKernel<{ m: WinogradTile; bnRelu: boolean; flip: boolean }>({
  name: 'nn_winograd_input_weights',
  inputs: (o) => (o.bnRelu ? 3 : 2),
  outputs: 2,
  source: ({ m, bnRelu, flip }) => partsSource([inputPart(m, bnRelu), weightPart(m, flip)]),
});

/**
 * A 3x3 convolution's backward transforms in one dispatch where the data gradient's tiles are
 * the weight gradient's (padding 1): the upstream gradient's input transform for the data
 * gradient (inputPart, words 0-10), its grad-output transform for the weight gradient
 * (gradOutputPart, words 11-19) and the flipped weights' (weightPart, words 20-22).
 * Bindings: gy, w -> V, D, U. With `textures`, V, D and U are written straight into the two
 * gradients' texture products as their operands (V the data gradient's B, U its A, D the weight
 * gradient's A), and each part takes one more word, its texture rows per ξ: words 0-11, 12-21,
 * 22-25.
 */
export const backwardTransformsKernel = defineKernel<{ m: WinogradTile; textures?: boolean }>({
  name: 'nn_winograd_backward_transforms',
  inputs: 2,
  outputs: (o) => (o.textures ? 0 : 3),
  textures: (o) => (o.textures ? ['storage', 'storage', 'storage'] : []),
  source: ({ m, textures = false }) =>
    partsSource([inputPart(m, false, textures), gradOutputPart(m, textures), weightPart(m, true, textures)]),
});

/** dw[r, k] (3x3) = G^T dU[·, r, k] G from the α² products dU [α², R, K]. Words: total (R*K), R, K. */
function weightGradPart(m: WinogradTile): TransformPart {
  const { G } = matricesOf(m);
  const a = alphaOf(m);
  const L: string[] = [];
  L.push('  let R = pu(1u); let K = pu(2u);');
  L.push('  if (i >= pu(0u)) { return; }');
  L.push('  let k = i % K; let r = i / K;');
  for (const x of range(a * a)) L.push(`  let u${x} = dU[(${x}u * R + r) * K + k];`);
  // G^T dU (3 x α), then times G.
  for (const x of range(3))
    for (const q of range(a))
      L.push(
        `  let t${x}_${q} = ${lin(
          column(G, x),
          range(a).map((p) => `u${p * a + q}`),
        )};`,
      );
  L.push('  let base = i * 9u;');
  for (const x of range(3))
    for (const y of range(3))
      L.push(
        `  dw[base + ${x * 3 + y}u] = ${lin(
          column(G, y),
          range(a).map((q) => `t${x}_${q}`),
        )};`,
      );
  return { reads: [['dU', 'f32']], writes: [['dw', 'f32']], words: 3, body: L };
}

export const weightGradKernel = defineKernel<{ m: WinogradTile }>({
  name: 'nn_winograd_weight_grad',
  inputs: 1,
  outputs: 1,
  source: ({ m }) => partsSource([weightGradPart(m)]),
});

/**
 * The inverse transforms of a convolution's two gradients in one dispatch: the data gradient's
 * output transform (outputPart, no bias, words 0-8) and the weight gradient's (weightGradPart,
 * words 9-11). Bindings: the data gradient's products, dU -> dx, dw.
 */
export const gradsOutputKernel = defineKernel<{ m: WinogradTile }>({
  name: 'nn_winograd_grads_output',
  inputs: 2,
  outputs: 2,
  source: ({ m }) => partsSource([outputPart(m, false), weightGradPart(m)]),
});
