// Region copies as buffer copies (ops/block-copy.ts) against the strided copy kernel,
// alternating in one process, on DenseNet's channel concatenations and the slices that their
// backward takes. A tuning aid, not part of `npm run bench`. Build first.
// Usage: node bench/block-copy-probe.mjs
import * as T from '../dist/node.js';
import { setBlockCopies } from '../dist/ops/block-copy.js';

await T.ready();
// [batch, first input's channels, growth, layers, size]: block 1's last concat, block 3's middle one.
const cases = [
  [4, 64, 32, 6, 56],
  [4, 256, 32, 12, 14],
];
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
for (const [n, c0, k, layers, hw] of cases) {
  const parts = [
    T.randn([n, c0, hw, hw], { seed: 1 }).keep(),
    ...Array.from({ length: layers }, (_, i) => T.randn([n, k, hw, hw], { seed: 2 + i }).keep()),
  ];
  const run = async (copies) => {
    setBlockCopies(copies);
    const y = T.concat(parts, 1);
    const pieces = parts.map((p, i) => T.narrow(y, 1, i === 0 ? 0 : c0 + (i - 1) * k, p.shape[1]));
    await T.sync();
    for (const t of [y, ...pieces]) t.dispose();
  };
  await run('auto');
  await run(false);
  const t = { copies: [], kernel: [] };
  for (let r = 0; r < 7; r++)
    for (const copies of ['auto', false]) {
      const t0 = performance.now();
      await run(copies);
      t[copies ? 'copies' : 'kernel'].push(performance.now() - t0);
    }
  const mib = (2 * n * (c0 + layers * k) * hw * hw * 4) / 2 ** 20;
  console.log(
    `concat + narrow back, ${parts.length} inputs -> [${n}, ${c0 + layers * k}, ${hw}, ${hw}] (${mib.toFixed(0)} MiB moved): copies ${median(t.copies).toFixed(1)} ms, kernel ${median(t.kernel).toFixed(1)} ms`,
  );
  for (const p of parts) p.dispose();
}
setBlockCopies('auto');
await T.releaseDevice();
process.exit(0);
