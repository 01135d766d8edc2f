import { Worker } from 'node:worker_threads';
import type { CacheStats } from './cache.js';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker-protocol.js';

interface Pending {
  resolve: (data: Float32Array) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  stats: CacheStats;
}

/** Thrown for a task whose image failed; `reason` is the worker's sentence about the file. */
export class TaskError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * A fixed set of loader workers. Tasks go to the worker with the fewest in flight. Idle workers
 * are unref'd so a forgotten loader never keeps the process alive, and re-ref'd while they owe a
 * reply so an awaited batch is never dropped by an exiting event loop. A worker that dies fails
 * its own tasks and the pool, rather than hanging the training loop.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  private nextId = 0;
  private broken: Error | undefined;

  constructor(script: string, size: number, init: WorkerInit) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: new Worker(script, { workerData: init }), pending: new Map(), stats: { hits: 0, decodes: 0, corrupt: 0 } };
      slot.worker.unref();
      slot.worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
      slot.worker.on('error', (e) => this.fail(slot, e));
      slot.worker.on('exit', (code) => this.fail(slot, new Error(`a loader worker exited (code ${code})`)));
      return slot;
    });
  }

  run(path: string, seed: number): Promise<Float32Array> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      const task: WorkerTask = { id, path, seed };
      slot.worker.postMessage(task);
    });
  }

  /** Cache counters summed over workers (each reply carries its worker's latest). */
  get stats(): CacheStats {
    const sum = { hits: 0, decodes: 0, corrupt: 0 };
    for (const s of this.slots) {
      sum.hits += s.stats.hits;
      sum.decodes += s.stats.decodes;
      sum.corrupt += s.stats.corrupt;
    }
    return sum;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('the data loader was closed');
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    slot.stats = reply.stats;
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if ('error' in reply) p.reject(new TaskError(reply.error));
    else p.resolve(reply.data);
  }

  private fail(slot: Slot, e: Error): void {
    this.broken ??= e;
    for (const p of slot.pending.values()) p.reject(e);
    slot.pending.clear();
  }
}
