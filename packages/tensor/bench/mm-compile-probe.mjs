// How long one cpu-family matmul variant takes to compile (a tuning aid, not part of `npm run
// bench`): pins the register block, runs one 8x8 product and prints the wall time of that first
// call, which is almost all pipeline creation (LLVM on lavapipe). One variant per process so a
// pathological one can be cut off: timeout 60 node bench/mm-compile-probe.mjs 16x32 transA
// Usage: node bench/mm-compile-probe.mjs TMxTN [transA] [transB]   (build first)
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';

await T.ready();
const [tm, tn] = (process.argv[2] ?? '64x32').split('x').map(Number);
const transA = process.argv.includes('transA');
const transB = process.argv.includes('transB');
tuning.setMatmulTiles('cpu', { tm, tn, wx: 8, wy: 1 });
const t0 = performance.now();
await T.matmulRaw(T.randn([8, 8]), T.randn([8, 8]), transA, transB).data();
console.log(
  `${tm}x${tn}${transA ? ' transA' : ''}${transB ? ' transB' : ''}: first call (compile) ${(performance.now() - t0).toFixed(0)} ms`,
);
await T.releaseDevice();
process.exit(0);
