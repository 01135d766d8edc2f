// One WebGPU device per process, acquired lazily by `ready()`. The core never imports Node:
// in a browser the adapter comes from navigator.gpu; `@spine/tensor/node` registers Dawn.
import { Engine } from './engine.js';
import { NO_ADAPTER_HELP, NoAdapterError, TensorError } from './errors.js';
import type { SubgroupMatrixConfig } from './adapter-facts.js';

export interface DeviceOptions {
  powerPreference?: 'high-performance' | 'low-power';
  forceFallbackAdapter?: boolean;
  /** Dawn (Node) only: backend to use, e.g. 'vulkan', 'metal', 'd3d12'. */
  backend?: string;
  /** Dawn (Node) only: pick the adapter whose name matches. */
  adapterName?: string;
  /** Dawn (Node) only: extra instance flags, e.g. 'enable-dawn-features=...'. */
  dawnFlags?: string[];
  /**
   * Kernel family. 'gpu': workgroup-tiled kernels for real GPUs; 'cpu': register-blocked kernels
   * without workgroup memory for software rasterisers (lavapipe, SwiftShader). 'auto' decides
   * from the adapter info.
   */
  kernels?: 'auto' | 'gpu' | 'cpu';
  /** Dispatches recorded before the command buffer is submitted without a read (default 256). */
  maxDispatchesPerSubmit?: number;
  /**
   * Bytes the buffer pool may keep for reuse (default 1 GiB, or a quarter of maxBufferSize; on
   * software adapters the default grows to 2.5 times the highest live bytes, see BufferPool). The
   * buffers pooled longest ago go first when it is exceeded.
   */
  poolCapBytes?: number;
  /**
   * Bytes of released buffers that may wait for the unsubmitted command before it is submitted
   * (default 256 MiB), so they return to the pool instead of new buffers being created.
   */
  maxPendingBytes?: number;
  /**
   * Bytes of scratch textures (the cpu-family matmul's staged operands, kept per shape for
   * reuse) beyond which the least recently used are destroyed (default 512 MiB).
   */
  scratchTextureCapBytes?: number;
  /**
   * Dawn (Node) only: while waiting for the GPU, poll it once a millisecond instead of in a busy
   * loop (dawn-quiet-wait.ts). 'auto' (the default) does so on software adapters, whose kernels
   * run on the same CPU cores that the busy loop would take from them.
   */
  quietWait?: 'auto' | boolean;
  /**
   * f16 products on subgroup matrices (tensor cores, 'chromium-experimental-subgroup-matrix'):
   * 'auto' (the default) where the device lists the feature with an f16 configuration and a
   * check product at ready() agrees with the tiled f16 kernel; true also asks Dawn (Node) for
   * the feature, which it lists only with allow_unsafe_apis; false never.
   * `subgroupMatrixStatus()` says what was decided.
   */
  subgroupMatrices?: 'auto' | boolean;
}

export interface GpuHandle {
  gpu: GPU;
  /** The backend name when the provider knows it ('vulkan', 'browser', ...). */
  backend: string;
  /** Drops the provider's references so the process can exit. */
  release?: () => void;
  /** Runs `fn`, which awaits GPU promises, without the provider busy-polling (Dawn in Node). */
  quietly?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Dawn's instance was made with allow_unsafe_apis (it then lists experimental features). */
  unsafeApis?: boolean;
}

export type GpuProvider = (options: DeviceOptions) => GpuHandle | Promise<GpuHandle>;

const browserProvider: GpuProvider = () => {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu)
    throw new NoAdapterError(
      `This environment has no navigator.gpu. In Node, import '@spine/tensor/node' first.\n${NO_ADAPTER_HELP}`,
    );
  return { gpu: nav.gpu, backend: 'browser' };
};

let provider: GpuProvider = browserProvider;
let engine: Engine | null = null;
let pending: Promise<Engine> | null = null;

/** Replace where the GPU comes from (the Node entry point installs Dawn here). */
export function setGpuProvider(p: GpuProvider): void {
  if (engine) throw new TensorError('setGpuProvider: the device is already acquired; call releaseDevice() first');
  provider = p;
}

/** Acquire the device (once per process; later calls return the same engine). */
export function ready(options: DeviceOptions = {}): Promise<Engine> {
  if (engine) return Promise.resolve(engine);
  if (!pending) {
    pending = acquire(options).then(
      async (e) => {
        engine = e;
        for (const check of readyChecks) await check(e, options);
        return e;
      },
      (err: unknown) => {
        pending = null;
        throw err;
      },
    );
  }
  return pending;
}

/** A check that ready() awaits on each new engine (a kernel route deciding whether it runs there). */
export type ReadyCheck = (engine: Engine, options: DeviceOptions) => Promise<void>;
const readyChecks: ReadyCheck[] = [];

/**
 * Run `check` on every new engine before ready() resolves (after getEngine() works), in the order
 * registered. Ops register their own checks when their module loads, so this module imports none
 * of them; other packages' kernels register theirs the same way (a module loaded after ready()
 * misses the engine already made).
 */
export function addReadyCheck(check: ReadyCheck): void {
  readyChecks.push(check);
}

async function acquire(options: DeviceOptions): Promise<Engine> {
  const handle = await provider(options);
  const adapterOptions: GPURequestAdapterOptions = { powerPreference: options.powerPreference ?? 'high-performance' };
  if (options.forceFallbackAdapter) adapterOptions.forceFallbackAdapter = true;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await handle.gpu.requestAdapter(adapterOptions);
  } catch (err) {
    handle.release?.();
    throw new NoAdapterError(`requestAdapter failed (${(err as Error).message}).\n${NO_ADAPTER_HELP}`);
  }
  if (!adapter) {
    handle.release?.();
    throw new NoAdapterError(NO_ADAPTER_HELP);
  }
  // Ask for the adapter's own limits: the defaults (128 MiB bindings, 8 storage buffers per
  // stage) are too small for DenseNet activations and for the fused optimizer kernel.
  const want = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxTextureDimension2D',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  // Timestamps cost nothing until a kernel profile asks for them (kernel-profiler.ts).
  // Subgroups let the texture matmul fetch A once per workgroup and broadcast it (matmul-texture.ts).
  // shader-f16 lets kernels read f16 tensors (half.ts); subgroup matrices (listed only with Dawn's
  // allow_unsafe_apis) run f16 products on tensor cores (matmul-subgroup-matrix.ts).
  const requiredFeatures = (
    ['timestamp-query', 'subgroups', 'shader-f16', 'chromium-experimental-subgroup-matrix'] as GPUFeatureName[]
  ).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return new Engine(device, adapter, handle, options);
}

/** The acquired engine, or a clear error when `await ready()` has not run yet. */
export function getEngine(): Engine {
  if (!engine)
    throw new TensorError(
      'No device yet: call `await ready()` (from @spine/tensor or @spine/tensor/node) before creating tensors.',
    );
  return engine;
}

export function hasEngine(): boolean {
  return engine !== null;
}

/** Adapter and device facts for logs, run records and `spine-cli doctor`. */
export function deviceInfo(): DeviceInfo {
  return getEngine().info;
}

export interface DeviceInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  isFallbackAdapter: boolean;
  /** Which kernel family runs: 'gpu' (workgroup tiles) or 'cpu' (register blocks, lavapipe). */
  kernels: 'gpu' | 'cpu';
  /** Whether waits for the GPU poll once a millisecond instead of busy-polling (DeviceOptions.quietWait). */
  quietWait: boolean;
  /** The smallest subgroup the device may run, 0 without the 'subgroups' feature. */
  subgroupMinSize: number;
  /** The largest, 0 without 'subgroups' (equal to the smallest where subgroups have one size). */
  subgroupMaxSize: number;
  /** The adapter's optional features, sorted (the device asks for the few it uses). */
  features: string[];
  /** Subgroup-matrix shapes the adapter reports (empty without 'chromium-experimental-subgroup-matrix'). */
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
    maxTextureDimension2D: number;
  };
}

/**
 * Run later kernels of the given family instead of the adapter's choice (null: back to the
 * adapter's). Both families must be correct on every adapter, so tests and benchmarks use
 * this to run the one the adapter would not pick.
 */
export function setKernelFamily(family: 'gpu' | 'cpu' | null): void {
  const e = getEngine();
  e.info.kernels = family ?? e.adapterKernels;
}

/** Destroy the device and drop every reference, so Node can exit. Tensors become invalid. */
export async function releaseDevice(): Promise<void> {
  const e = engine ?? (pending ? await pending.catch(() => null) : null);
  engine = null;
  pending = null;
  if (e) await e.destroy();
}
