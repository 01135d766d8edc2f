// The classic CNN layer modules in one small network against PyTorch (fixtures/golden/blocks.json):
// state-dict keys, train-mode forward, gradients of every parameter, BatchNorm running
// statistics after the step, and eval-mode forward.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
} from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../helpers/golden.js';

beforeAll(async () => {
  await T.ready();
});

function build(): Sequential {
  return new Sequential(
    new Conv2d(3, 8, 3, { stride: 2, padding: 1 }),
    new BatchNorm2d(8),
    new ReLU(),
    new LocalResponseNorm(5, 1e-2, 0.75, 2),
    new MaxPool2d(3, { stride: 2, ceilMode: true }),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(8, 2),
  );
}

describe('a network of the CNN layer types matches PyTorch', () => {
  const c = loadGolden('blocks')[0]!;
  const state = c.state as Record<string, GoldenArray>;

  it('has PyTorch’s state-dict keys in order', () => {
    expect([...build().stateDict().keys()]).toEqual(c.keys);
  });

  it('train-mode forward, every gradient, running statistics; then eval-mode forward', async () => {
    const net = build();
    const missing = net.loadStateDict(stateMap(state), false).missingKeys;
    expect(missing.every((k) => k.endsWith('num_batches_tracked'))).toBe(true);
    net.train();
    const x = toTensor(arrayOf(c, 'x'), true);
    const y = net.forward(x);
    await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y (train)');
    T.sum(T.mul(y, toTensor(arrayOf(c, 'up')))).backward();
    await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
    const grads = c.grads as Record<string, GoldenArray>;
    // The conv bias in front of train-mode BatchNorm has a zero gradient in exact arithmetic:
    // measure every gradient against the largest gradient in the network.
    const largest = Math.max(...Object.values(grads).flatMap((g) => g.data.map(Math.abs)));
    for (const [name, p] of net.namedParameters())
      await expectGolden(p.grad!, grads[name]!, 1e-3, `grad ${name}`, name === '0.bias' ? largest : 1e-12);
    const sd = net.stateDict();
    for (const [k, v] of Object.entries(c.running_after as Record<string, GoldenArray>))
      await expectGolden(sd.get(k)!, v, 1e-4, k);
    expect(await sd.get('1.num_batches_tracked')!.item()).toBe(1);
    net.eval();
    await expectGolden(
      T.noGrad(() => net.forward(x)),
      arrayOf(c, 'y_eval'),
      1e-4,
      'y (eval)',
    );
  });
});
