// conv2d's implicit GEMMs on subgroup matrices. This adapter has no subgroup matrices, so the
// kernel runs emulated (the builtins replaced by plain WGSL over the same workgroup tiles and
// scratch: conv2d-subgroup-matrix-kernel.ts), routed as a GPU routes f16 convolutions, on the gpu
// kernel family: the staging, implied padding, flipped weights, split reductions, bias and
// bounded stores are checked against float64 at awkward sizes, in configurations of several
// shapes. The builtins' own lines are run by a small interpreter of their documented semantics
// (loads row- or column-major at an offset and stride, multiply-accumulates, the store) on random
// tiles, against the emulation's sums. On a GPU with subgroup matrices, the same convolutions run
// on the real kernel.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { conv2d } from '../../../src/ops/conv2d/conv2d.js';
import { conv2dAutocast } from '../../../src/ops/conv2d/conv2d-autocast.js';
import { convSubgroupMatrixKernel } from '../../../src/ops/conv2d/conv2d-subgroup-matrix-kernel.js';
import { convSubgroupMatrixStatus, convSubgroupMatrixTiles } from '../../../src/ops/conv2d/conv2d-subgroup-matrix.js';
// ready() routes the device's own subgroup matrices only after this check (where they exist).
import '../../../src/ops/conv2d/conv2d-subgroup-matrix-check.js';
import { setConvSubgroupMatrixEmulation, setConvSubgroupMatrixShape } from '../../../src/tuning.js';
import { conv2dGradRef, conv2dRef, type Arr, type ConvRefOptions } from '../conv-pool-reference.js';
import { expectNear, randomArr } from '../../helpers/near.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  setConvSubgroupMatrixEmulation(null);
  setConvSubgroupMatrixShape(null);
  T.setKernelFamily(null);
});

const hasF16 = () => T.getEngine().device.features.has('shader-f16');
const half = (a: Arr): Arr => ({ shape: a.shape, data: a.data.map(T.roundToF16) });
const upload = (a: Arr) => {
  const t = T.tensor(Float32Array.from(a.data), a.shape);
  t.requiresGrad = true;
  return t;
};

interface Case {
  label: string;
  x: number[];
  w: number[];
  bias: boolean;
  o: ConvRefOptions;
}

const CASES: Case[] = [
  { label: '3x3 pad 1, 198 pixels, 7 channels', x: [2, 5, 9, 11], w: [7, 5, 3, 3], bias: true, o: opts(1, 1, 1) },
  {
    label: '3x3 stride 2 (the data gradient strided)',
    x: [2, 5, 9, 11],
    w: [7, 5, 3, 3],
    bias: false,
    o: opts(2, 1, 1),
  },
  {
    label: 'dilation 2, 40 channels (64-column blocks)',
    x: [1, 3, 13, 10],
    w: [40, 3, 3, 3],
    bias: true,
    o: opts(1, 2, 2),
  },
  // One output workgroup: the reduction splits over workgroup z (576 = 2 chunks, the bias once).
  {
    label: 'split forward: 64 channels in, 30 pixels',
    x: [1, 64, 6, 5],
    w: [9, 64, 3, 3],
    bias: true,
    o: opts(1, 1, 1),
  },
  // The weight gradient's pixel sum splits (1,800 pixels, 36 rows).
  { label: 'split weight gradient: 1,800 pixels', x: [2, 4, 30, 30], w: [6, 4, 3, 3], bias: false, o: opts(1, 1, 1) },
  // 1x1: under autocast on the GEMM too, not the f32 matmul.
  { label: '1x1, 35 pixels', x: [2, 6, 5, 7], w: [9, 6, 1, 1], bias: true, o: opts(1, 0, 1) },
  {
    label: '2x3 kernel, padding [0, 2], stride [1, 2]',
    x: [2, 3, 7, 8],
    w: [5, 3, 2, 3],
    bias: false,
    o: { stride: [1, 2], padding: [0, 2], dilation: [1, 1] },
  },
];

function opts(stride: number, padding: number, dilation: number): ConvRefOptions {
  return { stride: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation] };
}

// Every case in the configuration NVIDIA's drivers list; the others (matrices per lane, tile
// shapes) on the plain and the split cases.
const CONFIGS = [
  { config: { m: 16, n: 16, k: 16, subgroupSize: 32 }, cases: CASES },
  { config: { m: 8, n: 8, k: 8, subgroupSize: 32 }, cases: [CASES[0]!, CASES[3]!, CASES[4]!] },
  { config: { m: 8, n: 16, k: 16, subgroupSize: 64 }, cases: [CASES[0]!, CASES[2]!, CASES[4]!, CASES[5]!] },
];

/**
 * conv2dAutocast of case `c` and its gradients against float64 (operands rounded to f16), with
 * the subgroup-matrix kernel dispatched for the forward, the weight gradient and the stride-1
 * data gradient; emulated in `config`, or (null) on the device's own subgroup matrices.
 */
async function checkCase(c: Case, config: (typeof CONFIGS)[number]['config'] | null): Promise<void> {
  T.setKernelFamily('gpu');
  setConvSubgroupMatrixEmulation(config);
  const x = half(randomArr(c.x, 41 + c.x[3]!));
  const w = half(randomArr(c.w, 43 + c.w[0]!));
  const b = c.bias ? half(randomArr([c.w[0]!], 47)) : null;
  const tx = upload(x);
  const tw = upload(w);
  const tb = b ? upload(b) : null;
  const options = { stride: c.o.stride, padding: c.o.padding, dilation: c.o.dilation };
  let y: T.Tensor | null = null;
  let r: Arr | null = null;
  const profile = await T.profileKernels(async () => {
    y = conv2dAutocast(tx, tw, tb, options)!;
    r = half(randomArr([...y.shape], 53));
    T.sum(T.mul(y, T.tensor(Float32Array.from(r.data), r.shape))).backward();
    await tw.grad!.data();
  });
  const dispatches = profile.kernels.find((k) => k.name === 'nn_conv2d_subgroup_matrix')?.dispatches;
  // forward, weight gradient, and the data gradient where it is stride 1.
  expect(dispatches, 'subgroup-matrix dispatches').toBe(c.o.stride[0] === 1 && c.o.stride[1] === 1 ? 3 : 2);
  await expectNear(y!, conv2dRef(x, w, b, c.o), 1e-5, `${c.label} y`);
  const want = conv2dGradRef(x, w, r!, c.o);
  await expectNear(tx.grad!, want.dx, 1e-5, `${c.label} dx`);
  await expectNear(tw.grad!, want.dw, 1e-5, `${c.label} dW`);
}

describe.runIf(hasF16)('conv2d on subgroup matrices (emulated), f16 operands against float64', () => {
  for (const { config, cases } of CONFIGS)
    for (const c of cases)
      it(`${config.m}x${config.n}x${config.k}, subgroups of ${config.subgroupSize}: ${c.label}`, () =>
        checkCase(c, config));

  it('f32 operands and the cpu family keep their kernels', async () => {
    setConvSubgroupMatrixEmulation(CONFIGS[0]!.config);
    T.setKernelFamily('gpu');
    const x = T.randn([1, 4, 6, 6]);
    x.requiresGrad = true;
    const profile = await T.profileKernels(async () => {
      const y = conv2d(x, T.randn([5, 4, 3, 3]), null, { padding: 1 });
      T.sum(y).backward();
      await x.grad!.data();
    });
    expect(profile.kernels.map((k) => k.name)).not.toContain('nn_conv2d_subgroup_matrix');
    T.setKernelFamily('cpu');
    expect(convSubgroupMatrixTiles(32)).toBeNull();
    T.setKernelFamily('gpu');
    expect(convSubgroupMatrixTiles(32)).toMatchObject({ tm: 2, tn: 1, sgRows: 2, sgCols: 2, ks: 2, emulate: true });
    expect(convSubgroupMatrixTiles(33)).toMatchObject({ tn: 2 });
    // Without the emulation, only a device whose check switched them on.
    setConvSubgroupMatrixEmulation(null);
    if (!convSubgroupMatrixStatus().enabled) expect(convSubgroupMatrixTiles(32)).toBeNull();
  });
});

describe.runIf(hasF16)('conv2d on subgroup matrices (emulated), past 65,535 workgroups of rows', () => {
  it('folds the row blocks over workgroup z (a 1x1 convolution of 2.1 M pixels, bias)', async () => {
    T.setKernelFamily('gpu');
    setConvSubgroupMatrixEmulation(CONFIGS[0]!.config);
    // Blocks of 32 rows and a k tile of 16, the smallest of this configuration (the emulation's
    // cost): 2,102,500 pixels are 65,704 blocks.
    setConvSubgroupMatrixShape({ tm: 1, tn: 1, sgRows: 2, sgCols: 2, ks: 1 });
    const side = 1450;
    const px = side * side;
    const xs = Float32Array.from({ length: 2 * px }, (_, i) => T.roundToF16(((i * 7919) % 1000) / 500 - 1));
    const ws = [0.5, -1.25, 2, 0.75, -0.5, 1.5];
    const bs = [0.25, -0.125, 0.5];
    const x = T.tensor(xs, [1, 2, side, side]);
    const w = T.tensor(Float32Array.from(ws), [3, 2, 1, 1]);
    const b = T.tensor(Float32Array.from(bs), [3]);
    let y: T.Tensor | null = null;
    const profile = await T.profileKernels(async () => {
      y = conv2dAutocast(x, w, b)!;
      await y.data();
    });
    expect(profile.kernels.find((k) => k.name === 'nn_conv2d_subgroup_matrix')?.dispatches).toBe(1);
    const got = await y!.data();
    let worst = 0;
    for (let o = 0; o < 3; o++)
      for (let p = 0; p < px; p += 1)
        worst = Math.max(
          worst,
          Math.abs(got[o * px + p]! - (ws[2 * o]! * xs[p]! + ws[2 * o + 1]! * xs[px + p]! + bs[o]!)),
        );
    expect(worst).toBeLessThan(1e-6);
    for (const t of [x, w, b, y!]) t.dispose();
  });
});

// Where ready() switched subgroup matrices on (a GPU with the feature), the real kernel.
describe("conv2d on this device's subgroup matrices, f16 operands against float64", () => {
  for (const c of CASES)
    it(c.label, async (ctx) => {
      T.setKernelFamily('gpu');
      if (!hasF16() || !convSubgroupMatrixTiles(32)) ctx.skip();
      await checkCase(c, null);
    });
});

/** A WGSL u32 expression of the kernels' products as a number, given the names in scope (u32 division). */
function evaluate(expr: string, env: Record<string, number>): number {
  const js = expr.replace(/(\d+)u\b/g, '$1').replace(/(\w+) \/ (\w+)/g, 'Math.floor($1 / $2)');
  const names = Object.keys(env);
  return Function(...names, `return (${js});`)(...names.map((k) => env[k]));
}

for (const mode of ['forward', 'wgrad'] as const)
  describe(`the builtins' lines (${mode})`, () => {
    const o = {
      mode,
      bias: false,
      split: false,
      m: 16,
      n: 8,
      k: 16,
      tm: 2,
      tn: 3,
      sgRows: 2,
      sgCols: 2,
      ks: 2,
      subgroupSize: 32,
    };
    const real = convSubgroupMatrixKernel.source({ ...o, emulate: false });
    const emulated = convSubgroupMatrixKernel.source({ ...o, emulate: true });
    const [BM, BN, bk] = [o.sgRows * o.tm * o.m, o.sgCols * o.tn * o.n, o.ks * o.k];

    it('are the only difference from the emulated kernel, besides the enables and the accumulators', () => {
      // Without the step's products (after the staging's barrier, up to the k step) and the lines
      // that declare, fill or store the accumulators.
      const shared = (src: string) => {
        const lines = src.split('\n');
        const start = lines.indexOf('    workgroupBarrier();', lines.indexOf('    workgroupBarrier();') + 1) + 1;
        const end = lines.findIndex((l) => l.startsWith('    k0 += '));
        expect(start > 0 && end > start).toBe(true);
        return [...lines.slice(0, start), ...lines.slice(end)].filter((l) => !/subgroup|acc_/.test(l));
      };
      expect(shared(real)).toEqual(shared(emulated));
      expect(real).toMatch(/^enable f16;\nenable subgroups;\nenable chromium_experimental_subgroup_matrix;\n/);
      expect(real).toContain('diagnostic(off, chromium.subgroup_matrix_uniformity);');
      expect(emulated).not.toContain('subgroup');
      expect(real).toContain(`@compute @workgroup_size(${o.sgRows * o.sgCols * o.subgroupSize})`);
    });

    it('multiply the tiles as the emulation does, and store the elements where it does', () => {
      // Random tiles; the last subgroup's block (sm, sn not 0).
      const tA = randomArr([BM * bk], 61).data;
      const tB = randomArr([BN * bk], 62).data;
      const env = { sm: (o.sgRows - 1) * o.tm * o.m, sn: (o.sgCols - 1) * o.tn * o.n };
      type Matrix = { rows: number; cols: number; v: Float64Array };
      // The builtins: each k step's loads (col_major: element (r, c) at offset + c·stride + r;
      // row_major: offset + r·stride + c; the types list columns before rows), then the
      // multiply-accumulates, in the order of the text.
      const acc = new Map<string, Matrix>();
      let tiles = new Map<string, Matrix>();
      let loads = 0;
      for (const line of real.split('\n').map((l) => l.trim())) {
        const load =
          /let (\w+) = subgroupMatrixLoad<subgroup_matrix_(?:left|right)<f16, (\d+), (\d+)>, (row_major|col_major)>\(&(tA|tB), (.+), (.+)\);/.exec(
            line,
          );
        if (load) {
          const [, name, cols, rows, major, tile, off, stride] = load;
          const [at, st] = [evaluate(off!, env), evaluate(stride!, env)];
          const src = tile === 'tA' ? tA : tB;
          const mat: Matrix = {
            rows: Number(rows),
            cols: Number(cols),
            v: new Float64Array(Number(rows) * Number(cols)),
          };
          for (let r = 0; r < mat.rows; r++)
            for (let c = 0; c < mat.cols; c++)
              mat.v[r * mat.cols + c] = src[major === 'row_major' ? at + r * st + c : at + c * st + r]!;
          tiles.set(name!, mat);
          loads++;
          continue;
        }
        const mma = /(acc_\d+_\d+) = subgroupMatrixMultiplyAccumulate\((\w+), (\w+), acc_\d+_\d+\);/.exec(line);
        if (mma) {
          const [l, r] = [tiles.get(mma[2]!)!, tiles.get(mma[3]!)!];
          expect(l.cols).toBe(r.rows);
          const d = acc.get(mma[1]!) ?? { rows: l.rows, cols: r.cols, v: new Float64Array(l.rows * r.cols) };
          for (let i = 0; i < d.rows; i++)
            for (let j = 0; j < d.cols; j++)
              for (let q = 0; q < l.cols; q++) d.v[i * d.cols + j] += l.v[i * l.cols + q]! * r.v[q * r.cols + j]!;
          acc.set(mma[1]!, d);
        }
        if (line === '}') tiles = new Map();
      }
      expect(loads).toBe(o.ks * (o.tm + o.tn));
      // The emulation: element e of matrix (i, j) sums tA[ra + kk·step] · tB[cb + kk] over the tile's k.
      for (let i = 0; i < o.tm; i++)
        for (let j = 0; j < o.tn; j++) {
          const d = acc.get(`acc_${i}_${j}`)!;
          expect([d.rows, d.cols]).toEqual([o.m, o.n]);
          // From this matrix's `let ra` (the last one before its sum) through its k loop.
          const sum = emulated.indexOf(`var s = acc_${i}_${j}[q];`);
          const block = emulated.slice(emulated.lastIndexOf('let ra = ', sum));
          const [, ra, cb] = /let ra = (.+); let cb = (.+);/.exec(block)!;
          const [, step] = /s \+= f32\(tA\[ra \+ kk \* (\d+)u\]\) \* f32\(tB\[cb \+ kk\]\)/.exec(block)!;
          for (let e = 0; e < o.m * o.n; e++) {
            const [a0, b0] = [evaluate(ra!, { ...env, e }), evaluate(cb!, { ...env, e })];
            let want = 0;
            for (let kk = 0; kk < bk; kk++) want += tA[a0 + kk * Number(step)]! * tB[b0 + kk]!;
            expect(d.v[e]!, `matrix ${i},${j} element ${e}`).toBeCloseTo(want, 12);
          }
          // Row-major m x n at the subgroup's scratch, stride n, as the lanes' element e = (e / n, e % n).
          expect(real).toContain(`subgroupMatrixStore<row_major>(&scr, scrBase, acc_${i}_${j}, ${o.n}u);`);
          expect(emulated).toContain(`scr[scrBase + lane + q * ${o.subgroupSize}u] = acc_${i}_${j}[q];`);
          expect(real).toContain(`var acc_${i}_${j} = subgroup_matrix_result<f32, ${o.n}, ${o.m}>();`);
        }
    });
  });
