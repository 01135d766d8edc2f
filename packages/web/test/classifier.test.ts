// The page's classifier, run in Node on the same engine (Dawn instead of navigator.gpu): it
// gives predict's probabilities (decode -> preprocess -> forward -> softmax through
// @spine/models' loadNetworkInput), a Grad-CAM map, and a ModelFileError naming the key when the
// weights do not fit the network.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { decodeImage } from '@spine/imaging';
import { SequentialCNN, loadNetworkInput, type SequentialCnnConfig } from '@spine/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../src/classifier.js';
import { ModelFileError, type WebModel } from '../src/model-file.js';

const sample = fileURLToPath(new URL('../../../test-data/sample/cervical/', import.meta.url));
const films = ['cervical-0001-00000.png', 'cervical-0001-00001.png', 'cervical-0001-00002.png'].map((f) =>
  join(sample, f),
);
const CONFIG: SequentialCnnConfig = {
  numClasses: 2,
  inputSize: 40,
  inChannels: 3,
  channels: [6, 8, 8, 8, 8],
  hidden: [16, 16],
  conv1: { kernel: 5, stride: 1, padding: 2 },
  conv2: { stride: 1, padding: 1 },
  lrn: { size: 5, alpha: 5e-4, beta: 0.75, k: 2 },
  dropout: 0.5,
  initStd: 0.2,
};
const transform = { width: 40, height: 40, resize: 'stretch' as const };
let webModel: WebModel;
let reference: number[];

beforeAll(async () => {
  await T.ready();
  T.manualSeed(5);
  const net = new SequentialCNN(CONFIG);
  net.eval();
  webModel = {
    label: 'test model',
    model: CONFIG,
    transform,
    verdict: { threshold: 0.5, uncertainBelow: 0.6 },
    weights: new Map((await net.stateDictData()).entries()),
  };
  // predict's path: loadNetworkInput per file, one batch, forward, softmax.
  const plane = 3 * 40 * 40;
  const inputs = new Float32Array(films.length * plane);
  for (let i = 0; i < films.length; i++)
    await loadNetworkInput(films[i]!, transform, { out: inputs, offset: i * plane });
  const x = T.tensor(inputs, [films.length, 3, 40, 40]);
  const p = T.noGrad(() => T.scope(() => T.softmax(net.forward(x), 1)));
  const probs = await p.data();
  reference = films.map((_, i) => probs[2 * i + 1]!);
  for (const t of [x, p]) t.dispose();
  net.dispose();
});

describe('Classifier', () => {
  it("gives predict's probabilities and a Grad-CAM map per film", async () => {
    const c = Classifier.create({ ...webModel, weights: new Map(webModel.weights) });
    try {
      const out = await c.classify(films.map((f) => decodeImage(readFileSync(f), f)));
      expect(out.map((r) => r.probMale)).toHaveLength(3);
      out.forEach((r, i) => expect(r.probMale).toBeCloseTo(reference[i]!, 5));
      // The films differ, so the network must not give them all one probability.
      expect(new Set(reference.map((p) => p.toFixed(6))).size).toBeGreaterThan(1);
      for (const r of out) {
        expect(r.map).toHaveLength(r.height * r.width);
        expect(r.layer).toMatch(/conv5/);
        expect(r.map.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
      }
      const film = decodeImage(readFileSync(films[0]!), films[0]!);
      const pictures = c.pictures(film, out[0]!, 512);
      // Never enlarged past the film; grey film, colour heat of the same size.
      expect([pictures.film.width, pictures.film.height]).toEqual([film.width, film.height]);
      expect([pictures.heat.width, pictures.heat.height, pictures.heat.channels]).toEqual([film.width, film.height, 3]);
      expect(pictures.heat.data.some((v, i) => Math.abs(v - pictures.film.data[i]!) > 0.1)).toBe(true);
    } finally {
      c.dispose();
    }
  });

  it('refuses weights that do not fit, naming the key', () => {
    const weights = new Map(webModel.weights);
    weights.set('features.0.weight', { shape: [6, 3, 3, 3], data: new Float32Array(6 * 27) });
    expect(() => Classifier.create({ ...webModel, weights })).toThrow(ModelFileError);
    expect(() => Classifier.create({ ...webModel, weights })).toThrow(/weights do not fit .*features\.0\.weight/);
    const missing = new Map(webModel.weights);
    missing.delete('classifier.7.bias');
    expect(() => Classifier.create({ ...webModel, weights: missing })).toThrow(/missing keys: classifier\.7\.bias/);
  });
});
