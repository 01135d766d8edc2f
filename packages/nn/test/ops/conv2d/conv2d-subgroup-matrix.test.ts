// conv2d's implicit GEMMs on subgroup matrices. This adapter has no subgroup matrices, so the
// kernel runs emulated (the builtins replaced by plain WGSL over the same workgroup tiles and
// scratch: conv2d-subgroup-matrix-kernel.ts), routed as a GPU routes f16 convolutions, on the gpu
// kernel family: the staging, implied padding, flipped weights, split reductions, bias and
// bounded stores are checked against float64 at awkward sizes, in configurations of several
// shapes. The builtins' own lines are checked as text: their offsets and strides against the
// emulation's. On a GPU with subgroup matrices, the same convolutions run on the real kernel.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { conv2d } from '../../../src/ops/conv2d/conv2d.js';
import { conv2dAutocast } from '../../../src/ops/conv2d/conv2d-autocast.js';
import { convSubgroupMatrixKernel } from '../../../src/ops/conv2d/conv2d-subgroup-matrix-kernel.js';
import { convSubgroupMatrixTiles } from '../../../src/ops/conv2d/conv2d-subgroup-matrix.js';
import { setConvSubgroupMatrixEmulation } from '../../../src/tuning.js';
import { conv2dGradRef, conv2dRef, type Arr, type ConvRefOptions } from '../conv-pool-reference.js';
import { expectNear, randomArr } from '../../helpers/near.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  setConvSubgroupMatrixEmulation(null);
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
    // Without the emulation, only a device that switched subgroup matrices on.
    setConvSubgroupMatrixEmulation(null);
    if (!T.subgroupMatrixStatus().enabled) expect(convSubgroupMatrixTiles(32)).toBeNull();
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

describe("the builtins' lines", () => {
  const o = {
    mode: 'forward' as const,
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
  const BN = o.sgCols * o.tn * o.n;
  const bk = o.ks * o.k;

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

  it('load the tiles the emulation reads and store the elements it writes', () => {
    // Left matrix i of k step s: rows sm + i·m.., columns s·k.. of tA (row-major, stride bk).
    for (let s = 0; s < o.ks; s++) {
      for (let i = 0; i < o.tm; i++)
        expect(real).toContain(
          `let a${i} = subgroupMatrixLoad<subgroup_matrix_left<f16, ${o.k}, ${o.m}>, row_major>(&tA, (sm + ${i * o.m}u) * ${bk}u + ${s * o.k}u, ${bk}u);`,
        );
      // Right matrix j: rows s·k.., columns sn + j·n.. of tB (row-major, stride BN).
      for (let j = 0; j < o.tn; j++)
        expect(real).toContain(
          `let b${j} = subgroupMatrixLoad<subgroup_matrix_right<f16, ${o.n}, ${o.k}>, row_major>(&tB, ${s * o.k * BN}u + sn + ${j * o.n}u, ${BN}u);`,
        );
    }
    expect(emulated).toContain(`let kTile = select(${bk}u, 0u, k0 == 0xffffffffu);`);
    for (let i = 0; i < o.tm; i++)
      for (let j = 0; j < o.tn; j++) {
        expect(real).toContain(`acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(a${i}, b${j}, acc_${i}_${j});`);
        expect(real).toContain(`var acc_${i}_${j} = subgroup_matrix_result<f32, ${o.n}, ${o.m}>();`);
        // Row-major m x n at the subgroup's scratch, stride n: element e at scrBase + e.
        expect(real).toContain(`subgroupMatrixStore<row_major>(&scr, scrBase, acc_${i}_${j}, ${o.n}u);`);
        // The emulation: element e = (e / n, e % n) of matrix (i, j) from the same tile rows and columns.
        expect(emulated).toContain(
          `let ra = (sm + ${i * o.m}u + e / ${o.n}u) * ${bk}u; let cb = sn + ${j * o.n}u + e % ${o.n}u;`,
        );
        expect(emulated).toContain(
          `for (var kk = 0u; kk < kTile; kk++) { s += f32(tA[ra + kk]) * f32(tB[kk * ${BN}u + cb]); }`,
        );
      }
  });
});
