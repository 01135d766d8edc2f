// The worker pool behind the data loader and the crop pool: every reply reaches the task with its
// id, counters see each reply with its worker, and a worker that dies fails its tasks and the pool.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/node.js';

type Task = { id: number; n: number };
type Reply = { id: number; square: number; worker: number } | { id: number; error: string };

const dir = mkdtempSync(join(tmpdir(), 'worker-pool-'));
// Squares n after a delay that makes replies arrive out of order; n < 0 is a failed task, n = 99 kills the worker.
const script = join(dir, 'square.mjs');
writeFileSync(
  script,
  `import { parentPort, workerData } from 'node:worker_threads';
parentPort.on('message', (t) => {
  if (t.n === 99) process.exit(3);
  setTimeout(() => parentPort.postMessage(t.n < 0 ? { id: t.id, error: 'negative ' + t.n } : { id: t.id, square: t.n * t.n, worker: workerData.tag }), (t.n % 3) * 5);
});`,
);

describe('WorkerPool', () => {
  it('answers each task with its own reply, error replies included, and reports each reply with its worker', async () => {
    const seen: number[] = [];
    const pool = new WorkerPool<Task, Reply>(
      script,
      3,
      { tag: 7 },
      { what: 'a test worker', onReply: (_, w) => seen.push(w) },
    );
    const replies = await Promise.all([1, 2, 3, 4, 5, 6, -2].map((n) => pool.run({ n })));
    expect(replies.map((r) => ('error' in r ? r.error : r.square))).toEqual([1, 4, 9, 16, 25, 36, 'negative -2']);
    expect(new Set(seen)).toEqual(new Set([0, 1, 2]));
    await pool.close();
    await expect(pool.run({ n: 1 })).rejects.toThrow('the pool was closed');
  });

  it('a worker that exits fails its task and every later one, naming the worker', async () => {
    const pool = new WorkerPool<Task, Reply>(script, 1, { tag: 0 }, { what: 'a test worker' });
    await expect(pool.run({ n: 99 })).rejects.toThrow('a test worker exited (code 3)');
    await expect(pool.run({ n: 2 })).rejects.toThrow('a test worker exited (code 3)');
    await pool.close();
  });
});
