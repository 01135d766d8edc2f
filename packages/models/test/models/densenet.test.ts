// DenseNet structure against torchvision 0.14 (fixtures/densenet/keys.json, written by
// scripts/make-densenet-keys.py), torchvision's initialisation, and the memory-efficient mode:
// the same numbers as the plain mode, with activation memory that grows linearly with depth.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  DenseNet,
  densenet121,
  densenet169,
  densenet201,
  type DenseNetConfig,
} from '../../src/models/densenet/densenet.js';

beforeAll(async () => {
  await T.ready();
});

interface KeyFixture {
  models: Record<string, { entries: number; parameters: number; sha256: string; lines?: string[] }>;
}
const KEYS = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'densenet', 'keys.json'), 'utf8'),
) as KeyFixture;

/** The fixture's "key shape" lines for a model's state dict (scalars have an empty shape). */
function stateLines(m: DenseNet): string[] {
  return [...m.stateDict()].map(([k, t]) => `${k} ${t.shape.join(',')}`);
}

describe('DenseNet structure matches torchvision 0.14', () => {
  it('densenet121: every state-dict key and shape, in order; 7,978,856 parameters', () => {
    const m = densenet121();
    const want = KEYS.models.densenet121!;
    expect(stateLines(m)).toEqual(want.lines);
    expect(m.parameterCount()).toBe(want.parameters);
    expect(m.numFeatures).toBe(1024);
    m.dispose();
  });

  it.each([
    ['densenet169', densenet169],
    ['densenet201', densenet201],
  ] as const)('%s: key/shape list hash, entry and parameter counts', (name, make) => {
    const m = make();
    const want = KEYS.models[name]!;
    const lines = stateLines(m);
    expect(lines.length).toBe(want.entries);
    expect(createHash('sha256').update(lines.join('\n')).digest('hex')).toBe(want.sha256);
    expect(m.parameterCount()).toBe(want.parameters);
    m.dispose();
  });

  it('numClasses replaces the classifier only (the fine-tuning head: Linear(1024, 2))', () => {
    const m = densenet121({ numClasses: 2 });
    expect(m.classifier.param('weight').shape).toEqual([2, 1024]);
    expect(m.parameterCount()).toBe(KEYS.models.densenet121!.parameters - 1025 * 1000 + 1025 * 2);
    m.dispose();
  });

  it('strictly loads a state dict without num_batches_tracked (torchvision’s ImageNet files), every count 0', async () => {
    const source = densenet121();
    const withoutCounters = new Map([...source.stateDict()].filter(([k]) => !k.endsWith('num_batches_tracked')));
    expect(source.stateDict().size - withoutCounters.size).toBe(121); // one per BatchNorm
    const m = densenet121();
    expect(m.loadStateDict(withoutCounters)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const counters = [...m.stateDict()].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(counters).toHaveLength(121);
    for (const [, t] of counters) expect(await t.item()).toBe(0);
    const key = 'features.denseblock3.denselayer24.conv2.weight';
    expect(await m.stateDict().get(key)!.data()).toEqual(await source.stateDict().get(key)!.data());
    source.dispose();
    m.dispose();
  });

  it('rejects a bad config with a clear error', () => {
    const base: DenseNetConfig = {
      growthRate: 4,
      blockConfig: [2],
      numInitFeatures: 8,
      bnSize: 2,
      dropRate: 0,
      numClasses: 2,
      memoryEfficient: false,
    };
    expect(() => new DenseNet({ ...base, blockConfig: [] })).toThrow(/blockConfig/);
    expect(() => new DenseNet({ ...base, dropRate: 1 })).toThrow(/dropRate/);
  });
});

describe('DenseNet initialisation (torchvision: kaiming_normal_ convs, BN 1/0, Linear bias 0)', () => {
  it('has the formula’s spread in conv0 and a dense layer, unit/zero BN, zero classifier bias', async () => {
    T.manualSeed(11);
    const m = densenet121({ numClasses: 2 });
    const sd = m.stateDict();
    const stats = async (key: string) => {
      const v = Array.from(await sd.get(key)!.data());
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      return {
        mean,
        std: Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length),
        min: Math.min(...v),
        max: Math.max(...v),
      };
    };
    // kaiming_normal_(a=0, fan_in, leaky_relu): std = sqrt(2 / fan_in).
    for (const [key, fanIn] of [
      ['features.conv0.weight', 3 * 49],
      ['features.denseblock3.denselayer5.conv2.weight', 128 * 9],
    ] as const) {
      const s = await stats(key);
      expect(Math.abs(s.mean), key).toBeLessThan(0.05 * Math.sqrt(2 / fanIn));
      expect(s.std / Math.sqrt(2 / fanIn), key).toBeGreaterThan(0.97);
      expect(s.std / Math.sqrt(2 / fanIn), key).toBeLessThan(1.03);
    }
    for (const key of ['features.norm0', 'features.transition2.norm', 'features.norm5']) {
      expect(await stats(`${key}.weight`)).toMatchObject({ min: 1, max: 1 });
      expect(await stats(`${key}.bias`)).toMatchObject({ min: 0, max: 0 });
    }
    expect(await stats('classifier.bias')).toMatchObject({ min: 0, max: 0 });
    // The classifier weight keeps nn.Linear's default U(-1/sqrt(1024), 1/sqrt(1024)).
    const w = await stats('classifier.weight');
    expect(w.max).toBeLessThanOrEqual(1 / 32);
    expect(w.min).toBeGreaterThanOrEqual(-1 / 32);
    expect(w.std).toBeGreaterThan(0.8 / 32 / Math.sqrt(3));
    m.dispose();
  });
});

/** A DenseNet small enough for lavapipe: 2 blocks, growth 4, 16 px. */
function tiny(memoryEfficient: boolean, dropRate = 0): DenseNet {
  return new DenseNet({
    growthRate: 4,
    blockConfig: [3, 2],
    numInitFeatures: 8,
    bnSize: 2,
    dropRate,
    numClasses: 3,
    memoryEfficient,
  });
}

describe('memory-efficient DenseNet (Pleiss et al.)', () => {
  it('gives the plain mode’s logits, input and parameter gradients and running stats (dropout on)', async () => {
    T.manualSeed(5);
    const plain = tiny(false, 0.2);
    const efficient = tiny(true, 0.2);
    efficient.loadStateDict(plain.stateDict());
    const run = async (m: DenseNet) => {
      const x = T.randn([2, 3, 16, 16], { seed: 9 });
      x.requiresGrad = true;
      T.manualSeed(77); // the same dropout masks in both runs
      const y = m.forward(x);
      T.sum(T.mul(y, T.randn(y.shape, { seed: 10 }))).backward();
      const grads = await Promise.all(m.namedParameters().map(async ([k, p]) => [k, await p.grad!.data()] as const));
      const state = await Promise.all([...m.stateDict()].map(async ([k, t]) => [k, await t.data()] as const));
      return { y: await y.data(), dx: await x.grad!.data(), grads, state };
    };
    const a = await run(plain);
    const b = await run(efficient);
    const close = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) => {
      let scale = 1e-12;
      for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst / scale, label).toBeLessThan(1e-5);
    };
    close(b.y, a.y, 'logits');
    close(b.dx, a.dx, 'input gradient');
    expect(b.grads.map(([k]) => k)).toEqual(a.grads.map(([k]) => k));
    b.grads.forEach(([k, g], i) => close(g, a.grads[i]![1], `grad ${k}`));
    // Running stats (and num_batches_tracked) moved once, not twice, in the efficient mode.
    b.state.forEach(([k, v], i) => close(v, a.state[i]![1], k));
    expect(b.state.find(([k]) => k.endsWith('denselayer2.norm1.num_batches_tracked'))![1][0]).toBe(1);
    plain.dispose();
    efficient.dispose();
  });

  it('keeps activation memory linear in depth (the plain mode grows faster)', () => {
    // Bytes alive after a training forward (what autograd saved for backward), by block depth.
    const saved = (memoryEfficient: boolean, numLayers: number) => {
      T.manualSeed(1);
      const m = new DenseNet({
        growthRate: 8,
        blockConfig: [numLayers],
        numInitFeatures: 16,
        bnSize: 4,
        dropRate: 0,
        numClasses: 2,
        memoryEfficient,
      });
      const x = T.randn([2, 3, 32, 32], { seed: 3 });
      x.requiresGrad = true;
      const before = T.memory().liveBytes;
      const y = m.forward(x);
      const bytes = T.memory().liveBytes - before;
      y.dispose(); // releases the graph
      x.dispose();
      m.dispose();
      return bytes;
    };
    const eff = [4, 8, 16].map((n) => saved(true, n));
    const plain = [4, 8, 16].map((n) => saved(false, n));
    // Linear: doubling the layers from 8 to 16 adds about twice what 4 -> 8 added.
    const effRatio = (eff[2]! - eff[1]!) / (eff[1]! - eff[0]!);
    const plainRatio = (plain[2]! - plain[1]!) / (plain[1]! - plain[0]!);
    expect(effRatio).toBeGreaterThan(1.7);
    expect(effRatio).toBeLessThan(2.3);
    expect(plainRatio).toBeGreaterThan(effRatio + 0.5);
    expect(eff[2]!).toBeLessThan(0.6 * plain[2]!);
  });

  it('can be switched on an existing model', () => {
    T.manualSeed(2);
    const m = tiny(false);
    const savedBytes = () => {
      const x = T.randn([2, 3, 16, 16], { seed: 4 });
      x.requiresGrad = true;
      const before = T.memory().liveBytes;
      const y = m.forward(x);
      const bytes = T.memory().liveBytes - before;
      y.dispose();
      x.dispose();
      return bytes;
    };
    const plainBytes = savedBytes();
    m.setMemoryEfficient(true);
    expect(m.config.memoryEfficient).toBe(true);
    expect(savedBytes()).toBeLessThan(plainBytes);
    m.dispose();
  });
});
