// A tiny network's full training step against PyTorch (fixtures/golden/train_step.json):
// loss and every weight after 3 SGD steps with momentum, weight decay and two parameter
// groups; and an optimizer state round trip that continues exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  SGD,
  Sequential,
  softmaxCrossEntropy,
} from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../helpers/golden.js';

beforeAll(async () => {
  await T.ready();
});

const c = loadGolden('train_step')[0]!;

function build(): Sequential {
  const net = new Sequential(
    new Conv2d(3, 6, 3, { stride: 2, padding: 1 }),
    new BatchNorm2d(6),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(96, 5),
    new ReLU(),
    new Linear(5, 3),
  );
  net.loadStateDict(stateMap(c.init as Record<string, GoldenArray>), false);
  return net;
}

function optimizer(net: Sequential): SGD {
  const head = [...net.at(5).parameters(), ...net.at(7).parameters()];
  const body = net.parameters().filter((p) => !head.includes(p));
  return new SGD([{ params: body }, { params: head, lr: 0.05, weightDecay: 0 }], {
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 5e-4,
  });
}

function step(net: Sequential, opt: SGD, x: T.Tensor, y: T.Tensor, w: T.Tensor): T.Tensor {
  opt.zeroGrad();
  const loss = T.scope(() => softmaxCrossEntropy(net.forward(x), y, { weight: w }));
  loss.backward();
  opt.step();
  return loss;
}

describe('training step parity with PyTorch', () => {
  it('3 SGD steps: losses and final weights and running stats', async () => {
    const net = build();
    const opt = optimizer(net);
    const x = toTensor(arrayOf(c, 'x'));
    const y = T.tensor(Int32Array.from(c.y as number[]));
    const w = T.tensor(c.classWeights as number[]);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push(await step(net, opt, x, y, w).item());
    losses.forEach((l, i) => expect(Math.abs(l - (c.losses as number[])[i]!) / Math.abs(l)).toBeLessThan(1e-4));
    const sd = net.stateDict();
    for (const [k, v] of Object.entries(c.final as Record<string, GoldenArray>))
      await expectGolden(sd.get(k)!, v, 1e-3, k);
  });

  it('resuming from the optimizer state continues exactly', async () => {
    const x = toTensor(arrayOf(c, 'x'));
    const y = T.tensor(Int32Array.from(c.y as number[]));
    const w = T.tensor(c.classWeights as number[]);
    const a = build();
    const oa = optimizer(a);
    for (let i = 0; i < 3; i++) step(a, oa, x, y, w);
    const b = build();
    const ob = optimizer(b);
    step(b, ob, x, y, w);
    const c2 = build();
    c2.loadStateDict(b.stateDict());
    const oc = optimizer(c2);
    oc.loadStateDict(ob.stateDict());
    for (let i = 0; i < 2; i++) step(c2, oc, x, y, w);
    const want = a.stateDict();
    for (const [k, t] of c2.stateDict()) {
      const [p, q] = [await t.data(), await want.get(k)!.data()];
      expect(Array.from(p), k).toEqual(Array.from(q));
    }
  });
});
