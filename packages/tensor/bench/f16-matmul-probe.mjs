// f16 against f32 matmul (a measuring aid, not part of `npm run bench`): the same square
// products with f32 operands and with f16 operands (f32 sums, f32 result), timed round-robin in
// one process on each kernel family, so that drifts in machine load hit both alike. Prints each
// one's median GFLOP/s and the median per-round ratio f16/f32.
//   node bench/f16-matmul-probe.mjs [sizes=256,512,1024] [rounds=5]
import * as T from '../dist/node.js';

await T.ready();
const info = T.deviceInfo();
if (!info.features.includes('shader-f16')) {
  console.log(`${info.device}: no shader-f16, nothing to compare`);
  process.exit(0);
}
const sizes = (process.argv[2] ?? '256,512,1024').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 5);
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const inner = (family) => (family === 'gpu' && info.kernels === 'gpu' ? 20 : 1);

console.log(`${info.description || info.device} (${info.backend})`);
for (const family of ['cpu', 'gpu']) {
  T.setKernelFamily(family);
  for (const n of sizes) {
    const a = T.rand([n, n], { seed: n }).keep();
    const b = T.rand([n, n], { seed: n + 1 }).keep();
    const a16 = T.cast(a, 'f16').keep();
    const b16 = T.cast(b, 'f16').keep();
    const time = async (f) => {
      const k = inner(family);
      const t0 = performance.now();
      for (let i = 0; i < k; i++) T.scope(() => void f());
      await T.sync();
      return (performance.now() - t0) / k;
    };
    const f32 = () => T.matmul(a, b);
    const f16 = () => T.matmul(a16, b16, { out: 'f32' });
    await time(f32); // compile and warm
    await time(f16);
    const ms32 = [];
    const ms16 = [];
    for (let r = 0; r < rounds; r++) {
      ms32.push(await time(f32));
      ms16.push(await time(f16));
    }
    const rate = (ms) => (2 * n ** 3) / (ms / 1e3) / 1e9;
    const ratios = ms32.map((m, i) => m / ms16[i]);
    console.log(
      `${family} ${n}³  f32 ${rate(median(ms32)).toFixed(2)} GFLOP/s  f16 ${rate(median(ms16)).toFixed(2)} GFLOP/s  f16/f32 ${median(ratios).toFixed(2)}x`,
    );
    for (const t of [a, b, a16, b16]) t.dispose();
  }
}
await T.releaseDevice();
process.exit(0);
