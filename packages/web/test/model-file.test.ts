// The model file reader: what it accepts (an export-web model alone; a checkpoint with its run's
// config.json) and the message for each wrong choice, on files built here with @spine/nn's
// safetensors writer.
import { encodeSafetensors } from '@spine/nn';
import { describe, expect, it } from 'vitest';
import { ModelFileError, readModelFiles } from '../src/model-file.js';

const SEQCNN = {
  numClasses: 2,
  inputSize: 32,
  inChannels: 3,
  channels: [4, 4, 4, 4, 4],
  hidden: [8, 8],
  conv1: { kernel: 3, stride: 1, padding: 1 },
  conv2: { stride: 1, padding: 1 },
  lrn: { size: 5, alpha: 5e-4, beta: 0.75, k: 2 },
  dropout: 0,
  initStd: 0.1,
};
const DENSENET = {
  kind: 'densenet',
  arch: 'densenet121',
  inputSize: 224,
  numClasses: 2,
  dropRate: 0,
  memoryEfficient: false,
  weights: 'imagenet',
  freezeFeaturesEpochs: 0,
  resize: 'shorter-side-crop',
};
const weight = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
const enc = (s: string) => new TextEncoder().encode(s);

function exported(extra: Record<string, string> = {}) {
  const metadata = {
    format: 'spine-web-model',
    version: '1',
    model: JSON.stringify(SEQCNN),
    transform: JSON.stringify({ width: 32, height: 32, resize: 'stretch' }),
    verdict: JSON.stringify({ threshold: 0.4, uncertainBelow: 0.7 }),
    source: JSON.stringify({ run: 'q1', checkpoint: 'best', epoch: 3 }),
    ...extra,
  };
  return { name: 'model.safetensors', bytes: encodeSafetensors({ 'classifier.1.weight': weight }, metadata) };
}
const checkpoint = {
  name: 'best-e0003b0000-ab12.safetensors',
  bytes: encodeSafetensors(
    { 'model.classifier.1.weight': weight, 'optimizer.momentum.0': weight },
    { format: 'spine-checkpoint' },
  ),
};
const configJson = (model: unknown) => ({
  name: 'config.json',
  bytes: enc(JSON.stringify({ format: 'spine-run', version: 1, config: { model } })),
});

function failure(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError');
}

describe('readModelFiles', () => {
  it('reads an export-web model: network, transform, verdict and weights from the file alone', () => {
    const m = readModelFiles([exported()]);
    expect(m.model).toEqual(SEQCNN);
    expect(m.transform).toEqual({ width: 32, height: 32, resize: 'stretch' });
    expect(m.verdict).toEqual({ threshold: 0.4, uncertainBelow: 0.7 });
    expect([...m.weights.keys()]).toEqual(['classifier.1.weight']);
    expect(Array.from(m.weights.get('classifier.1.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(m.label).toBe('model.safetensors (run q1, best checkpoint, epoch 3)');
  });

  it("reads a training checkpoint with its run's config.json: model.* weights, optimizer state dropped", () => {
    const m = readModelFiles([configJson(DENSENET), checkpoint]);
    expect(m.model).toEqual(DENSENET);
    expect(m.transform).toEqual({ width: 224, height: 224, resize: 'shorter-side-crop' });
    expect(m.verdict).toEqual({ threshold: 0.5, uncertainBelow: 0.6 });
    expect([...m.weights.keys()]).toEqual(['classifier.1.weight']);
  });

  it.each([
    [
      'a film instead of a model',
      () =>
        readModelFiles([
          { name: 'film.png', bytes: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 0]) },
        ]),
      /film\.png is not a model this page can run: not a readable safetensors file/,
    ],
    [
      'safetensors from elsewhere',
      () => readModelFiles([{ name: 'other.safetensors', bytes: encodeSafetensors({ w: weight }) }]),
      /other\.safetensors .*without spine-cli's metadata \(format missing\)/,
    ],
    [
      'a checkpoint alone',
      () => readModelFiles([checkpoint]),
      /training checkpoint .* choose the run's config\.json together with it/,
    ],
    ['config.json alone', () => readModelFiles([configJson(SEQCNN)]), /no \.safetensors file among them/],
    ['two weights files', () => readModelFiles([checkpoint, exported()]), /more than one weights file/],
    [
      'a JSON that is not a run',
      () => readModelFiles([checkpoint, { name: 'config.json', bytes: enc('{"a": 1}') }]),
      /config\.json .*not a spine-cli run's config\.json/,
    ],
    [
      'broken JSON',
      () => readModelFiles([checkpoint, { name: 'config.json', bytes: enc('{') }]),
      /config\.json .*not valid JSON/,
    ],
    [
      'three classes',
      () => readModelFiles([configJson({ ...SEQCNN, numClasses: 3 }), checkpoint]),
      /has 3 classes; the page reads two/,
    ],
    [
      'an unknown DenseNet',
      () => readModelFiles([configJson({ ...DENSENET, arch: 'densenet99' }), checkpoint]),
      /unknown DenseNet 'densenet99'/,
    ],
    ['a newer export', () => readModelFiles([exported({ version: '2' })]), /exported model version 2/],
    [
      'an export with a bad transform',
      () => readModelFiles([exported({ transform: '{"width": 0}' })]),
      /input transform has no valid width and height/,
    ],
    [
      'an export with a config.json',
      () => readModelFiles([exported(), configJson(SEQCNN)]),
      /carries its own configuration; load it alone/,
    ],
  ])('refuses %s with a message naming the file', (_, fn, message) => {
    expect(failure(fn).message).toMatch(message);
  });
});
