// How the texture matmul stages operands whose rows are whole 256-byte multiples: copied with
// copyBufferToTexture (the default) against no copies (the stage kernel, or for a B with fewer
// than 128 rows, B read in place), alternating in one process.
// A tuning aid, not part of `npm run bench`. Build first.
// Usage: node bench/texture-staging-probe.mjs [BxMxKxN ...] (default: 1024³ and two 1x1-conv shapes)
import * as T from '../dist/node.js';
import { setTextureCopies } from '../dist/ops/matmul/matmul-stage.js';

await T.ready();
const shapes =
  process.argv.length > 2 ? process.argv.slice(2) : ['1x1024x1024x1024', '4x128x224x3136', '4x128x128x3136'];
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
for (const s of shapes) {
  const [B, M, K, N] = s.split('x').map(Number);
  const a = T.rand([B, M, K], { seed: 1 }).keep();
  const b = T.rand([B, K, N], { seed: 2 }).keep();
  const run = async (copy) => {
    setTextureCopies(copy);
    T.matmulRaw(a, b).dispose();
    await T.sync();
  };
  await run(true);
  await run(false);
  const t = { copy: [], kernel: [] };
  for (let r = 0; r < 7; r++)
    for (const copy of [true, false]) {
      const t0 = performance.now();
      await run(copy);
      t[copy ? 'copy' : 'kernel'].push(performance.now() - t0);
    }
  console.log(`${s}: copied ${median(t.copy).toFixed(1)} ms, without copies ${median(t.kernel).toFixed(1)} ms`);
  a.dispose();
  b.dispose();
}
setTextureCopies(true);
await T.releaseDevice();
process.exit(0);
