// LayerNorm, GroupNorm, InstanceNorm2d and BatchNorm1d against PyTorch float64 goldens
// (fixtures/golden/norms.json), and layerNorm / groupNorm against float64 references with
// finite-difference gradients at awkward shapes, on both kernel families.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  BatchNorm1d,
  GroupNorm,
  InstanceNorm2d,
  LayerNorm,
  groupNorm,
  layerNorm,
  type Module,
} from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../helpers/golden.js';
import { awkwardShape, gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from '../ops/conv-pool-reference.js';

const cases = loadGolden('norms');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

function build(kind: string, a: Record<string, unknown>): Module {
  switch (kind) {
    case 'LayerNorm':
      return new LayerNorm(a.normalizedShape as number[], {
        eps: a.eps as number | undefined,
        elementwiseAffine: a.elementwiseAffine as boolean | undefined,
      });
    case 'GroupNorm':
      return new GroupNorm(a.numGroups as number, a.numChannels as number, { affine: a.affine as boolean | undefined });
    case 'InstanceNorm2d':
      return new InstanceNorm2d(a.numFeatures as number, { affine: a.affine as boolean | undefined });
    case 'BatchNorm1d':
      return new BatchNorm1d(a.numFeatures as number);
    default:
      throw new Error(kind);
  }
}

describe('normalisation layers against PyTorch (float64 goldens, training mode)', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const m = build(c.kind as string, c.args as Record<string, unknown>);
        const state = c.state as Record<string, GoldenArray>;
        const keys = [...m.stateDict().keys()].filter((k) => k !== 'num_batches_tracked');
        expect(keys.sort(), 'state-dict keys as PyTorch').toEqual(Object.keys(state).sort());
        m.loadStateDict(stateMap(state), false);
        const x = toTensor(arrayOf(c, 'x'), true);
        const y = m.forward(x);
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
        for (const [name, p] of m.namedParameters())
          await expectGolden(p.grad!, arrayOf(c, `d${name}`), 1e-3, `d${name}`);
        if (c.kind === 'BatchNorm1d') {
          const sd = m.stateDict();
          await expectGolden(sd.get('running_mean')!, arrayOf(c, 'running_mean'), 1e-4, 'running_mean');
          await expectGolden(sd.get('running_var')!, arrayOf(c, 'running_var'), 1e-4, 'running_var');
        }
      });
    }
  }
});

/** float64 normalisation of `x` viewed as [outer, inner] rows, then y = n * w[k] + b[k] with k from `param`. */
function normRef(x: Arr, inner: number, eps: number, affine: ((i: number, v: number) => number) | null): Arr {
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / inner; r++) {
    let m = 0;
    for (let i = 0; i < inner; i++) m += x.data[r * inner + i]!;
    m /= inner;
    let v = 0;
    for (let i = 0; i < inner; i++) v += (x.data[r * inner + i]! - m) ** 2;
    v /= inner;
    for (let i = 0; i < inner; i++) {
      const k = r * inner + i;
      const n = (x.data[k]! - m) / Math.sqrt(v + eps);
      out[k] = affine ? affine(k, n) : n;
    }
  }
  return { shape: x.shape, data: out };
}

describe('layerNorm and groupNorm against float64 references at awkward shapes', () => {
  for (const family of FAMILIES) {
    it(`${family}: layerNorm over the last two dims`, async () => {
      T.setKernelFamily(family);
      const shape = awkwardShape(family === 'cpu' ? 501 : 502, 4, 6).map((d) => d + 1);
      const inner = shape[2]! * shape[3]!;
      const x = uniformArr(shape, 1, -2, 3);
      const w = uniformArr(shape.slice(2), 2, 0.5, 1.5);
      const b = uniformArr(shape.slice(2), 3, -1, 1);
      await gradCheck({
        label: `layerNorm [${shape.join(', ')}]`,
        inputs: [x, w, b],
        wrt: [0, 1, 2],
        gpu: ([a, wt, bs]) => layerNorm(a!, shape.slice(2), { weight: wt!, bias: bs!, eps: 1e-4 }),
        ref: ([a, wt, bs]) => normRef(a!, inner, 1e-4, (k, n) => n * wt!.data[k % inner]! + bs!.data[k % inner]!),
      });
      await gradCheck({
        label: `layerNorm [${shape.join(', ')}], weight only`,
        inputs: [x, w],
        wrt: [0, 1],
        gpu: ([a, wt]) => layerNorm(a!, shape.slice(2), { weight: wt! }),
        ref: ([a, wt]) => normRef(a!, inner, 1e-5, (k, n) => n * wt!.data[k % inner]!),
      });
    });

    it(`${family}: groupNorm of an odd plane`, async () => {
      T.setKernelFamily(family);
      const [N, G, per, H, W] = [2, 3, 2, ...awkwardShape(family === 'cpu' ? 511 : 512, 2, 7)] as [
        number,
        number,
        number,
        number,
        number,
      ];
      const C = G * per;
      const shape = [N, C, H, W];
      const x = uniformArr(shape, 4, -2, 2);
      const w = uniformArr([C], 5, 0.5, 1.5);
      const b = uniformArr([C], 6, -1, 1);
      const channel = (k: number) => Math.floor(k / (H * W)) % C;
      await gradCheck({
        label: `groupNorm [${shape.join(', ')}]`,
        inputs: [x, w, b],
        wrt: [0, 1, 2],
        gpu: ([a, wt, bs]) => groupNorm(a!, G, { weight: wt!, bias: bs! }),
        ref: ([a, wt, bs]) =>
          normRef(a!, per * H * W, 1e-5, (k, n) => n * wt!.data[channel(k)]! + bs!.data[channel(k)]!),
      });
    });
  }

  it('refuses shapes that do not fit, in words', () => {
    expect(() => layerNorm(T.zeros([2, 3]), [2])).toThrow(
      /normalizedShape \[2\] must be the trailing dims of the input \[2, 3\]/,
    );
    expect(() => new GroupNorm(4, 6)).toThrow(/6 channels do not split into 4 groups/);
    expect(() => new InstanceNorm2d(3).forward(T.zeros([2, 3, 4]))).toThrow(/InstanceNorm2d: expected \[N, 3, H, W\]/);
    expect(() => new BatchNorm1d(3).forward(T.zeros([2, 3, 4, 4]))).toThrow(
      /BatchNorm1d: expected \[N, 3\] or \[N, 3, L\]/,
    );
  });
});
