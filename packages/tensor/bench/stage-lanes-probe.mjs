// The texture matmul's stage kernel (matmul-texture.ts) with 8, 32 and 64 lanes per workgroup,
// alternating in one process on DenseNet-121 operands that it stages with the kernel (not by a
// copy): the stage kernel's own device time from the kernel profiler, best of two rounds of
// three products. A tuning aid, not part of `npm run bench`. Build first:
//   node bench/stage-lanes-probe.mjs
import * as T from '../dist/node.js';
import { setStageLanes } from '../dist/ops/matmul/matmul-stage.js';

await T.ready();
// [label, A shape, B shape, transA, transB]
const cases = [
  ['1x1 wgrad 56², 192 in', [4, 128, 3136], [4, 192, 3136], false, true],
  ['1x1 forward 28², 480 in', [128, 480], [4, 480, 784], false, false],
  ['1x1 dgrad 14² (Wᵀ)', [128, 768], [4, 128, 196], true, false],
  ['Winograd dgrad 28²', [36, 128, 32], [36, 32, 224], false, false],
];
for (const [label, as, bs, ta, tb] of cases) {
  const a = T.rand(as, { seed: 1 }).keep();
  const b = T.rand(bs, { seed: 2 }).keep();
  const best = {};
  for (const lanes of [8, 32, 64, 8, 32, 64]) {
    setStageLanes(lanes);
    T.matmulRaw(a, b, ta, tb).dispose();
    await T.sync();
    const p = await T.profileKernels(async () => {
      for (let i = 0; i < 3; i++) T.matmulRaw(a, b, ta, tb).dispose();
      await T.sync();
    });
    const ms = (p.kernels.find((k) => k.name === 'matmul-stage')?.ms ?? 0) / 3;
    best[lanes] = Math.min(best[lanes] ?? Infinity, ms);
  }
  console.log(
    `${label.padEnd(26)} ${Object.entries(best)
      .map(([l, ms]) => `${l} lanes ${ms.toFixed(2)} ms`)
      .join(', ')}`,
  );
  a.dispose();
  b.dispose();
}
setStageLanes(64);
await T.releaseDevice();
process.exit(0);
