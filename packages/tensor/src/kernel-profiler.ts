// Per-kernel device time from timestamp queries, for finding where a training step's time goes
// (the benchmarks' time a whole step; this says which kernels make it up). While a profile
// runs, every dispatch gets its own compute pass whose beginning and end write a timestamp;
// each submit resolves its queries into a buffer that is read back asynchronously. Copies
// (block copies, texture staging by copy) are not timed: they show as the gap between the
// device's busy span and the kernels' sum.
//
// Only adapters with the 'timestamp-query' feature (lavapipe and the GPUs here have it) can
// profile. Dawn quantises timestamps (to 2^16 ns by default), so single short kernels read
// coarse; sums over many dispatches are what the report is for. On lavapipe the pass per
// dispatch costs nothing measurable: 1M-element multiplies read 2.7-2.9 ms each profiled
// against 2.7-2.8 ms of wall time unprofiled (`bench/profiler-overhead-probe.mjs`), and a
// DenseNet-121 step's profiled wall time was within its run-to-run noise of the unprofiled one
// (-5% to +11% over six runs of `models/bench/densenet-kernel-profile.mjs`).
import { TensorError } from './errors.js';
import { BufferUsage, MapMode } from './gpu-constants.js';

/** Device time of one kernel (all its pipelines and options together). */
export interface KernelTiming {
  name: string;
  dispatches: number;
  ms: number;
}

/** One timed dispatch (KernelProfile.dispatches, when asked for). */
export interface DispatchTiming {
  name: string;
  workgroups: readonly number[];
  /** The first uniform words (most kernels put their sizes there). */
  words: readonly number[];
  ms: number;
}

export interface KernelProfile {
  /** Kernels by total time, longest first. */
  kernels: KernelTiming[];
  /** Sum of the kernels' device time. */
  kernelMs: number;
  /** First timestamp to last, per submit, summed: kernels plus untimed copies and gaps between passes. */
  deviceMs: number;
  /** Every dispatch in order, when the profile was started with `perDispatch`. */
  dispatches?: DispatchTiming[];
}

interface Recorded {
  name: string;
  workgroups: readonly number[];
  words: readonly number[];
}

interface Readback {
  names: Recorded[];
  buffer: GPUBuffer;
}

export class KernelProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private names: Recorded[] = [];
  private readonly detail: DispatchTiming[] | null;
  /** Copies recorded into the command about to be submitted (mapped after the submit). */
  private unmapped: Readback[] = [];
  private readonly reads: Promise<void>[] = [];
  private readonly totals = new Map<string, KernelTiming>();
  private deviceNs = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Dispatches per submit at most (the engine flushes at this bound). */
    private readonly capacity: number,
    perDispatch = false,
  ) {
    this.detail = perDispatch ? [] : null;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity, label: 'kernel-profiler' });
    this.resolve = device.createBuffer({
      size: 16 * capacity,
      usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
      label: 'kernel-profiler-resolve',
    });
  }

  /** The timestamp writes for the next dispatch's own pass. */
  passFor(name: string, workgroups: readonly number[], uniforms: Uint32Array): GPUComputePassDescriptor {
    if (this.names.length >= this.capacity)
      throw new TensorError(`kernel profiler: more than ${this.capacity} dispatches in one submit`);
    const i = this.names.length;
    this.names.push({
      name,
      workgroups: [...workgroups],
      words: this.detail ? Array.from(uniforms.subarray(0, 8)) : [],
    });
    return {
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    };
  }

  /** Before the encoder finishes: resolve this submit's timestamps into a readable copy. */
  beforeSubmit(encoder: GPUCommandEncoder): void {
    const n = this.names.length;
    if (n === 0) return;
    const bytes = 16 * n;
    const buffer = this.device.createBuffer({
      size: bytes,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      label: 'kernel-profiler-read',
    });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, buffer, 0, bytes);
    this.unmapped.push({ names: this.names, buffer });
    this.names = [];
  }

  /** After the submit: map the copies it wrote, and fold the times in as soon as they are there. */
  afterSubmit(): void {
    for (const { names, buffer } of this.unmapped) {
      const done = buffer.mapAsync(MapMode.READ).then(() => {
        const ts = new BigUint64Array(buffer.getMappedRange().slice(0));
        buffer.unmap();
        buffer.destroy();
        this.fold(names, ts);
      });
      this.reads.push(done);
    }
    this.unmapped = [];
  }

  private fold(names: Recorded[], ts: BigUint64Array): void {
    let first = ts[0]!;
    let last = ts[1]!;
    names.forEach(({ name, workgroups, words }, i) => {
      const begin = ts[2 * i]!;
      const end = ts[2 * i + 1]!;
      if (begin < first) first = begin;
      if (end > last) last = end;
      const ms = end > begin ? Number(end - begin) / 1e6 : 0;
      const t = this.totals.get(name) ?? { name, dispatches: 0, ms: 0 };
      t.dispatches++;
      t.ms += ms;
      this.totals.set(name, t);
      this.detail?.push({ name, workgroups, words, ms });
    });
    this.deviceNs += Number(last - first);
  }

  /** Wait for every submitted read, then report and free the queries. */
  async finish(): Promise<KernelProfile> {
    await Promise.all(this.reads);
    this.querySet.destroy();
    this.resolve.destroy();
    const kernels = [...this.totals.values()].sort((a, b) => b.ms - a.ms);
    const profile: KernelProfile = {
      kernels,
      kernelMs: kernels.reduce((s, k) => s + k.ms, 0),
      deviceMs: this.deviceNs / 1e6,
    };
    if (this.detail) profile.dispatches = this.detail;
    return profile;
  }
}
