// conv2d benchmarks: forward and backward (data + weight gradient) GFLOP/s on DenseNet- and
// AlexNet-like shapes, against TensorFlow.js's webgpu backend on the same Dawn adapter (NHWC
// there: inputs are transposed once, outside the timing). Build first: npx tsc -p tsconfig.build.json
// Usage: node bench/conv-bench.mjs [--quick] [--only <substring of a case name>]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { conv2d } from '../dist/ops/conv-pool.js';
import { convDgrad, convGeometry, convWgrad } from '../dist/ops/conv2d/conv2d.js';
import { spread } from '../dist/ops/conv2d/conv2d-layout.js';
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
const notes = await warmMatmulForBench(T, info, [{}]);
const peer = await loadTfjsWebgpu();
const cases = [];

/**
 * Median ms of ours and of the peer, timed in alternation (one sample of each per round) so
 * that load from other processes on this shared machine hits both sides alike.
 */
async function measure(label, work, ours, theirs, torchCase = null) {
  const inner = repeatsPerSample(info);
  const runOurs = async () => {
    for (let i = 0; i < inner; i++) T.scope(() => void ours());
    await T.sync();
  };
  const runPeer =
    peer && theirs
      ? async () => {
          for (let i = 0; i < inner; i++) peer.tf.tidy(() => void theirs(peer.tf));
          await peer.sync();
        }
      : null;
  const rounds = quick ? 3 : 5;
  const a = [];
  const b = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await timeMedian(runOurs, { warmup: i === 0 ? 1 : 0, reps: 1 }));
    if (runPeer) b.push(await timeMedian(runPeer, { warmup: i === 0 ? 1 : 0, reps: 1 }));
  }
  const median = (v) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)];
  const ms = median(a) / inner;
  const peerMs = runPeer ? median(b) / inner : null;
  const rate = (t) => (t === null ? null : work / (t / 1e3) / 1e9);
  const row = {
    label,
    unit: 'GFLOP/s',
    ms,
    rate: rate(ms),
    peerMs,
    peerRate: rate(peerMs),
    ratio: peerMs === null ? null : peerMs / ms,
  };
  if (torchCase) Object.assign(row, { torchCase, work });
  cases.push(row);
  const fmt = (v) => (v === null ? '—' : v.toFixed(2));
  console.log(
    `${label.padEnd(46)} ours ${fmt(row.rate).padStart(7)} GFLOP/s (${ms.toFixed(1)} ms)   tfjs ${fmt(row.peerRate).padStart(7)} GFLOP/s   ratio ${fmt(row.ratio)}x`,
  );
}

// [name, N, C, H, W, OC, K, stride, pad, input needs a gradient]
const shapes = quick
  ? [
      ['3x3 p1', 2, 32, 28, 28, 32, 3, 1, 1, true],
      ['1x1', 2, 64, 14, 14, 32, 1, 1, 0, true],
      ['7x7 s2 p3', 1, 3, 64, 64, 16, 7, 2, 3, false],
    ]
  : [
      ['3x3 p1 (DenseNet conv2)', 4, 64, 56, 56, 64, 3, 1, 1, true],
      ['1x1 (DenseNet bottleneck)', 4, 128, 28, 28, 32, 1, 1, 0, true],
      ['7x7 s2 p3 (DenseNet conv0)', 4, 3, 224, 224, 64, 7, 2, 3, false],
      ['7x7 s2 (paper conv1)', 10, 3, 227, 227, 96, 7, 2, 0, false],
      // Few output channels: the pixel-lane forward and k-lane weight gradient on software adapters.
      ['5x5 s2 p2 (quick preset conv1)', 32, 3, 64, 64, 16, 5, 2, 2, false],
    ];

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : null;

for (const [name, n, c, h, w, oc, k, s, p, needX] of shapes.filter(([name]) => !only || name.includes(only))) {
  const x = T.randn([n, c, h, w], { seed: 1 }).keep();
  const wt = T.randn([oc, c, k, k], { seed: 2, std: 0.1 }).keep();
  const g = convGeometry(x, wt, null, { stride: s, padding: p });
  const gy = T.randn([n, oc, g.oh, g.ow], { seed: 3 }).keep();
  const flops = 2 * n * g.oh * g.ow * oc * c * k * k;
  const tag = `${n}x${c}x${h}x${w} ${name} ->${oc}`;
  let tx, tw, tgy;
  if (peer) {
    const tf = peer.tf;
    tx = tf.tidy(() => tf.transpose(tf.randomNormal([n, c, h, w]), [0, 2, 3, 1]));
    tw = tf.tidy(() => tf.transpose(tf.randomNormal([oc, c, k, k], 0, 0.1), [2, 3, 1, 0]));
    tgy = tf.tidy(() => tf.transpose(tf.randomNormal([n, oc, g.oh, g.ow]), [0, 2, 3, 1]));
  }
  const tfPad = p === 0 ? 'valid' : p;
  await measure(
    `conv2d fwd ${tag}`,
    flops,
    () => conv2d(x, wt, null, { stride: s, padding: p }),
    (tf) => tf.conv2d(tx, tw, s, tfPad),
    {
      op: 'conv2d',
      x: [n, c, h, w],
      w: [oc, c, k, k],
      stride: s,
      padding: p,
    },
  );
  // Backward: data gradient (unless the input is the image) + weight gradient, the kernels
  // autograd runs; on the 'gpu' family 1x1 convs go through matmul's backward instead.
  const xp = p ? spread(x, { hp: h + 2 * p, wp: w + 2 * p, offH: p, offW: p, sh: 1, sw: 1 }).keep() : x;
  const oursBack =
    k === 1 && s === 1 && p === 0 && info.kernels === 'gpu'
      ? () => {
          const w2 = T.reshape(wt, [oc, c]);
          const x3 = T.reshape(x, [n, c, h * w]);
          const g3 = T.reshape(gy, [n, oc, h * w]);
          T.matmulRaw(w2, g3, true, false);
          T.sum(T.matmulRaw(g3, x3, false, true), 0);
        }
      : () => {
          if (needX) convDgrad(gy, wt, g);
          convWgrad(xp, gy, g);
        };
  const theirsBack = (tf) => {
    const e = tf.engine();
    const attrs = { strides: [s, s], pad: tfPad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    if (needX) e.runKernel('Conv2DBackpropInput', { dy: tgy, filter: tw }, { ...attrs, inputShape: [n, h, w, c] });
    e.runKernel('Conv2DBackpropFilter', { x: tx, dy: tgy }, { ...attrs, filterShape: [k, k, c, oc] });
  };
  await measure(`conv2d bwd ${needX ? 'dx+dw' : 'dw'} ${tag}`, flops * (needX ? 2 : 1), oursBack, theirsBack);
  for (const t of [x, wt, gy, xp, tx, tw, tgy]) t?.dispose();
}

if (only) {
  // A partial run must not replace the full results file.
  await T.releaseDevice();
  process.exit(0);
}
// PyTorch CPU (when installed) runs the forward rows only: its backward also recomputes the
// forward and the input gradient, so those rows would not compare like with like.
finishSuite(root, 'nn-conv', info, peer, cases, { notes });
await T.releaseDevice();
process.exit(0);
