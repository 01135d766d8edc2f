// Conv1d and Embedding against PyTorch float64 goldens (fixtures/golden/layers.json) on both
// kernel families, conv1d against a float64 reference with finite differences at an awkward
// shape, and the embedding's two backward routes (indices on the host, indices only on the device).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Conv1d, Embedding, conv1d, embedding } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';
import { awkwardShape, gradCheck, uniformArr } from '../helpers/grad-check.js';
import type { Arr } from '../ops/conv-pool-reference.js';

const cases = loadGolden('layers');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

/** i32 indices that exist only on the device (no host copy): cast from an f32 tensor. */
const onDevice = (values: number[], shape: number[]) => T.cast(T.tensor(Float32Array.from(values), shape), 'i32');

describe('conv1d and embedding against PyTorch (float64 goldens)', () => {
  for (const family of FAMILIES) {
    for (const c of cases.filter((c) => c.op === 'conv1d')) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const x = toTensor(arrayOf(c, 'x'), true);
        const w = toTensor(arrayOf(c, 'w'), true);
        const b = c.b ? toTensor(arrayOf(c, 'b'), true) : null;
        const y = conv1d(x, w, b, {
          stride: c.stride as number,
          padding: c.padding as number,
          dilation: c.dilation as number,
        });
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
        await expectGolden(w.grad!, arrayOf(c, 'dw'), 1e-3, 'dw');
        if (b) await expectGolden(b.grad!, arrayOf(c, 'db'), 1e-3, 'db');
      });
    }
    for (const c of cases.filter((c) => c.op === 'embedding')) {
      for (const where of ['host', 'device'] as const) {
        it(`${family}: ${c.name as string}, indices on the ${where}`, async () => {
          T.setKernelFamily(family);
          const w = toTensor(arrayOf(c, 'w'), true);
          const values = c.indices as number[];
          const shape = c.indicesShape as number[];
          const idx = where === 'host' ? T.tensor(Int32Array.from(values), shape) : onDevice(values, shape);
          expect(idx.cachedData() !== null).toBe(where === 'host');
          const y = embedding(idx, w, { paddingIdx: c.paddingIdx as number | null });
          y.backward(toTensor(arrayOf(c, 'g')));
          await expectGolden(y, arrayOf(c, 'y'), 1e-6, 'y');
          await expectGolden(w.grad!, arrayOf(c, 'dw'), 1e-5, 'dw');
        });
      }
    }
  }
});

describe('conv1d against a float64 reference at an awkward shape', () => {
  for (const family of FAMILIES) {
    it(`${family}: stride 2, padding 3, dilation 2`, async () => {
      T.setKernelFamily(family);
      const [N, C, O] = awkwardShape(family === 'cpu' ? 601 : 602, 3, 5);
      const [L, K] = [13 + N!, 3];
      const [s, p, d] = [2, 3, 2];
      const Lo = Math.floor((L + 2 * p - d * (K - 1) - 1) / s) + 1;
      const ref = ([x, w, b]: Arr[]): Arr => {
        const out = new Float64Array(N! * O! * Lo);
        for (let n = 0; n < N!; n++)
          for (let o = 0; o < O!; o++)
            for (let l = 0; l < Lo; l++) {
              let acc = b!.data[o]!;
              for (let c = 0; c < C!; c++)
                for (let k = 0; k < K; k++) {
                  const at = l * s - p + k * d;
                  if (at >= 0 && at < L) acc += x!.data[(n * C! + c) * L + at]! * w!.data[(o * C! + c) * K + k]!;
                }
              out[(n * O! + o) * Lo + l] = acc;
            }
        return { shape: [N!, O!, Lo], data: out };
      };
      const inputs = [uniformArr([N!, C!, L], 1), uniformArr([O!, C!, K], 2), uniformArr([O!], 3)];
      await gradCheck({
        label: 'conv1d',
        inputs,
        wrt: [0, 1, 2],
        gpu: ([x, w, b]) => conv1d(x!, w!, b!, { stride: s, padding: p, dilation: d }),
        ref,
        fwd: 1e-5,
      });
    });
  }
});

describe('Conv1d and Embedding modules', () => {
  it("have PyTorch's keys and shapes; the padding row starts at zero and learns nothing", async () => {
    const conv = new Conv1d(3, 4, 5, { padding: 2 });
    expect([...conv.stateDict()].map(([k, t]) => [k, t.shape])).toEqual([
      ['weight', [4, 3, 5]],
      ['bias', [4]],
    ]);
    expect(conv.forward(T.zeros([2, 3, 9])).shape).toEqual([2, 4, 9]);
    const emb = new Embedding(6, 3, { paddingIdx: -2 });
    expect(emb.paddingIdx).toBe(4);
    const w = await emb.param('weight').data();
    expect(Array.from(w.slice(12, 15))).toEqual([0, 0, 0]);
    expect(Array.from(w.slice(0, 12)).every((v) => v !== 0)).toBe(true);
    const y = emb.forward(T.tensor(Int32Array.of(4, 1, 4)));
    T.sum(y).backward();
    const dw = await emb.param('weight').grad!.data();
    expect(Array.from(dw.slice(12, 15))).toEqual([0, 0, 0]);
    expect(Array.from(dw.slice(3, 6))).toEqual([1, 1, 1]);
  });

  it('refuses indices out of range, at the call or at the next read', async () => {
    const w = T.zeros([4, 2]);
    expect(() => embedding(T.tensor(Int32Array.of(0, 4)), w)).toThrow(
      /embedding: index 4 at position 1 is outside \[0, 4\)/,
    );
    const y = embedding(onDevice([1, -1], [2]), w);
    await expect(y.data()).rejects.toThrow(/embedding: index -1 at position 1 is outside \[0, 4\)/);
    expect(() => embedding(T.tensor(Int32Array.of(0)), w, { paddingIdx: 4 })).toThrow(
      /paddingIdx must be an integer in \[-4, 4\)/,
    );
  });
});
