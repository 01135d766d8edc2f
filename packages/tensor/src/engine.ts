// The engine owns the device, the buffer pools, the pipeline cache and the open command
// encoder. Ops record dispatches here; nothing is submitted until a read needs it or the
// bound on recorded dispatches is reached ("batch, don't sync").
import { BufferPool, type PoolStats } from './buffer-pool.js';
import { subgroupMatrixConfigs } from './adapter-facts.js';
import type { DeviceInfo, DeviceOptions, GpuHandle } from './device.js';
import { TensorError, WgslCompileError } from './errors.js';
import { BufferUsage, MapMode, ShaderStage } from './gpu-constants.js';
import { KernelProfiler, type KernelProfile } from './kernel-profiler.js';
import type { LiveWord } from './kernel.js';
import type { CaptureLog } from './replay-log.js';
import { ScratchTextures } from './scratch-textures.js';

/** Words (u32) of uniform data one dispatch may pass; see `uniformPreamble`. */
export const UNIFORM_WORDS = 64;
const UNIFORM_SLOT_BYTES = 256; // >= UNIFORM_WORDS * 4 and a valid dynamic/bind offset alignment
/** Cached bind groups before the cache starts again (a DenseNet-121 step uses about 2,000). */
const MAX_CACHED_BIND_GROUPS = 16384;

/**
 * A texture binding after a kernel's buffers: 'sampled' is `texture_2d<f32>` (read with
 * textureLoad), 'storage' is `texture_storage_2d<rgba32float, write>`.
 */
export type TextureBinding = 'sampled' | 'storage';

export interface CompiledKernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Identifies `layout` in bind group cache keys. */
  readonly layoutId: number;
  readonly inputs: number;
  readonly outputs: number;
  readonly textures: readonly TextureBinding[];
}

export class Engine {
  readonly info: DeviceInfo;
  /** The kernel family the adapter calls for (info.kernels may be overridden). */
  readonly adapterKernels: 'gpu' | 'cpu';
  readonly storagePool: BufferPool;
  private readonly readPool: BufferPool;
  /** Operand textures of the cpu-family matmul (scratch-textures.ts). */
  readonly scratch: ScratchTextures;
  private readonly pipelines = new Map<string, CompiledKernel>();
  private readonly layouts = new Map<string, { layout: GPUBindGroupLayout; id: number }>();
  /**
   * Bind groups by layout and bound resources (kernel.ts's key), reused across steps: the pool
   * hands a training step the same buffers in the same order every time, and creating a bind
   * group is most of a dispatch's host cost (tens of microseconds on lavapipe). The uniform
   * ring is bound with a dynamic offset, so a bind group does not depend on the ring slot.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  /** Cache keys naming each resource id, to forget them when the resource is destroyed. */
  private readonly keysByResource = new Map<number, string[]>();
  private readonly resourceIds = new WeakMap<object, number>();
  private nextResourceId = 1;
  private readonly dynamicOffset = new Uint32Array(1);
  /** The pipeline last set in the open pass (setPipeline is skipped when it repeats). */
  private passPipeline: GPUComputePipeline | null = null;
  private compileChecks: Promise<WgslCompileError | null>[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Dispatches in the open encoder that use a uniform ring slot (replayed ones use none). */
  private dispatches = 0;
  private readonly maxDispatches: number;
  /** The step capture in progress (replay.ts): told every command and buffer of the step. */
  capture: CaptureLog | null = null;
  /** Step replays, told when a resource they bind is destroyed. */
  readonly replays = new Set<{ onDestroyed(resource: object): void }>();
  /** See DeviceOptions.maxPendingBytes; tests lower it. */
  maxPendingBytes: number;
  /**
   * Released bytes may wait for the submit up to `pendingLiveRatio` times the live bytes (and
   * always up to `minPendingBytes`) before release() submits. Without the ratio, a small network
   * whose loss is not read every step left a few steps' worth of temporaries waiting, and the
   * pool grew to hold them all (a 15 MiB working set in a 125 MiB pool).
   */
  pendingLiveRatio = 1;
  minPendingBytes = 4 << 20;
  private readonly uniformStaging: Uint32Array;
  private readonly uniformRing: GPUBuffer;
  private lost: string | null = null;
  /** DeviceOptions.quietWait resolved for this adapter. */
  private readonly quiet: boolean;
  private uncaptured: string[] = [];
  /** Set while a kernel profile runs (startKernelProfile). */
  private profiler: KernelProfiler | null = null;
  /** Counters for tests and benchmarks. */
  readonly counters = {
    dispatches: 0,
    submits: 0,
    reads: 0,
    pipelinesCompiled: 0,
    bindGroupsCreated: 0,
    bindGroupHits: 0,
  };

  constructor(
    readonly device: GPUDevice,
    adapter: GPUAdapter,
    private readonly handle: GpuHandle,
    /** The options the device was acquired with (a kernel warmer makes its device the same way). */
    readonly options: DeviceOptions,
  ) {
    const ai = adapter.info;
    const software =
      ai.architecture === 'software' ||
      /llvmpipe|lavapipe|swiftshader/i.test(`${ai.device} ${ai.description}`) ||
      (ai as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
    const kernels = options.kernels && options.kernels !== 'auto' ? options.kernels : software ? 'cpu' : 'gpu';
    this.adapterKernels = kernels;
    this.quiet = options.quietWait === true || ((options.quietWait ?? 'auto') === 'auto' && software);
    const l = device.limits;
    this.info = {
      vendor: ai.vendor,
      architecture: ai.architecture,
      device: ai.device,
      description: ai.description,
      backend: handle.backend,
      isFallbackAdapter: (ai as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      kernels,
      quietWait: this.quiet && handle.quietly !== undefined,
      subgroupMinSize: device.features.has('subgroups')
        ? ((ai as { subgroupMinSize?: number }).subgroupMinSize ?? 0)
        : 0,
      subgroupMaxSize: device.features.has('subgroups')
        ? ((ai as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0)
        : 0,
      features: [...adapter.features].sort(),
      subgroupMatrixConfigs: subgroupMatrixConfigs(ai),
      limits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxTextureDimension2D: l.maxTextureDimension2D,
      },
    };
    const cap = options.poolCapBytes ?? Math.min(1 << 30, Math.floor(l.maxBufferSize / 4) || 1 << 30);
    // Software adapters: system memory, and every new buffer is zero-filled on the CPU; let the
    // default cap grow with the working set there (BufferPool.growWithPeak).
    this.storagePool = new BufferPool(
      device,
      BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      'tensor',
      cap,
      options.poolCapBytes === undefined && software,
    );
    this.storagePool.onDestroy = (buffer) => this.forgetBindings(buffer);
    this.readPool = new BufferPool(device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'readback', 256 << 20);
    this.scratch = new ScratchTextures(device, options.scratchTextureCapBytes ?? 512 << 20, l.maxTextureDimension2D);
    this.scratch.onDestroy = (view, texture) => {
      this.forgetBindings(view);
      for (const r of this.replays) r.onDestroyed(texture);
    };
    this.maxDispatches = Math.max(1, options.maxDispatchesPerSubmit ?? 256);
    this.maxPendingBytes = Math.max(0, options.maxPendingBytes ?? 256 << 20);
    this.uniformStaging = new Uint32Array((this.maxDispatches * UNIFORM_SLOT_BYTES) / 4);
    this.uniformRing = device.createBuffer({
      size: this.uniformStaging.byteLength,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      label: 'uniform-ring',
    });
    // Errors outside our error scopes (e.g. a dispatch of a pipeline that failed to compile)
    // would otherwise only be printed by Dawn; keep them for the next read to raise.
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (this.uncaptured.length < 8) this.uncaptured.push(ev.error.message);
    };
    void device.lost.then((info) => {
      if (this.lost === null) this.lost = info.message || String(info.reason);
    });
  }

  // ---- kernels -------------------------------------------------------------------------

  private layoutFor(
    inputs: number,
    outputs: number,
    textures: readonly TextureBinding[],
  ): { layout: GPUBindGroupLayout; id: number } {
    const key = `${inputs}/${outputs}/${textures.join(',')}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      for (let i = 0; i < inputs; i++)
        entries.push({ binding: 1 + i, visibility: ShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      for (let i = 0; i < outputs; i++)
        entries.push({ binding: 1 + inputs + i, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } });
      textures.forEach((kind, i) => {
        const binding = 1 + inputs + outputs + i;
        if (kind === 'sampled')
          entries.push({ binding, visibility: ShaderStage.COMPUTE, texture: { sampleType: 'unfilterable-float' } });
        else
          entries.push({
            binding,
            visibility: ShaderStage.COMPUTE,
            storageTexture: { access: 'write-only', format: 'rgba32float' },
          });
      });
      layout = {
        layout: this.device.createBindGroupLayout({ entries, label: `layout ${key}` }),
        id: this.layouts.size + 1,
      };
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The compiled pipeline for `key`, compiling `source()` once. Compilation is synchronous
   * (ops are synchronous); errors are collected and raised, with the WGSL line, by the next
   * read or `checkCompilation()`.
   */
  pipeline(
    key: string,
    name: string,
    inputs: number,
    outputs: number,
    source: () => string,
    textures: readonly TextureBinding[] = [],
  ): CompiledKernel {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const code = source();
    const { layout, id: layoutId } = this.layoutFor(inputs, outputs, textures);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: name });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
      label: name,
    });
    this.compileChecks.push(
      this.device.popErrorScope().then(async (err) => {
        if (!err) return null;
        const info = await module.getCompilationInfo();
        return new WgslCompileError(name, describeCompileError(code, info.messages, err.message));
      }),
    );
    this.counters.pipelinesCompiled++;
    const compiled = { name, pipeline, layout, layoutId, inputs, outputs, textures };
    this.pipelines.set(key, compiled);
    return compiled;
  }

  /**
   * Resolve outstanding compile checks and raise the first problem: a WGSL error (with its
   * line), else any uncaptured validation error since the last check.
   */
  async checkCompilation(): Promise<void> {
    const checks = this.compileChecks;
    this.compileChecks = [];
    const errors = (await Promise.all(checks)).filter((e): e is WgslCompileError => e !== null);
    const uncaptured = this.uncaptured;
    this.uncaptured = [];
    if (!errors.length && uncaptured.length) throw new TensorError(`GPU validation error: ${uncaptured.join('\n')}`);
    if (errors.length) {
      // The failed pipelines stay cached as invalid; forget them so a fixed source can retry.
      for (const [k, v] of this.pipelines) if (errors.some((e) => e.kernel === v.name)) this.pipelines.delete(k);
      throw errors[0];
    }
  }

  // ---- recording -----------------------------------------------------------------------

  private ensurePass(): GPUComputePassEncoder {
    this.assertAlive();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) {
      this.pass = this.encoder.beginComputePass();
      this.passPipeline = null;
    }
    return this.pass;
  }

  private endPass(): void {
    if (!this.pass) return;
    this.pass.end();
    this.pass = null;
    this.passPipeline = null;
  }

  private resourceId(resource: object): number {
    let id = this.resourceIds.get(resource);
    if (id === undefined) this.resourceIds.set(resource, (id = this.nextResourceId++));
    return id;
  }

  /** The cached bind group of `kernel`'s layout over these resources, created on a miss. */
  private bindGroupFor(
    kernel: CompiledKernel,
    buffers: readonly GPUBuffer[],
    views: readonly GPUTextureView[],
  ): GPUBindGroup {
    let key = `${kernel.layoutId}`;
    for (let i = 0; i < buffers.length; i++) key += `,${this.resourceId(buffers[i]!)}`;
    for (let i = 0; i < views.length; i++) key += `,${this.resourceId(views[i]!)}`;
    const hit = this.bindGroups.get(key);
    if (hit) {
      this.counters.bindGroupHits++;
      return hit;
    }
    // A bound on the cache (a long run through changing shapes): start again from empty.
    if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) {
      this.bindGroups.clear();
      this.keysByResource.clear();
    }
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.uniformRing, offset: 0, size: UNIFORM_WORDS * 4 } },
    ];
    for (let i = 0; i < buffers.length; i++) entries.push({ binding: 1 + i, resource: { buffer: buffers[i]! } });
    for (let i = 0; i < views.length; i++) entries.push({ binding: 1 + buffers.length + i, resource: views[i]! });
    const group = this.device.createBindGroup({ layout: kernel.layout, entries });
    this.counters.bindGroupsCreated++;
    this.bindGroups.set(key, group);
    for (const resource of [...buffers, ...views]) {
      const id = this.resourceId(resource);
      const keys = this.keysByResource.get(id);
      if (keys) keys.push(key);
      else this.keysByResource.set(id, [key]);
    }
    return group;
  }

  /**
   * Drop the cached bind groups that bind `resource` (a buffer or texture view being
   * destroyed). Its id is never given to another object, so a cached group can only be stale
   * through a destroyed resource, and those are forgotten here.
   */
  forgetBindings(resource: object): void {
    for (const r of this.replays) r.onDestroyed(resource);
    this.capture?.destroyed.add(resource);
    const id = this.resourceIds.get(resource);
    if (id === undefined) return;
    const keys = this.keysByResource.get(id);
    if (!keys) return;
    this.keysByResource.delete(id);
    for (const key of keys) this.bindGroups.delete(key);
  }

  /** Bind groups held for reuse (for tests and diagnostics). */
  get cachedBindGroups(): number {
    return this.bindGroups.size;
  }

  /** True while recorded commands wait for a submit (buffers they use must not be rewritten). */
  get hasPendingCommands(): boolean {
    return this.encoder !== null;
  }

  /**
   * Record one dispatch. `uniforms` (at most UNIFORM_WORDS u32 words) reach the kernel through
   * a slot of the uniform ring; buffers bind in order: inputs, then outputs, then `views` for
   * the kernel's texture bindings.
   */
  dispatch(
    kernel: CompiledKernel,
    buffers: readonly GPUBuffer[],
    uniforms: Uint32Array | readonly number[],
    workgroups: readonly [number, number?, number?],
    views: readonly GPUTextureView[] = [],
    /** Which uniform words are random generator counters (see Uniforms.rngCounter). */
    counterWords?: readonly number[],
    /** Uniform words the host computes at every step (see Uniforms.liveF32). */
    liveWords?: readonly LiveWord[],
  ): void {
    if (uniforms.length > UNIFORM_WORDS)
      throw new TensorError(
        `kernel ${kernel.name}: ${uniforms.length} uniform words exceed the limit of ${UNIFORM_WORDS}`,
      );
    if (buffers.length !== kernel.inputs + kernel.outputs)
      throw new TensorError(
        `kernel ${kernel.name}: expected ${kernel.inputs + kernel.outputs} buffers, got ${buffers.length}`,
      );
    if (views.length !== kernel.textures.length)
      throw new TensorError(`kernel ${kernel.name}: expected ${kernel.textures.length} textures, got ${views.length}`);
    if (this.profiler) {
      // Profiling: every dispatch in its own pass, whose ends write the timestamps.
      this.endPass();
      this.assertAlive();
      if (!this.encoder) this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass(
        this.profiler.passFor(
          kernel.name,
          [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1],
          Uint32Array.from(uniforms),
        ),
      );
    }
    this.capture?.dispatch(kernel, buffers, uniforms, workgroups, views, counterWords, liveWords);
    const pass = this.ensurePass();
    const slot = this.dispatches;
    this.uniformStaging.set(uniforms, (slot * UNIFORM_SLOT_BYTES) / 4);
    if (this.passPipeline !== kernel.pipeline) {
      pass.setPipeline(kernel.pipeline);
      this.passPipeline = kernel.pipeline;
    }
    this.dynamicOffset[0] = slot * UNIFORM_SLOT_BYTES;
    pass.setBindGroup(0, this.bindGroupFor(kernel, buffers, views), this.dynamicOffset, 0, 1);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.dispatches++;
    this.counters.dispatches++;
    if (this.dispatches >= this.maxDispatches) this.flush();
  }

  /**
   * Record a dispatch prepared by a step replay: its bind group binds the replay's own uniform
   * buffer, at `offsets[index]`.
   */
  dispatchPrepared(
    pipeline: GPUComputePipeline,
    group: GPUBindGroup,
    offsets: Uint32Array,
    index: number,
    x: number,
    y: number,
    z: number,
  ): void {
    const pass = this.ensurePass();
    if (this.passPipeline !== pipeline) {
      pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    pass.setBindGroup(0, group, offsets, index, 1);
    pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
    // No submit in the middle: a replay submits its step once, at its end (replay.ts).
  }

  /** Whether a kernel profile is running (a step replay then records the step as usual). */
  get profiling(): boolean {
    return this.profiler !== null;
  }

  /** Record a buffer-to-buffer copy (outside any compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.capture?.commands.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
    this.assertAlive();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Record a copy of `rows` rows of `bytesPerRow` (a multiple of 256) from `src` at `srcOffset`
   * into `dst` from texel row `originY`, outside any compute pass.
   */
  copyToTexture(
    src: GPUBuffer,
    srcOffset: number,
    bytesPerRow: number,
    dst: GPUTexture,
    originY: number,
    texelsPerRow: number,
    rows: number,
  ): void {
    this.capture?.commands.push({
      kind: 'copyToTexture',
      src,
      srcOffset,
      bytesPerRow,
      dst,
      originY,
      texelsPerRow,
      rows,
    });
    this.assertAlive();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    this.endPass();
    this.encoder.copyBufferToTexture(
      { buffer: src, offset: srcOffset, bytesPerRow },
      { texture: dst, origin: [0, originY] },
      [texelsPerRow, rows],
    );
  }

  /** Submit everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.dispatches > 0)
      this.device.queue.writeBuffer(
        this.uniformRing,
        0,
        this.uniformStaging,
        0,
        (this.dispatches * UNIFORM_SLOT_BYTES) / 4,
      );
    this.profiler?.beforeSubmit(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
    this.profiler?.afterSubmit();
    this.encoder = null;
    this.dispatches = 0;
    this.counters.submits++;
    this.storagePool.commit();
    this.scratch.afterSubmit();
  }

  // ---- profiling -----------------------------------------------------------------------

  /** Whether this device can time kernels (the adapter offers 'timestamp-query'). */
  get canProfileKernels(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * Start timing every dispatch (submits what was recorded before, so that is not counted);
   * `perDispatch` also keeps each dispatch's time, workgroups and first uniform words.
   */
  startKernelProfile(perDispatch = false): void {
    if (!this.canProfileKernels)
      throw new TensorError(
        `kernel profiling needs the 'timestamp-query' feature, which this adapter (${this.info.device || this.info.description}) does not offer`,
      );
    if (this.profiler) throw new TensorError('a kernel profile is already running');
    this.flush();
    this.profiler = new KernelProfiler(this.device, this.maxDispatches, perDispatch);
  }

  /** Stop timing, wait for the device, and report the kernels' times. */
  async stopKernelProfile(): Promise<KernelProfile> {
    const profiler = this.profiler;
    if (!profiler) throw new TensorError('no kernel profile is running (call startKernelProfile first)');
    this.flush();
    this.profiler = null;
    return this.settle(() => profiler.finish());
  }

  // ---- memory --------------------------------------------------------------------------

  /** A pooled storage buffer; `what` names it in the error (a function: formatted only then). */
  allocate(bytes: number, what: string | (() => string) = 'A tensor'): GPUBuffer {
    this.assertAlive();
    const limit = this.info.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new TensorError(
        `${typeof what === 'function' ? what() : what} of ${bytes} bytes exceeds this adapter's largest storage binding (maxStorageBufferBindingSize ${limit} bytes); make it smaller (batch, input size or layer width) or split it.`,
      );
    }
    const buffer = this.storagePool.acquire(bytes);
    this.capture?.onAcquire(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.lost === 'destroyed') return;
    this.capture?.onRelease(buffer);
    this.storagePool.release(buffer, this.encoder !== null);
    // Released buffers wait for the submit before they can be reused; when many bytes wait, a
    // loop of large ops would otherwise create fresh buffers (and on a GPU, fresh memory) each
    // time. Submitting now recycles them; the GPU runs the commands in order either way.
    // A bound relative to the live bytes keeps the pool near the working set when reads are rare.
    const pending = this.storagePool.pendingBytes;
    if (
      pending > this.maxPendingBytes ||
      (pending > this.minPendingBytes && pending > this.pendingLiveRatio * this.storagePool.liveBytes)
    )
      this.flush();
  }

  upload(buffer: GPUBuffer, data: ArrayBufferView): void {
    this.capture?.commands.push({
      kind: 'upload',
      dst: buffer,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Copy `bytes` from `buffer` to the CPU. Submits pending work. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.capture?.fail('the step reads a tensor back to the CPU');
    const staging = this.readPool.acquire(Math.max(4, bytes));
    if (bytes > 0) this.copy(buffer, 0, staging, 0, alignUp(bytes, 4));
    this.flush();
    this.counters.reads++;
    try {
      await this.settle(async () => {
        await this.checkCompilation();
        await staging.mapAsync(MapMode.READ, 0, alignUp(Math.max(4, bytes), 4));
      });
      const out = staging.getMappedRange(0, alignUp(Math.max(4, bytes), 4)).slice(0, bytes);
      staging.unmap();
      return out;
    } catch (err) {
      this.assertAlive();
      throw err;
    } finally {
      this.readPool.release(staging, false);
    }
  }

  /** Wait until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.settle(async () => {
      await this.device.queue.onSubmittedWorkDone();
      await this.checkCompilation();
    });
  }

  /** Whether the instance lists Dawn's experimental features (allow_unsafe_apis). */
  get unsafeApis(): boolean {
    return this.handle.unsafeApis === true;
  }

  /** Await GPU promises without the provider busy-polling where that takes CPU from the kernels. */
  private settle<T>(fn: () => Promise<T>): Promise<T> {
    return this.quiet && this.handle.quietly ? this.handle.quietly(fn) : fn();
  }

  memory(): PoolStats {
    return { ...this.storagePool.snapshot(), scratchTextureBytes: this.scratch.bytes };
  }

  private assertAlive(): void {
    if (this.lost !== null)
      throw new TensorError(`The GPU device is gone (${this.lost}); call ready() again to get a new one.`);
  }

  async destroy(): Promise<void> {
    try {
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
    } catch {
      /* the device may already be lost */
    }
    this.lost = 'destroyed';
    this.storagePool.trim();
    this.readPool.trim();
    this.scratch.destroyAll();
    this.pipelines.clear();
    this.bindGroups.clear();
    this.keysByResource.clear();
    this.device.destroy();
    this.handle.release?.();
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function describeCompileError(code: string, messages: readonly GPUCompilationMessage[], fallback: string): string {
  const lines = code.split('\n');
  const errs = messages.filter((m) => m.type === 'error');
  if (!errs.length) return fallback;
  return errs
    .map((m) => {
      const n = m.lineNum;
      const context = [n - 1, n, n + 1]
        .filter((i) => i >= 1 && i <= lines.length)
        .map((i) => `${i === n ? '>' : ' '} ${String(i).padStart(4)} | ${lines[i - 1]}`)
        .join('\n');
      return `line ${n}:${m.linePos}: ${m.message}\n${context}`;
    })
    .join('\n');
}
