/**
 * A fixed set of worker threads for per-file work (decoding and preparing films), shared by the
 * data loader and the crop pool. Tasks go to the worker with the fewest in flight; each task
 * gets an id and is answered by the reply carrying it. Idle workers are unref'd so a forgotten
 * pool never keeps the process alive, and re-ref'd while they owe a reply so an awaited task is
 * never dropped by an exiting event loop. A worker that dies fails its own tasks and the pool,
 * rather than hanging its caller. Error replies are replies: the caller reads them.
 */
import { Worker } from 'node:worker_threads';

/** A task message without the id the pool gives it (kept per member of a union). */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface WorkerPoolOptions<Reply> {
  /** What a worker is, for the error when one exits ("a loader worker exited (code 1)"). */
  what: string;
  /** Sees every reply with the index of the worker that sent it (per-worker counters). */
  onReply?: (reply: Reply, worker: number) => void;
}

interface Pending<Reply> {
  resolve: (reply: Reply) => void;
  reject: (e: Error) => void;
}

interface Slot<Reply> {
  worker: Worker;
  pending: Map<number, Pending<Reply>>;
}

export class WorkerPool<Task extends { id: number }, Reply extends { id: number }> {
  private readonly slots: Slot<Reply>[];
  private nextId = 0;
  private broken: Error | undefined;

  /** `size` workers running `script`, each started with `workerData`. */
  constructor(
    script: string,
    size: number,
    workerData: unknown,
    private readonly options: WorkerPoolOptions<Reply>,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => {
      const slot: Slot<Reply> = { worker: new Worker(script, { workerData }), pending: new Map() };
      slot.worker.unref();
      slot.worker.on('message', (reply: Reply) => this.onReply(slot, i, reply));
      slot.worker.on('error', (e) => this.fail(slot, e));
      slot.worker.on('exit', (code) => this.fail(slot, new Error(`${options.what} exited (code ${code})`)));
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Sends one task; resolves with its reply, rejects only when the pool is broken or closed. */
  run(task: WithoutId<Task>): Promise<Reply> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...task, id });
    });
  }

  /** Stops every worker; later tasks are refused. */
  async close(what = 'the pool was closed'): Promise<void> {
    this.broken ??= new Error(what);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private onReply(slot: Slot<Reply>, worker: number, reply: Reply): void {
    this.options.onReply?.(reply, worker);
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    p.resolve(reply);
  }

  private fail(slot: Slot<Reply>, e: Error): void {
    this.broken ??= e;
    for (const p of slot.pending.values()) p.reject(e);
    slot.pending.clear();
  }
}
