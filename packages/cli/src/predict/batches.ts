/**
 * predict's loop over films: @spine/models' DataLoader decodes and preprocesses batches on worker
 * threads, `prefetch` batches ahead, while the network runs on the current one. A film that fails
 * to load fails its whole batch in the loader; that batch is then loaded again here film by film
 * (unreadable films are rare), so each film gets either a prediction or its own reason.
 */
import {
  DataLoader,
  FEMALE,
  fileErrorReason,
  isDatasetError,
  loadNetworkInput,
  probabilitiesStep,
  sortRecords,
  type RunModel,
} from '@spine/models';
import { tensor } from '@spine/tensor/node';

export interface BatchResult {
  /** The films of the batch, in the order they were loaded. */
  files: string[];
  /** P(male) per film, undefined where the film could not be loaded. */
  probMale: (number | undefined)[];
  /** Why a film could not be loaded, by index. */
  errors: Map<number, string>;
}

export interface PredictBatchesOptions {
  batchSize: number;
  transform: { width: number; height: number; resize: 'stretch' | 'shorter-side-crop' };
  workers: number;
  maxPixels?: number;
}

/** Runs `model` over `files` in batches, calling `onBatch` for each (in file order, awaited). */
export async function predictBatches(
  model: RunModel,
  files: readonly string[],
  options: PredictBatchesOptions,
  onBatch: (result: BatchResult) => Promise<void>,
): Promise<void> {
  if (files.length === 0) return;
  const { width: w, height: h } = options.transform;
  const plane = 3 * w * h;
  // The loader orders records by `file`; keeping that the path lets a failed batch be found again.
  const records = sortRecords(files.map((path) => ({ path, file: path, label: FEMALE })));
  const loader = new DataLoader(records, {
    batchSize: options.batchSize,
    transform: options.transform,
    shuffle: false,
    workers: options.workers,
    ...(options.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {}),
  });
  // Full batches replay their forward once two of them have recorded the same dispatches.
  const step = probabilitiesStep(model);
  const forward = async (images: Float32Array, count: number): Promise<Float32Array> => {
    const x = tensor(images.subarray(0, count * plane), [count, 3, h, w]);
    const p = step.run(x);
    x.dispose();
    const probs = await p.data();
    p.dispose();
    return probs as Float32Array;
  };
  try {
    while (loader.state().epoch === 0) {
      try {
        for await (const b of loader.epoch()) {
          const probs = await forward(b.images, b.files.length);
          await onBatch({ files: [...b.files], probMale: b.files.map((_, k) => probs[2 * k + 1]!), errors: new Map() });
        }
      } catch (e) {
        if (!isDatasetError(e)) throw e;
        const { batch } = loader.state();
        const chunk = records.slice(batch * options.batchSize, (batch + 1) * options.batchSize).map((r) => r.path);
        await onBatch(await filmByFilm(chunk, options, forward));
        loader.restore({ ...loader.state(), batch: batch + 1 });
      }
    }
  } finally {
    step.dispose();
    await loader.close();
  }
}

async function filmByFilm(
  chunk: string[],
  options: PredictBatchesOptions,
  forward: (images: Float32Array, count: number) => Promise<Float32Array>,
): Promise<BatchResult> {
  const plane = 3 * options.transform.width * options.transform.height;
  const images = new Float32Array(chunk.length * plane);
  const errors = new Map<number, string>();
  const ok: number[] = [];
  for (let i = 0; i < chunk.length; i++) {
    try {
      await loadNetworkInput(chunk[i]!, options.transform, {
        out: images,
        offset: ok.length * plane,
        maxPixels: options.maxPixels,
      });
      ok.push(i);
    } catch (e) {
      errors.set(i, fileErrorReason(e));
    }
  }
  const probMale: (number | undefined)[] = chunk.map(() => undefined);
  if (ok.length > 0) {
    const probs = await forward(images, ok.length);
    ok.forEach((i, k) => (probMale[i] = probs[2 * k + 1]!));
  }
  return { files: chunk, probMale, errors };
}
