// ONNX Runtime as a peer: the tiny torchvision DenseNet (fixtures/weights/tiny.zip.pth) exported
// to ONNX (fixtures/onnx/tiny-densenet.onnx, scripts/make-tiny-onnx.py) gives the same logits in
// ONNX Runtime's CPU and WebGPU providers as the same state dict in our DenseNet. This is the
// agreement bench/densenet-peers-bench.mjs relies on at full size; skipped where onnxruntime-node
// (a devDependency) is not installed.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { DenseNet, type DenseNetConfig } from '../src/models/densenet/densenet.js';
import { readWeightsFile } from '../src/weights/index.js';

type Ort = typeof import('onnxruntime-node');
const ort: Ort | null = await import('onnxruntime-node')
  .then((m) => (m as { default?: Ort }).default ?? m)
  .catch(() => null);

const fixtures = new URL('../fixtures/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${fixtures}weights/expected.json`, 'utf8')) as {
  config: Omit<DenseNetConfig, 'dropRate' | 'memoryEfficient'>;
  input: { shape: number[]; data: number[] };
  logits: number[];
};

/** Largest |a - b| over largest |b|. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

describe.skipIf(!ort)('ONNX Runtime peer', () => {
  // A batch of three: the fixture's image and two variations of it (the export has a dynamic batch).
  const [, c, h, w] = expected.input.shape as [number, number, number, number];
  const image = Float32Array.from(expected.input.data);
  const batch = Float32Array.from(
    { length: 3 * image.length },
    (_, i) => image[i % image.length]! * (1 + Math.floor(i / image.length)) - 0.25 * Math.floor(i / image.length),
  );
  const shape = [3, c, h, w];
  let ours: Float32Array;

  beforeAll(async () => {
    await T.ready();
    const model = new DenseNet({ ...expected.config, dropRate: 0, memoryEfficient: false });
    model.loadStateDict((await readWeightsFile(`${fixtures}weights/tiny.zip.pth`)).tensors);
    model.eval();
    const y = T.noGrad(() => T.scope(() => model.forward(T.tensor(batch, shape))));
    ours = Float32Array.from(await y.data());
    y.dispose();
    model.dispose();
    // Ours against PyTorch's own logits for the first image: the reference both engines are held to.
    expect(relativeDifference(ours.subarray(0, expected.logits.length), expected.logits)).toBeLessThan(1e-4);
  });

  for (const provider of ['cpu', 'webgpu']) {
    it(`the ${provider} provider's logits match ours on the same weights within 1e-4 of their scale`, async ({
      skip,
    }) => {
      if (!ort!.listSupportedBackends().some((b) => b.name === provider && b.bundled))
        skip(`onnxruntime-node has no bundled ${provider} provider here`);
      const session = await ort!.InferenceSession.create(`${fixtures}onnx/tiny-densenet.onnx`, {
        executionProviders: [provider],
        logSeverityLevel: 3,
      });
      const out = await session.run({ input: new ort!.Tensor('float32', batch, shape) });
      await session.release();
      const logits = out.logits!;
      expect(logits.dims).toEqual([3, expected.config.numClasses]);
      expect(relativeDifference(logits.data as Float32Array, ours)).toBeLessThan(1e-4);
    });
  }
});
