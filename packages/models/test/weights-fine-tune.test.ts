// Fine-tuning: the tiny torchvision DenseNet's weights (legacy names, legacy format) into our DenseNet
// with a new 2-class head; features match PyTorch's; the head is a fresh nn.Linear; freezing and
// the classifier's own learning rate behave like PyTorch's requires_grad and param groups.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { DenseNet, type DenseNetConfig } from '../src/models/densenet/densenet.js';
import { applyFeatureFreeze, featuresFrozenIn, loadPretrainedFeatures, readWeightsFile } from '../src/weights/index.js';

const fixtures = new URL('../fixtures/weights/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${fixtures}expected.json`, 'utf8')) as {
  config: Omit<DenseNetConfig, 'dropRate' | 'memoryEfficient'>;
  tensors: Record<string, { data: number[] }>;
  input: { shape: number[]; data: number[] };
  pooledFeatures: number[];
};
const tiny = (): DenseNet => new DenseNet({ ...expected.config, numClasses: 2, dropRate: 0, memoryEfficient: false });

beforeAll(async () => {
  await T.ready();
  T.manualSeed(11);
});

async function values(t: T.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('loadPretrainedFeatures', () => {
  it('loads every weight but the classifier; eval-mode features equal PyTorch’s; the head is a fresh nn.Linear', async () => {
    const file = `${fixtures}tiny-legacy-names.legacy.pth`;
    const weights = (await readWeightsFile(file)).tensors;
    const model = tiny();
    const r = loadPretrainedFeatures(model, weights, file);
    expect(r.skipped).toEqual(['classifier.weight', 'classifier.bias']);
    expect(r.loaded).toBe(weights.size - 2);
    const sd = model.stateDict();
    expect(await values(sd.get('features.denseblock2.denselayer2.conv1.weight')!)).toEqual(
      expected.tensors['features.denseblock2.denselayer2.conv1.weight']!.data.map(Math.fround),
    );

    model.eval();
    const x = T.tensor(Float32Array.from(expected.input.data), expected.input.shape);
    const pooled = T.noGrad(() => T.scope(() => T.mean(model.forwardFeatures(x, true), [2, 3])));
    const got = await values(pooled);
    got.forEach((v, i) =>
      expect(Math.abs(v - expected.pooledFeatures[i]!)).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(expected.pooledFeatures[i]!)),
      ),
    );

    // nn.Linear(14, 2): weight and bias U(-1/sqrt(14), 1/sqrt(14)); torchvision's DenseNet init would have left the bias at 0.
    const bound = 1 / Math.sqrt(14);
    const w = await values(sd.get('classifier.weight')!);
    const b = await values(sd.get('classifier.bias')!);
    expect(w).toHaveLength(28);
    expect(w.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound / 2);
    expect(b.every((v) => Math.abs(v) <= bound && v !== 0)).toBe(true);
    model.dispose();
  });

  it('refuses weights of another depth, naming the keys that do not fit', async () => {
    const file = `${fixtures}tiny-other-depth.zip.pth`;
    const weights = (await readWeightsFile(file)).tensors;
    const model = tiny();
    expect(() => loadPretrainedFeatures(model, weights, file)).toThrow(
      /tiny-other-depth\.zip\.pth does not fit this network: the model's features\.denseblock2\.denselayer2\.norm1\.weight.* (is|are) not in the file/,
    );
    model.dispose();
  });
});

describe('freezing and the classifier learning rate', () => {
  it('frozen features get no gradient and no update; the head moves; after the freeze epochs everything trains', async () => {
    expect([1, 2, 3].map((e) => featuresFrozenIn(e, 2))).toEqual([true, true, false]);
    const model = tiny();
    const opt = new SGD(
      [
        { params: model.features.parameters(), name: 'features' },
        { params: model.classifier.parameters(), name: 'classifier', lr: 0.5 },
      ],
      { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
    );
    const x = T.randn([2, 3, 32, 32], { seed: 3 });
    const y = T.tensor(Int32Array.from([0, 1]));
    const step = () => {
      const loss = T.scope(() => softmaxCrossEntropy(model.forward(x), y));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      loss.dispose();
    };
    const conv0 = model.stateDict().get('features.conv0.weight')!;
    const head = model.stateDict().get('classifier.weight')!;
    const conv0Before = await values(conv0);
    const headBefore = await values(head);

    applyFeatureFreeze(model, 1, 2);
    expect(model.features.parameters().every((p) => !p.requiresGrad)).toBe(true);
    step();
    expect(await values(conv0)).toEqual(conv0Before);
    const headAfter = await values(head);
    expect(headAfter).not.toEqual(headBefore);

    applyFeatureFreeze(model, 3, 2);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    step();
    expect(await values(conv0)).not.toEqual(conv0Before);
    model.dispose();
  });

  it('the classifier group’s own lr: its first SGD step is lr_head x grad (momentum buffer = grad on step 1)', async () => {
    const model = tiny();
    const lrHead = 0.5;
    const opt = new SGD(
      [
        { params: model.features.parameters(), name: 'features' },
        { params: model.classifier.parameters(), name: 'classifier', lr: lrHead },
      ],
      { lr: 0.001, momentum: 0.9 },
    );
    const x = T.randn([2, 3, 32, 32], { seed: 4 });
    const y = T.tensor(Int32Array.from([1, 0]));
    const bias = model.stateDict().get('classifier.bias')!;
    const before = await values(bias);
    const loss = T.scope(() => softmaxCrossEntropy(model.forward(x), y));
    loss.backward();
    const grad = await values(bias.grad!);
    opt.step();
    const after = await values(bias);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i]! - lrHead * grad[i]!, 6));
    model.dispose();
  });
});

describe('unwrapModelKeys', () => {
  it("strips DataParallel's 'module.' and a checkpoint's 'model.' (dropping 'optimizer.'); a plain state dict is kept", async () => {
    const { unwrapModelKeys } = await import('../src/weights/index.js');
    const plain = new Map([
      ['features.conv0.weight', 1],
      ['classifier.bias', 2],
    ]);
    expect(unwrapModelKeys(plain)).toBe(plain);
    expect([
      ...unwrapModelKeys(
        new Map([
          ['module.features.x', 1],
          ['module.classifier.bias', 2],
        ]),
      ),
    ]).toEqual([
      ['features.x', 1],
      ['classifier.bias', 2],
    ]);
    expect([
      ...unwrapModelKeys(
        new Map([
          ['model.features.x', 1],
          ['optimizer.momentum.0', 3],
          ['model.classifier.bias', 2],
        ]),
      ),
    ]).toEqual([
      ['features.x', 1],
      ['classifier.bias', 2],
    ]);
    // Only some keys prefixed: not a wrapper, left alone.
    const mixed = new Map([
      ['model.a', 1],
      ['b', 2],
    ]);
    expect(unwrapModelKeys(mixed)).toBe(mixed);
  });
});
