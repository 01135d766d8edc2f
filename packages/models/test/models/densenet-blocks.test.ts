// DenseLayer (inside a DenseBlock) and Transition against torchvision's _DenseBlock and
// _Transition (scripts/make-densenet-blocks-golden.py -> fixtures/densenet/golden-blocks.json):
// state-dict keys, train-mode forward, the input's and every parameter's gradient, BatchNorm
// running statistics after the step, and eval-mode forward, in the plain and the
// memory-efficient mode (the bottleneck recomputed in backward gives the same numbers).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Sequential } from '@spine/nn';
import { DenseBlock, Transition } from '../../src/models/densenet/blocks.js';
import { expectNear, loadFixture, stateOf, toTensor, type GoldenArray } from '../helpers/golden.js';

interface Golden {
  keys: string[];
  state: Record<string, GoldenArray>;
  x: GoldenArray;
  up: GoldenArray;
  y: GoldenArray;
  dx: GoldenArray;
  grads: Record<string, GoldenArray>;
  running_after: Record<string, GoldenArray>;
  y_eval: GoldenArray;
}
const golden = loadFixture<Golden>('densenet/golden-blocks.json');

beforeAll(async () => {
  await T.ready();
});

function build(memoryEfficient: boolean): Sequential {
  return new Sequential(
    new DenseBlock({ numLayers: 2, numInputFeatures: 8, bnSize: 2, growthRate: 4, memoryEfficient }),
    new Transition(16, 8),
  );
}

describe('DenseBlock and Transition match torchvision', () => {
  it('have torchvision’s state-dict keys in order', () => {
    expect([...build(false).stateDict().keys()]).toEqual(golden.keys);
  });

  for (const memoryEfficient of [false, true]) {
    it(`train-mode forward, every gradient, running statistics; then eval-mode forward (${memoryEfficient ? 'memory-efficient' : 'plain'})`, async () => {
      const net = build(memoryEfficient);
      const missing = net.loadStateDict(stateOf(golden.state), false).missingKeys;
      expect(missing.every((k) => k.endsWith('num_batches_tracked'))).toBe(true);
      net.train();
      const x = toTensor(golden.x, true);
      const y = net.forward(x);
      await expectNear(y, golden.y, 1e-4, 'y (train)');
      T.sum(T.mul(y, toTensor(golden.up))).backward();
      await expectNear(x.grad!, golden.dx, 1e-3, 'dx');
      const names = [...net.namedParameters()].map(([name]) => name);
      expect(names).toEqual(Object.keys(golden.grads));
      for (const [name, p] of net.namedParameters())
        await expectNear(p.grad!, golden.grads[name]!, 1e-3, `grad ${name}`);
      const sd = net.stateDict();
      for (const [k, v] of Object.entries(golden.running_after)) await expectNear(sd.get(k)!, v, 1e-4, k);
      expect(await sd.get('0.denselayer1.norm1.num_batches_tracked')!.item()).toBe(1);
      net.eval();
      await expectNear(
        T.noGrad(() => net.forward(x)),
        golden.y_eval,
        1e-4,
        'y (eval)',
      );
    });
  }
});

describe('DenseBlock feature growth', () => {
  it('grows its features by one two-part concat per layer, with or without autograd; the memory-efficient mode keeps per-layer concats', async () => {
    // On the 'gpu' kernel family a concat is one dispatch whose uniform words end with one word
    // per part (concat-kernel.ts), so they show how many regions the block's concats copy.
    T.setKernelFamily('gpu');
    try {
      T.manualSeed(3);
      const block = new DenseBlock({ numLayers: 4, numInputFeatures: 6, bnSize: 2, growthRate: 3 });
      block.eval();
      const x = T.randn([2, 6, 5, 5], { seed: 4 });
      x.requiresGrad = true;
      const copies = async (run: () => T.Tensor) => {
        const p = await T.profileKernels(() => run().data(), { perDispatch: true });
        const concats = p.dispatches!.filter((d) => d.name === 'concat_regions');
        return {
          data: Array.from(p.result),
          // Words: total, inner, the axis length, then each part's end.
          kernels: concats.reduce((n, d) => n + d.words.length - 3, 0),
          elementwise: p.kernels.find((k) => k.name === 'elementwise')?.dispatches ?? 0,
        };
      };
      const recorded = await copies(() => block.forward(x));
      const unrecorded = await copies(() => T.noGrad(() => block.forward(x)));
      block.setMemoryEfficient(true);
      const perLayer = await copies(() => block.forward(x));
      expect(recorded.data).toEqual(unrecorded.data);
      expect(recorded.kernels).toBe(unrecorded.kernels);
      // Per layer: the last three layers' concats of 2, 3 and 4 parts (the first reads x itself)
      // and the block's of 5. Growing: a concat of 2 parts after each of the four layers.
      expect(perLayer.kernels - recorded.kernels).toBe(2 + 3 + 4 + 5 - 4 * 2);
      expect(recorded.kernels).toBe(4 * 2);
      expect([recorded.elementwise, perLayer.elementwise]).toEqual([0, 0]);
    } finally {
      T.setKernelFamily(null);
    }
  });
});
