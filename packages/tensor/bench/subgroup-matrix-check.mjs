// Subgroup-matrix (tensor-core) matmul on a lent GPU (bench/gpu/run.sh runs it): lists the
// adapter's configurations, checks the kernel against the gpu family's tiled f16 kernel on
// whole-tile products in every transpose, then times both at 4096³ (TFLOP/s). On an adapter
// without 'chromium-experimental-subgroup-matrix' (lavapipe, older drivers) it says so and stops.
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';

await T.ready({ kernels: 'gpu', dawnFlags: ['enable-dawn-features=allow_unsafe_apis'] });
const info = T.deviceInfo();
console.log(
  JSON.stringify({ device: info.description || info.device, subgroupMatrixConfigs: info.subgroupMatrixConfigs }),
);
if (!T.getEngine().device.features.has('chromium-experimental-subgroup-matrix')) {
  console.log('subgroup matrices: not on this device');
  process.exit(0);
}
const product = (a, b, tA, tB, sgm) => {
  tuning.setSubgroupMatrices(sgm);
  return T.matmul(a, b, { transA: tA, transB: tB, out: 'f32' });
};
let failed = 0;
for (const [M, N, K] of [
  [64, 64, 64],
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
    tuning.setSubgroupMatrices(true);
    const route = tuning.matmulSubgroupMatrixRoute(M, N, K, 'f16', tA, tB);
    try {
      const [got, want] = [await product(a, b, tA, tB, true).data(), await product(a, b, tA, tB, false).data()];
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
      const ok = route !== null && worst < 1e-4;
      if (!ok) failed++;
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} ${M}x${N}x${K} ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'} route ${JSON.stringify(route)} worst relative difference ${worst.toExponential(2)}`,
      );
    } catch (err) {
      failed++;
      console.log(`FAIL ${M}x${N}x${K} ${tA}/${tB}: ${err.message.split('\n').slice(0, 6).join(' | ')}`);
    }
    a.dispose();
    b.dispose();
  }
}
const n = 4096;
const a = T.cast(T.rand([n, n], { seed: 1 }), 'f16').keep();
const b = T.cast(T.rand([n, n], { seed: 2 }), 'f16').keep();
for (const sgm of [false, true]) {
  const run = async () => {
    for (let i = 0; i < 10; i++) T.scope(() => void product(a, b, false, false, sgm));
    await T.sync();
  };
  await run();
  const t0 = performance.now();
  await run();
  const ms = (performance.now() - t0) / 10;
  console.log(
    `f16 matmul ${n}³ ${sgm ? 'subgroup matrices' : 'tiled kernel'}: ${((2 * n ** 3) / (ms / 1e3) / 1e12).toFixed(1)} TFLOP/s`,
  );
}
await T.releaseDevice();
process.exit(failed ? 1 : 0);
