// Quick matmul variant probe (not part of the suite): ours vs tfjs-webgpu in one process.
import { create, globals } from 'webgpu';
import * as T from '../dist/node.js';
const flags = (process.env.DAWN_FLAGS ?? '').split(' ').filter(Boolean);
await T.ready({ dawnFlags: flags });
const n = Number(process.argv[2] ?? 1024);
const a = T.rand([n, n], { seed: 1 }), b = T.rand([n, n], { seed: 2 });
const variants = JSON.parse(process.argv[3] ?? '[{"tm":4,"tn":8,"wx":8,"wy":8}]');
// CPU seconds (all threads of this process, llvmpipe's workers included) per run: robust to
// other processes competing for the cores, unlike wall time.
async function median(run) { await run(); const times = []; for (let i = 0; i < 5; i++) { const c0 = process.cpuUsage(); await run(); const c = process.cpuUsage(c0); times.push((c.user + c.system) / 1e3); } times.sort((x, y) => x - y); return times[2]; }
if (process.env.TFJS) {
  Object.assign(globalThis, globals);
  globalThis.navigator = { gpu: create([]), userAgent: 'node' };
  const tf = await import('@tensorflow/tfjs-core'); await import('@tensorflow/tfjs-backend-webgpu');
  await tf.setBackend('webgpu'); await tf.ready();
  const ta = tf.randomUniform([n, n]), tb = tf.randomUniform([n, n]);
  const t = await median(async () => { const c = tf.matMul(ta, tb); await c.data(); c.dispose(); });
  console.log('tfjs', (2 * n ** 3 / (t / 1e3) / 1e9).toFixed(2));
}
for (const v of variants) {
  T.setMatmulTiles('cpu', v);
  const t = await median(async () => { const c = T.matmulRaw(a, b, v.ta ?? false, v.tb ?? false); await c.data(); c.dispose(); });
  console.log(JSON.stringify(v), (2 * n ** 3 / (t / 1e3) / 1e9).toFixed(2), 'GFLOP per CPU-s');
}
process.exit(0);
