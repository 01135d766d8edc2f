// Autocast convolutions on subgroup matrices (tensor cores) on a lent GPU (bench/gpu/run.sh's
// sgm-check runs it): DenseNet-121's convolution shapes, forward and both gradients with f16
// operands, on the subgroup-matrix kernel against the tiled f16 kernels (the same f16 products
// summed in f32, in another order), then both timed (forward + backward, ms and TFLOP/s).
// `--tiles` then times the subgroup-matrix step per shape in other workgroup blocks (result
// matrices and subgroups per workgroup, k steps per staged tile) and prints the fastest, for
// convSubgroupMatrixTiles (conv2d-subgroup-matrix.ts). Without subgroup matrices on the device it
// says so and stops; `--emulate` runs the emulated kernel instead at a small size (checks this
// script on lavapipe; its times mean nothing). It prints what ready()'s checks decided, then
// checks and times the kernel wherever the device lists subgroup matrices, whatever those checks
// decided (a failure is printed with its shape).
import * as T from '@spine/tensor/node';
import { setConvSubgroupMatrixEmulation, setConvSubgroupMatrixShape } from '../dist/tuning.js';
import { conv2dAutocast } from '../dist/ops/conv2d/conv2d-autocast.js';
import { batchNormReluConv1x1, batchNormReluConv2d } from '../dist/ops/bn-relu-conv.js';
import { autocast } from '../dist/amp/autocast.js';
import {
  convSubgroupMatrixStatus,
  convSubgroupMatrixTiles,
  setConvSubgroupMatrices,
} from '../dist/ops/conv2d/conv2d-subgroup-matrix.js';
// Registers the convolutions' check, which ready() runs.
import '../dist/ops/conv2d/conv2d-subgroup-matrix-check.js';

const emulate = process.argv.includes('--emulate');
const probeTiles = process.argv.includes('--tiles');
// Blocks to try with --tiles (the configuration's m x n matrices; 16x16 gives the sizes named).
const SHAPES_TRIED = [
  { label: '32x32', tm: 1, tn: 1, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '64x32', tm: 2, tn: 1, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '64x64', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '64x64 k16', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 1 },
  { label: '64x64 k64', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 4 },
  { label: '128x32', tm: 4, tn: 1, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '128x64', tm: 4, tn: 2, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '128x64, 8 subgroups', tm: 2, tn: 2, sgRows: 4, sgCols: 2, ks: 2 },
  { label: '128x128', tm: 4, tn: 4, sgRows: 2, sgCols: 2, ks: 2 },
];
await T.ready({ kernels: 'gpu', ...(emulate ? {} : { subgroupMatrices: true }) });
console.log(`f16 products on subgroup matrices: ${T.subgroupMatrixStatus().detail}`);
console.log(`autocast convolutions on subgroup matrices: ${convSubgroupMatrixStatus().detail}`);
if (emulate) setConvSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
else setConvSubgroupMatrices(T.getEngine().device.features.has('chromium-experimental-subgroup-matrix'), 'this script');
if (!T.getEngine().device.features.has('shader-f16') || !convSubgroupMatrixTiles(32)) {
  console.log('convolutions on subgroup matrices: not on this device');
  await T.releaseDevice();
  process.exit(0);
}

// [label, batch, in channels, size, out channels, kernel, stride, padding, fused] of DenseNet-121;
// fused: its BN-ReLU-conv under autocast (batchNormReluConv1x1 or batchNormReluConv2d, batch
// statistics), which on subgroup matrices reads the f32 input through the BN-ReLU and rounds it
// as the kernel stages it, against the BN-ReLU and then the tiled f16 convolution.
const SHAPES = emulate
  ? [
      ['3x3 growth', 2, 16, 12, 32, 3, 1, 1],
      ['BN-ReLU-3x3 growth', 2, 16, 12, 32, 3, 1, 1, true],
    ]
  : [
      ['stem 7x7/2', 4, 3, 224, 64, 7, 2, 3],
      ['3x3 growth 56²', 4, 128, 56, 32, 3, 1, 1],
      ['1x1 bottleneck 56² 256->128', 4, 256, 56, 128, 1, 1, 0],
      ['1x1 bottleneck 7² 1024->128', 4, 1024, 7, 128, 1, 1, 0],
      ['3x3 growth 56², batch 32', 32, 128, 56, 32, 3, 1, 1],
      ['1x1 bottleneck 28² 512->128, batch 32', 32, 512, 28, 128, 1, 1, 0],
      ['BN-ReLU-3x3 growth 56²', 4, 128, 56, 32, 3, 1, 1, true],
      ['BN-ReLU-1x1 bottleneck 56² 256->128', 4, 256, 56, 128, 1, 1, 0, true],
      ['BN-ReLU-3x3 growth 56², batch 32', 32, 128, 56, 32, 3, 1, 1, true],
      ['BN-ReLU-1x1 bottleneck 28² 512->128, batch 32', 32, 512, 28, 128, 1, 1, 0, true],
    ];

/** Forward and both gradients, routed to subgroup matrices or not. */
function step(x, w, r, o, sgm, fused, gamma) {
  if (emulate) setConvSubgroupMatrixEmulation(sgm ? { m: 16, n: 16, k: 16, subgroupSize: 32 } : null);
  else setConvSubgroupMatrices(sgm, 'this script');
  return T.scope(() => {
    x.grad = null;
    w.grad = null;
    const beta = T.zeros(gamma.shape);
    const y = fused
      ? autocast(() =>
          o.padding
            ? batchNormReluConv2d(x, gamma, beta, null, null, { training: true }, w, o)
            : batchNormReluConv1x1(x, gamma, beta, null, null, { training: true }, w),
        )
      : conv2dAutocast(x, w, null, o);
    T.sum(T.mul(y, r)).backward();
    return [y.keep(), x.grad.keep(), w.grad.keep()];
  });
}

let failed = 0;
for (const [label, n, c, s, oc, k, stride, padding, fused = false] of SHAPES) {
  try {
    await checkShape(label, n, c, s, oc, k, stride, padding, fused);
  } catch (err) {
    failed++;
    console.log(`FAIL ${label}: ${T.errorSummary(err)}`);
  }
}
await T.releaseDevice();
process.exit(failed ? 1 : 0);

/** Checks and times one shape (and its blocks with --tiles); throws where the kernels disagree. */
async function checkShape(label, n, c, s, oc, k, stride, padding, fused) {
  const o = { stride, padding };
  const gamma = T.add(T.rand([c], { seed: 4 }), 0.5).keep();
  const x = T.randn([n, c, s, s], { seed: 1 }).keep();
  x.requiresGrad = true;
  const w = T.mul(T.randn([oc, c, k, k], { seed: 2 }), 1 / Math.sqrt(c * k * k)).keep();
  w.requiresGrad = true;
  const os = Math.floor((s + 2 * padding - k) / stride) + 1;
  const r = T.randn([n, oc, os, os], { seed: 3 }).keep();
  const got = step(x, w, r, o, true, fused, gamma);
  const want = step(x, w, r, o, false, fused, gamma);
  const worst = [];
  for (let i = 0; i < 3; i++) {
    const [g, v] = [await got[i].data(), await want[i].data()];
    const scale = v.reduce((m, e) => Math.max(m, Math.abs(e)), 1e-12);
    let d = 0;
    for (let j = 0; j < v.length; j++) d = Math.max(d, Math.abs(g[j] - v[j]) / scale);
    worst.push(d);
  }
  for (const t of [...got, ...want]) t.dispose();
  if (!worst.every((d) => d < 1e-4))
    throw new Error(`worst relative difference ${Math.max(...worst).toExponential(1)} (tolerance ${tolerance})`);
  const flops = 3 * 2 * n * oc * os * os * c * k * k;
  /** ms of one forward + backward. */
  const time = async (sgm) => {
    const run = async (reps) => {
      for (let i = 0; i < reps; i++) for (const t of step(x, w, r, o, sgm, fused, gamma)) t.dispose();
      await T.sync();
    };
    await run(2);
    const reps = emulate ? 2 : 10;
    const t0 = performance.now();
    await run(reps);
    return (performance.now() - t0) / reps;
  };
  const times = { tiled: await time(false), sgm: await time(true) };
  const tf = (ms) => (flops / (ms / 1e3) / 1e12).toFixed(1);
  console.log(
    `ok   ${label}: worst relative difference y ${worst[0].toExponential(1)}, dx ${worst[1].toExponential(1)}, dW ${worst[2].toExponential(1)}; forward + backward ${times.tiled.toFixed(2)} ms tiled (${tf(times.tiled)} TFLOP/s), ${times.sgm.toFixed(2)} ms subgroup matrices (${tf(times.sgm)} TFLOP/s), ${(times.tiled / times.sgm).toFixed(2)}x`,
  );
  if (probeTiles) {
    const rows = [];
    for (const { label: block, ...shape } of SHAPES_TRIED) {
      setConvSubgroupMatrixShape(shape);
      // A block the device cannot hold (workgroup memory, invocations) has no route: skipped.
      if (convSubgroupMatrixTiles(oc)) rows.push({ block, ms: await time(true) });
    }
    setConvSubgroupMatrixShape(null);
    rows.sort((a, b) => a.ms - b.ms);
    console.log(`     blocks, fastest first: ${rows.map((b) => `${b.block} ${b.ms.toFixed(2)} ms`).join(', ')}`);
  }
  for (const t of [x, w, r, gamma]) t.dispose();
}
