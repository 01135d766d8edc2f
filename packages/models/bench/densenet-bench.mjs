// DenseNet-121 benchmark: a training step (224 px, batch 4: forward, cross-entropy, backward,
// SGD momentum 0.9, in images/s) in the plain and the memory-efficient mode, eval-mode inference
// (images/s), and the peak device memory of one training step at batch 4 and 16 in both modes
// (MiB of tensor storage, @spine/tensor's memory().peakLiveBytes, i.e. what the pool had live at
// its highest: parameters, gradients, momentum buffers, activations and temporaries).
// The peer is PyTorch on this machine's CPU (torchvision's densenet121, the same step; see
// bench/torch_peer.py), run after ours by harness.finishSuite. There is no TensorFlow.js peer
// for whole models. Results: bench/results/models-densenet-<adapter>.json -> docs/BENCHMARKS.md.
// Run after `npm run build`: node packages/models/bench/densenet-bench.mjs [--quick]
// (--quick: 112 px, batch 2, memory at batch 2 and 4; results go to *-quick.json.)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { finishSuite, quick, timeMedian, warmMatmulForBench } from '../../../bench/harness.mjs';
import { denseNetTraining } from './densenet-setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await T.ready();
const info = T.deviceInfo();
const notes = await warmMatmulForBench(T, info, [
  {},
  { transA: true },
  { transB: true },
  { transA: true, transB: true },
]);
const SIZE = quick ? 112 : 224;
const BATCH = quick ? 2 : 4;
const MEMORY_BATCHES = quick ? [2, 4] : [4, 16];
const MiB = 2 ** 20;
const cases = [];

/** A model, its optimizer and one fixed batch; `step()` is one training step, `infer()` one eval forward. */
function setup(memoryEfficient, batch) {
  const { model, trainStep, x, labels, dispose } = denseNetTraining({ batch, size: SIZE, memoryEfficient });
  const step = () => trainStep(x, labels).dispose();
  // The optimizer's momentum buffers appear in the first step; a step on two 32 px images
  // (the network is fully convolutional) creates them cheaply before a memory measurement.
  const warmOptimizer = () =>
    T.scope(() =>
      trainStep(T.randn([2, 3, 32, 32], { seed: 3 }), T.tensor(Int32Array.from([0, 1]), [2], 'i32')).dispose(),
    );
  const infer = () =>
    T.scope(() => {
      model.eval();
      T.noGrad(() => model.forward(x));
    });
  return { step, infer, warmOptimizer, dispose };
}

async function throughput(label, memoryEfficient, train) {
  const s = setup(memoryEfficient, BATCH);
  // One warm-up (pipelines compile), then the median of 5, as the PyTorch peer takes.
  const ms = await timeMedian(
    async () => {
      (train ? s.step : s.infer)();
      await T.sync();
    },
    { warmup: 1, reps: 5 },
  );
  s.dispose();
  const rate = BATCH / (ms / 1e3);
  // The PyTorch peer's rate is work / seconds / workScale: images per second.
  const torchCase = { op: 'densenet121', batch: BATCH, size: SIZE, train, memoryEfficient };
  cases.push({
    label,
    unit: 'img/s',
    ms,
    rate,
    peerMs: null,
    peerRate: null,
    ratio: null,
    torchCase,
    work: BATCH,
    workScale: 1,
  });
  console.log(`${label.padEnd(58)} ${rate.toFixed(3)} img/s (${ms.toFixed(0)} ms per batch)`);
}

async function peakMemory(label, memoryEfficient, batch, train) {
  const s = setup(memoryEfficient, batch);
  if (train) s.warmOptimizer();
  await T.sync();
  T.resetPeakMemory();
  (train ? s.step : s.infer)();
  await T.sync();
  const peak = T.memory().peakLiveBytes / MiB;
  s.dispose();
  cases.push({ label, unit: 'MiB', ms: null, rate: peak, peerMs: null, peerRate: null, ratio: null });
  console.log(`${label.padEnd(58)} ${peak.toFixed(0)} MiB peak`);
}

const shape = `${SIZE} px batch ${BATCH}`;
await throughput(`densenet121 train step ${shape}`, false, true);
const afterPlain = { mib: T.memory().scratchTextureBytes / MiB, count: T.getEngine().scratch.count };
await throughput(`densenet121 train step ${shape}, memory-efficient`, true, true);
await throughput(`densenet121 inference ${shape}`, false, false);
for (const batch of MEMORY_BATCHES) {
  for (const efficient of [false, true]) {
    await peakMemory(
      `densenet121 train step peak memory, ${SIZE} px batch ${batch}${efficient ? ', memory-efficient' : ''}`,
      efficient,
      batch,
      true,
    );
  }
}
await peakMemory(`densenet121 inference peak memory, ${shape}`, false, BATCH, false);
// On software adapters the matmul also holds its staged operands in scratch textures, outside the
// tensor pool (kept per shape for reuse, up to DeviceOptions.scratchTextureCapBytes).
const scratch = T.memory().scratchTextureBytes / MiB;
if (scratch > 0) {
  notes.push(
    `- Peak memory counts the tensor pool only; the matmul's scratch textures (staged operands, a larger texture serving smaller requests) held another ${afterPlain.mib.toFixed(0)} MiB in ${afterPlain.count} textures after the plain training steps at ${shape}, and ${scratch.toFixed(0)} MiB at the end of the run (all batch sizes and modes together).`,
  );
  console.log(notes.at(-1).slice(2));
}

finishSuite(root, 'models-densenet', info, null, cases, { notes });
