// y, dx, dw (and db) of one conv2d against the float64 reference: shared by the conv tests that
// check a path (register blocks, Winograd, 1x1 on the matmul) end to end through autograd.
import * as T from '@spine/tensor/node';
import { conv2d } from '../../src/ops/conv-pool.js';
import { conv2dGradRef, conv2dRef, type Arr, type ConvRefOptions } from '../ops/conv-pool-reference.js';
import { expectNear, randomArr } from './near.js';

export async function checkConv2d(
  shape: [number, number, number, number],
  weight: [number, number, number, number],
  o: ConvRefOptions,
  bias: boolean,
  seed: number,
): Promise<void> {
  const oc = weight[0];
  const x = randomArr(shape, seed);
  const w = randomArr(weight, seed + 1);
  const b = bias ? randomArr([oc], seed + 2) : null;
  const y = conv2dRef(x, w, b, o);
  const r = randomArr(y.shape, seed + 3);
  const want = conv2dGradRef(x, w, r, o);
  const leaf = (a: Arr) => {
    const v = T.tensor(Float32Array.from(a.data), a.shape);
    v.requiresGrad = true;
    return v;
  };
  const [tx, tw] = [leaf(x), leaf(w)];
  const tb = b ? leaf(b) : null;
  const tr = T.tensor(Float32Array.from(r.data), r.shape);
  const ty = conv2d(tx, tw, tb, { stride: o.stride, padding: o.padding, dilation: o.dilation });
  await expectNear(ty, y, 1e-5, 'y');
  const loss = T.scope(() => T.sum(T.mul(ty, tr)));
  loss.backward();
  await expectNear(tx.grad!, want.dx, 1e-5, 'dx');
  await expectNear(tw.grad!, want.dw, 1e-5, 'dw');
  if (tb) {
    // db[oc] = Σ over batch and pixels of the upstream gradient.
    const db = new Float64Array(oc);
    const plane = y.shape[2]! * y.shape[3]!;
    r.data.forEach((v, i) => (db[Math.floor(i / plane) % oc] += v));
    await expectNear(tb.grad!, { shape: [oc], data: db }, 1e-5, 'db');
  }
  for (const v of [tx, tw, tb, tr, ty, loss, tx.grad, tw.grad, tb?.grad]) v?.dispose();
}
