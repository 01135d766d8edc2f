// How the kernel warmer hides a slow compile (a tuning aid, not part of `npm run bench`): the
// warmer's child process compiles the TMxTN matmul block while this process keeps running 256³
// products on its baseline block; then this process's own first product with the block is
// timed, a Mesa cache hit when the warmer did its job. Use a fresh cache to see a cold compile:
//   MESA_SHADER_CACHE_DIR=$(mktemp -d) node bench/warmer-probe.mjs 32x8   (build first)
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';

await T.ready();
const [tm, tn] = (process.argv[2] ?? '32x8').split('x').map(Number);
const tiles = { tm, tn, wx: 8, wy: 1 };
tuning.setMatmulTierUp({ tiles });
const a = T.rand([256, 256], { seed: 1 }).keep();
const b = T.rand([256, 256], { seed: 2 }).keep();
await T.matmulRaw(a, b).data(); // the baseline's own compile, before the clock starts
let done = false;
let products = 0;
const t0 = performance.now();
const warmed = tuning.warmMatmul([{}]).then((ok) => (done = true) && ok);
while (!done) {
  await T.matmulRaw(a, b).data();
  products++;
}
const seconds = ((performance.now() - t0) / 1000).toFixed(1);
console.log(
  `${tm}x${tn}: warmed ${await warmed} in ${seconds} s in the child; meanwhile this process ran ${products} 256³ products`,
);
tuning.setMatmulTiles('cpu', tiles);
const t1 = performance.now();
await T.matmulRaw(T.rand([64, 64]), T.rand([64, 64])).data();
console.log(`${tm}x${tn}: this process's first product with the block: ${(performance.now() - t1).toFixed(0)} ms`);
await T.releaseDevice();
