// The kernel warmer's child process (see kernel-warmer-node.ts): reads one job per line on stdin,
// compiles it by running the kernel once on a tiny problem on its own device (lavapipe compiles
// at the first dispatch, and Mesa caches the result on disk), answers `{"id"}` or `{"id","error"}`
// per line, and exits when stdin closes and the queue is done.
import * as T from './node.js';
import { setMatmulTiles } from './tuning.js';
import type { DeviceOptions } from './device.js';
import type { WarmJob } from './kernel-warmer.js';

interface Stdio {
  on(event: string, cb: (arg: never) => void): void;
  write(s: string): boolean;
  setEncoding(enc: string): void;
}
declare const process: { stdin: Stdio; stdout: Stdio };

async function run(job: WarmJob, device: DeviceOptions): Promise<void> {
  await T.ready(device);
  const o = job.options;
  setMatmulTiles(o.family, { tm: o.tm, tn: o.tn, wx: o.wx, wy: o.wy });
  try {
    // 64 rows (at least PACK_MIN_ROWS) by 8 by 8 keeps every vec4 and packing condition true,
    // so the kernel is the one the job names.
    const a = o.transA ? T.zeros([8, 64]) : T.zeros([64, 8]);
    await T.matmulRaw(a, T.zeros([8, 8]), o.transA, o.transB).data();
  } finally {
    setMatmulTiles(o.family, null);
  }
}

let queue = Promise.resolve();
let buffered = '';
process.stdout.on('error', () => undefined); // the parent may be gone; keep compiling for the cache
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: never) => {
  buffered += chunk as string;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const { id, job, device } = JSON.parse(buffered.slice(0, nl)) as {
      id: number;
      job: WarmJob;
      device: DeviceOptions;
    };
    buffered = buffered.slice(nl + 1);
    queue = queue.then(async () => {
      try {
        await run(job, device);
        process.stdout.write(`${JSON.stringify({ id })}\n`);
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ id, error: err instanceof Error ? err.message : String(err) })}\n`);
      }
    });
  }
});
process.stdin.on('end', () => {
  void queue.then(() => T.releaseDevice());
});
