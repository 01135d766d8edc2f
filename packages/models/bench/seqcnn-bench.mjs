// The sequential CNN end to end: training steps (forward, cross-entropy, backward, SGD with
// momentum and weight decay) and inference (eval mode, no autograd) in images/s, for the paper's
// network (PAPER_SEQCNN: 227 px, batch 10, FC6 kept in two row blocks under a 128 MiB binding).
// Peer: PyTorch CPU running the same architecture on the same machine
// (seqcnn_peer.py, after ours so they never compete); there is no TensorFlow.js model peer.
// Build first (npx turbo run build --filter=@spine/models...). Usage: node bench/seqcnn-bench.mjs [--quick]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { PAPER_SEQCNN, SequentialCNN } from '../dist/index.js';
import { finishSuite, quick, timeMedian, warmMatmulForBench } from '../../../bench/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
await T.ready();
const info = T.deviceInfo();
const notes = await warmMatmulForBench(T, info, [
  {},
  { transA: true },
  { transB: true },
  { transA: true, transB: true },
]);
const cases = [];

/** Median ms of `run` (each ends waiting for the device); a paper-sized step takes seconds here. */
async function measure(label, config, batch, train) {
  T.manualSeed(0);
  const model = new SequentialCNN(config);
  const size = config.inputSize;
  const x = T.randn([batch, config.inChannels, size, size], { seed: 1 }).keep();
  const y = T.tensor(Int32Array.from({ length: batch }, (_, i) => i % 2)).keep();
  const opt = train ? new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9, weightDecay: 5e-4 }) : null;
  if (train) model.train();
  else model.eval();
  const run = async () => {
    if (train) {
      const loss = T.scope(() => softmaxCrossEntropy(model.forward(x), y));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      loss.dispose();
    } else {
      T.noGrad(() => T.scope(() => void model.forward(x)));
    }
    await T.sync();
  };
  const ms = await timeMedian(run, { warmup: 1, reps: quick ? 2 : 3 });
  model.dispose();
  x.dispose();
  y.dispose();
  const rate = batch / (ms / 1e3);
  cases.push({
    label,
    unit: 'images/s',
    ms,
    rate,
    peerMs: null,
    peerRate: null,
    ratio: null,
    work: batch,
    workScale: 1,
    torchCase: { batch, size, train, model: config },
  });
  console.log(`${label.padEnd(58)} ours ${rate.toFixed(2).padStart(8)} images/s (${ms.toFixed(0)} ms per batch)`);
}

await measure('paper SequentialCNN training step, 227 px, batch 10', PAPER_SEQCNN, 10, true);
await measure('paper SequentialCNN inference, 227 px, batch 10', PAPER_SEQCNN, 10, false);
await T.releaseDevice();
finishSuite(root, 'models-seqcnn', info, null, cases, { torchScript: path.join(here, 'seqcnn_peer.py'), notes });
