// Activation modules and functions against PyTorch float64 goldens (fixtures/golden/activations.json)
// and against float64 references with finite-difference gradients at awkward shapes, on both
// kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  ELU,
  GELU,
  Hardswish,
  LeakyReLU,
  LogSoftmax,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
  elu,
  gelu,
  hardswish,
  leakyRelu,
  silu,
  type Module,
} from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';
import { awkwardShape, gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from './conv-pool-reference.js';

const cases = loadGolden('activations');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

function moduleFor(fn: string, a: Record<string, unknown>): Module {
  switch (fn) {
    case 'leakyRelu':
      return new LeakyReLU(a.negativeSlope as number | undefined);
    case 'elu':
      return new ELU(a.alpha as number | undefined);
    case 'gelu':
      return new GELU(a.approximate as 'none' | 'tanh' | undefined);
    case 'silu':
      return new SiLU();
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    case 'hardswish':
      return new Hardswish();
    case 'softmax':
      return new Softmax(a.dim as number);
    case 'logSoftmax':
      return new LogSoftmax(a.dim as number);
    default:
      throw new Error(fn);
  }
}

describe('activation modules against PyTorch (float64 goldens, kinks and saturation included)', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const x = toTensor(arrayOf(c, 'x'), true);
        const y = moduleFor(c.fn as string, c.args as Record<string, unknown>).forward(x);
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
      });
    }
  }
});

// float64 erf: its Maclaurin series (terms stay below e^(x^2) ~ 1e7 for |x| <= 4: 1e-9 absolute), ±1 beyond.
function erf(x: number): number {
  if (Math.abs(x) > 4) return Math.sign(x);
  let term = x;
  let s = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    s += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * s;
}
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const REFS: [string, (x: T.Tensor) => T.Tensor, (v: number) => number][] = [
  ['leakyRelu 0.1', (x) => leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v)],
  ['elu 1.3', (x) => elu(x, 1.3), (v) => (v > 0 ? v : 1.3 * Math.expm1(v))],
  ['gelu', (x) => gelu(x), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
  [
    'gelu tanh',
    (x) => gelu(x, 'tanh'),
    (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  ],
  ['silu', (x) => silu(x), (v) => v * sig(v)],
  ['hardswish', (x) => hardswish(x), (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6],
  ['sigmoid', (x) => T.sigmoid(x), sig],
  ['tanh', (x) => T.tanh(x), Math.tanh],
];

describe('activations against float64 references at awkward shapes', () => {
  for (const family of FAMILIES) {
    REFS.forEach(([name, gpu, f], k) => {
      const shape = awkwardShape(100 + 7 * k + (family === 'cpu' ? 0 : 3), 3);
      it(`${family}: ${name} at [${shape.join(', ')}]`, async () => {
        T.setKernelFamily(family);
        const x = uniformArr(shape, 200 + k, -5, 5);
        await gradCheck({
          label: name,
          inputs: [x],
          wrt: [0],
          gpu: ([a]) => gpu(a!),
          ref: ([a]) => ({ shape: a!.shape, data: a!.data.map(f) }),
        });
      });
    });

    it(`${family}: softmax and logSoftmax along a middle dim`, async () => {
      T.setKernelFamily(family);
      const shape = awkwardShape(family === 'cpu' ? 300 : 301, 3);
      const x = uniformArr(shape, 302, -4, 4);
      const [A, B, C] = shape as [number, number, number];
      const ref =
        (log: boolean) =>
        ([a]: Arr[]): Arr => {
          const out = new Float64Array(a!.data.length);
          for (let i = 0; i < A; i++)
            for (let k = 0; k < C; k++) {
              let s = 0;
              for (let j = 0; j < B; j++) s += Math.exp(a!.data[(i * B + j) * C + k]!);
              for (let j = 0; j < B; j++) {
                const v = a!.data[(i * B + j) * C + k]!;
                out[(i * B + j) * C + k] = log ? v - Math.log(s) : Math.exp(v) / s;
              }
            }
          return { shape, data: out };
        };
      await gradCheck({
        label: 'softmax',
        inputs: [x],
        wrt: [0],
        gpu: ([a]) => new Softmax(1).forward(a!),
        ref: ref(false),
      });
      await gradCheck({
        label: 'logSoftmax',
        inputs: [x],
        wrt: [0],
        gpu: ([a]) => new LogSoftmax(1).forward(a!),
        ref: ref(true),
      });
    });
  }

  it('refuses unknown options in words', () => {
    expect(() => gelu(T.zeros([2]), 'erf' as 'none')).toThrow(/approximate must be 'none' or 'tanh', got 'erf'/);
    expect(() => leakyRelu(T.zeros([2]), NaN)).toThrow(/negativeSlope must be a finite number/);
  });
});
