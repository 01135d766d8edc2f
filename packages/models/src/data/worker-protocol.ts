import type { CacheStats } from './cache.js';
import type { ResolvedTransform } from './transform.js';

/** What each loader worker is started with. */
export interface WorkerInit {
  transform: ResolvedTransform;
  cacheDir?: string;
  maxPixels?: number;
}

/** One image to load: `seed` drives its augmentation. */
export interface WorkerTask {
  id: number;
  path: string;
  seed: number;
}

/** The planes of one image (transferred, not copied), or why it failed; with the worker's cache counters. */
export type WorkerReply =
  | { id: number; data: Float32Array; stats: CacheStats }
  | { id: number; error: string; stats: CacheStats };
