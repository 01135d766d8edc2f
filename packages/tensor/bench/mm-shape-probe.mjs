// One (batched) product shape under several cpu-family register blocks, alternating in one
// process (a tuning aid, not part of `npm run bench`): prints each variant's median GFLOP/s.
// 'auto' is the engine's own choice (texture operands where they fit, matmul-texture.ts);
// 'buffers' the engine's choice among the buffer kernels (the tier-up's wide block only once
// warmed: WARM=1); a tile object pins a buffer kernel.
// Usage (build first): node bench/mm-shape-probe.mjs BxMxKxN ['["auto","buffers",{"tm":32,"tn":32}]'] [rounds]
// e.g. Winograd's GEMM at DenseNet block 1: node bench/mm-shape-probe.mjs 16x32x128x3136
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';

await T.ready();
if (process.env.WARM) console.log('tier-up warmed:', await tuning.warmMatmul());
const [B, M, K, N] = (process.argv[2] ?? '16x32x128x3136').split('x').map(Number);
const variants = JSON.parse(process.argv[3] ?? '["auto","buffers",{"tm":16,"tn":8}]');
const rounds = Number(process.argv[4] ?? 7);
const a = T.rand([B, M, K], { seed: 1 }).keep();
const b = T.rand([B, K, N], { seed: 2 }).keep();
const run = async (v) => {
  tuning.setMatmulTextures(v === 'buffers' ? false : 'auto');
  tuning.setMatmulTiles('cpu', typeof v === 'string' ? null : { wx: 8, wy: 1, ...v });
  T.matmulRaw(a, b).dispose();
  await T.sync();
};
const times = variants.map(() => []);
for (const v of variants) await run(v); // compile (cold: minutes for wide blocks)
for (let r = 0; r < rounds; r++)
  for (let i = 0; i < variants.length; i++) {
    const t0 = performance.now();
    await run(variants[i]);
    times[i].push(performance.now() - t0);
  }
tuning.setMatmulTiles('cpu', null);
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const flops = 2 * B * M * K * N;
variants.forEach((v, i) =>
  console.log(
    `${JSON.stringify(v).padEnd(24)} ${(flops / median(times[i]) / 1e6).toFixed(2)} GFLOP/s (${median(times[i]).toFixed(1)} ms)`,
  ),
);
await T.releaseDevice();
process.exit(0);
