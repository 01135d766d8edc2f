// Where the quick preset's training step spends its time (a tuning aid, not part of `npm run
// bench`): times whole steps of the quick network (batch norm, 64 px, SGD included) on random
// inputs, then records every dispatch of one step and replays each alone, summing the time per
// kernel and grid. On lavapipe the replay is noisy (±30% between processes) but ranks the kernels.
// Build first. Usage: node bench/quick-profile.mjs [batch 32] [channels 16,32,32,32,32] [conv1 kernel 5]
// (NOREPLAY=1: step times only).
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { PAPER_SEQCNN, SequentialCNN } from '../dist/index.js';

await T.ready();
const batch = Number(process.argv[2] ?? 32);
const channels = (process.argv[3] ?? '16,32,32,32,32').split(',').map(Number);
const k1 = Number(process.argv[4] ?? 5);
const cfg = {
  ...PAPER_SEQCNN,
  inputSize: 64,
  channels,
  hidden: [64, 64],
  conv1: { kernel: k1, stride: 2, padding: Math.floor(k1 / 2) },
  conv2: { stride: 1, padding: 1 },
  dropout: 0,
  initStd: 0.1,
  batchNorm: true,
};
T.manualSeed(0);
const model = new SequentialCNN(cfg);
const x = T.randn([batch, 3, 64, 64], { seed: 1 }).keep();
const y = T.tensor(Int32Array.from({ length: batch }, (_, i) => i % 2)).keep();
const opt = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9, weightDecay: 5e-4 });
model.train();
const step = async () => {
  const loss = T.scope(() => softmaxCrossEntropy(model.forward(x), y));
  loss.backward();
  opt.step();
  opt.zeroGrad();
  loss.dispose();
  await T.sync();
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 3; i++) await step();
const engine = T.getEngine();
const d0 = engine.counters.dispatches;
await step();
console.log(`dispatches per step: ${engine.counters.dispatches - d0}`);
const times = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  await step();
  times.push(performance.now() - t0);
}
const ms = median(times);
console.log(
  `batch ${batch}, channels ${channels.join('-')}, conv1 ${k1}x${k1}: step ${ms.toFixed(1)} ms (median of 10), ${((batch / ms) * 1e3).toFixed(1)} images/s`,
);
if (process.env.NOREPLAY) process.exit(0);

// Record one step's dispatches, then replay each alone (5 times in one submit).
const recorded = [];
const dispatch = engine.dispatch.bind(engine);
engine.dispatch = (kernel, buffers, uniforms, workgroups) => {
  recorded.push([kernel, [...buffers], Uint32Array.from(uniforms), [...workgroups]]);
  dispatch(kernel, buffers, uniforms, workgroups);
};
await step();
engine.dispatch = dispatch;
const byKernel = new Map();
for (const [kernel, buffers, uniforms, workgroups] of recorded) {
  const run = async (n) => {
    for (let i = 0; i < n; i++) dispatch(kernel, buffers, uniforms, workgroups);
    engine.flush();
    await engine.device.queue.onSubmittedWorkDone();
  };
  await run(1);
  const t0 = performance.now();
  await run(5);
  const key = `${kernel.name} [${workgroups.join(',')}]`;
  byKernel.set(key, (byKernel.get(key) ?? 0) + (performance.now() - t0) / 5);
}
const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
console.log(`replayed one step: ${total.toFixed(1)} ms; per kernel and grid (ms):`);
for (const [k, v] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log(`${v.toFixed(2).padStart(8)}  ${k}`);
process.exit(0);
