/** Messages between CropPool and its workers. */
import type { CropJob, CropJobOptions, CropRecord } from './node.js';
import type { DescriptorSettings } from './roi-index.js';

export interface PoolInit {
  /** The index in its JSON form (null for a pool that only describes films). */
  index: object | null;
  options: CropJobOptions;
}

export type PoolTask =
  | { id: number; kind: 'crop'; job: CropJob }
  | { id: number; kind: 'describe'; file: string; settings: DescriptorSettings };

export type PoolReply =
  | { id: number; record: CropRecord }
  | { id: number; described: { width: number; height: number; descriptor: Float64Array } }
  /** A failed task; `file` and `reason` apart for a bad film (CbirError, ImagingError), so the path is said once. */
  | { id: number; error: string; file?: string; reason?: string };
