// The texture-operand matmul writing C as vec4s against one float at a time (matmul-texture.ts,
// vec4Out), alternating in one process, at the given product shapes (a tuning aid, not part of
// `npm run bench`). Usage (build first):
//   node bench/texture-store-probe.mjs [BxMxNxK ...] [--rounds R]
// e.g. DenseNet's Winograd GEMMs at block 2: node bench/texture-store-probe.mjs 36x128x224x32 36x32x224x128
import * as T from '../dist/node.js';
import { setTextureVec4Stores } from '../dist/ops/matmul/matmul-texture.js';

await T.ready();
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 7;
const shapes = args.filter((a, i) => /^\d+x\d+x\d+x\d+$/.test(a) && args[i - 1] !== '--rounds');
for (const shape of shapes.length ? shapes : ['36x128x896x32', '36x32x896x128', '4x128x3136x128', '1x1024x1024x1024']) {
  const [B, M, N, K] = shape.split('x').map(Number);
  const a = T.rand([B, M, K], { seed: 1 }).keep();
  const b = T.rand([B, K, N], { seed: 2 }).keep();
  const run = async (vec4) => {
    setTextureVec4Stores(vec4);
    T.matmulRaw(a, b).dispose();
    await T.sync();
  };
  const times = { vec4: [], scalar: [] };
  await run(true);
  await run(false);
  for (let r = 0; r < rounds; r++)
    for (const v of [true, false]) {
      const t0 = performance.now();
      await run(v);
      times[v ? 'vec4' : 'scalar'].push(performance.now() - t0);
    }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const gf = (ms) => ((2 * B * M * N * K) / ms / 1e6).toFixed(1);
  const [v, s] = [median(times.vec4), median(times.scalar)];
  console.log(
    `${shape.padEnd(18)} vec4 stores ${v.toFixed(1)} ms (${gf(v)} GFLOP/s), scalar ${s.toFixed(1)} ms (${gf(s)} GFLOP/s): ${(s / v).toFixed(2)}x`,
  );
  a.dispose();
  b.dispose();
}
setTextureVec4Stores(true);
await T.releaseDevice();
process.exit(0);
