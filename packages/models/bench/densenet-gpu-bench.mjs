// DenseNet-121 on a real GPU: the numbers the GPU targets are set in, beside PyTorch CUDA on the
// same card (SPINE_TORCH_DEVICE=cuda, as bench/gpu/run.sh sets it). Per batch (4 and 32, 224 px):
// the f32 training step (SGD momentum 0.9) replayed as the trainer runs it (T.replayable), the
// mixed-precision step (autocast + GradScaler with its overflow check on the device, replayed
// too) against PyTorch's torch.autocast + GradScaler, and eval inference replayed, in images/s
// (the f32 step and inference twice: against PyTorch's default, whose cuDNN convolutions of f32
// tensors run on TF32 tensor cores, and against its full-f32 convolutions); and for the f32 step the device's share of its wall time: the kernel time of one profiled step
// over the unprofiled replayed step's median wall time (host-bound below 1).
// Software adapters skip it (minutes per step at batch 32); --force runs it there at 64 px and
// batch 2 to check the script itself, without the peer and without writing results.
// Results: bench/results/models-densenet-gpu-<adapter>.json -> docs/BENCHMARKS.md.
// Run after `npm run build`: node packages/models/bench/densenet-gpu-bench.mjs [--force]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { convSubgroupMatrixStatus } from '@spine/nn';
import { mixedPrecisionStep } from '../dist/train/mixed-step.js';
import { finishSuite, timeMedian } from '../../../bench/harness.mjs';
import { denseNetTraining } from './densenet-setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await T.ready();
const info = T.deviceInfo();
const force = process.argv.includes('--force');
if (info.kernels !== 'gpu' && !force) {
  console.log(
    `densenet-gpu: skipped on a software adapter (${info.description || info.device}); --force checks the script`,
  );
  process.exit(0);
}
const SIZE = force ? 64 : 224;
const BATCHES = force ? [2] : [4, 32];
const STEPS = force ? 3 : 10; // per timed sample: the device queue stays full, as in training
const half = info.features.includes('shader-f16');
/** A PyTorch case with cuDNN's f32 convolutions in full f32 (bench/torch_peer.py). */
const NO_TF32 = { tf32: false };
const cases = [];
const notes = [
  `- Subgroup matrices (tensor cores): f16 products ${T.subgroupMatrixStatus().detail}; autocast convolutions ${convSubgroupMatrixStatus().detail}.`,
];
for (const n of notes) console.log(n.slice(2));

/** Run one case; a failure is noted and the other cases still run. */
async function attempt(what, run) {
  try {
    await run();
  } catch (err) {
    console.error(err);
    notes.push(`- ${what} failed: ${T.errorSummary(err)}`);
  }
}

function setup(batch) {
  return denseNetTraining({ batch, size: SIZE });
}

function push(label, batch, ms, torchCase) {
  const rate = batch / (ms / 1e3);
  cases.push({
    label,
    unit: 'img/s',
    ms,
    rate,
    peerMs: null,
    peerRate: null,
    ratio: null,
    work: batch,
    workScale: 1,
    torchCase,
  });
  console.log(`${label.padEnd(60)} ${rate.toFixed(2)} img/s (${ms.toFixed(1)} ms per batch)`);
}

for (const batch of BATCHES) {
  const shape = `${SIZE} px batch ${batch}`;
  const torchCase = (train, extra = {}) => ({ op: 'densenet121', batch, size: SIZE, train, ...extra });

  // f32, replayed.
  await attempt(`batch ${batch}: the f32 step`, async () => {
    const s = setup(batch);
    const replayed = T.replayable((xi, yi) => [s.trainStep(xi, yi)]);
    try {
      const steps = async () => {
        for (let i = 0; i < STEPS; i++) replayed.run([s.x, s.labels])[0].dispose();
        await T.sync();
      };
      const f32Ms = (await timeMedian(steps, { warmup: 1 })) / STEPS;
      if (replayed.status.state !== 'replaying')
        notes.push(`- batch ${batch}: the f32 step did not replay (${replayed.status.reason}).`);
      push(`densenet121 train step ${shape}, f32, replayed`, batch, f32Ms, torchCase(true));
      // PyTorch's f32 convolutions run on TF32 tensor cores by default (10-bit mantissas):
      // the same step against its full-f32 convolutions too.
      push(
        `densenet121 train step ${shape}, f32, replayed (PyTorch without TF32)`,
        batch,
        f32Ms,
        torchCase(true, NO_TF32),
      );
      // The device's share: one profiled step's kernel time over the replayed step's wall time
      // (its own attempt: a failure there keeps the step's rate).
      await attempt(`batch ${batch}: the f32 step's kernel profile`, async () => {
        const profile = await T.profileKernels(async () => {
          replayed.run([s.x, s.labels])[0].dispose();
          await T.sync();
        });
        const busy = profile.kernelMs / f32Ms;
        cases.push({
          label: `densenet121 train step ${shape}, f32: device busy / wall`,
          unit: 'ratio',
          ms: null,
          rate: busy,
          peerMs: null,
          peerRate: null,
          ratio: null,
        });
        console.log(
          `densenet121 train step ${shape}, f32: kernels ${profile.kernelMs.toFixed(1)} ms of ${f32Ms.toFixed(1)} ms wall (${busy.toFixed(2)})`,
        );
      });
    } finally {
      replayed.dispose();
      s.dispose();
    }
  });

  // Inference, replayed.
  await attempt(`batch ${batch}: inference`, async () => {
    const s = setup(batch);
    const probs = T.replayable((xi) => [T.noGrad(() => T.scope(() => T.softmax(s.model.forward(xi), 1)))], {
      warmup: 0,
    });
    try {
      s.model.eval();
      const infer = async () => {
        for (let i = 0; i < STEPS; i++) probs.run([s.x])[0].dispose();
        await T.sync();
      };
      const ms = (await timeMedian(infer, { warmup: 2 })) / STEPS;
      push(`densenet121 inference ${shape}, replayed`, batch, ms, torchCase(false));
      push(`densenet121 inference ${shape}, replayed (PyTorch without TF32)`, batch, ms, torchCase(false, NO_TF32));
    } finally {
      probs.dispose();
      s.dispose();
    }
  });

  // Mixed precision (needs shader-f16), replayed.
  if (!half) {
    notes.push("- Mixed precision not run: the device has no 'shader-f16'.");
    continue;
  }
  await attempt(`batch ${batch}: the mixed-precision step`, async () => {
    const s = setup(batch);
    const mixed = mixedPrecisionStep(s.model, s.opt, {});
    try {
      const run = async () => {
        for (let i = 0; i < STEPS; i++) for (const t of await mixed.run(s.x, s.labels)) t.dispose();
        await T.sync();
      };
      push(
        `densenet121 train step ${shape}, mixed`,
        batch,
        (await timeMedian(run, { warmup: 1 })) / STEPS,
        torchCase(true, { amp: true }),
      );
      await mixed.scaler.syncFromDevice();
      if (mixed.scaler.skippedSteps > 0)
        notes.push(`- batch ${batch}: ${mixed.scaler.skippedSteps} mixed-precision steps skipped for an overflow.`);
      const { replays, reason } = mixed.status();
      if (!replays) notes.push(`- batch ${batch}: the mixed-precision step was not replayed (${reason}).`);
    } finally {
      mixed.dispose();
      mixed.scaler.dispose();
      s.dispose();
    }
  });
}

for (const n of notes.slice(1)) console.log(n.slice(2));
if (!force) finishSuite(root, 'models-densenet-gpu', info, null, cases, { notes });
