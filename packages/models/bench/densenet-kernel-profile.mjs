// Which kernels a DenseNet-121 training step spends its device time in, from timestamp queries
// (T.profileKernels): one warm-up step, then one profiled step, the kernels listed by total time.
// Each dispatch runs in its own compute pass while profiled, so the profiled step is a little
// slower than the benchmark's. Not a results suite: a guide for optimisation.
// --shapes: also the matmul products by shape (batch x M x N x K, from their uniform words),
// longest first, with their rate.
// Run after `npm run build`: node packages/models/bench/densenet-kernel-profile.mjs [size] [batch] [--efficient] [--top N] [--shapes]
import * as T from '@spine/tensor/node';
import { denseNetTraining } from './densenet-setup.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--top'));
const SIZE = Number(positional[0] ?? 224);
const BATCH = Number(positional[1] ?? 4);
const TOP = value('--top', 25);

await T.ready();
const { trainStep, x, labels } = denseNetTraining({ batch: BATCH, size: SIZE, memoryEfficient: flag('--efficient') });
const step = () => trainStep(x, labels).dispose();

step();
await T.sync();
const dispatches0 = T.getEngine().counters.dispatches;
const t0 = performance.now();
step(); // records (and submits) the step's dispatches; the device works through them meanwhile
const recordMs = performance.now() - t0;
await T.sync();
const plainMs = performance.now() - t0;
const stepDispatches = T.getEngine().counters.dispatches - dispatches0;
const created = T.memory().buffersCreated;
const t1 = performance.now();
const p = await T.profileKernels(
  async () => {
    step();
    await T.sync();
  },
  { perDispatch: flag('--shapes') },
);
const wallMs = performance.now() - t1;
const info = T.deviceInfo();
console.log(
  `${info.device || info.description} (${info.backend}), densenet121 ${SIZE} px batch ${BATCH}${flag('--efficient') ? ', memory-efficient' : ''}`,
);
console.log(
  `step unprofiled ${plainMs.toFixed(0)} ms; profiled ${wallMs.toFixed(0)} ms wall, device busy ${p.deviceMs.toFixed(0)} ms, kernels ${p.kernelMs.toFixed(0)} ms`,
);
console.log(
  `(device busy minus kernels = copies and gaps between passes; wall minus device busy = time the device waited for JavaScript)`,
);
console.log(`JavaScript recorded the unprofiled step's ${stepDispatches} dispatches in ${recordMs.toFixed(0)} ms`);
console.log(
  `GPU buffers created during the profiled step: ${T.memory().buffersCreated - created} (the pool recycles the rest)`,
);
console.log(
  `${'kernel'.padEnd(34)} ${'dispatches'.padStart(10)} ${'ms'.padStart(8)} ${'share'.padStart(6)} ${'ms each'.padStart(8)}`,
);
for (const k of p.kernels.slice(0, TOP)) {
  console.log(
    `${k.name.padEnd(34)} ${String(k.dispatches).padStart(10)} ${k.ms.toFixed(1).padStart(8)} ${((100 * k.ms) / p.kernelMs).toFixed(1).padStart(5)}% ${(k.ms / k.dispatches).toFixed(3).padStart(8)}`,
  );
}
const rest = p.kernels.slice(TOP);
if (rest.length)
  console.log(
    `${`(${rest.length} more)`.padEnd(34)} ${String(rest.reduce((s, k) => s + k.dispatches, 0)).padStart(10)} ${rest
      .reduce((s, k) => s + k.ms, 0)
      .toFixed(1)
      .padStart(8)}`,
  );

if (p.dispatches) {
  // matmul-texture's words: M, N, K/4 (padded); the batch is workgroup z.
  const shapes = new Map();
  for (const d of p.dispatches.filter((d) => d.name === 'matmul-texture')) {
    const [M, N, K4] = d.words;
    const key = `${d.workgroups[2]}x${M}x${N}x${4 * K4}`;
    const e = shapes.get(key) ?? { key, n: 0, ms: 0, flops: 2 * d.workgroups[2] * M * N * 4 * K4 };
    e.n++;
    e.ms += d.ms;
    shapes.set(key, e);
  }
  console.log(`\nmatmul-texture by shape (batch x M x N x K):`);
  for (const e of [...shapes.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP)) {
    console.log(
      `${e.key.padEnd(24)} x${String(e.n).padStart(3)} ${e.ms.toFixed(1).padStart(8)} ms ${((e.flops * e.n) / e.ms / 1e6).toFixed(1).padStart(6)} GFLOP/s`,
    );
  }
}
if (p.dispatches) {
  // Every other kernel by its first uniform words (sizes, for most kernels).
  const groups = new Map();
  for (const d of p.dispatches.filter((d) => d.name !== 'matmul-texture')) {
    const key = `${d.name} [${d.words.slice(0, 6).join(',')}] wg ${d.workgroups.join('x')}`;
    const e = groups.get(key) ?? { key, n: 0, ms: 0 };
    e.n++;
    e.ms += d.ms;
    groups.set(key, e);
  }
  console.log(`\nother dispatches by kernel and first uniform words:`);
  for (const e of [...groups.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP))
    console.log(`${e.key.padEnd(64)} x${String(e.n).padStart(3)} ${e.ms.toFixed(1).padStart(8)} ms`);
}
