// What profiling costs (kernel-profiler.ts): 50 independent elementwise multiplies of n floats,
// timed per dispatch under T.profileKernels (each dispatch in its own pass) and by wall time
// without it, at a few sizes. A tuning aid, not part of `npm run bench`. Build first:
//   node bench/profiler-overhead-probe.mjs
import * as T from '../dist/node.js';

await T.ready();
const REPS = 50;
for (const n of [4, 1000, 100000, 1000000]) {
  const x = T.ones([n]);
  const run = () => {
    for (let i = 0; i < REPS; i++) T.mul(x, x).dispose();
    return T.sync();
  };
  await run();
  const p = await T.profileKernels(run);
  const t0 = performance.now();
  await run();
  const wall = (performance.now() - t0) / REPS;
  console.log(
    `n=${String(n).padStart(7)}: profiled ${(p.kernelMs / REPS).toFixed(3)} ms per dispatch (device span ${(p.deviceMs / REPS).toFixed(3)}); unprofiled ${wall.toFixed(3)} ms of wall time per op`,
  );
  x.dispose();
}
await T.releaseDevice();
process.exit(0);
