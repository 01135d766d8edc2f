import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { SGD, ShardedLinear } from '@spine/nn';
import {
  PAPER_SEQCNN,
  SequentialCNN,
  sequentialCnnShapes,
  type SequentialCnnConfig,
} from '../../src/models/sequential-cnn.js';

beforeAll(async () => {
  await T.ready();
  T.manualSeed(3);
});

describe('SequentialCNN (the paper’s Approach I)', () => {
  it('has the paper’s spatial path and FC6 width', () => {
    expect(sequentialCnnShapes(PAPER_SEQCNN)).toEqual({
      conv1: 111,
      pool1: 55,
      conv2: 28,
      pool2: 13,
      pool5: 6,
      fc6Inputs: 9216,
    });
    // conv2 at stride 1 (the other reading of the paper) would feed 43,264 inputs to FC6.
    expect(sequentialCnnShapes({ ...PAPER_SEQCNN, conv2: { stride: 1, padding: 1 } }).fc6Inputs).toBe(43264);
  });

  it('counts parameters like the formula and names them like torchvision’s AlexNet', () => {
    const small: SequentialCnnConfig = {
      ...PAPER_SEQCNN,
      inputSize: 67,
      channels: [8, 12, 16, 16, 12],
      hidden: [32, 32],
    };
    const m = new SequentialCNN(small);
    const s = sequentialCnnShapes(small);
    const conv = (i: number, o: number, k: number) => o * i * k * k + o;
    const want =
      conv(3, 8, 7) +
      conv(8, 12, 3) +
      conv(12, 16, 3) +
      conv(16, 16, 3) +
      conv(16, 12, 3) +
      (s.fc6Inputs * 32 + 32) +
      (32 * 32 + 32) +
      (32 * 2 + 2);
    expect(m.parameterCount()).toBe(want);
    expect([...m.stateDict().keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.4.weight',
      'features.4.bias',
      'features.8.weight',
      'features.8.bias',
      'features.10.weight',
      'features.10.bias',
      'features.12.weight',
      'features.12.bias',
      'classifier.1.weight',
      'classifier.1.bias',
      'classifier.4.weight',
      'classifier.4.bias',
      'classifier.7.weight',
      'classifier.7.bias',
    ]);
  });

  it('runs forward and backward at a small size; init is zero-mean Gaussian with the configured std', async () => {
    const cfg: SequentialCnnConfig = {
      ...PAPER_SEQCNN,
      inputSize: 67,
      channels: [8, 12, 16, 16, 12],
      hidden: [32, 32],
      initStd: 0.05,
    };
    const m = new SequentialCNN(cfg);
    const x = T.randn([2, 3, 67, 67], { seed: 1 });
    const y = m.forward(x);
    expect(y.shape).toEqual([2, 2]);
    T.sum(y).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    const w = Array.from(await m.stateDict().get('features.8.weight')!.data());
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(0.045);
    expect(std).toBeLessThan(0.055);
    expect(Array.from(await m.stateDict().get('features.8.bias')!.data()).every((v) => v === 0)).toBe(true);
  });

  it('batchNorm: conv (no bias) -> BatchNorm2d -> ReLU in place of LRN; BN keeps weight 1, bias 0', async () => {
    const cfg: SequentialCnnConfig = {
      ...PAPER_SEQCNN,
      inputSize: 48,
      channels: [4, 8, 8, 8, 8],
      hidden: [16, 16],
      conv1: { kernel: 5, stride: 2, padding: 2 },
      conv2: { stride: 1, padding: 1 },
      batchNorm: true,
    };
    const m = new SequentialCNN(cfg);
    const keys = [...m.stateDict().keys()];
    expect(keys.slice(0, 6)).toEqual([
      'features.0.weight',
      'features.1.weight',
      'features.1.bias',
      'features.1.running_mean',
      'features.1.running_var',
      'features.1.num_batches_tracked',
    ]);
    expect(keys.some((k) => k === 'features.0.bias')).toBe(false);
    expect(m.features.toString()).not.toContain('LocalResponseNorm');
    expect(Array.from(await m.stateDict().get('features.1.weight')!.data())).toEqual([1, 1, 1, 1]);
    expect(Array.from(await m.stateDict().get('features.1.bias')!.data())).toEqual([0, 0, 0, 0]);
    const y = m.forward(T.randn([2, 3, 48, 48], { seed: 4 }));
    expect(y.shape).toEqual([2, 2]);
    T.sum(y).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.dispose();
  });

  it('the paper’s FC6 (4096 x 9216, 144 MiB, over a 128 MiB binding limit) trains in two blocks and saves as one `classifier.1.weight`', async () => {
    // The paper's classifier and input size; narrow conv1-4 keep the test fast (FC6 only
    // depends on conv5's 256 channels at 6 x 6).
    const m = new SequentialCNN({ ...PAPER_SEQCNN, channels: [8, 8, 8, 8, 256] });
    try {
      const fc6 = m.classifier.at(1) as ShardedLinear;
      expect(fc6.shardRows).toEqual([2048, 2048]);
      expect(m.classifier.parameters().reduce((s, p) => s + p.size, 0)).toBe(
        9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 2 + 2,
      );
      const opt = new SGD(m.parameters(), { lr: 0.001, momentum: 0.9 });
      const x = T.randn([1, 3, 227, 227], { seed: 2 });
      const loss = T.scope(() => T.sum(m.forward(x)));
      loss.backward();
      opt.step();
      expect(Number.isFinite(await loss.item())).toBe(true);
      expect(fc6.shards().every((w) => w.grad !== null)).toBe(true);

      const state = await m.stateDictData();
      expect(state.get('classifier.1.weight')!.shape).toEqual([4096, 9216]);
      expect([...state.keys()].filter((k) => k.startsWith('classifier.1.'))).toEqual([
        'classifier.1.weight',
        'classifier.1.bias',
      ]);
      // Row 2048 is the first row of the second block: a joined entry loads there.
      const w = state.get('classifier.1.weight')!.data as Float32Array;
      w.fill(0.25, 2048 * 9216, 2049 * 9216);
      m.loadStateDict(state);
      const block = await fc6.shards()[1]!.data();
      expect(Array.from(block.subarray(0, 9216)).every((v) => v === 0.25)).toBe(true);
      expect(block[9216]).toBe(w[2049 * 9216]);
      opt.zeroGrad();
    } finally {
      m.dispose();
    }
  }, 120_000);
});
