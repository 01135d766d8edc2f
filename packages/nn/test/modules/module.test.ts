// Module bookkeeping (names, state dicts, loading, modes) and Linear against PyTorch.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  Module,
  NnError,
  ReLU,
  Sequential,
  init,
} from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, toTensor } from '../helpers/golden.js';

beforeAll(async () => {
  await T.ready();
  T.manualSeed(7);
});

const golden = loadGolden('modules');

function torchLikeSeq(): Sequential {
  return new Sequential(
    new Linear(4, 8),
    new ReLU(),
    new Sequential(new Linear(8, 8, false), new ReLU()),
    new Linear(8, 2),
  );
}

describe('Linear', () => {
  for (const c of golden.filter((g) => g.kind === 'linear')) {
    it(`matches torch.nn.Linear forward and backward (bias=${c.bias})`, async () => {
      const w = arrayOf(c, 'weight');
      const lin = new Linear(w.shape[1]!, w.shape[0]!, c.bias as boolean);
      lin.loadStateDict(
        new Map(
          c.bias
            ? [
                ['weight', toTensor(w)],
                ['bias', toTensor(arrayOf(c, 'b'))],
              ]
            : [['weight', toTensor(w)]],
        ),
      );
      const x = toTensor(arrayOf(c, 'x'), true);
      const y = lin.forward(x);
      await expectGolden(y, arrayOf(c, 'y'), 1e-5, 'y');
      T.sum(T.mul(y, toTensor(arrayOf(c, 'up')))).backward();
      await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-4, 'dx');
      await expectGolden(lin.param('weight').grad!, arrayOf(c, 'dweight'), 1e-4, 'dweight');
      if (c.bias) await expectGolden(lin.param('bias').grad!, arrayOf(c, 'dbias'), 1e-4, 'dbias');
    });
  }

  it('default init draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like PyTorch', async () => {
    const lin = new Linear(400, 300);
    const w = await lin.param('weight').data();
    const bound = 1 / Math.sqrt(400);
    let max = 0;
    let sq = 0;
    for (const v of w) {
      max = Math.max(max, Math.abs(v));
      sq += v * v;
    }
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.99 * bound);
    expect(Math.sqrt(sq / w.length)).toBeCloseTo(bound / Math.sqrt(3), 3); // std of U(-b, b)
  });
});

describe('Module bookkeeping', () => {
  const keys = golden.find((g) => g.kind === 'keys')!;

  it('state dict keys, order and shapes are PyTorch’s', () => {
    const m = torchLikeSeq();
    const sd = m.stateDict();
    expect([...sd.keys()]).toEqual(keys.keys);
    expect([...sd.values()].map((t) => t.shape)).toEqual(keys.shapes);
    expect(m.parameterCount()).toBe(keys.params);
    expect(m.namedParameters().map(([k]) => k)).toEqual(keys.keys);
  });

  it('loadStateDict copies values in place and names the offending key', async () => {
    const a = torchLikeSeq();
    const b = torchLikeSeq();
    const w = b.stateDict().get('0.weight')!;
    b.loadStateDict(a.stateDict());
    expect(b.stateDict().get('0.weight')).toBe(w); // identity kept
    expect(Array.from(await w.data())).toEqual(Array.from(await a.stateDict().get('0.weight')!.data()));
    const missing = new Map(a.stateDict());
    missing.delete('3.bias');
    expect(() => b.loadStateDict(missing)).toThrow(/missing keys: 3\.bias/);
    expect(b.loadStateDict(missing, false).missingKeys).toEqual(['3.bias']);
    const extra = new Map(a.stateDict()).set('4.weight', T.ones([1]));
    expect(() => b.loadStateDict(extra)).toThrow(/unexpected keys: 4\.weight/);
    const wrong = new Map(a.stateDict()).set('0.bias', T.ones([7]));
    expect(() => b.loadStateDict(wrong)).toThrow(/'0\.bias' has shape \[7\] in the checkpoint but \[8\]/);
    b.loadStateDict(new Map([['0.bias', { shape: [8], data: new Float32Array(8).fill(2) }]]), false);
    expect(Array.from(await b.stateDict().get('0.bias')!.data())).toEqual(new Array(8).fill(2));
  });

  it('strict loadStateDict accepts a state dict without num_batches_tracked at any depth, keeping each count (0 when new)', async () => {
    const build = () =>
      new Sequential(
        new BatchNorm2d(2),
        new Sequential(new Conv2d(2, 2, 1), new Sequential(new BatchNorm2d(2), new ReLU())),
      );
    const source = build();
    const withoutCounters = new Map([...source.stateDict()].filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect(withoutCounters.size).toBe(source.stateDict().size - 2);
    const fresh = build();
    expect(fresh.loadStateDict(withoutCounters)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(await fresh.stateDict().get('1.1.0.num_batches_tracked')!.item()).toBe(0);
    // A model that has trained keeps its counts, as torch's BatchNorm does for such files.
    const trained = build().train();
    T.noGrad(() => T.scope(() => trained.forward(T.rand([2, 2, 3, 3], { seed: 1 }))));
    trained.loadStateDict(withoutCounters);
    expect(await trained.stateDict().get('1.1.0.num_batches_tracked')!.item()).toBe(1);
    // Only the counter may be left out: any other key missing at depth is still an error.
    const noMean = new Map(withoutCounters);
    noMean.delete('1.1.0.running_mean');
    expect(() => build().loadStateDict(noMean)).toThrow(/missing keys: 1\.1\.0\.running_mean$/);
  });

  it('train/eval reach every submodule; zeroGrad drops gradients; names are checked', () => {
    const m = torchLikeSeq();
    m.eval();
    expect([...m.namedModules()].every(([, s]) => !s.training)).toBe(true);
    m.train();
    expect([...m.namedModules()].every(([, s]) => s.training)).toBe(true);
    const x = T.rand([3, 4], { seed: 1 });
    T.sum(m.forward(x)).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    class Bad extends Module {
      forward(x: T.Tensor) {
        return x;
      }
    }
    const bad = new Bad();
    bad.registerParameter('w', T.ones([1]));
    expect(() => bad.registerModule('w', new ReLU())).toThrow(NnError);
    expect(() => bad.registerParameter('a.b', T.ones([1]))).toThrow(/invalid/);
  });

  it('Sequential frees intermediates but keeps the graph; Flatten; toString', async () => {
    const m = new Sequential(new Flatten(), new Linear(6, 2));
    const x = T.rand([2, 2, 3], { seed: 3 });
    x.requiresGrad = true;
    const live = T.memory().liveBytes;
    const y = m.forward(x);
    expect(y.shape).toEqual([2, 2]);
    T.sum(y).backward();
    expect(x.grad!.shape).toEqual([2, 2, 3]);
    y.dispose();
    expect(T.memory().liveBytes).toBeLessThanOrEqual(live + x.grad!.storage.byteLength + 4096);
    expect(m.toString()).toContain('(1): Linear(in_features=6, out_features=2, bias=true)');
  });
});

describe('Sequential with layers that return their input', () => {
  it('Dropout in eval mode (identity) between layers', async () => {
    const m = new Sequential(new Linear(4, 3), new Dropout(0.5), new ReLU(), new Dropout(0.5), new Linear(3, 2)).eval();
    const y = T.noGrad(() => m.forward(T.ones([2, 4])));
    expect(y.shape).toEqual([2, 2]);
    expect((await y.data()).every(Number.isFinite)).toBe(true);
  });
});

describe('init', () => {
  it('kaiming normal (relu, fan_in) has std sqrt(2 / fan_in); constants fill', async () => {
    const w = init.kaimingNormal_(T.empty([64, 32, 3, 3]), { nonlinearity: 'relu' });
    const d = Array.from(await w.data());
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / (32 * 9)), 2);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Array.from(await init.constant_(T.empty([3]), 0.25).data())).toEqual([0.25, 0.25, 0.25]);
    expect(init.fans([10, 4, 5, 5])).toEqual({ fanIn: 100, fanOut: 250 });
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
  });
});
