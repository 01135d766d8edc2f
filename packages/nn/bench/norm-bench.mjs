// Normalisation benchmarks: batch norm (training, DenseNet's 4x256x56x56) and LRN (AlexNet's
// conv1 output 10x96x55x55, size 5), forward and forward+backward, in GB/s of the minimal
// traffic (forward: read x, write y; backward: read x and dy, write dx). The peer is
// TensorFlow.js's webgpu backend on the same Dawn adapter, in NHWC (its layout); its training
// batch norm is tf.moments + tf.batchNorm. tfjs-core alone registers no gradient functions, so
// the peer's backward is written out: LRN through its LRNGrad kernel, batch norm with the
// ops tfjs' own FusedBatchNorm gradient uses (sums over N, H, W and elementwise ops).
// Run after `npm run build`: node packages/nn/bench/norm-bench.mjs [--quick]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { batchNorm2d, batchNormRelu, localResponseNorm } from '../dist/ops/norm-loss.js';
import { finishSuite, loadTfjsWebgpu, quick, repeatsPerSample, timeMedian } from '../../../bench/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
await T.ready();
const info = T.deviceInfo();
const peer = await loadTfjsWebgpu();
const cases = [];
const fmt = (v) => (v === null ? '—' : v.toFixed(2));

/** `peerOpts`: a smaller peer problem (`bytes`, `shape`) and fewer timed runs (`reps`) where tfjs is very slow. */
async function measure(label, bytes, ours, theirs, peerOpts = {}, torchCase = null) {
  const inner = repeatsPerSample(info);
  const msOurs =
    (await timeMedian(async () => {
      // `void`: a returned tensor would outlive the scope, so every call would need a fresh buffer.
      for (let i = 0; i < inner; i++) T.scope(() => void ours());
      await T.sync();
    })) / inner;
  let msPeer = null;
  if (peer && theirs) {
    const run = async () => {
      for (let i = 0; i < inner; i++) peer.tf.tidy(() => void theirs(peer.tf));
      await peer.sync();
    };
    msPeer = (await timeMedian(run, peerOpts.reps ? { warmup: 1, reps: peerOpts.reps } : undefined)) / inner;
  }
  const rate = (ms, b) => (ms === null ? null : b / (ms / 1e3) / 1e9);
  const row = {
    label,
    unit: 'GB/s',
    ms: msOurs,
    rate: rate(msOurs, bytes),
    peerMs: msPeer,
    peerRate: rate(msPeer, peerOpts.bytes ?? bytes),
    ratio: null,
  };
  if (row.peerRate) row.ratio = row.rate / row.peerRate;
  if (peerOpts.shape) row.peerShape = peerOpts.shape;
  if (torchCase) Object.assign(row, { torchCase, work: bytes });
  cases.push(row);
  const at = peerOpts.shape ? ` (at ${peerOpts.shape})` : '';
  console.log(
    `${label.padEnd(42)} ours ${fmt(row.rate).padStart(6)} GB/s (${msOurs.toFixed(1)} ms)   tfjs ${fmt(row.peerRate).padStart(6)} GB/s${at}   ratio ${fmt(row.ratio)}x`,
  );
}

/** Run backward from y with dy and drop the accumulated leaf gradients. */
function backwardAndClear(y, dy, leaves) {
  y.backward(dy);
  for (const t of leaves) {
    t.grad?.dispose();
    t.grad = null;
  }
}

// ---- batch norm -------------------------------------------------------------------------
{
  const [N, C, H, W] = quick ? [2, 256, 28, 28] : [4, 256, 56, 56];
  const n = N * C * H * W;
  const x = T.randn([N, C, H, W], { seed: 1 }).keep();
  const dy = T.randn([N, C, H, W], { seed: 2 }).keep();
  const w = T.rand([C], { seed: 3, low: 0.5, high: 1.5 }).keep();
  const b = T.randn([C], { seed: 4 }).keep();
  const rm = T.zeros([C]).keep();
  const rv = T.ones([C]).keep();
  const leaves = [x, w, b];
  const tx = peer?.tf.randomNormal([N, H, W, C]);
  const tdy = peer?.tf.randomNormal([N, H, W, C]);
  const ts = peer?.tf.randomUniform([C], 0.5, 1.5);
  const to = peer?.tf.randomNormal([C]);
  const axes = [0, 1, 2];
  const tfBn = (tf, relu) => {
    const { mean, variance } = tf.moments(tx, axes);
    const y = tf.batchNorm(tx, mean, variance, to, ts, 1e-5);
    return { y: relu ? tf.relu(y) : y, mean, variance };
  };
  /** Forward, then dx = scale * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)), dscale, doffset. */
  const tfBnBackward = (tf, relu) => {
    const { y, mean, variance } = tfBn(tf, relu);
    const g = relu ? tf.mul(tdy, tf.step(y)) : tdy;
    const invstd = tf.rsqrt(tf.add(variance, 1e-5));
    const xhat = tf.mul(tf.sub(tx, mean), invstd);
    const dscale = tf.sum(tf.mul(g, xhat), axes);
    const doffset = tf.sum(g, axes);
    const dx = tf.mul(
      tf.mul(ts, invstd),
      tf.sub(tf.sub(g, tf.div(doffset, n / C)), tf.mul(xhat, tf.div(dscale, n / C))),
    );
    return [dx, dscale, doffset];
  };
  const shape = `${N}x${C}x${H}x${W}`;
  const opts = { training: true };
  await measure(
    `batchnorm train fwd ${shape}`,
    8 * n,
    () => batchNorm2d(x, w, b, rm, rv, opts),
    (tf) => tfBn(tf, false).y,
    {},
    { op: 'batchnorm', x: [N, C, H, W] },
  );
  for (const t of leaves) t.requiresGrad = true;
  await measure(
    `batchnorm train fwd+bwd ${shape}`,
    20 * n,
    () => backwardAndClear(batchNorm2d(x, w, b, rm, rv, opts), dy, leaves),
    (tf) => tfBnBackward(tf, false),
    {},
    { op: 'batchnorm', x: [N, C, H, W], backward: true },
  );
  await measure(
    `batchnorm+relu train fwd+bwd ${shape}`,
    20 * n,
    () => backwardAndClear(batchNormRelu(x, w, b, rm, rv, opts), dy, leaves),
    (tf) => tfBnBackward(tf, true),
  );
  for (const t of [x, dy, w, b, rm, rv, tx, tdy, ts, to]) t?.dispose();
}

// ---- local response norm ----------------------------------------------------------------
{
  const [N, C, H, W] = quick ? [2, 96, 55, 55] : [10, 96, 55, 55];
  const n = N * C * H * W;
  const x = T.randn([N, C, H, W], { seed: 5 }).keep();
  const dy = T.randn([N, C, H, W], { seed: 6 }).keep();
  const tx = peer?.tf.randomNormal([N, H, W, C]);
  // tfjs' LRNGrad kernel is two to three orders of magnitude slower here: time it on one
  // small image, once, and compare rates (GB/s scale with the size).
  const [pH, pW] = quick ? [27, 27] : [H, W];
  const px = peer?.tf.randomNormal([1, pH, pW, C]);
  const pdy = peer?.tf.randomNormal([1, pH, pW, C]);
  // PyTorch's alpha is divided by the window; tfjs' is not, and its window is 2 * radius + 1.
  const lrn = { size: 5, alpha: 1e-4, beta: 0.75, k: 2 };
  const tfAttrs = { depthRadius: 2, bias: lrn.k, alpha: lrn.alpha / lrn.size, beta: lrn.beta };
  const tfLrn = (tf, xx) =>
    tf.localResponseNormalization(xx, tfAttrs.depthRadius, tfAttrs.bias, tfAttrs.alpha, tfAttrs.beta);
  const shape = `${N}x${C}x${H}x${W}`;
  await measure(
    `lrn size 5 fwd ${shape}`,
    8 * n,
    () => localResponseNorm(x, lrn),
    (tf) => tfLrn(tf, tx),
    {},
    { op: 'lrn', x: [N, C, H, W], size: 5 },
  );
  x.requiresGrad = true;
  await measure(
    `lrn size 5 fwd+bwd ${shape}`,
    20 * n,
    () => backwardAndClear(localResponseNorm(x, lrn), dy, [x]),
    (tf) => tf.engine().runKernel('LRNGrad', { x: px, y: tfLrn(tf, px), dy: pdy }, tfAttrs),
    {
      bytes: 20 * C * pH * pW,
      shape: `1x${C}x${pH}x${pW}`,
      reps: 1,
    },
    { op: 'lrn', x: [N, C, H, W], size: 5, backward: true },
  );
  for (const t of [x, dy, tx, px, pdy]) t?.dispose();
}

finishSuite(root, 'nn-norm', info, peer, cases);
await T.releaseDevice();
process.exit(0);
