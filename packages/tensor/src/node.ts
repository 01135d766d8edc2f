// @spine/tensor/node — the Node entry point: registers Dawn (npm `webgpu`) as the GPU provider
// and re-exports the core. Everything Node-specific lives here, so the core stays browser-safe.
import { create } from 'webgpu';
import { setGpuProvider, type DeviceOptions, type GpuHandle } from './device.js';
import { setKernelWarmer } from './kernel-warmer.js';
import { NodeKernelWarmer, warmerUnavailable } from './kernel-warmer-node.js';
import { quietly } from './dawn-quiet-wait.js';

// The core builds without Node's types (so Node APIs cannot creep in); this is all we use.
declare const process: { platform: string; env: Record<string, string | undefined> };

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
  return withDawnFeatures(flags, ['vulkan_enable_f16_on_nvidia']);
}

/** `flags` with `toggles` in its enable-dawn-features list (one is added if absent). */
function withDawnFeatures(flags: readonly string[], toggles: readonly string[]): string[] {
  const at = flags.findIndex((f) => f.startsWith('enable-dawn-features='));
  if (at < 0) return [...flags, `enable-dawn-features=${toggles.join(',')}`];
  const list = flags[at]!.slice('enable-dawn-features='.length).split(',').filter(Boolean);
  const out = [...flags];
  const missing = toggles.filter((t) => !list.includes(t));
  if (missing.length) out[at] = `enable-dawn-features=${[...list, ...missing].join(',')}`;
  return out;
}

setGpuProvider((options: DeviceOptions): GpuHandle => {
  const flags: string[] = [];
  if (options.backend) flags.push(`backend=${options.backend}`);
  if (options.adapterName) flags.push(`adapter=${options.adapterName}`);
  const dawn = withF16Toggle(options.dawnFlags ?? []);
  // Dawn lists subgroup matrices only with allow_unsafe_apis: asked for by the option, or by
  // SPINE_SUBGROUP_MATRICES=1 for a whole run (bench/gpu/run.sh); ready() then checks them.
  const asked =
    options.subgroupMatrices === true ||
    (options.subgroupMatrices === undefined && process.env.SPINE_SUBGROUP_MATRICES === '1');
  flags.push(...(asked ? withDawnFeatures(dawn, ['allow_unsafe_apis']) : dawn));
  let gpu: GPU | null = create(flags);
  return {
    gpu,
    unsafeApis: flags.some((f) => f.startsWith('enable-dawn-features=') && f.includes('allow_unsafe_apis')),
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
