// ResNet-50 benchmark: a training step (224 px, batch 8: forward, cross-entropy over 1000
// classes, backward, SGD momentum 0.9, in images/s), eval-mode inference at the same size
// (images/s), and the peak device memory of the training step (MiB of tensor storage,
// @spine/tensor's memory().peakLiveBytes). The peer is PyTorch on this machine's CPU
// (torchvision's resnet50, the same step; bench/torch_peer.py), run after ours by
// harness.finishSuite. The machine's load average at the start and the end goes into the notes:
// on a shared machine it says how much the cores were ours.
// Results: bench/results/models-resnet-<adapter>.json -> docs/BENCHMARKS.md.
// Run after `npm run build`: node packages/models/bench/resnet-bench.mjs [--quick]
// (--quick: 112 px, batch 2; results go to *-quick.json.)
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { resnet50 } from '../dist/models/resnet.js'; // not the package index: it loads the image codecs
import { finishSuite, quick, timeMedian, warmMatmulForBench } from '../../../bench/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const loadAtStart = os.loadavg();
await T.ready();
const info = T.deviceInfo();
const notes = await warmMatmulForBench(T, info, [
  {},
  { transA: true },
  { transB: true },
  { transA: true, transB: true },
]);
const SIZE = quick ? 112 : 224;
const BATCH = quick ? 2 : 8;
const CLASSES = 1000;
const MiB = 2 ** 20;
const cases = [];
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** The model, its optimizer and one fixed batch; `step()` is one training step, `infer()` one eval forward. */
function setup() {
  T.manualSeed(1);
  const model = resnet50({ numClasses: CLASSES });
  const opt = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  const x = T.randn([BATCH, 3, SIZE, SIZE], { seed: 2 }).keep();
  const labels = T.tensor(
    Int32Array.from({ length: BATCH }, (_, i) => i % 2),
    [BATCH],
    'i32',
  ).keep();
  const step = () =>
    T.scope(() => {
      model.train();
      softmaxCrossEntropy(model.forward(x), labels).backward();
      opt.step();
      model.zeroGrad();
    });
  const infer = () =>
    T.scope(() => {
      model.eval();
      T.noGrad(() => model.forward(x));
    });
  const dispose = () => {
    model.dispose();
    opt.dispose();
    for (const t of [x, labels]) t.dispose();
  };
  return { step, infer, dispose };
}

const s = setup();
const shape = `${SIZE} px batch ${BATCH}`;
for (const [label, train] of [
  [`resnet50 train step ${shape}`, true],
  [`resnet50 inference ${shape}`, false],
]) {
  // One warm-up (pipelines compile), then the median of 5, as the PyTorch peer takes. The
  // process's CPU time per run (lavapipe's threads are ours) is kept beside the wall time: on a
  // shared machine it moves far less than the wall time does.
  const cpu = [];
  const ms = await timeMedian(
    async () => {
      const c0 = process.cpuUsage();
      (train ? s.step : s.infer)();
      await T.sync();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e3);
    },
    { warmup: 1, reps: 5 },
  );
  const cpuMs = median(cpu.slice(1));
  const rate = BATCH / (ms / 1e3);
  const torchCase = { op: 'resnet50', batch: BATCH, size: SIZE, classes: CLASSES, train };
  cases.push({
    label,
    unit: 'img/s',
    ms,
    cpuMs,
    rate,
    peerMs: null,
    peerRate: null,
    ratio: null,
    torchCase,
    work: BATCH,
    workScale: 1,
  });
  console.log(
    `${label.padEnd(48)} ${rate.toFixed(3)} img/s (${ms.toFixed(0)} ms per batch, ${cpuMs.toFixed(0)} ms of CPU)`,
  );
}
// The momentum buffers exist after the timed steps, so the peak is that of a steady-state step.
await T.sync();
T.resetPeakMemory();
s.step();
await T.sync();
const peak = T.memory().peakLiveBytes / MiB;
cases.push({
  label: `resnet50 train step peak memory, ${shape}`,
  unit: 'MiB',
  ms: null,
  rate: peak,
  peerMs: null,
  peerRate: null,
  ratio: null,
});
console.log(`resnet50 train step peak memory, ${shape}: ${peak.toFixed(0)} MiB`);
s.dispose();

const load = (l) => l.map((v) => v.toFixed(2)).join(', ');
notes.push(
  `- Load average (1, 5, 15 min) on this ${os.cpus().length}-core machine: ${load(loadAtStart)} when the suite started, ${load(os.loadavg())} after our cases (before the PyTorch peer); other work on the machine slows both sides.`,
);
console.log(notes.at(-1).slice(2));
finishSuite(root, 'models-resnet', info, null, cases, { notes });
