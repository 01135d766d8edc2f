// The page's classifier (src/classifier.ts) in Node on whatever adapter Dawn finds, against predict's
// path (loadNetworkInput, forward, softmax) for the quick sequential CNN and DenseNet-121 at 224 px
// with seeded random weights, and the page's time per film (batches of 4, Grad-CAM included). Made
// for a lent GPU machine without a browser or npm registry: bundle it with everything but webgpu,
//   npx esbuild packages/web/scripts/gpu-check.ts --bundle --platform=node --format=esm --external:webgpu \
//     --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" --outfile=.gpu/web-check.mjs
// and run it there with bench/gpu/pack.sh's Node and Dawn (see packages/web/README.md).
import { readFileSync, readdirSync } from 'node:fs';
import * as T from '@spine/tensor/node';
import { decodeImage } from '@spine/imaging';
import { SequentialCNN, densenet121, loadNetworkInput, type SequentialCnnConfig } from '@spine/models';
import { Classifier } from '../src/classifier.js';
import type { ModelConfig, InputTransform } from '@spine/models';

await T.ready();
console.log(JSON.stringify({ ...T.deviceInfo(), limits: undefined }));
const dir = 'test-data/sample/cervical/';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.png'))
  .slice(0, 16)
  .map((f) => dir + f);
const SEQ: SequentialCnnConfig = {
  numClasses: 2,
  inputSize: 48,
  inChannels: 3,
  channels: [8, 16, 16, 16, 16],
  hidden: [32, 32],
  conv1: { kernel: 5, stride: 1, padding: 2 },
  conv2: { stride: 2, padding: 1 },
  lrn: { size: 5, alpha: 5e-4, beta: 0.75, k: 2 },
  dropout: 0,
  initStd: 0.15,
};
const cases: {
  name: string;
  model: ModelConfig;
  transform: InputTransform;
  build: () => SequentialCNN | ReturnType<typeof densenet121>;
}[] = [
  {
    name: 'seqcnn-48',
    model: SEQ,
    transform: { width: 48, height: 48, resize: 'stretch' },
    build: () => new SequentialCNN(SEQ),
  },
  {
    name: 'densenet121-224',
    model: {
      kind: 'densenet',
      arch: 'densenet121',
      inputSize: 224,
      numClasses: 2,
      dropRate: 0,
      memoryEfficient: false,
      weights: 'none',
      freezeFeaturesEpochs: 0,
      resize: 'shorter-side-crop',
    },
    transform: { width: 224, height: 224, resize: 'shorter-side-crop' },
    build: () => densenet121({ numClasses: 2 }),
  },
];
for (const c of cases) {
  T.manualSeed(3);
  const net = c.build();
  net.eval();
  const weights = new Map((await net.stateDictData()).entries());
  const plane = 3 * c.transform.width * c.transform.height;
  const inputs = new Float32Array(files.length * plane);
  for (let i = 0; i < files.length; i++)
    await loadNetworkInput(files[i], c.transform, { out: inputs, offset: i * plane });
  const x = T.tensor(inputs, [files.length, 3, c.transform.height, c.transform.width]);
  const p = T.noGrad(() => T.scope(() => T.softmax(net.forward(x), 1)));
  const probs = await p.data();
  x.dispose();
  p.dispose();
  net.dispose();
  const clf = Classifier.create({
    label: c.name,
    model: c.model,
    transform: c.transform,
    verdict: { threshold: 0.5, uncertainBelow: 0.6 },
    weights,
  });
  const films = files.map((f) => decodeImage(readFileSync(f), f));
  let maxDiff = 0;
  const times = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let s = 0; s < films.length; s += 4) {
      const out = await clf.classify(films.slice(s, s + 4));
      out.forEach((r, k) => (maxDiff = Math.max(maxDiff, Math.abs(r.probMale - probs[2 * (s + k) + 1]))));
    }
    times.push((performance.now() - t0) / films.length);
  }
  clf.dispose();
  console.log(
    JSON.stringify({
      case: c.name,
      films: films.length,
      maxAbsDiffVsPredictPath: maxDiff,
      msPerFilm: times.map((t) => +t.toFixed(1)),
      probsSample: Array.from(probs.slice(0, 6), (v) => +v.toFixed(6)),
    }),
  );
}
await T.releaseDevice();
