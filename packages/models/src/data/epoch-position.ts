// Where a loader stands in its epochs (seed, epoch, next batch): what a checkpoint saves and a
// resumed run restores. Shared by the DataLoader and the page's MemoryLoader; no Node APIs.
import type { LoaderState } from './loader.js';

/** Batches in one epoch of `records` films (the last one short unless `dropLast`). */
export function batchesPerEpoch(records: number, batchSize: number, dropLast = false): number {
  const n = records / batchSize;
  return dropLast ? Math.floor(n) : Math.ceil(n);
}

/** A copy of `state` after checking it fits a loader of `batches` batches per epoch. */
export function checkedLoaderState(state: LoaderState, batches: number): LoaderState {
  const ok = [state.seed, state.epoch, state.batch].every((v) => Number.isInteger(v) && v >= 0);
  if (!ok || state.batch > batches) throw new RangeError(`invalid loader state ${JSON.stringify(state)}`);
  return { ...state };
}
