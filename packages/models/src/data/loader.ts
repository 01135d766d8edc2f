import { availableParallelism } from 'node:os';
import { WorkerPool } from '@spine/imaging/node';
import { PreprocessCache, type CacheStats } from './cache.js';
import { sortRecords, type DatasetRecord } from './dataset.js';
import { DatasetError } from './errors.js';
import { fileErrorReason } from './file-error.js';
import { batchesPerEpoch, checkedLoaderState } from './epoch-position.js';
import { loadNetworkInput } from './pipeline.js';
import { deriveSeed, permutation } from './random.js';
import { resolveTransform, type ResolvedTransform, type TransformConfig } from './transform.js';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker-protocol.js';
import { workerScript } from './worker-script.js';

export interface DataLoaderOptions {
  batchSize: number;
  transform: TransformConfig;
  /** Reshuffle every epoch (default true; false keeps file order, for evaluation). */
  shuffle?: boolean;
  /** Seed of the per-epoch shuffles and per-image augmentation; default 0. */
  seed?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Worker threads; default min(2, CPUs). 0 loads on the calling thread (same results, no overlap). */
  workers?: number;
  /** Batches loaded ahead of the consumer; default 2. */
  prefetch?: number;
  /** Disk cache of preprocessed images (see PreprocessCache); none by default. */
  cacheDir?: string;
  /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

/** Everything needed to continue exactly where a run stopped; JSON-able, for checkpoints. */
export interface LoaderState {
  seed: number;
  /** The epoch the next batch belongs to (0-based). */
  epoch: number;
  /** Batches of that epoch already handed out. */
  batch: number;
}

/** One batch: planar [B, 3, H, W] images, labels (0 = female, 1 = male) and the files they came from. */
export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly files: readonly string[];
  readonly shape: readonly [number, number, number, number];
  readonly epoch: number;
  /** Index of the batch within its epoch. */
  readonly index: number;
}

/**
 * Batches of network inputs for a list of records, loaded ahead of consumption by a small worker
 * pool. The order of epoch e is a permutation seeded by (seed, e) over the records sorted by file,
 * and image i's augmentation is seeded by (seed, e, i), so a batch depends only on (seed, epoch,
 * index): which worker ran it, how fast, or whether the run was resumed changes nothing. Produces
 * CPU arrays only; uploading them is the trainer's job.
 */
export class DataLoader {
  private readonly records: DatasetRecord[];
  private readonly transform: ResolvedTransform;
  private readonly opts: Required<Omit<DataLoaderOptions, 'cacheDir' | 'transform' | 'maxPixels'>> & {
    cacheDir?: string;
    maxPixels?: number;
  };
  private position: LoaderState;
  private pool: Promise<WorkerPool<WorkerTask, WorkerReply>> | undefined;
  /** Each worker's latest cache counters (every reply carries them). */
  private workerStats: CacheStats[] = [];
  private inlineCache: PreprocessCache | undefined;
  private inlineDecodes = 0;

  constructor(records: readonly DatasetRecord[], options: DataLoaderOptions) {
    if (records.length === 0) throw new RangeError('DataLoader needs at least one record');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.records = sortRecords(records);
    this.transform = resolveTransform(options.transform);
    this.opts = {
      batchSize: options.batchSize,
      shuffle: options.shuffle ?? true,
      seed: options.seed ?? 0,
      dropLast: options.dropLast ?? false,
      workers: options.workers ?? Math.min(2, availableParallelism()),
      prefetch: Math.max(1, options.prefetch ?? 2),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...(options.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {}),
    };
    if (!Number.isInteger(this.opts.workers) || this.opts.workers < 0)
      throw new RangeError(`workers must be a non-negative integer, got ${this.opts.workers}`);
    this.position = { seed: this.opts.seed >>> 0, epoch: 0, batch: 0 };
    if (this.opts.workers === 0 && options.cacheDir !== undefined)
      this.inlineCache = new PreprocessCache(options.cacheDir);
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    return batchesPerEpoch(this.records.length, this.opts.batchSize, this.opts.dropLast);
  }

  state(): LoaderState {
    return { ...this.position };
  }

  /** Continue from a saved state: the next batch is batch `state.batch` of epoch `state.epoch`. */
  restore(state: LoaderState): void {
    this.position = checkedLoaderState(state, this.batchesPerEpoch);
  }

  /** Cache counters (decodes, hits, corrupt entries) over all workers so far. */
  async cacheStats(): Promise<CacheStats> {
    if (this.opts.workers === 0)
      return this.inlineCache ? { ...this.inlineCache.stats } : { hits: 0, decodes: this.inlineDecodes, corrupt: 0 };
    if (this.pool) await this.pool;
    const sum = { hits: 0, decodes: 0, corrupt: 0 };
    for (const s of this.workerStats) {
      sum.hits += s.hits;
      sum.decodes += s.decodes;
      sum.corrupt += s.corrupt;
    }
    return sum;
  }

  /** The record order of an epoch (indices into the sorted records). */
  order(epoch: number): Int32Array {
    const n = this.records.length;
    return this.opts.shuffle
      ? permutation(n, deriveSeed(this.position.seed, epoch, 0))
      : Int32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * Yields the rest of the current epoch, keeping `prefetch` batches in flight, then moves the state
   * to the next epoch. Breaking out early keeps the state at the first batch not handed out.
   */
  async *epoch(): AsyncGenerator<Batch> {
    const { epoch, batch: start } = this.position;
    const order = this.order(epoch);
    const count = this.batchesPerEpoch;
    const ahead: Promise<Batch>[] = [];
    let next = start;
    try {
      for (let k = start; k < count; k++) {
        while (next < count && ahead.length < this.opts.prefetch) {
          const loading = this.loadBatch(order, epoch, next++);
          // A batch may fail before its turn; it is reported when awaited, not as an unhandled rejection now.
          loading.catch(() => undefined);
          ahead.push(loading);
        }
        const b = await ahead.shift()!;
        this.position = { ...this.position, batch: k + 1 };
        yield b;
      }
      this.position = { seed: this.position.seed, epoch: epoch + 1, batch: 0 };
    } finally {
      // Batches loaded ahead and never consumed: settle them quietly (no unhandled rejection).
      for (const p of ahead) p.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool)
      await pool.then(
        (p) => p.close('the data loader was closed'),
        () => undefined,
      );
  }

  private async loadBatch(order: Int32Array, epoch: number, index: number): Promise<Batch> {
    const bs = this.opts.batchSize;
    const members = Array.from(order.subarray(index * bs, Math.min(order.length, (index + 1) * bs)));
    const { width: w, height: h } = this.transform;
    const plane = 3 * w * h;
    const images = new Float32Array(members.length * plane);
    const labels = new Int32Array(members.length);
    const files = members.map((i) => this.records[i]!.file);
    const loadOne = async (i: number, slot: number): Promise<void> => {
      const r = this.records[i]!;
      labels[slot] = r.label;
      const seed = deriveSeed(this.position.seed, epoch, 1, i);
      try {
        if (this.opts.workers === 0) {
          const cache = this.inlineCache;
          await loadNetworkInput(r.path, this.transform, {
            ...(cache ? { cache } : {}),
            seed,
            out: images,
            offset: slot * plane,
            maxPixels: this.opts.maxPixels,
          });
          if (!cache) this.inlineDecodes++;
        } else {
          const reply = await (await this.workers()).run({ path: r.path, seed });
          if ('error' in reply) throw new TaskError(reply.error);
          images.set(reply.data, slot * plane);
        }
      } catch (e) {
        const reason = e instanceof TaskError ? e.reason : fileErrorReason(e);
        const problem = { file: r.file, problem: `could not load image: ${reason}` };
        throw new DatasetError(
          `loading batch ${index} of epoch ${epoch} failed`,
          [r.line === undefined ? problem : { ...problem, line: r.line }],
          { cause: e },
        );
      }
    };
    await Promise.all(members.map((i, slot) => loadOne(i, slot)));
    return { images, labels, files, shape: [members.length, 3, h, w], epoch, index };
  }

  private workers(): Promise<WorkerPool<WorkerTask, WorkerReply>> {
    this.pool ??= workerScript().then((script) => {
      const init: WorkerInit = {
        transform: this.transform,
        ...(this.opts.cacheDir !== undefined ? { cacheDir: this.opts.cacheDir } : {}),
        ...(this.opts.maxPixels !== undefined ? { maxPixels: this.opts.maxPixels } : {}),
      };
      return new WorkerPool<WorkerTask, WorkerReply>(script, this.opts.workers, init, {
        what: 'a loader worker',
        onReply: (reply, worker) => {
          this.workerStats[worker] = reply.stats;
        },
      });
    });
    return this.pool;
  }
}

/** A task whose image failed; `reason` is the worker's sentence about the file. */
class TaskError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
