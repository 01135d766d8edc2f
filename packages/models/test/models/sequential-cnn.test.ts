import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { PAPER_SEQCNN, SequentialCNN, sequentialCnnShapes, type SequentialCnnConfig } from '../../src/models/sequential-cnn.js';

beforeAll(async () => {
  await T.ready();
  T.manualSeed(3);
});

describe('SequentialCNN (the paper’s Approach I)', () => {
  it('has the paper’s spatial path and FC6 width', () => {
    expect(sequentialCnnShapes(PAPER_SEQCNN)).toEqual({ conv1: 111, pool1: 55, conv2: 28, pool2: 13, pool5: 6, fc6Inputs: 9216 });
    // conv2 at stride 1 (the other reading of the paper) would feed 43,264 inputs to FC6.
    expect(sequentialCnnShapes({ ...PAPER_SEQCNN, conv2: { stride: 1, padding: 1 } }).fc6Inputs).toBe(43264);
  });

  it('counts parameters like the formula and names them like torchvision’s AlexNet', () => {
    const small: SequentialCnnConfig = { ...PAPER_SEQCNN, inputSize: 67, channels: [8, 12, 16, 16, 12], hidden: [32, 32] };
    const m = new SequentialCNN(small);
    const s = sequentialCnnShapes(small);
    const conv = (i: number, o: number, k: number) => o * i * k * k + o;
    const want = conv(3, 8, 7) + conv(8, 12, 3) + conv(12, 16, 3) + conv(16, 16, 3) + conv(16, 12, 3) + (s.fc6Inputs * 32 + 32) + (32 * 32 + 32) + (32 * 2 + 2);
    expect(m.parameterCount()).toBe(want);
    expect([...m.stateDict().keys()]).toEqual([
      'features.0.weight', 'features.0.bias', 'features.4.weight', 'features.4.bias', 'features.8.weight', 'features.8.bias',
      'features.10.weight', 'features.10.bias', 'features.12.weight', 'features.12.bias',
      'classifier.1.weight', 'classifier.1.bias', 'classifier.4.weight', 'classifier.4.bias', 'classifier.7.weight', 'classifier.7.bias',
    ]);
  });

  it('runs forward and backward at a small size; init is zero-mean Gaussian with the configured std', async () => {
    const cfg: SequentialCnnConfig = { ...PAPER_SEQCNN, inputSize: 67, channels: [8, 12, 16, 16, 12], hidden: [32, 32], initStd: 0.05 };
    const m = new SequentialCNN(cfg);
    const x = T.randn([2, 3, 67, 67], { seed: 1 });
    const y = m.forward(x);
    expect(y.shape).toEqual([2, 2]);
    T.sum(y).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    const w = Array.from(await m.stateDict().get("features.8.weight")!.data());
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(0.045);
    expect(std).toBeLessThan(0.055);
    expect(Array.from(await m.stateDict().get('features.8.bias')!.data()).every((v) => v === 0)).toBe(true);
  });
});
