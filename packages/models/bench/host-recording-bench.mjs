// Host cost of recording a step: the JavaScript milliseconds one call of a training step (or an
// inference forward) takes to record its dispatches, the dispatches per step and the
// microseconds of JavaScript per dispatch, for DenseNet-121 (224 px, batch 4: plain,
// memory-efficient, inference) and the quick start's SequentialCNN (64 px, batch 32), each also
// replayed (T.replayable: the step's dispatches submitted again without its JavaScript). On a real
// GPU this is the step's floor when the device is fast; on a software adapter the device's
// threads compete with the recording for the cores (the recording submits every 256 dispatches),
// and so does any other load on the machine: the recording is therefore also measured as the CPU
// time of the JavaScript thread alone (Linux's per-thread schedstat), which neither changes.
// Beside them, from the same process: the whole step's wall time (recording and device, median),
// a quick-start epoch (44 steps of batch 32, the preset's 1,400 training films) on random inputs,
// `memory()`'s peak live bytes of a DenseNet step and what the pool holds afterwards, on a software
// adapter the plain step's dispatch count on the gpu kernel family (what a GPU records), and the
// pool of a quick-start network trained without reading the loss (the bytes that wait for a
// submit, relative to the live ones).
// Results: bench/results/models-host-<adapter>.json -> docs/BENCHMARKS.md.
// Run after `npm run build`: node packages/models/bench/host-recording-bench.mjs [--quick]
// (--quick: DenseNet at 112 px batch 2, 2 timed steps; results go to *-quick.json.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { SequentialCNN } from '../dist/models/sequential-cnn.js';
import { quickTrainingSettings } from '../dist/run/quick-preset.js';
import { probabilitiesStep } from '../dist/train/probabilities.js';
import { finishSuite, quick, warmMatmulForBench } from '../../../bench/harness.mjs';
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
const engine = T.getEngine();
const SIZE = quick ? 112 : 224;
const BATCH = quick ? 2 : 4;
const REPS = quick ? 2 : 5;
const MiB = 2 ** 20;
const cases = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU milliseconds the main (JavaScript) thread has run, or null where Linux's schedstat is absent. */
function threadCpuMs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/**
 * Median recording ms (the synchronous call alone, started on an idle device), median wall ms
 * (recording plus waiting for the device) and dispatches of `run`, after `warm` warm-up calls
 * (a replayed step needs three: the optimizer's first step and two captures). With `inner`, each
 * measurement records that many calls back to back and reports one call's share: the thread's
 * CPU clock in schedstat advances at scheduler ticks, too coarse for a call of a millisecond.
 */
async function recordAndRun(run, warm = 1, inner = 1) {
  for (let i = 0; i < warm; i++) run();
  await T.sync();
  const rec = [];
  const cpu = [];
  const wall = [];
  let dispatches = 0;
  for (let i = 0; i < REPS; i++) {
    const d0 = engine.counters.dispatches;
    const c0 = threadCpuMs();
    const t0 = performance.now();
    for (let j = 0; j < inner; j++) run();
    rec.push((performance.now() - t0) / inner);
    if (c0 !== null) cpu.push((threadCpuMs() - c0) / inner);
    await T.sync();
    wall.push((performance.now() - t0) / inner);
    dispatches = (engine.counters.dispatches - d0) / inner;
  }
  return { recordMs: median(rec), cpuMs: cpu.length ? median(cpu) : null, wallMs: median(wall), dispatches };
}

function addRows(label, r, { wall = true } = {}) {
  const usPer = (1e3 * r.recordMs) / r.dispatches;
  cases.push({
    label: `${label}: JavaScript recording (wall)`,
    unit: 'ms',
    ms: r.recordMs,
    rate: r.recordMs,
    peerMs: null,
    peerRate: null,
    ratio: null,
  });
  if (r.cpuMs !== null)
    cases.push({
      label: `${label}: JavaScript recording (thread CPU)`,
      unit: 'ms',
      ms: r.cpuMs,
      rate: r.cpuMs,
      peerMs: null,
      peerRate: null,
      ratio: null,
    });
  cases.push({
    label: `${label}: dispatches`,
    unit: 'dispatches',
    ms: null,
    rate: r.dispatches,
    peerMs: null,
    peerRate: null,
    ratio: null,
  });
  cases.push({
    label: `${label}: JavaScript per dispatch (wall)`,
    unit: 'us',
    ms: null,
    rate: usPer,
    peerMs: null,
    peerRate: null,
    ratio: null,
  });
  if (r.cpuMs !== null)
    cases.push({
      label: `${label}: JavaScript per dispatch (thread CPU)`,
      unit: 'us',
      ms: null,
      rate: (1e3 * r.cpuMs) / r.dispatches,
      peerMs: null,
      peerRate: null,
      ratio: null,
    });
  if (wall)
    cases.push({
      label: `${label}: whole step (recording and device)`,
      unit: 'ms',
      ms: r.wallMs,
      rate: r.wallMs,
      peerMs: null,
      peerRate: null,
      ratio: null,
    });
  const cpu =
    r.cpuMs === null
      ? ''
      : ` (thread CPU ${r.cpuMs.toFixed(1)} ms, ${((1e3 * r.cpuMs) / r.dispatches).toFixed(1)} us each)`;
  console.log(
    `${label.padEnd(52)} recording ${r.recordMs.toFixed(1).padStart(7)} ms, ${String(r.dispatches).padStart(5)} dispatches, ${usPer.toFixed(1).padStart(6)} us each${cpu}; step ${r.wallMs.toFixed(0)} ms`,
  );
}

function row(label, unit, value) {
  cases.push({ label, unit, ms: null, rate: value, peerMs: null, peerRate: null, ratio: null });
  console.log(`${label.padEnd(80)} ${value.toFixed(unit === 'MiB' ? 1 : 2)} ${unit}`);
}

// ---- DenseNet-121 -----------------------------------------------------------------------

/** A seeded DenseNet-121, its SGD step and one batch; `dispose` frees them all. */
function denseNetSetup(memoryEfficient) {
  return denseNetTraining({ batch: BATCH, size: SIZE, memoryEfficient });
}

async function densenet(memoryEfficient) {
  const { model, x, labels, trainStep, dispose } = denseNetSetup(memoryEfficient);
  const step = () => trainStep(x, labels).dispose();
  const infer = () =>
    T.scope(() => {
      model.eval();
      T.noGrad(() => model.forward(x));
    });
  const shape = `${SIZE} px batch ${BATCH}`;
  addRows(`densenet121 train step ${shape}${memoryEfficient ? ', memory-efficient' : ''}`, await recordAndRun(step));
  // The same step through T.replayable, as the trainer runs it: its dispatches are recorded
  // twice, then replayed without the step's JavaScript.
  const replayed = T.replayable((xi, yi) => [trainStep(xi, yi)]);
  const replayStep = () => replayed.run([x, labels])[0].dispose();
  // Replayed calls last milliseconds: several are timed together (schedstat moves at ticks).
  const replayRun = await recordAndRun(replayStep, 3, 3);
  if (replayed.status.state !== 'replaying') throw new Error(`the step did not replay: ${replayed.status.reason}`);
  addRows(`densenet121 train step ${shape}${memoryEfficient ? ', memory-efficient' : ''}, replayed`, replayRun);
  if (!memoryEfficient)
    row(`densenet121 train step ${shape}, replayed: bytes the replay holds`, 'MiB', T.memory().replayBytes / MiB);
  replayed.dispose();
  if (!memoryEfficient) {
    // Peak live bytes of one step and what the pool holds once it is over.
    await T.sync();
    T.resetPeakMemory();
    step();
    await T.sync();
    const m = T.memory();
    row(`densenet121 train step ${shape}: peak live tensor bytes`, 'MiB', m.peakLiveBytes / MiB);
    row(`densenet121 train step ${shape}: pooled bytes after the step`, 'MiB', m.pooledBytes / MiB);
  }
  if (!memoryEfficient) {
    addRows(`densenet121 inference ${shape}`, await recordAndRun(infer));
    model.eval();
    const probs = probabilitiesStep(model);
    addRows(`densenet121 inference ${shape}, replayed`, await recordAndRun(() => probs.run(x).dispose(), 2, 5));
    if (probs.replays === 0) throw new Error('the inference did not replay');
    probs.dispose();
  }
  dispose();
}

await densenet(false);
await densenet(true);

if (info.kernels === 'cpu') {
  // What a GPU records: the same plain step on the gpu kernel family (its dispatch count does
  // not depend on the adapter; its time here does not mean anything).
  T.setKernelFamily('gpu');
  const { x, labels, trainStep, dispose } = denseNetSetup(false);
  const step = () => trainStep(x, labels).dispose();
  step();
  await T.sync();
  const d0 = engine.counters.dispatches;
  step();
  row(
    `densenet121 train step ${SIZE} px batch ${BATCH}: dispatches on the gpu kernel family`,
    'dispatches',
    engine.counters.dispatches - d0,
  );
  await T.sync();
  dispose();
  T.setKernelFamily(null);
}

// ---- the quick start's network ------------------------------------------------------------

// The quick preset's network and batch (quickTrainingSettings, spine-cli's quick preset).
const QUICK = quickTrainingSettings();
const { model: QUICK_MODEL, batchSize: QUICK_BATCH } = QUICK;
const QUICK_STEPS_PER_EPOCH = Math.ceil(1400 / QUICK_BATCH);

function quickNet() {
  T.manualSeed(0);
  const model = new SequentialCNN(QUICK_MODEL);
  const opt = new SGD(model.parameters(), { lr: QUICK.lr, momentum: QUICK.momentum, weightDecay: QUICK.weightDecay });
  const x = T.randn([QUICK_BATCH, 3, 64, 64], { seed: 1 }).keep();
  const y = T.tensor(Int32Array.from({ length: QUICK_BATCH }, (_, i) => i % 2)).keep();
  model.train();
  // The trainer's step: the loss is kept (to be read later or not at all).
  const step = () => {
    const loss = T.scope(() => softmaxCrossEntropy(model.forward(x), y));
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return loss;
  };
  const replayed = T.replayable(() => [step()]); // x and y are its inputs: the same tensors every call
  const replayStep = () => replayed.run([x, y])[0];
  const dispose = () => {
    replayed.dispose();
    model.dispose();
    opt.dispose();
    x.dispose();
    y.dispose();
  };
  return { step, replayStep, dispose };
}

{
  const q = quickNet();
  addRows(
    `quick-start SequentialCNN train step 64 px batch ${QUICK_BATCH}`,
    await recordAndRun(() => q.step().dispose(), 1, 10),
  );
  addRows(
    `quick-start SequentialCNN train step 64 px batch ${QUICK_BATCH}, replayed`,
    await recordAndRun(() => q.replayStep().dispose(), 3, 10),
  );
  const epochs = [];
  for (let e = 0; e < (quick ? 1 : 3); e++) {
    const t0 = performance.now();
    for (let i = 0; i < QUICK_STEPS_PER_EPOCH; i++) {
      const loss = q.replayStep(); // as the trainer steps
      await loss.item(); // the trainer reads every step's loss
      loss.dispose();
    }
    epochs.push(performance.now() - t0);
  }
  row(
    `quick-start epoch (${QUICK_STEPS_PER_EPOCH} steps of batch ${QUICK_BATCH}, random inputs, loss read every step)`,
    'ms',
    median(epochs),
  );
  q.dispose();
}
{
  // Losses kept and read only at the end: released buffers wait for a submit.
  T.getEngine().storagePool.trim();
  const q = quickNet();
  await T.sync();
  T.resetPeakMemory();
  const losses = [];
  let pooledMax = 0;
  for (let i = 0; i < 40; i++) {
    losses.push(q.step());
    const m = T.memory();
    pooledMax = Math.max(pooledMax, m.pooledBytes + m.pendingBytes);
  }
  await T.sync();
  for (const l of losses) l.dispose();
  const m = T.memory();
  row('quick-start 40 steps, loss not read: peak live tensor bytes', 'MiB', m.peakLiveBytes / MiB);
  row('quick-start 40 steps, loss not read: pooled and pending bytes', 'MiB', pooledMax / MiB);
  q.dispose();
}

await T.releaseDevice();
finishSuite(root, 'models-host', info, null, cases, { notes });
