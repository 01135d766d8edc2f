// Matmul on subgroup matrices. This machine's adapter has none, so: the shared core's builtin
// lines (subgroup-matrix-tiles.ts: loads from the staged tiles in each layout, the
// multiply-accumulates, the store to the scratch) are run by a small interpreter of the
// builtins' documented semantics (row_major puts element (r, c) at offset + r·stride + c,
// col_major at offset + c·stride + r; the matrix types list columns before rows) on random tiles,
// against the product the tiles hold; the matmul kernel's real text is the emulated one's but for
// those lines; and the emulated kernel (the builtins replaced by plain WGSL) runs on this device
// at awkward sizes, in every transpose and configuration shape, against float64. On a GPU with
// the feature, the same products run on the real kernel (skipped here).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import * as tuning from '../src/tuning.js';
import { chooseSubgroupMatrixConfig, subgroupMatrixSource } from '../src/ops/matmul/matmul-subgroup-matrix.js';
import {
  subgroupMatrixBlock,
  subgroupMatrixProducts,
  subgroupMatrixToScratch,
  type SubgroupMatrixTiles,
  type TileLayout,
} from '../src/ops/matmul/subgroup-matrix-tiles.js';
import {
  CHECK_SIZE,
  CHECK_TOLERANCE,
  decideSubgroupMatrices,
  type SubgroupMatrixFacts,
} from '../src/ops/matmul/subgroup-matrix-check.js';
import { refMatmul, refMatmulAbs } from './reference/matmul.js';
import { mapArr, type Arr } from './reference/ndarray.js';
import { refRoundF16 } from './reference/half.js';
import { download, expectClose } from './helpers/gpu.js';
import { randomArr, rng, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  tuning.setMatmulSubgroupMatrixEmulation(null);
  tuning.setMatmulSubgroupMatrixShape(null);
  T.setKernelFamily(null);
});

describe('the configuration', () => {
  it('is the largest f16 -> f32 one, never an f16 -> f16 one', () => {
    const configs = [
      { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 32 },
      { componentType: 'f16', resultComponentType: 'f32', M: 8, N: 8, K: 8 },
      { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 },
      { componentType: 'f32', resultComponentType: 'f32', M: 8, N: 8, K: 8 },
      { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 16, K: 32 },
    ];
    expect(chooseSubgroupMatrixConfig(configs, 'f16')).toMatchObject({ M: 16, N: 16, K: 16 });
    expect(chooseSubgroupMatrixConfig(configs, 'f32')).toMatchObject({ M: 8, N: 8, K: 8 });
    expect(chooseSubgroupMatrixConfig(configs.slice(0, 1), 'f16')).toBeNull();
    expect(chooseSubgroupMatrixConfig([], 'f16')).toBeNull();
  });
});

/** A WGSL u32 expression of the generated lines as a number, given the names in scope. */
function evaluate(expr: string, env: Record<string, number>): number {
  const js = expr.replace(/(\d+)u\b/g, '$1');
  const names = Object.keys(env);
  return Function(...names, `return (${js});`)(...names.map((k) => env[k]));
}

type Matrix = { rows: number; cols: number; v: Float64Array };

/** Runs the real (builtin) lines of one staged step for the subgroup at (sm, sn); returns its accumulators. */
function runProducts(
  lines: string[],
  t: SubgroupMatrixTiles,
  tiles: Record<string, Float64Array>,
  env: Record<string, number>,
) {
  const acc: Record<string, Matrix> = {};
  for (let i = 0; i < t.tm; i++)
    for (let j = 0; j < t.tn; j++) acc[`acc_${i}_${j}`] = { rows: t.m, cols: t.n, v: new Float64Array(t.m * t.n) };
  const loaded: Record<string, Matrix> = {};
  for (const line of lines.map((l) => l.trim())) {
    if (line === '{' || line === '}' || line === 'workgroupBarrier();') continue;
    const load =
      /^let (\w+) = subgroupMatrixLoad<subgroup_matrix_(left|right)<f16, (\d+), (\d+)>, (row_major|col_major)>\(&(tA|tB), (.+), (.+)\);$/.exec(
        line,
      );
    if (load) {
      const [, name, side, cols, rows, major, tile, off, stride] = load;
      // left<T, K, M>: M rows of K; right<T, N, K>: K rows of N.
      expect([Number(cols), Number(rows)]).toEqual(side === 'left' ? [t.k, t.m] : [t.n, t.k]);
      const o = evaluate(off!, env);
      const s = evaluate(stride!, env);
      const m: Matrix = { rows: Number(rows), cols: Number(cols), v: new Float64Array(Number(rows) * Number(cols)) };
      for (let r = 0; r < m.rows; r++)
        for (let c = 0; c < m.cols; c++)
          m.v[r * m.cols + c] = tiles[tile!]![major === 'row_major' ? o + r * s + c : o + c * s + r]!;
      loaded[name!] = m;
      continue;
    }
    const mma = /^(acc_\d+_\d+) = subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (acc_\d+_\d+)\);$/.exec(line);
    if (mma) {
      const [, out, a, b, add] = mma;
      expect(add).toBe(out);
      const [l, r, d] = [loaded[a!]!, loaded[b!]!, acc[out!]!];
      for (let i = 0; i < d.rows; i++)
        for (let j = 0; j < d.cols; j++)
          for (let q = 0; q < l.cols; q++) d.v[i * d.cols + j] += l.v[i * l.cols + q]! * r.v[q * r.cols + j]!;
      continue;
    }
    throw new Error(`unknown statement: ${line}`);
  }
  return acc;
}

describe("the shared core's builtin lines", () => {
  const shapes: SubgroupMatrixTiles[] = [
    { m: 16, n: 16, k: 16, tm: 2, tn: 3, sgRows: 2, sgCols: 2, ks: 2, subgroupSize: 32 },
    { m: 8, n: 16, k: 8, tm: 3, tn: 1, sgRows: 2, sgCols: 3, ks: 3, subgroupSize: 32 },
  ];
  const layouts: [TileLayout, TileLayout][] = [
    ['k-major', 'k-major'],
    ['k-major', 'k-minor'],
    ['k-minor', 'k-major'],
    ['k-minor', 'k-minor'],
  ];
  for (const t of shapes)
    for (const [a, b] of layouts)
      it(`${t.m}x${t.n}x${t.k}, ${t.tm}x${t.tn} matrices per subgroup, A ${a}, B ${b}: every subgroup's sums over the tiles`, () => {
        const { BM, BN, bk } = subgroupMatrixBlock(t);
        const next = rng(seedFor('sgm-core', t.m, t.tm, a, b));
        const tA = Float64Array.from({ length: BM * bk }, () => Math.round(next() * 16 - 8));
        const tB = Float64Array.from({ length: bk * BN }, () => Math.round(next() * 16 - 8));
        // The tiles' elements A(r, kk) and B(kk, c) in their layouts.
        const A = (r: number, kk: number) => tA[a === 'k-major' ? kk * BM + r : r * bk + kk]!;
        const B = (kk: number, c: number) => tB[b === 'k-major' ? kk * BN + c : c * bk + kk]!;
        const lines = subgroupMatrixProducts(t, a, b);
        for (let sr = 0; sr < t.sgRows; sr++)
          for (let sc = 0; sc < t.sgCols; sc++) {
            const env = { sm: sr * t.tm * t.m, sn: sc * t.tn * t.n, k0: 0 };
            const acc = runProducts(lines, t, { tA, tB }, env);
            for (let i = 0; i < t.tm; i++)
              for (let j = 0; j < t.tn; j++)
                for (let r = 0; r < t.m; r++)
                  for (let c = 0; c < t.n; c++) {
                    let want = 0;
                    for (let kk = 0; kk < bk; kk++) want += A(env.sm + i * t.m + r, kk) * B(kk, env.sn + j * t.n + c);
                    expect(
                      acc[`acc_${i}_${j}`]!.v[r * t.n + c],
                      `subgroup (${sr}, ${sc}) matrix (${i}, ${j}) [${r}, ${c}]`,
                    ).toBe(want);
                  }
          }
      });

  it('store each result matrix row-major at scrBase, where the emulation puts element e at scrBase + e', () => {
    const t = shapes[0]!;
    expect(subgroupMatrixToScratch(t, 1, 2)).toBe('  subgroupMatrixStore<row_major>(&scr, scrBase, acc_1_2, 16u);');
    // Emulated: lane l holds elements l, l + 32, ... of each matrix, element e at (e / n, e % n),
    // which row-major is scrBase + e.
    expect(subgroupMatrixToScratch({ ...t, emulate: true }, 1, 2)).toBe(
      '  for (var q = 0u; q < 8u; q++) { scr[scrBase + lane + q * 32u] = acc_1_2[q]; }',
    );
  });
});

describe('the matmul kernel', () => {
  const o = { m: 16, n: 8, k: 16, tm: 2, tn: 3, sgRows: 2, sgCols: 2, ks: 2, subgroupSize: 32 };
  for (const [transA, transB] of [
    [false, false],
    [true, true],
  ])
    it(`differs from its emulation only in the builtins' lines (A${transA ? 'ᵀ' : ''}·B${transB ? 'ᵀ' : ''})`, () => {
      // Without the step's products (after the staging's barrier, up to the k step) and the lines
      // that enable the builtins, declare the accumulators or store them.
      const shared = (src: string) => {
        const lines = src.split('\n');
        const start = lines.indexOf('    workgroupBarrier();') + 1;
        const end = lines.findIndex((l) => l.startsWith('    k0 += '));
        expect(start > 0 && end > start).toBe(true);
        return [...lines.slice(0, start), ...lines.slice(end)].filter((l) => !/subgroup|acc_/.test(l));
      };
      const vec = { vecA: transA, vecB: transA };
      const real = subgroupMatrixSource({ ...o, ...vec, transA, transB, emulate: false });
      const emulated = subgroupMatrixSource({ ...o, ...vec, transA, transB, emulate: true });
      expect(real).toContain('enable chromium_experimental_subgroup_matrix;');
      expect(emulated).not.toContain('subgroupMatrix');
      expect(shared(real)).toEqual(shared(emulated));
    });
});

const hasF16 = () => T.getEngine().device.features.has('shader-f16');
const half = (a: Arr): Arr => mapArr(a, refRoundF16);

/** f16 products through the route against float64 (operands f16); the kernel must have run. */
async function checkProducts(sizes: [number, number, number, number][], trans: [boolean, boolean][]): Promise<void> {
  for (const [nb, M, N, K] of sizes)
    for (const [ta, tb] of trans) {
      const sa = ta ? [nb, K, M] : [nb, M, K];
      const sb = tb ? [nb, N, K] : [nb, K, N];
      const a = half(randomArr(sa, seedFor('sgm-mm-a', sa, sb, ta, tb)));
      const b = half(randomArr(sb, seedFor('sgm-mm-b', sa, sb, ta, tb)));
      const label = `[${sa}]${ta ? 'ᵀ' : ''}·[${sb}]${tb ? 'ᵀ' : ''}`;
      let got: T.Tensor | null = null;
      const profile = await T.profileKernels(async () => {
        got = T.matmul(T.tensor(Float32Array.from(a.data), sa, 'f16'), T.tensor(Float32Array.from(b.data), sb, 'f16'), {
          transA: ta,
          transB: tb,
          out: 'f32',
        });
        await got.data();
      });
      expect(
        profile.kernels.map((k) => k.name),
        label,
      ).toContain('matmul-subgroup-matrix');
      // f32 sums of exact f16 products: within a few f32 roundings of |A|·|B|.
      const scale = mapArr(refMatmulAbs(a, b, ta, tb), (v) => v * K * 2 ** -22);
      expectClose(await download(got!), refMatmul(a, b, ta, tb), { rtol: 0, atol: 1e-6, scale }, label);
    }
}

const ALL: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe.runIf(hasF16)('the emulated kernel on this device, f16 operands against float64', () => {
  // Partial blocks on both sides and in k, several blocks, a batch (with M, N and K multiples of
  // 4, every operand staged by vec4 loads; otherwise by elements); a whole 64³ block.
  const SIZES: [number, number, number, number][] = [
    [2, 37, 45, 70],
    [2, 36, 44, 72],
    [1, 130, 66, 33],
    [1, 64, 64, 64],
  ];
  it('16x16x16, subgroups of 32 (NVIDIA): every transpose', async () => {
    T.setKernelFamily('gpu');
    tuning.setMatmulSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
    expect(tuning.matmulSubgroupMatrixRoute(64, 64, 64)).toMatchObject({ tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 2 });
    // vec4 loads along each operand's contiguous axis where it is a multiple of 4 long.
    expect(tuning.matmulSubgroupMatrixRoute(37, 45, 72)).toMatchObject({ vecA: true, vecB: false });
    expect(tuning.matmulSubgroupMatrixRoute(37, 45, 72, true, true)).toMatchObject({ vecA: false, vecB: true });
    expect(tuning.matmulSubgroupMatrixRoute(36, 44, 70, true, false)).toMatchObject({ vecA: true, vecB: true });
    await checkProducts(SIZES, ALL);
  });

  it('8x8x8 in subgroups of 32 and 8x16x16 in subgroups of 64, other block shapes', async () => {
    T.setKernelFamily('gpu');
    tuning.setMatmulSubgroupMatrixEmulation({ m: 8, n: 8, k: 8, subgroupSize: 32 });
    await checkProducts(SIZES.slice(0, 3), [ALL[1]!, ALL[2]!]);
    tuning.setMatmulSubgroupMatrixEmulation({ m: 8, n: 16, k: 16, subgroupSize: 64 });
    tuning.setMatmulSubgroupMatrixShape({ tm: 3, tn: 1, sgRows: 1, sgCols: 2, ks: 1 });
    await checkProducts(SIZES.slice(0, 3), [ALL[0]!, ALL[3]!]);
  });

  it('a shared (broadcast) operand, and autocast products (matmulAutocast) take the kernel too', async () => {
    T.setKernelFamily('gpu');
    tuning.setMatmulSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
    const a = half(randomArr([3, 20, 24], 71));
    const b = half(randomArr([24, 19], 72));
    const got = T.matmul(
      T.tensor(Float32Array.from(a.data), a.shape, 'f16'),
      T.tensor(Float32Array.from(b.data), b.shape, 'f16'),
      {
        out: 'f32',
      },
    );
    const bBatched: Arr = {
      shape: [3, 24, 19],
      data: Float64Array.from({ length: 3 * 24 * 19 }, (_, i) => b.data[i % (24 * 19)]!),
    };
    expectClose(await download(got), refMatmul(a, bBatched), { rtol: 1e-5, atol: 1e-6 }, 'broadcast B');
    const x = T.tensor(Float32Array.from(randomArr([5, 40], 73).data), [5, 40]);
    const w = T.tensor(Float32Array.from(randomArr([40, 3], 74).data), [40, 3]);
    const profile = await T.profileKernels(async () => {
      await T.matmulAutocast(x, w).data();
    });
    expect(profile.kernels.map((k) => k.name)).toContain('matmul-subgroup-matrix');
  });

  it('leaves products with few blocks over a long reduction to the tiled kernel, which splits it', () => {
    T.setKernelFamily('gpu');
    tuning.setMatmulSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
    expect(tuning.matmulSubgroupMatrixRoute(10, 4096, 4096)).toBeNull();
    expect(tuning.matmulSubgroupMatrixRoute(10, 4096, 256)).not.toBeNull();
    expect(tuning.matmulSubgroupMatrixRoute(4096, 4096, 4096)).not.toBeNull();
    T.setKernelFamily('cpu');
    expect(tuning.matmulSubgroupMatrixRoute(4096, 4096, 4096)).toBeNull();
  });
});

// Where ready() switched subgroup matrices on (a GPU with the feature), the real kernel.
describe("matmul on this device's subgroup matrices, f16 operands against float64", () => {
  it('awkward sizes, every transpose', async (ctx) => {
    T.setKernelFamily('gpu');
    if (!hasF16() || !tuning.matmulSubgroupMatrixRoute(64, 64, 64)) ctx.skip();
    await checkProducts(
      [
        [2, 37, 45, 70],
        [1, 130, 66, 33],
        [1, 256, 256, 256],
      ],
      ALL,
    );
  });
});

describe('subgroup matrices decided at ready()', () => {
  const gpu = { family: 'gpu', hasFeature: true, hasF16Config: true, unsafeApis: true } as const;
  const agree = async () => 3e-7;

  it('open only on the gpu family with the feature, an f16 configuration and a check product that agrees', async () => {
    expect(await decideSubgroupMatrices('auto', gpu, agree)).toMatchObject({ enabled: true });
    expect(await decideSubgroupMatrices(true, gpu, agree)).toMatchObject({ enabled: true });
    const off = async (setting: 'auto' | boolean, facts: SubgroupMatrixFacts, check = agree) => {
      const d = await decideSubgroupMatrices(setting, facts, check);
      expect(d.enabled).toBe(false);
      return d.detail;
    };
    expect(await off(false, gpu)).toMatch(/subgroupMatrices false/);
    expect(await off('auto', { ...gpu, hasFeature: false, unsafeApis: false })).toMatch(/allow_unsafe_apis/);
    expect(await off('auto', { ...gpu, hasFeature: false })).toMatch(/does not list [^(]*$/);
    expect(await off('auto', { ...gpu, hasF16Config: false })).toMatch(/no f16 configuration/);
    expect(await off('auto', { ...gpu, family: 'cpu' })).toMatch(/'cpu' kernel family/);
    expect(await off('auto', gpu, async () => 10 * CHECK_TOLERANCE)).toMatch(/differs/);
    expect(
      await off('auto', gpu, async () => {
        throw new Error('pipeline creation failed\nmore');
      }),
    ).toMatch(/failed \(pipeline creation failed\)$/);
  });

  it("this device's decision, and routes closed where it is off", () => {
    const status = T.subgroupMatrixStatus();
    if (!T.deviceInfo().features.includes('chromium-experimental-subgroup-matrix')) {
      expect(status.enabled).toBe(false);
      expect(status.detail).toMatch(/^off: /);
    }
    if (!status.enabled) expect(tuning.matmulSubgroupMatrixRoute(CHECK_SIZE, CHECK_SIZE, CHECK_SIZE)).toBeNull();
  });
});
