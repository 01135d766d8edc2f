// ResNet and U-Net structure: torchvision 0.14's ResNet keys, shapes and module tree
// (fixtures/resnet/keys.json, written by scripts/make-resnet-unet-fixtures.py), torchvision's
// initialisation and zero_init_residual, a torch.save checkpoint of torchvision's own blocks at
// narrow widths read through the weights reader, and the U-Net's shapes and input checks.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import type { Module } from '@spine/nn';
import { ResNet, resnet18, resnet34, resnet50, type ResNetConfig } from '../../src/models/resnet.js';
import { unet } from '../../src/models/unet.js';
import { readWeightsFile } from '../../src/weights/weights-file.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'resnet');
interface KeyFixture {
  models: Record<
    string,
    { entries: number; parameters: number; sha256: string; lines?: string[]; modules?: [string, string][] }
  >;
}
const KEYS = JSON.parse(readFileSync(join(FIXTURES, 'keys.json'), 'utf8')) as KeyFixture;
interface TinyFixture {
  input: { shape: number[]; data: number[] };
  files: Record<
    string,
    {
      config: Pick<ResNetConfig, 'block' | 'layers' | 'widths' | 'numClasses'>;
      parameterCount: number;
      keys: string[];
      logits: { shape: number[]; data: number[] };
    }
  >;
}
const TINY = JSON.parse(readFileSync(join(FIXTURES, 'tiny.json'), 'utf8')) as TinyFixture;

beforeAll(async () => {
  await T.ready();
});

const stateLines = (m: Module) => [...m.stateDict()].map(([k, t]) => `${k} ${t.shape.join(',')}`);

async function stats(t: T.Tensor) {
  const v = await t.data();
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / v.length;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  return { mean, std: Math.sqrt(sq / v.length), min, max };
}

describe('ResNet structure matches torchvision 0.14', () => {
  it.each([
    ['resnet18', resnet18, 512],
    ['resnet50', resnet50, 2048],
  ] as const)(
    '%s: every state-dict key and shape in order, the module tree, the parameter count',
    (name, make, features) => {
      const m = make();
      const want = KEYS.models[name]!;
      expect(stateLines(m)).toEqual(want.lines);
      expect([...m.namedModules()].map(([path, mod]) => [path, mod.constructor.name])).toEqual(want.modules);
      expect(m.parameterCount()).toBe(want.parameters);
      expect(m.numFeatures).toBe(features);
      m.dispose();
    },
  );

  it('resnet34: key/shape list hash, entry and parameter counts', () => {
    const m = resnet34();
    const lines = stateLines(m);
    const want = KEYS.models.resnet34!;
    expect(lines.length).toBe(want.entries);
    expect(createHash('sha256').update(lines.join('\n')).digest('hex')).toBe(want.sha256);
    expect(m.parameterCount()).toBe(want.parameters);
    m.dispose();
  });

  it('numClasses replaces fc only', () => {
    const m = resnet50({ numClasses: 2 });
    expect(m.fc.param('weight').shape).toEqual([2, 2048]);
    expect(m.parameterCount()).toBe(KEYS.models.resnet50!.parameters - 2049 * 1000 + 2049 * 2);
    m.dispose();
  });

  it('rejects a bad config with a clear error', () => {
    const base: ResNetConfig = {
      block: 'basic',
      layers: [1, 1, 1, 1],
      numClasses: 2,
      zeroInitResidual: false,
      groups: 1,
      widthPerGroup: 64,
      widths: [4, 4, 4, 4],
    };
    expect(() => new ResNet({ ...base, layers: [1, 0, 1, 1] })).toThrow(/layers must be four positive integers/);
    expect(() => new ResNet({ ...base, widths: [4, 4, 4] as unknown as ResNetConfig['widths'] })).toThrow(/widths/);
    expect(() => new ResNet({ ...base, groups: 2 })).toThrow(/BasicBlock only supports groups=1/);
  });
});

describe('ResNet initialisation (torchvision: kaiming_normal_ fan_out relu, BN 1/0, zero_init_residual)', () => {
  it('conv spread sqrt(2 / fan_out), unit/zero BN, fc in nn.Linear’s default bound', async () => {
    T.manualSeed(3);
    const m = resnet18();
    const sd = m.stateDict();
    for (const [key, fanOut] of [
      ['conv1.weight', 64 * 49],
      ['layer3.1.conv2.weight', 256 * 9],
      ['layer2.0.downsample.0.weight', 128],
    ] as const) {
      const s = await stats(sd.get(key)!);
      const std = Math.sqrt(2 / fanOut);
      expect(Math.abs(s.mean), key).toBeLessThan(0.05 * std);
      expect(s.std / std, key).toBeGreaterThan(0.97);
      expect(s.std / std, key).toBeLessThan(1.03);
    }
    for (const key of ['bn1', 'layer1.0.bn2', 'layer4.0.downsample.1']) {
      expect(await stats(sd.get(`${key}.weight`)!)).toMatchObject({ min: 1, max: 1 });
      expect(await stats(sd.get(`${key}.bias`)!)).toMatchObject({ min: 0, max: 0 });
    }
    const bound = 1 / Math.sqrt(512);
    for (const key of ['fc.weight', 'fc.bias']) {
      const s = await stats(sd.get(key)!);
      expect(s.max).toBeLessThanOrEqual(bound);
      expect(s.min).toBeGreaterThanOrEqual(-bound);
      expect(s.std).toBeGreaterThan((0.8 * bound) / Math.sqrt(3));
    }
    m.dispose();
  });

  it('zeroInitResidual zeroes the last BN weight of every block (bn2 in BasicBlock, bn3 in Bottleneck) and nothing else', async () => {
    for (const [make, last] of [
      [resnet18, 'bn2'],
      [resnet50, 'bn3'],
    ] as const) {
      const m = make({ zeroInitResidual: true });
      for (const [key, t] of m.stateDict()) {
        if (!/^layer\d\.\d+\.bn\d\.weight$/.test(key) && !/^(bn1|layer\d\.0\.downsample\.1)\.weight$/.test(key))
          continue;
        const s = await stats(t);
        const zero = key.endsWith(`.${last}.weight`);
        expect(s, key).toMatchObject(zero ? { min: 0, max: 0 } : { min: 1, max: 1 });
      }
      m.dispose();
    }
  });
});

describe('a torch.save checkpoint of torchvision’s ResNet blocks (narrow widths)', () => {
  it.each(Object.keys(TINY.files))('%s.pth loads strictly and gives torchvision’s eval logits', async (name) => {
    const f = TINY.files[name]!;
    const file = await readWeightsFile(join(FIXTURES, `${name}.pth`));
    expect(file.format).toBe('torch-zip');
    expect([...file.tensors.keys()]).toEqual(f.keys);
    const m = new ResNet({ ...f.config, zeroInitResidual: false, groups: 1, widthPerGroup: 64 });
    expect(m.parameterCount()).toBe(f.parameterCount);
    expect(m.loadStateDict(file.tensors, true)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    m.eval();
    const x = T.tensor(Float32Array.from(TINY.input.data), TINY.input.shape);
    const y = T.noGrad(() => m.forward(x));
    expect(y.shape).toEqual(f.logits.shape);
    const got = await y.data();
    const scale = Math.max(...f.logits.data.map(Math.abs));
    f.logits.data.forEach((v, i) => expect(Math.abs(got[i]! - v) / scale, `logit ${i}`).toBeLessThan(1e-4));
    m.dispose();
  });
});

describe('U-Net', () => {
  it('maps [N, in, H, W] to [N, out, H, W] with the documented keys', () => {
    const m = unet({ inChannels: 1, outChannels: 3, base: 4, depth: 2 });
    const keys = [...m.stateDict().keys()].filter((k) => !/running|num_batches/.test(k));
    expect(keys).toEqual([
      ...['encoder.0', 'encoder.1', 'encoder.2'].flatMap((p) => [
        `${p}.conv1.weight`,
        `${p}.bn1.weight`,
        `${p}.bn1.bias`,
        `${p}.conv2.weight`,
        `${p}.bn2.weight`,
        `${p}.bn2.bias`,
      ]),
      ...['decoder.0', 'decoder.1'].flatMap((p) => [
        `${p}.up.weight`,
        `${p}.up.bias`,
        ...['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias'].map(
          (k) => `${p}.conv.${k}`,
        ),
      ]),
      'head.weight',
      'head.bias',
    ]);
    expect(m.stateDict().get('encoder.2.conv1.weight')!.shape).toEqual([16, 8, 3, 3]);
    expect(m.stateDict().get('decoder.0.up.weight')!.shape).toEqual([16, 8, 2, 2]);
    expect(m.stateDict().get('decoder.1.conv.conv1.weight')!.shape).toEqual([4, 8, 3, 3]);
    const y = T.noGrad(() => m.eval().forward(T.rand([2, 1, 12, 8])));
    expect(y.shape).toEqual([2, 3, 12, 8]);
    m.dispose();
  });

  it('refuses a size not divisible by 2^depth, the wrong channel count and a bad config', () => {
    const m = unet({ inChannels: 1, outChannels: 2, base: 4, depth: 3 });
    expect(() => m.forward(T.rand([1, 1, 20, 16]))).toThrow(/divisible by 2\^depth = 8, got 20x16/);
    expect(() => m.forward(T.rand([1, 3, 16, 16]))).toThrow(/expected input \[N, 1, H, W\], got \[1, 3, 16, 16\]/);
    expect(() => unet({ inChannels: 1, outChannels: 2, base: 0 })).toThrow(/base must be a positive integer/);
    m.dispose();
  });
});
