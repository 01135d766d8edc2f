/**
 * Films are independent, so cropping (decode, PHOG, match, cut, encode, write) spreads over worker
 * threads, one per core by default: on the 2-core development machine that is most of the way to
 * the 10 films/s the paper's 9,667 cervical films call for. With `workers: 0` everything runs
 * inline (same results; handy for debugging).
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, workerScript, type WithoutId } from '@spine/imaging/node';
import type { PoolInit, PoolReply, PoolTask } from './crop-protocol.js';
import { CbirError } from './errors.js';
import { cropFilm, describeInline, type CropJob, type CropJobOptions, type CropRecord } from './node.js';
import type { DescriptorSettings, RoiIndex } from './roi-index.js';

export class CropPool {
  private pool: WorkerPool<PoolTask, PoolReply> | null = null;

  private constructor(
    private readonly index: RoiIndex | null,
    private readonly options: CropJobOptions,
  ) {}

  /** A pool of `workers` threads (default: one per core, at most 8; 0 = inline). */
  static async create(
    index: RoiIndex | null,
    options: CropJobOptions = {},
    workers = Math.min(8, availableParallelism()),
  ): Promise<CropPool> {
    const pool = new CropPool(index, options);
    if (workers > 0) {
      const init: PoolInit = { index: index === null ? null : index.toJSON(), options };
      pool.pool = new WorkerPool<PoolTask, PoolReply>(
        await workerScript(import.meta.url, 'crop-worker'),
        workers,
        init,
        { what: 'a crop worker' },
      );
    }
    return pool;
  }

  get workers(): number {
    return this.pool?.size ?? 0;
  }

  /** Crops one film; rejects with the film's problem (the pool goes on with other films). */
  async crop(job: CropJob): Promise<CropRecord> {
    if (this.pool === null) {
      if (this.index === null) throw new Error('this pool was started without an index');
      return cropFilm(job, this.index, this.options);
    }
    const reply = await this.send(this.pool, { kind: 'crop', job });
    return (reply as { record: CropRecord }).record;
  }

  /** Reads and describes one film (for building an index in parallel). */
  async describe(
    file: string,
    settings: DescriptorSettings,
  ): Promise<{ width: number; height: number; descriptor: Float64Array }> {
    if (this.pool === null) return describeInline(file, settings, this.options.maxPixels);
    const reply = await this.send(this.pool, { kind: 'describe', file, settings });
    return (reply as { described: { width: number; height: number; descriptor: Float64Array } }).described;
  }

  async close(): Promise<void> {
    await this.pool?.close('the crop pool was closed');
  }

  /** One task on the workers; a failed film comes back as its CbirError (file and reason apart). */
  private async send(pool: WorkerPool<PoolTask, PoolReply>, task: WithoutId<PoolTask>): Promise<PoolReply> {
    const reply = await pool.run(task);
    if ('error' in reply)
      throw reply.file !== undefined && reply.reason !== undefined
        ? new CbirError(reply.file, reply.reason)
        : new Error(reply.error);
    return reply;
  }
}
