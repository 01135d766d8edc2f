// Matmul variant probe (a tuning aid, not part of `npm run bench`): our tile variants and
// tfjs-webgpu interleaved round-robin in one process, so slow drifts in machine load hit all
// of them alike; prints each variant's median GFLOP/s and median ratio to tfjs per round.
import { create, globals } from 'webgpu';
import * as T from '../dist/node.js';
import * as tuning from '../dist/tuning.js';
// QUIET=0: our waits busy-poll like tfjs's (DeviceOptions.quietWait false).
await T.ready(process.env.QUIET === '0' ? { quietWait: false } : {});
const family = T.deviceInfo().kernels;
// Real GPUs: 20 products per sample, so the submit-and-wait round trip does not dominate.
const inner = family === 'gpu' ? 20 : 1;
const n = Number(process.argv[2] ?? 1024);
const variants = JSON.parse(process.argv[3] ?? '[{"tm":4,"tn":8,"wx":8,"wy":8}]');
const rounds = Number(process.argv[4] ?? 7);
const a = T.rand([n, n], { seed: 1 }),
  b = T.rand([n, n], { seed: 2 });
Object.assign(globalThis, globals);
globalThis.navigator = { gpu: create([]), userAgent: 'node' };
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu');
await tf.ready();
const ta = tf.randomUniform([n, n]),
  tb = tf.randomUniform([n, n]);
const be = tf.backend();
const runs = [
  async () => {
    const cs = [];
    for (let i = 0; i < inner; i++) cs.push(tf.matMul(ta, tb));
    be.ensureCommandEncoderReady();
    be.endComputePassEncoder();
    be.submitQueue();
    await be.device.queue.onSubmittedWorkDone();
    cs.forEach((c) => c.dispose());
  },
];
// A variant may set "packB": false (B read in place instead of packed; cpu family).
for (const v of variants)
  runs.push(async () => {
    tuning.setMatmulTiles(family, null);
    tuning.setMatmulTiles(family, v);
    for (let i = 0; i < inner; i++) T.matmulRaw(a, b, v.ta ?? false, v.tb ?? false).dispose();
    await T.sync();
  });
for (const r of runs) await r();
const times = runs.map(() => []);
for (let k = 0; k < rounds; k++)
  for (let i = 0; i < runs.length; i++) {
    const t0 = performance.now();
    await runs[i]();
    times[i].push(performance.now() - t0);
  }
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const gf = (ms) => ((inner * 2 * n ** 3) / (ms / 1e3) / 1e9).toFixed(2);
console.log('tfjs', gf(med(times[0])));
variants.forEach((v, i) =>
  console.log(
    JSON.stringify(v),
    gf(med(times[i + 1])),
    'GFLOP/s  ratio',
    med(times[0].map((t, k) => t / times[i + 1][k])).toFixed(2),
  ),
);
process.exit(0);
