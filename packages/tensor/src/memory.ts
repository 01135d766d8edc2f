import { getEngine } from './device.js';
import type { PoolStats } from './buffer-pool.js';
import type { KernelProfile } from './kernel-profiler.js';

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

/**
 * Device time per kernel while `fn` runs (kernel-profiler.ts): every dispatch is timed with
 * timestamp queries, each in its own compute pass (kernel-profiler.ts says what that costs).
 * Work recorded before `fn` is submitted first and not counted.
 * `perDispatch`: also list every dispatch (time, workgroups, first uniform words).
 */
export async function profileKernels<T>(
  fn: () => T | Promise<T>,
  options: { perDispatch?: boolean } = {},
): Promise<{ result: T } & KernelProfile> {
  const engine = getEngine();
  engine.startKernelProfile(options.perDispatch ?? false);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await engine.stopKernelProfile();
    throw err;
  }
  return { result, ...(await engine.stopKernelProfile()) };
}
