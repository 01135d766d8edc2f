/**
 * Films are independent, so cropping (decode, PHOG, match, cut, encode, write) spreads over worker
 * threads, one per core by default: on the 2-core development machine that is most of the way to
 * the 10 films/s the paper's 9,667 cervical films call for. With `workers: 0` everything runs
 * inline (same results; handy for debugging).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '@spine/imaging/node';
import type { PoolInit, PoolReply, PoolTask } from './crop-protocol.js';
import { CbirError } from './errors.js';
import { cropFilm, describeInline, type CropJob, type CropJobOptions, type CropRecord } from './node.js';
import type { DescriptorSettings, RoiIndex } from './roi-index.js';

type Pending = { resolve: (reply: PoolReply) => void; reject: (e: Error) => void };
interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class CropPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private broken: Error | undefined;

  private constructor(
    private readonly index: RoiIndex | null,
    private readonly options: CropJobOptions,
  ) {}

  /** A pool of `workers` threads (default: one per core, at most 8; 0 = inline). */
  static async create(index: RoiIndex | null, options: CropJobOptions = {}, workers = Math.min(8, availableParallelism())): Promise<CropPool> {
    const pool = new CropPool(index, options);
    if (workers > 0) {
      const script = await workerScript();
      const init: PoolInit = { index: index === null ? null : index.toJSON(), options };
      for (let i = 0; i < workers; i++) {
        const slot: Slot = { worker: new Worker(script, { workerData: init }), pending: new Map() };
        slot.worker.unref();
        slot.worker.on('message', (reply: PoolReply) => pool.onReply(slot, reply));
        slot.worker.on('error', (e) => pool.fail(slot, e));
        slot.worker.on('exit', (code) => pool.fail(slot, new Error(`a crop worker exited (code ${code})`)));
        pool.slots.push(slot);
      }
    }
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Crops one film; rejects with the film's problem (the pool goes on with other films). */
  async crop(job: CropJob): Promise<CropRecord> {
    if (this.slots.length === 0) {
      if (this.index === null) throw new Error('this pool was started without an index');
      return cropFilm(job, this.index, this.options);
    }
    const reply = await this.send({ id: 0, kind: 'crop', job });
    return (reply as { record: CropRecord }).record;
  }

  /** Reads and describes one film (for building an index in parallel). */
  async describe(file: string, settings: DescriptorSettings): Promise<{ width: number; height: number; descriptor: Float64Array }> {
    if (this.slots.length === 0) return describeInline(file, settings, this.options.maxPixels);
    const reply = await this.send({ id: 0, kind: 'describe', file, settings });
    return (reply as { described: { width: number; height: number; descriptor: Float64Array } }).described;
  }

  async close(): Promise<void> {
    this.broken ??= new Error('the crop pool was closed');
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private send(task: PoolTask): Promise<PoolReply> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...task, id });
    });
  }

  private onReply(slot: Slot, reply: PoolReply): void {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if ('error' in reply) p.reject(reply.file !== undefined && reply.reason !== undefined ? new CbirError(reply.file, reply.reason) : new Error(reply.error));
    else p.resolve(reply);
  }

  private fail(slot: Slot, e: Error): void {
    this.broken ??= e;
    for (const p of slot.pending.values()) p.reject(e);
    slot.pending.clear();
  }
}

let bundled: Promise<string> | undefined;

/**
 * The worker's JavaScript: the sibling crop-worker.js when this module runs compiled; from
 * TypeScript sources (vitest) crop-worker.ts is bundled with esbuild (a root devDependency) into
 * node_modules/.cache under a content hash, so tests of src never run a stale build.
 */
function workerScript(): Promise<string> {
  if (fileURLToPath(import.meta.url).endsWith('.js')) return Promise.resolve(fileURLToPath(new URL('./crop-worker.js', import.meta.url)));
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./crop-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
    const out = join(fileURLToPath(new URL('../', import.meta.url)), 'node_modules', '.cache', 'spine-cbir', `crop-worker-${hash}.mjs`);
    if (!existsSync(out)) await writeFileAtomic(out, code);
    return out;
  })();
  return bundled;
}
