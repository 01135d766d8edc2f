// Conv forward tile probe (a tuning aid, not part of `npm run bench`): our conv2d forward with
// pinned GEMM tiles (setConvTiles) and tfjs-webgpu's conv2d, interleaved round-robin in one
// process; prints each variant's median GFLOP/s and median ratio to tfjs per shape. Meant for
// the 'gpu' kernel family on a real GPU (bench/gpu/setup.sh), where each sample runs 20 convs.
// Usage: node bench/conv-tiles-probe.mjs ['[{"tm":4,"tn":4,"wx":16,"wy":16}, ...]'] [rounds]
// (SHAPES='[[name, N, C, H, W, OC, K, stride, pad], ...]' replaces the shape list.)
import { create, globals } from 'webgpu';
import * as T from '@spine/tensor/node';
import { conv2d } from '../dist/index.js';
import { setConvTiles } from '../dist/ops/conv2d/conv2d.js';

await T.ready();
const family = T.deviceInfo().kernels;
const inner = family === 'gpu' ? 20 : 1;
const variants = JSON.parse(
  process.argv[2] ??
    '[null, {"tm":4,"tn":4,"wx":16,"wy":8}, {"tm":4,"tn":4,"wx":8,"wy":16}, {"tm":4,"tn":4,"wx":8,"wy":8}, {"tm":4,"tn":8,"wx":8,"wy":16}, {"tm":8,"tn":4,"wx":16,"wy":8}, {"tm":8,"tn":8,"wx":8,"wy":8}]',
);
const rounds = Number(process.argv[3] ?? 7);
Object.assign(globalThis, globals);
globalThis.navigator = { gpu: create([]), userAgent: 'node' };
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu');
await tf.ready();
const be = tf.backend();
// [name, N, C, H, W, OC, K, stride, pad]
const shapes = process.env.SHAPES
  ? JSON.parse(process.env.SHAPES)
  : [
      ['3x3 p1 (DenseNet conv2)', 4, 64, 56, 56, 64, 3, 1, 1],
      ['7x7 s2 p3 (DenseNet conv0)', 4, 3, 224, 224, 64, 7, 2, 3],
      ['7x7 s2 (paper conv1)', 10, 3, 227, 227, 96, 7, 2, 0],
      ['5x5 s2 p2 (quick preset conv1)', 32, 3, 64, 64, 16, 5, 2, 2],
    ];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, n, c, h, w, oc, k, s, p] of shapes) {
  const x = T.randn([n, c, h, w], { seed: 1 }).keep();
  const wt = T.randn([oc, c, k, k], { seed: 2, std: 0.1 }).keep();
  const oh = Math.floor((h + 2 * p - k) / s) + 1,
    ow = Math.floor((w + 2 * p - k) / s) + 1;
  const flops = 2 * n * oh * ow * oc * c * k * k * inner;
  const tx = tf.randomNormal([n, h, w, c]),
    tw = tf.randomNormal([k, k, c, oc]);
  const runs = [
    async () => {
      const ys = [];
      for (let i = 0; i < inner; i++)
        ys.push(
          tf.conv2d(tx, tw, s, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ]),
        );
      be.ensureCommandEncoderReady();
      be.endComputePassEncoder();
      be.submitQueue();
      await be.device.queue.onSubmittedWorkDone();
      ys.forEach((y) => y.dispose());
    },
  ];
  for (const v of variants)
    runs.push(async () => {
      setConvTiles(v);
      for (let i = 0; i < inner; i++)
        T.noGrad(() => T.scope(() => conv2d(x, wt, null, { stride: s, padding: p }))).dispose();
      await T.sync();
    });
  for (const r of runs) await r();
  const times = runs.map(() => []);
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < runs.length; i++) {
      const t0 = performance.now();
      await runs[i]();
      times[i].push(performance.now() - t0);
    }
  const gf = (ms) => (flops / (ms / 1e3) / 1e9).toFixed(1);
  console.log(`${n}x${c}x${h}x${w} ${name} ->${oc}: tfjs ${gf(median(times[0]))} GFLOP/s`);
  variants.forEach((v, i) =>
    console.log(
      `  ${JSON.stringify(v ?? 'auto')} ${gf(median(times[i + 1]))} GFLOP/s, ratio ${median(times[0].map((t, r) => t / times[i + 1][r])).toFixed(2)}`,
    ),
  );
  setConvTiles(null);
  for (const t of [x, wt, tx, tw]) t.dispose();
}
process.exit(0);
