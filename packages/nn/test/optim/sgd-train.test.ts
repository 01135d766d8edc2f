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

describe('SGD momentum state', () => {
  const shapes = [[3, 5], [1], [7], [65], [2, 2, 250], [4], [3]];
  // Parameter 2 has no grad on step 1 (its buffer starts on step 2), 3 skips step 2, 5 never has one.
  const hasGrad = (step: number, i: number) => !((i === 2 && step === 0) || (i === 3 && step === 1) || i === 5);
  const make = () => shapes.map((s, i) => T.randn(s, { seed: i }).keep());
  const optimizerFor = (params: T.Tensor[]) =>
    new SGD(
      [
        { params: params.slice(0, 4) },
        { params: params.slice(4, 6), lr: 0.02, momentum: 0.5, nesterov: true },
        { params: params.slice(6), momentum: 0 },
      ],
      { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, dampening: 0 },
    );
  const run = (params: T.Tensor[], opt: SGD, from: number, to: number) => {
    for (let step = from; step < to; step++) {
      opt.zeroGrad();
      for (const [i, p] of params.entries()) if (hasGrad(step, i)) p.grad = T.randn(p.shape, { seed: 100 * step + i });
      opt.step();
    }
  };

  it('stateDict copies each buffer out of the arena; loadStateDict writes them back and the run continues exactly', async () => {
    const a = make();
    const oa = optimizerFor(a);
    run(a, oa, 0, 4);
    const b = make();
    const ob = optimizerFor(b);
    run(b, ob, 0, 1);
    // Parameter 2 gets its buffer after the resume, on its first step with a gradient.
    const sd = ob.stateDict();
    expect([...sd.momentumBuffers.keys()]).toEqual([0, 1, 3, 4]);
    for (const [i, t] of sd.momentumBuffers) expect(t.shape).toEqual(shapes[i]);
    const c = await Promise.all(b.map(async (p) => T.tensor(Float32Array.from(await p.data()), p.shape).keep()));
    const oc = optimizerFor(c);
    // A checkpoint may hold a buffer in any shape of its parameter's size (as saved flat).
    const saved = new Map([...sd.momentumBuffers].map(([i, t]) => [i, i === 4 ? T.reshape(t, [t.size]) : t]));
    oc.loadStateDict({ paramGroups: sd.paramGroups, momentumBuffers: saved });
    for (const t of [...sd.momentumBuffers.values(), ...saved.values()]) t.dispose();
    // The copies are the caller's: disposing them leaves the optimizers' buffers intact.
    run(b, ob, 1, 4);
    run(c, oc, 1, 4);
    for (const [i, p] of a.entries()) {
      expect(Array.from(await c[i]!.data()), `param ${i}`).toEqual(Array.from(await p.data()));
      expect(Array.from(await b[i]!.data()), `param ${i}`).toEqual(Array.from(await p.data()));
    }
    const [wa, wc] = [oa.stateDict().momentumBuffers, oc.stateDict().momentumBuffers];
    expect([...wc.keys()]).toEqual([0, 1, 2, 3, 4]);
    for (const [i, t] of wa)
      expect(Array.from(await wc.get(i)!.data()), `buffer ${i}`).toEqual(Array.from(await t.data()));
    for (const t of [...wa.values(), ...wc.values()]) t.dispose();
    for (const o of [oa, ob, oc]) {
      o.zeroGrad();
      o.dispose();
    }
    for (const p of [...a, ...b, ...c]) p.dispose();
  });

  it('owns one arena per group with momentum, freed by dispose() and replaced by loadStateDict', async () => {
    const before = T.memory().liveBytes;
    const params = make();
    const opt = optimizerFor(params);
    const paramBytes = T.memory().liveBytes - before;
    run(params, opt, 0, 1);
    opt.zeroGrad();
    // The two groups with momentum hold a buffer for each of their parameters (0-5) in two arenas.
    const values = shapes.slice(0, 6).reduce((s, shape) => s + shape.reduce((x, y) => x * y, 1), 0);
    const arenaBytes = T.memory().liveBytes - before - paramBytes;
    expect(arenaBytes).toBeGreaterThanOrEqual(4 * values);
    expect(arenaBytes).toBeLessThanOrEqual(4 * values * 1.25 + 2 * 256);
    run(params, opt, 1, 3);
    opt.zeroGrad();
    expect(T.memory().liveBytes - before - paramBytes).toBe(arenaBytes);
    const sd = opt.stateDict();
    opt.loadStateDict(sd);
    for (const t of sd.momentumBuffers.values()) t.dispose();
    expect(T.memory().liveBytes - before - paramBytes).toBe(arenaBytes);
    opt.dispose();
    expect(T.memory().liveBytes - before).toBe(paramBytes);
    for (const p of params) p.dispose();
  });
});
