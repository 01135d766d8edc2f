// Kernel warming: compiling a kernel somewhere else so that this process never waits for it.
//
// On lavapipe, LLVM compiles a shader at its first dispatch, on the thread that runs the queue,
// and Mesa keeps the result in an on-disk cache. Kernels that run fast there can take minutes to
// compile (wide matmul register blocks: docs/PERFORMANCE.md). A warmer compiles such a kernel in
// another process; once that is done, the same WGSL on this process's device is a cache hit
// (under a second) instead of a stall. The core only defines the hook; `@spine/tensor/node`
// installs a warmer where it can (Node >= 20.16, Mesa's shader cache not disabled).
import type { DeviceOptions } from './device.js';
import type { MatmulOptions } from './ops/matmul/matmul-kernel.js';

/** What to compile: the matmul kernel with these options (the only warmed kernel so far). */
export interface WarmJob {
  kernel: 'matmul';
  options: MatmulOptions;
}

export interface KernelWarmer {
  /**
   * Compile `job` on a device made with `device` (the options this process's device was made
   * with, so the shader matches); resolves once it is in the driver's persistent cache. The same
   * job asked for again shares the first request. `hold`: keep this process alive until then (an
   * explicit wait); otherwise the process may exit meanwhile and the compile finishes without it.
   */
  warm(job: WarmJob, device: DeviceOptions, hold: boolean): Promise<void>;
}

let warmer: KernelWarmer | null = null;

/** Install (or remove, with null) the warmer; the Node entry point installs one. */
export function setKernelWarmer(w: KernelWarmer | null): void {
  warmer = w;
}

export function getKernelWarmer(): KernelWarmer | null {
  return warmer;
}
