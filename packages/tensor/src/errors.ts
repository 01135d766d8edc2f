/** Base class of every error @spine/tensor throws on purpose; the message says what to do. */
export class TensorError extends Error {
  override name = 'TensorError';
}

/** Shapes that do not fit an op: the message names the op and both shapes. */
export class ShapeError extends TensorError {
  override name = 'ShapeError';
}

/** No WebGPU adapter could be found; the message says what to install. */
export class NoAdapterError extends TensorError {
  override name = 'NoAdapterError';
}

/** A WGSL kernel failed to compile: the message shows the kernel, the line and the source around it. */
export class WgslCompileError extends TensorError {
  override name = 'WgslCompileError';
  constructor(
    readonly kernel: string,
    readonly details: string,
  ) {
    super(`WGSL compile error in kernel '${kernel}':\n${details}`);
  }
}

export const NO_ADAPTER_HELP = [
  'No WebGPU adapter was found. @spine/tensor needs one of:',
  '  - a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver;',
  "  - Mesa's lavapipe software Vulkan, version 24 or newer. On Debian bookworm, as root:",
  "      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list",
  '      apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1',
  '    On Ubuntu 24.04 or newer: apt-get install mesa-vulkan-drivers libvulkan1;',
  '  - in a browser: a WebGPU-enabled browser (Chrome/Edge 113+, or --enable-unsafe-webgpu).',
].join('\n');

/** One line for a status message: an error's first line; for a WGSL compile error, its first problem. */
export function errorSummary(err: unknown): string {
  if (err instanceof WgslCompileError)
    return `WGSL compile error in kernel '${err.kernel}', ${err.details.split('\n')[0]}`;
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
