import { getEngine } from './device.js';
import type { PoolStats } from './buffer-pool.js';

/** Live, pooled, pending and peak bytes of tensor storage on the device. */
export function memory(): PoolStats {
  return getEngine().memory();
}

/** Start a new peak measurement (e.g. before a training step). */
export function resetPeakMemory(): void {
  getEngine().storagePool.resetPeak();
}

/** Submit recorded work without reading anything back. */
export function flush(): void {
  getEngine().flush();
}

/** Wait until the device has finished all submitted work (for timing). */
export function sync(): Promise<void> {
  return getEngine().sync();
}
