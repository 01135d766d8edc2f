// Tile probe for the gpu-family matmul: for every size class of the tile table
// (src/ops/matmul/matmul-gpu-tiles.ts), times each candidate tile shape and split-K threshold on that
// class's representative products, interleaved round-robin (slow drifts in load hit all alike),
// beside tfjs-webgpu on the same adapter, and prints the winning table to paste into
// DEFAULT_TABLE, with each winner's rate and ratio to tfjs. On a real GPU it also writes
// bench/results/gpu-tile-probe-<adapter>.json (a suite `bench/report.mjs` renders).
// On a software adapter (lavapipe) it forces the gpu family and runs small sizes: a check
// that every candidate compiles and runs, not a measurement.
//   node bench/gpu-tile-probe.mjs [--quick] [--classes=short,large]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';
import { finishSuite, loadTfjsWebgpu } from '../../../bench/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await T.ready();
const info = T.deviceInfo();
const software = info.kernels === 'cpu';
T.setKernelFamily('gpu');
const small = software || process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--classes='))
  ?.slice(10)
  .split(',');

// Representative products per class, [M, K, N] (the tensor suite's matmul cases among them).
const SHAPES = small
  ? {
      small: [[64, 64, 64]],
      mid: [[516, 264, 516]],
      large: [[2050, 260, 2050]],
      short: [[10, 512, 512]],
      narrow: [[520, 256, 16]],
      shallow: [[520, 64, 520]],
    }
  : {
      small: [
        [256, 256, 256],
        [384, 1024, 384],
      ],
      mid: [
        [1024, 1024, 1024],
        [3136, 1024, 128],
      ],
      large: [
        [2048, 2048, 2048],
        [4096, 4096, 4096],
      ],
      short: [
        [10, 4096, 4096],
        [32, 1024, 1024],
      ],
      narrow: [
        [3136, 128, 32],
        [12544, 256, 32],
      ],
      shallow: [
        [12544, 128, 256],
        [3136, 256, 128],
      ],
    };

const t = (tm, tn, wx, wy, bk = 16) => ({ tm, tn, wx, wy, bk });
// Candidate tiles: tfjs's 32x32, 64x64, the A100's 128x64 (8x4 per thread), 128x128, and the
// narrow shapes for few rows or few columns; each with k steps of 8, 16 or 32 where it matters.
const TILES = {
  small: [t(4, 4, 8, 8), t(4, 4, 8, 8, 32), t(4, 4, 16, 16), t(4, 4, 16, 8)],
  mid: [t(4, 4, 16, 16), t(4, 4, 16, 16, 32), t(8, 4, 16, 16), t(4, 8, 16, 16), t(4, 4, 8, 8)],
  large: [
    t(8, 4, 16, 16),
    t(8, 4, 16, 16, 8),
    t(8, 4, 16, 16, 32),
    t(8, 8, 16, 16, 8),
    t(4, 8, 16, 16),
    t(4, 4, 16, 16),
  ],
  short: [t(4, 4, 16, 4), t(4, 4, 16, 4, 32), t(4, 4, 32, 2), t(4, 8, 16, 4), t(4, 4, 16, 8)],
  narrow: [t(4, 4, 8, 16), t(8, 4, 8, 16), t(4, 4, 8, 32), t(4, 4, 4, 16)],
  shallow: [t(4, 4, 8, 8), t(4, 4, 16, 16), t(8, 4, 16, 16), t(4, 4, 8, 16), t(4, 4, 16, 8)],
};
const SPLITS = [0, 128, 256, 512];

const peer = software ? null : await loadTfjsWebgpu();
const inner = software ? 1 : 20;
const rounds = software ? 2 : 7;
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const label = (x) => `${x.tm * x.wy}x${x.tn * x.wx} (${x.tm}x${x.tn} in ${x.wx}x${x.wy}, k ${x.bk})`;

const table = tuning.getGpuTileTable();
const cases = [];
const notes = [];
for (const cls of tuning.GPU_SIZE_CLASSES) {
  if (only && !only.includes(cls)) continue;
  const shapes = SHAPES[cls];
  const ops = shapes.map(([M, K, N]) => ({
    M,
    K,
    N,
    a: T.rand([M, K], { seed: M + K }).keep(),
    b: T.rand([K, N], { seed: K + N }).keep(),
    ta: peer?.tf.randomUniform([M, K]),
    tb: peer?.tf.randomUniform([K, N]),
  }));
  // Candidates: tiles x split thresholds, keeping one per distinct plan on these shapes.
  const seen = new Set();
  const candidates = [];
  for (const tiles of TILES[cls])
    for (const splitBelow of SPLITS) {
      tuning.setGpuTileTable({ [cls]: { tiles, splitBelow } });
      const key = JSON.stringify(ops.map((o) => tuning.matmulGpuPlan(o.M, o.N, o.K)));
      if (!seen.has(key)) seen.add(key), candidates.push({ tiles, splitBelow });
    }
  const runOurs = (c) => async () => {
    tuning.setGpuTileTable({ [cls]: c });
    for (const o of ops) for (let i = 0; i < inner; i++) T.matmulRaw(o.a, o.b).dispose();
    await T.sync();
  };
  const runs = candidates.map(runOurs);
  const shapeRuns = (run) =>
    ops.map((o) => async () => {
      for (let i = 0; i < inner; i++) run(o);
      await T.sync();
    });
  // Per candidate and shape, so that each shape's winner can be reported.
  const times = candidates.map(() => ops.map(() => []));
  for (const r of runs) await r(); // compile and warm every candidate first
  for (let k = 0; k < rounds; k++)
    for (const [ci, c] of candidates.entries()) {
      tuning.setGpuTileTable({ [cls]: c });
      for (const [si, run] of shapeRuns((o) => T.matmulRaw(o.a, o.b).dispose()).entries()) {
        const t0 = performance.now();
        await run();
        times[ci][si].push(performance.now() - t0);
      }
    }
  // The class's winner: the smallest total median time over its shapes.
  const total = times.map((per) => per.reduce((s, xs) => s + med(xs), 0));
  const best = total.indexOf(Math.min(...total));
  table[cls] = candidates[best];
  tuning.setGpuTileTable({ [cls]: candidates[best] });
  console.log(`${cls}: ${candidates.length} candidates`);
  for (const [ci, c] of candidates.entries())
    console.log(
      `  ${ci === best ? '*' : ' '} ${label(c.tiles).padEnd(34)} split below ${String(c.splitBelow).padStart(3)}  ${ops.map((o, si) => `${((2 * o.M * o.N * o.K) / (med(times[ci][si]) / inner) / 1e6).toFixed(1)}`).join(' / ')} GFLOP/s`,
    );
  for (const [si, o] of ops.entries()) {
    const ms = med(times[best][si]) / inner;
    let peerMs = null;
    if (peer) {
      const pt = [];
      for (let k = 0; k < rounds + 1; k++) {
        const t0 = performance.now();
        for (let i = 0; i < inner; i++) peer.tf.tidy(() => void peer.tf.matMul(o.ta, o.tb));
        await peer.sync();
        if (k > 0) pt.push(performance.now() - t0);
      }
      peerMs = med(pt) / inner;
    }
    const work = 2 * o.M * o.N * o.K;
    const rate = (m) => (m === null ? null : work / (m / 1e3) / 1e9);
    const plan = tuning.matmulGpuPlan(o.M, o.N, o.K);
    cases.push({
      label: `${cls} ${o.M}x${o.K}x${o.N}: ${label(plan.tiles)}${plan.splits > 1 ? `, split ${plan.splits}` : ''}`,
      unit: 'GFLOP/s',
      work,
      ms,
      rate: rate(ms),
      peerMs,
      peerRate: rate(peerMs),
      ratio: peerMs === null ? null : peerMs / ms,
    });
    console.log(
      `    ${o.M}x${o.K}x${o.N}: ${rate(ms).toFixed(1)} GFLOP/s${peerMs === null ? '' : `, tfjs ${rate(peerMs).toFixed(1)}, ratio ${(peerMs / ms).toFixed(2)}x`}`,
    );
  }
  for (const o of ops) [o.a, o.b, o.ta, o.tb].forEach((x) => x?.dispose());
}

const rows = tuning.GPU_SIZE_CLASSES.map(
  (c) =>
    `  ${c}: { tiles: { tm: ${table[c].tiles.tm}, tn: ${table[c].tiles.tn}, wx: ${table[c].tiles.wx}, wy: ${table[c].tiles.wy}, bk: ${table[c].tiles.bk} }, splitBelow: ${table[c].splitBelow} },`,
);
console.log(
  `\nTile table for ${info.device || info.description} (${software ? 'software adapter, gpu family forced: not a measurement' : 'paste into DEFAULT_TABLE in src/ops/matmul/matmul-gpu-tiles.ts'}):`,
);
console.log(rows.join('\n'));
notes.push(
  'Winning tile table (`packages/tensor/bench/gpu-tile-probe.mjs`, for `DEFAULT_TABLE` in `src/ops/matmul/matmul-gpu-tiles.ts`):',
  '',
  '```',
  ...rows,
  '```',
);
if (!software) finishSuite(root, 'gpu-tile-probe', info, peer, cases, { notes });
await T.releaseDevice();
process.exit(0);
