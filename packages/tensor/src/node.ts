// @spine/tensor/node — the Node entry point: registers Dawn (npm `webgpu`) as the GPU provider
// and re-exports the core. Everything Node-specific lives here, so the core stays browser-safe.
import { create } from 'webgpu';
import { setGpuProvider, type DeviceOptions, type GpuHandle } from './device.js';
import { setKernelWarmer } from './kernel-warmer.js';
import { NodeKernelWarmer, warmerUnavailable } from './kernel-warmer-node.js';
import { quietly } from './dawn-quiet-wait.js';

// The core builds without Node's types (so Node APIs cannot creep in); this is all we use.
declare const process: { platform: string };

function defaultBackend(): string {
  switch (process.platform) {
    case 'darwin':
      return 'metal';
    case 'win32':
      return 'd3d12';
    default:
      return 'vulkan';
  }
}

/**
 * Dawn hides 'shader-f16' on NVIDIA's Vulkan driver unless the toggle vulkan_enable_f16_on_nvidia
 * is on (other adapters ignore it). It joins the caller's enable-dawn-features list, if any:
 * Dawn reads one such flag.
 */
export function withF16Toggle(flags: readonly string[]): string[] {
  const toggle = 'vulkan_enable_f16_on_nvidia';
  const at = flags.findIndex((f) => f.startsWith('enable-dawn-features='));
  if (at < 0) return [...flags, `enable-dawn-features=${toggle}`];
  const list = flags[at]!.slice('enable-dawn-features='.length).split(',').filter(Boolean);
  const out = [...flags];
  if (!list.includes(toggle)) out[at] = `enable-dawn-features=${[...list, toggle].join(',')}`;
  return out;
}

setGpuProvider((options: DeviceOptions): GpuHandle => {
  const flags: string[] = [];
  if (options.backend) flags.push(`backend=${options.backend}`);
  if (options.adapterName) flags.push(`adapter=${options.adapterName}`);
  flags.push(...withF16Toggle(options.dawnFlags ?? []));
  let gpu: GPU | null = create(flags);
  return {
    gpu,
    backend: options.backend ?? defaultBackend(),
    // Dawn keeps the process alive while its instance is referenced: drop it on release.
    release: () => {
      gpu = null;
    },
    quietly,
  };
});

// Wide matmul blocks compile in another process where Mesa's disk cache lets that pay
// (ops/matmul/matmul-tiers.ts); SPINE_TENSOR_WARMER=0 turns it off.
if (warmerUnavailable() === null) setKernelWarmer(new NodeKernelWarmer());

export { NodeKernelWarmer, warmerUnavailable, quietly };
export * from './index.js';
