// Batches from films already decoded and resized (a web page holds them in memory: it has no
// worker threads over files). The order, the per-image augmentation seeds and the batch layout
// are the DataLoader's (data/loader.ts): epoch e is permutation(n, deriveSeed(seed, e, 0)) over
// the records sorted by file, image i is augmented with deriveSeed(seed, e, 1, i), so a batch
// depends only on (seed, epoch, index) and equals the DataLoader's on the same films
// (test/train/memory-loader.test.ts).
import type { Image } from '@spine/imaging';
import { augmentImage } from '../data/augment.js';
import { sortRecords, type DatasetRecord } from '../data/dataset.js';
import type { Batch, LoaderState } from '../data/loader.js';
import { batchesPerEpoch, checkedLoaderState } from '../data/epoch-position.js';
import { deriveSeed, permutation } from '../data/random.js';
import { resolveTransform, toNetworkInput, type ResolvedTransform, type TransformConfig } from '../data/transform.js';
import type { BatchSource } from './trainer.js';

export interface MemoryLoaderOptions {
  batchSize: number;
  transform: TransformConfig;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Called between batches; a promise it returns holds the next batch back (a page's Pause). */
  beforeBatch?: () => Promise<void> | void;
}

/**
 * `films(record)` gives the record's film after `preprocess` with this transform (grey, at the
 * input size), as the DataLoader's cache holds it.
 */
export class MemoryLoader implements BatchSource {
  private readonly records: DatasetRecord[];
  private readonly transform: ResolvedTransform;
  private position: LoaderState;

  constructor(
    records: readonly DatasetRecord[],
    private readonly films: (record: DatasetRecord) => Image,
    private readonly options: MemoryLoaderOptions,
  ) {
    if (records.length === 0) throw new RangeError('MemoryLoader needs at least one record');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    this.records = sortRecords(records);
    this.transform = resolveTransform(options.transform);
    this.position = { seed: (options.seed ?? 0) >>> 0, epoch: 0, batch: 0 };
  }

  get batchesPerEpoch(): number {
    return batchesPerEpoch(this.records.length, this.options.batchSize, this.options.dropLast);
  }

  state(): LoaderState {
    return { ...this.position };
  }

  restore(state: LoaderState): void {
    this.position = checkedLoaderState(state, this.batchesPerEpoch);
  }

  async *epoch(): AsyncGenerator<Batch> {
    const { epoch, batch: start } = this.position;
    const n = this.records.length;
    const order =
      (this.options.shuffle ?? true)
        ? permutation(n, deriveSeed(this.position.seed, epoch, 0))
        : Int32Array.from({ length: n }, (_, i) => i);
    for (let k = start; k < this.batchesPerEpoch; k++) {
      await this.options.beforeBatch?.();
      const b = this.batch(order, epoch, k);
      this.position = { ...this.position, batch: k + 1 };
      yield b;
    }
    this.position = { seed: this.position.seed, epoch: epoch + 1, batch: 0 };
  }

  private batch(order: Int32Array, epoch: number, index: number): Batch {
    const bs = this.options.batchSize;
    const members = Array.from(order.subarray(index * bs, Math.min(order.length, (index + 1) * bs)));
    const { width: w, height: h, augment } = this.transform;
    const plane = 3 * w * h;
    const images = new Float32Array(members.length * plane);
    const labels = new Int32Array(members.length);
    members.forEach((i, slot) => {
      const r = this.records[i]!;
      labels[slot] = r.label;
      let grey = this.films(r);
      if (augment) grey = augmentImage(grey, augment, deriveSeed(this.position.seed, epoch, 1, i));
      toNetworkInput(grey, this.transform, images, slot * plane);
    });
    return {
      images,
      labels,
      files: members.map((i) => this.records[i]!.file),
      shape: [members.length, 3, h, w],
      epoch,
      index,
    };
  }
}
