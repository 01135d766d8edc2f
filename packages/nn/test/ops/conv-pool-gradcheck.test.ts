// Finite-difference gradient checks: the GPU backward of conv2d and the pools against central
// differences of the float64 references (so what is measured is the backward rule, not f32
// rounding in a forward), on both kernel families. One case also makes the weight gradient
// split its pixel sum over several workgroups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from '../../src/ops/conv-pool.js';
import { adaptiveAvgPoolRef, avgPoolRef, conv2dRef, maxPoolRef, type Arr } from './conv-pool-reference.js';

function randomArr(shape: number[], seed: number): Arr {
  let s = seed >>> 0;
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((s / 2 ** 32) * 4 - 2) || 0.5; // f32-exact, never 0
  }
  return { shape, data };
}

const upload = (a: Arr, grad: boolean) => {
  const t = T.tensor(Float32Array.from(a.data), a.shape);
  t.requiresGrad = grad;
  return t;
};

async function gradCheck(
  label: string,
  inputs: Arr[],
  wrt: number[],
  gpu: (xs: T.Tensor[]) => T.Tensor,
  ref: (xs: Arr[]) => Arr,
): Promise<void> {
  const yRef = ref(inputs);
  const r = randomArr(yRef.shape, 99);
  const xs = inputs.map((a, i) => upload(a, wrt.includes(i)));
  const loss = T.scope(() => {
    const y = gpu(xs);
    expect(y.shape, `${label}: shape`).toEqual(yRef.shape);
    return T.sum(T.mul(y, upload(r, false)));
  });
  loss.backward();
  const refLoss = () => ref(inputs).data.reduce((s, v, i) => s + v * r.data[i]!, 0);
  for (const i of wrt) {
    const got = await xs[i]!.grad!.data();
    const x = inputs[i]!.data;
    const want = new Float64Array(x.length);
    const h = 1e-6;
    for (let j = 0; j < x.length; j++) {
      const v = x[j]!;
      x[j] = v + h;
      const up = refLoss();
      x[j] = v - h;
      want[j] = (up - refLoss()) / (2 * h);
      x[j] = v;
    }
    const big = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worst = 0;
    for (let j = 0; j < x.length; j++)
      worst = Math.max(worst, Math.abs(got[j]! - want[j]!) / (Math.abs(want[j]!) + 1e-3 * Math.max(1, big)));
    expect(worst, `${label}: d/dinput${i} worst relative error`).toBeLessThan(1e-3);
  }
  for (const t of [...xs, ...xs.map((x) => x.grad), loss]) t?.dispose();
}

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

for (const family of ['cpu', 'gpu'] as const) {
  describe(`finite-difference gradients (${family} kernels)`, () => {
    it('conv2d 3x3 stride 2 pad 1 dilation (1, 2), with bias: x, w, b', async () => {
      T.setKernelFamily(family);
      const o = {
        stride: [2, 2] as [number, number],
        padding: [1, 1] as [number, number],
        dilation: [1, 2] as [number, number],
      };
      await gradCheck(
        'conv2d',
        [randomArr([2, 3, 7, 8], 1), randomArr([4, 3, 3, 3], 2), randomArr([4], 3)],
        [0, 1, 2],
        ([x, w, b]) => conv2d(x!, w!, b!, o),
        ([x, w, b]) => conv2dRef(x!, w!, b!, o),
      );
    });

    it('conv2d weight gradient with the pixel sum split over workgroups', async () => {
      T.setKernelFamily(family);
      const o = {
        stride: [1, 1] as [number, number],
        padding: [1, 1] as [number, number],
        dilation: [1, 1] as [number, number],
      };
      await gradCheck(
        'conv2d split',
        [randomArr([2, 3, 20, 20], 4), randomArr([4, 3, 3, 3], 5)],
        [1],
        ([x, w]) => conv2d(x!, w!, null, o),
        ([x, w]) => conv2dRef(x!, w!, null, o),
      );
    });

    it('maxPool2d 3x3 s2 p1', async () => {
      T.setKernelFamily(family);
      await gradCheck(
        'maxPool2d',
        [randomArr([2, 2, 7, 6], 6)],
        [0],
        ([x]) => maxPool2d(x!, { kernel: 3, stride: 2, padding: 1 }),
        ([x]) => maxPoolRef(x!, 3, 2, 1, 4, 3),
      );
    });

    it('avgPool2d 3x3 s2 p1 ceil, padding excluded', async () => {
      T.setKernelFamily(family);
      await gradCheck(
        'avgPool2d',
        [randomArr([2, 2, 8, 7], 7)],
        [0],
        ([x]) => avgPool2d(x!, { kernel: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
        ([x]) => avgPoolRef(x!, 3, 2, 1, 5, 4, false),
      );
    });

    it('adaptiveAvgPool2d 7x9 -> 3x4', async () => {
      T.setKernelFamily(family);
      await gradCheck(
        'adaptiveAvgPool2d',
        [randomArr([2, 2, 7, 9], 8)],
        [0],
        ([x]) => adaptiveAvgPool2d(x!, [3, 4]),
        ([x]) => adaptiveAvgPoolRef(x!, 3, 4),
      );
    });
  });
}
