// Checks whose outcome only the GPU knows (e.g. a class index computed on the device and found
// out of range by a kernel) cannot throw where the op is called without waiting for the device.
// The op records a small i32 flag tensor instead, and the next read of any tensor reads the
// pending flags too and throws the first problem they report. One flag is kept per key: an op
// that runs again folds the previous flag into its new one (its kernel reads it), so a loop
// that never reads holds one small buffer, not one per step.
import { getEngine } from './device.js';
import { TensorError } from './errors.js';
import type { Tensor } from './tensor.js';

/** Says what is wrong from a flag's values, or null when they report no problem. */
export type ExplainFlag = (flag: Int32Array) => string | null;

const pending = new Map<string, { flag: Tensor; explain: ExplainFlag }>();

/**
 * Check `flag` (a kept i32 tensor; ownership passes here) at the next read. An earlier flag
 * under the same `key` is released: the kernel that wrote `flag` must have folded it in
 * (`pendingDeviceCheck(key)` gives it to that kernel as an input).
 */
export function checkAtNextRead(key: string, flag: Tensor, explain: ExplainFlag): void {
  if (flag.dtype !== 'i32')
    throw new TensorError(`checkAtNextRead('${key}'): the flag must be an i32 tensor, got ${flag.dtype}`);
  pending.get(key)?.flag.dispose();
  pending.set(key, { flag: flag.keep(), explain });
}

/** The flag waiting under `key`, for the next kernel of that check to fold in; null if none. */
export function pendingDeviceCheck(key: string): Tensor | null {
  return pending.get(key)?.flag ?? null;
}

/** Read every pending flag (one readback each) and throw the first problem found. */
export async function runDeviceChecks(): Promise<void> {
  if (pending.size === 0) return;
  const entries = [...pending.values()];
  pending.clear();
  const engine = getEngine();
  const problems: string[] = [];
  for (const { flag, explain } of entries) {
    try {
      // A flag of a released device has nothing to say about this one.
      if (flag.isDisposed || flag.storage.engine !== engine) continue;
      const values = new Int32Array(await engine.read(flag.buffer, flag.size * 4));
      const problem = explain(values);
      if (problem) problems.push(problem);
    } finally {
      flag.dispose();
    }
  }
  if (problems.length) throw new TensorError(problems.join('\n'));
}
