// Tensor kernel benchmarks: matmul (square and conv-like skinny shapes), elementwise
// bandwidth, reductions, softmax. Each case runs on @spine/tensor and, in the same process
// and on the same Dawn adapter, on TensorFlow.js's webgpu backend.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../dist/node.js';
import {
  finishSuite,
  loadTfjsWebgpu,
  quick,
  repeatsPerSample,
  timeMedian,
  warmMatmulForBench,
} from '../../../bench/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await T.ready();
const info = T.deviceInfo();
const peer = await loadTfjsWebgpu();
const cases = [];
const notes = await warmMatmulForBench(T, info, [{}, { transB: true }]);

/** Time `ops` (recording only) followed by a device sync, repeated `inner` times per sample. */
async function measure(label, unit, work, ours, theirs, repeats = 1, torchCase = null) {
  const quietPeer = info.quietWait && label.startsWith('matmul');
  let msPeerQuiet = null;
  const inner = repeats * repeatsPerSample(info);
  const runOurs = async () => {
    for (let i = 0; i < inner; i++) T.scope(() => void ours());
    await T.sync();
  };
  const msOurs = (await timeMedian(runOurs)) / inner;
  let msPeer = null;
  if (peer && theirs) {
    const runPeer = async () => {
      for (let i = 0; i < inner; i++) peer.tf.tidy(() => void theirs(peer.tf));
      await peer.sync();
    };
    msPeer = (await timeMedian(runPeer)) / inner;
    // Our waits skip dawn.node's busy poll on software adapters (DeviceOptions.quietWait), which
    // tfjs keeps; timing tfjs inside T.quietly() as well separates the kernels from the waiting.
    if (quietPeer) msPeerQuiet = (await timeMedian(() => T.quietly(runPeer))) / inner;
  }
  const rate = (ms) => (ms === null ? null : work / (ms / 1e3) / 1e9);
  const row = {
    label,
    unit,
    work,
    ms: msOurs,
    rate: rate(msOurs),
    peerMs: msPeer,
    peerRate: rate(msPeer),
    ratio: msPeer === null ? null : msPeer / msOurs,
    torchCase,
  };
  if (msPeerQuiet !== null)
    Object.assign(row, {
      peerQuietMs: msPeerQuiet,
      peerQuietRate: rate(msPeerQuiet),
      ratioQuiet: msPeerQuiet / msOurs,
    });
  cases.push(row);
  const fmt = (v) => (v === null || v === undefined ? '—' : v.toFixed(2));
  const quietCol =
    msPeerQuiet === null ? '' : `   (tfjs waiting quietly ${fmt(row.peerQuietRate)}, ratio ${fmt(row.ratioQuiet)}x)`;
  console.log(
    `${label.padEnd(34)} ours ${fmt(row.rate).padStart(8)} ${unit}   tfjs ${fmt(row.peerRate).padStart(8)} ${unit}   ratio ${fmt(row.ratio)}x${quietCol}`,
  );
}

function pair(shapeA, shapeB, seed) {
  const a = T.rand(shapeA, { seed }).keep();
  const b = T.rand(shapeB, { seed: seed + 1 }).keep();
  const ta = peer?.tf.randomUniform(shapeA);
  const tb = peer?.tf.randomUniform(shapeB);
  return { a, b, ta, tb, free: () => [a, b, ta, tb].forEach((t) => t?.dispose()) };
}

// Matmul: M x K x N, GFLOP/s = 2MKN / t.
const squares = quick ? [256, 512] : info.kernels === 'gpu' ? [256, 512, 1024, 2048, 4096] : [256, 512, 1024, 2048];
const skinny = quick
  ? [[3136, 128, 32]]
  : [
      [12544, 128, 256],
      [3136, 1024, 128],
      [3136, 128, 32],
      [10, 4096, 4096],
    ];
for (const [M, K, N] of [...squares.map((n) => [n, n, n]), ...skinny]) {
  const p = pair([M, K], [K, N], M + K + N);
  await measure(
    `matmul ${M}x${K}x${N}`,
    'GFLOP/s',
    2 * M * K * N,
    () => T.matmul(p.a, p.b),
    (tf) => tf.matMul(p.ta, p.tb),
    1,
    { op: 'matmul', M, K, N },
  );
  p.free();
}
{
  // Linear-layer shapes use a transposed weight (y = x Wᵀ).
  const [M, K, N] = quick ? [64, 256, 256] : [256, 1024, 1024];
  const p = pair([M, K], [N, K], 7);
  await measure(
    `matmul ${M}x${K}x${N} (Bᵀ)`,
    'GFLOP/s',
    2 * M * K * N,
    () => T.matmul(p.a, p.b, { transB: true }),
    (tf) => tf.matMul(p.ta, p.tb, false, true),
    1,
    { op: 'matmul', M, K, N, transB: true },
  );
  p.free();
}

// f16 operands (f32 sums, f32 result) where the device has shader-f16, beside the f32 rows of
// the same shapes above. tfjs has no f16 matmul: its column is its f32 product. PyTorch's is
// its f16 product (cuBLAS on tensor cores on CUDA).
if (info.features.includes('shader-f16')) {
  notes.push(`- f16 products on subgroup matrices (tensor cores): ${T.subgroupMatrixStatus().detail}.`);
  const halves = quick ? [512] : info.kernels === 'gpu' ? [1024, 2048, 4096] : [512, 1024];
  for (const [M, K, N] of [...halves.map((n) => [n, n, n]), ...(quick ? [] : [[10, 4096, 4096]])]) {
    const p = pair([M, K], [K, N], 3 * (M + K + N));
    const a16 = T.cast(p.a, 'f16').keep();
    const b16 = T.cast(p.b, 'f16').keep();
    await measure(
      `matmul ${M}x${K}x${N} f16`,
      'GFLOP/s',
      2 * M * K * N,
      () => T.matmul(a16, b16, { out: 'f32' }),
      (tf) => tf.matMul(p.ta, p.tb),
      1,
      { op: 'matmul', M, K, N, dtype: 'f16' },
    );
    a16.dispose();
    b16.dispose();
    p.free();
  }
}

// Elementwise: GB/s counts bytes read + written.
const n = quick ? 1 << 20 : 1 << 22;
{
  const p = pair([n], [n], 11);
  await measure(
    `add (${n} f32)`,
    'GB/s',
    12 * n,
    () => T.add(p.a, p.b),
    (tf) => tf.add(p.ta, p.tb),
    4,
  );
  await measure(
    `exp (${n} f32)`,
    'GB/s',
    8 * n,
    () => T.exp(p.a),
    (tf) => tf.exp(p.ta),
    4,
  );
  await measure(
    `relu (${n} f32)`,
    'GB/s',
    8 * n,
    () => T.relu(p.a),
    (tf) => tf.relu(p.ta),
    4,
  );
  p.free();
}
{
  const [r, c] = [128, 1024];
  const p = pair([r, 1, c], [1, r, c], 13);
  await measure(
    `add broadcast ${r}x1x${c} + 1x${r}x${c}`,
    'GB/s',
    4 * (2 * r * c + r * r * c),
    () => T.add(p.a, p.b),
    (tf) => tf.add(p.ta, p.tb),
  );
  p.free();
}

// Reductions: GB/s over the input.
{
  const p = pair([n], [1024, n / 1024], 17);
  await measure(
    `sum all (${n})`,
    'GB/s',
    4 * n,
    () => T.sum(p.a),
    (tf) => tf.sum(p.ta),
    4,
  );
  await measure(
    `sum rows [1024, ${n / 1024}] axis 1`,
    'GB/s',
    4 * n,
    () => T.sum(p.b, 1),
    (tf) => tf.sum(p.tb, 1),
    4,
  );
  await measure(
    `max cols [1024, ${n / 1024}] axis 0`,
    'GB/s',
    4 * n,
    () => T.max(p.b, 0),
    (tf) => tf.max(p.tb, 0),
    4,
  );
  p.free();
}
{
  const p = pair([quick ? 512 : 4096, 1000], [1], 19);
  await measure(
    `softmax [${p.a.shape}] axis -1`,
    'GB/s',
    8 * p.a.size,
    () => T.softmax(p.a),
    (tf) => tf.softmax(p.ta),
    2,
  );
  p.free();
}

finishSuite(root, 'tensor', info, peer, cases, { notes });
await T.releaseDevice();
process.exit(0);
