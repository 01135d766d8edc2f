// Subgroup-matrix (tensor-core) matmul on a lent GPU (bench/gpu/run.sh runs it): lists the
// adapter's configurations and what ready()'s check decided, checks the kernel against the gpu
// family's tiled f16 kernel in every transpose (whole and partial blocks), then times both at
// 4096³ (TFLOP/s). `--tiles` then times the kernel at 4096³ in other workgroup blocks (result
// matrices and subgroups per workgroup, k steps per staged tile) and prints the fastest, for
// matmulSubgroupMatrixRoute (matmul.ts). On an adapter without
// 'chromium-experimental-subgroup-matrix' (lavapipe, older drivers) it says so and stops;
// `--emulate` runs the emulated kernel instead at small sizes (checks this script on lavapipe;
// its times mean nothing).
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';

const emulate = process.argv.includes('--emulate');
const probeTiles = process.argv.includes('--tiles');
const EMULATED = { m: 16, n: 16, k: 16, subgroupSize: 32 };
// Blocks to try with --tiles (in the configuration's m x n matrices; 16x16 gives the sizes named).
const SHAPES_TRIED = [
  { label: '32x32', tm: 1, tn: 1, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '64x64', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '64x64 k16', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 1 },
  { label: '64x64 k64', tm: 2, tn: 2, sgRows: 2, sgCols: 2, ks: 4 },
  { label: '128x64', tm: 4, tn: 2, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '128x128', tm: 4, tn: 4, sgRows: 2, sgCols: 2, ks: 2 },
  { label: '128x128, 8 subgroups', tm: 4, tn: 2, sgRows: 2, sgCols: 4, ks: 2 },
  { label: '128x128 k16, 8 subgroups', tm: 4, tn: 2, sgRows: 2, sgCols: 4, ks: 1 },
  { label: '256x128, 8 subgroups', tm: 4, tn: 4, sgRows: 4, sgCols: 2, ks: 2 },
];
await T.ready({ kernels: 'gpu', ...(emulate ? {} : { subgroupMatrices: true }) });
const info = T.deviceInfo();
console.log(
  JSON.stringify({ device: info.description || info.device, subgroupMatrixConfigs: info.subgroupMatrixConfigs }),
);
console.log(`f16 products on subgroup matrices: ${T.subgroupMatrixStatus().detail}`);
if (emulate) tuning.setMatmulSubgroupMatrixEmulation(EMULATED);
else if (!T.getEngine().device.features.has('chromium-experimental-subgroup-matrix')) {
  console.log('subgroup matrices: not on this device');
  process.exit(0);
}
/** Routed to subgroup matrices (whatever ready()'s check decided) or to the tiled f16 kernel. */
const product = (a, b, tA, tB, sgm) => {
  if (emulate) tuning.setMatmulSubgroupMatrixEmulation(sgm ? EMULATED : null);
  else tuning.setSubgroupMatrices(sgm);
  return T.matmul(a, b, { transA: tA, transB: tB, out: 'f32' });
};
/** A route in a few words: the block (rows x columns, k tile) and which operands load as vec4. */
function describeRoute(r) {
  if (!r) return 'no subgroup-matrix route';
  const vec = [r.vecA ? 'A' : '', r.vecB ? 'B' : ''].filter(Boolean).join('+');
  return `block ${r.sgRows * r.tm * r.m}x${r.sgCols * r.tn * r.n} k${r.ks * r.k}${vec ? `, vec4 ${vec}` : ''}`;
}
let failed = 0;
for (const [M, N, K] of [
  [64, 64, 64],
  [37, 45, 70],
  [128, 96, 160],
  [512, 256, 384],
]) {
  for (const [tA, tB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ]) {
    const a = T.cast(T.rand(tA ? [K, M] : [M, K], { seed: M + K }), 'f16');
    const b = T.cast(T.rand(tB ? [N, K] : [K, N], { seed: N + K }), 'f16');
    if (emulate) tuning.setMatmulSubgroupMatrixEmulation(EMULATED);
    else tuning.setSubgroupMatrices(true);
    const route = tuning.matmulSubgroupMatrixRoute(M, N, K, tA, tB);
    try {
      const [got, want] = [await product(a, b, tA, tB, true).data(), await product(a, b, tA, tB, false).data()];
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
      const ok = route !== null && worst < 1e-4;
      if (!ok) failed++;
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} ${M}x${N}x${K} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'} ${describeRoute(route)}, worst relative difference ${worst.toExponential(2)}`,
      );
    } catch (err) {
      failed++;
      console.log(`FAIL ${M}x${N}x${K} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'}: ${T.errorSummary(err)}`);
    }
    a.dispose();
    b.dispose();
  }
}
const n = emulate ? 256 : 4096;
const a = T.cast(T.rand([n, n], { seed: 1 }), 'f16').keep();
const b = T.cast(T.rand([n, n], { seed: 2 }), 'f16').keep();
const reps = emulate ? 2 : 10;
/** TFLOP/s of the n³ product, routed as `sgm` says. */
async function rate(sgm) {
  const run = async () => {
    for (let i = 0; i < reps; i++) T.scope(() => void product(a, b, false, false, sgm));
    await T.sync();
  };
  await run();
  const t0 = performance.now();
  await run();
  const ms = (performance.now() - t0) / reps;
  return (2 * n ** 3) / (ms / 1e3) / 1e12;
}
try {
  for (const sgm of [false, true])
    console.log(
      `f16 matmul ${n}³ ${sgm ? 'subgroup matrices' : 'tiled kernel'}: ${(await rate(sgm)).toFixed(1)} TFLOP/s`,
    );
  if (probeTiles) {
    const rows = [];
    for (const { label, ...shape } of SHAPES_TRIED) {
      tuning.setMatmulSubgroupMatrixShape(shape);
      if (emulate) tuning.setMatmulSubgroupMatrixEmulation(EMULATED);
      else tuning.setSubgroupMatrices(true);
      // A block the device cannot hold (workgroup memory, invocations) has no route: skipped.
      if (!tuning.matmulSubgroupMatrixRoute(n, n, n)) continue;
      try {
        rows.push({ label, rate: await rate(true) });
      } catch (err) {
        console.log(`FAIL block ${label}: ${T.errorSummary(err)}`);
      }
    }
    tuning.setMatmulSubgroupMatrixShape(null);
    rows.sort((x, y) => y.rate - x.rate);
    console.log(
      `blocks at ${n}³, fastest first: ${rows.map((r) => `${r.label} ${r.rate.toFixed(1)} TFLOP/s`).join(', ')}`,
    );
  }
} catch (err) {
  failed++;
  console.log(`FAIL timing ${n}³: ${T.errorSummary(err)}`);
}
await T.releaseDevice();
process.exit(failed ? 1 : 0);
