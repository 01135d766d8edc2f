// convTranspose2d / ConvTranspose2d against PyTorch float64 goldens
// (fixtures/golden/conv_transpose.json), and against a float64 reference with finite
// differences where conv2d's Winograd path serves it (16 channels, 3x3, stride 1), on both
// kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { ConvTranspose2d, convTranspose2d } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';
import { gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from './conv-pool-reference.js';

const cases = loadGolden('conv_transpose');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

type Pair = number | [number, number];

describe('convTranspose2d against PyTorch (float64 goldens)', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const x = toTensor(arrayOf(c, 'x'), true);
        const w = toTensor(arrayOf(c, 'w'), true);
        const b = c.b ? toTensor(arrayOf(c, 'b'), true) : null;
        const y = convTranspose2d(x, w, b, {
          stride: c.stride as Pair,
          padding: c.padding as Pair,
          outputPadding: c.outputPadding as Pair,
          dilation: c.dilation as Pair,
        });
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
        await expectGolden(w.grad!, arrayOf(c, 'dw'), 1e-3, 'dw');
        if (b) await expectGolden(b.grad!, arrayOf(c, 'db'), 1e-3, 'db');
      });
    }
  }
});

/** float64 transposed convolution (stride 1, padding p): y[o, i + k - p] += x[c, i] w[c, o, k]. */
function ref([x, w]: Arr[], p: number): Arr {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [, O, K] = w!.shape as [number, number, number, number];
  const [Ho, Wo] = [H + K - 1 - 2 * p, W + K - 1 - 2 * p];
  const out = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const v = x!.data[((n * C + c) * H + i) * W + j]!;
          for (let o = 0; o < O; o++)
            for (let a = 0; a < K; a++)
              for (let b = 0; b < K; b++) {
                const [r, s] = [i + a - p, j + b - p];
                if (r >= 0 && r < Ho && s >= 0 && s < Wo)
                  out[((n * O + o) * Ho + r) * Wo + s] += v * w!.data[((c * O + o) * K + a) * K + b]!;
              }
        }
  return { shape: [N, O, Ho, Wo], data: out };
}

describe('convTranspose2d where conv2d takes its Winograd path', () => {
  for (const family of FAMILIES) {
    it(`${family}: 16 -> 16 channels, 3x3, stride 1, padding 1`, async () => {
      T.setKernelFamily(family);
      const inputs = [uniformArr([1, 16, 5, 6], 11), uniformArr([16, 16, 3, 3], 12, -0.3, 0.3)];
      await gradCheck({
        label: 'convTranspose2d',
        inputs,
        wrt: [0, 1],
        gpu: ([x, w]) => convTranspose2d(x!, w!, null, { padding: 1 }),
        ref: (xs) => ref(xs, 1),
      });
    });
  }

  it("ConvTranspose2d has PyTorch's keys and shapes and doubles a U-Net's resolution", () => {
    const up = new ConvTranspose2d(8, 4, 2, { stride: 2 });
    expect([...up.stateDict()].map(([k, t]) => [k, t.shape])).toEqual([
      ['weight', [8, 4, 2, 2]],
      ['bias', [4]],
    ]);
    expect(up.forward(T.zeros([2, 8, 5, 7])).shape).toEqual([2, 4, 10, 14]);
    expect(() =>
      convTranspose2d(T.zeros([1, 2, 3, 3]), T.zeros([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    ).toThrow(/outputPadding \[2, 2\] must be below the stride \[2, 2\]/);
    expect(() => convTranspose2d(T.zeros([1, 2, 3, 3]), T.zeros([3, 2, 3, 3]))).toThrow(
      /weight must be f32 \[2, out, kH, kW\]/,
    );
  });
});
