// Pooled GPU buffers bucketed by size. Creating and destroying GPU buffers is slow everywhere
// and worse on lavapipe (it zero-fills), so released buffers wait here for the next op that
// needs a buffer of the same bucket. A byte cap bounds what the pool holds on to.

/** Bucket sizes: 2^k * {1, 1.25, 1.5, 1.75}, so at most 25% of a buffer is slack. */
export function bucketSize(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const s = p * f;
    if (s >= bytes) return s;
  }
  return 2 * p;
}

export interface PoolStats {
  /** Bytes in buffers held by live tensors (bucket sizes). */
  liveBytes: number;
  /** Bytes in buffers waiting in the pool for reuse. */
  pooledBytes: number;
  /** Bytes released while a not-yet-submitted command still used them. */
  pendingBytes: number;
  /** Highest liveBytes seen since the last resetPeak(). */
  peakLiveBytes: number;
  /** GPU buffers created so far. */
  buffersCreated: number;
  /** Bytes in the engine's scratch textures (cpu-family matmul operands); 0 for a bare pool. */
  scratchTextureBytes: number;
  /** Bytes taken out of the pool by step replays (replay.ts): a replayed step's own buffers. */
  replayBytes: number;
}

/** With growWithPeak, the cap follows this multiple of the highest live bytes. */
export const PEAK_CAP_FACTOR = 2.5;

export class BufferPool {
  /**
   * Free buffers per bucket, newest first: acquire takes the oldest (the lowest serial). The
   * choice depends only on which buffers are free, not on the order they came back, so a
   * repeated step gets the same buffers for the same tensors every time and the engine's cached
   * bind groups recur (a last-in-first-out list permuted them from step to step).
   */
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Creation order of every buffer the pool made. */
  private readonly serials = new WeakMap<GPUBuffer, number>();
  private nextSerial = 0;
  /** Every pooled buffer with its bucket size, oldest release first (the eviction order). */
  private readonly order = new Map<GPUBuffer, number>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private pending: GPUBuffer[] = [];
  private stats: Omit<PoolStats, 'scratchTextureBytes'> = {
    liveBytes: 0,
    pooledBytes: 0,
    pendingBytes: 0,
    peakLiveBytes: 0,
    buffersCreated: 0,
    replayBytes: 0,
  };
  /**
   * Live buffers with the number of their acquisition: a replay checks that the weights it
   * binds are still the tensors it captured (not freed, not freed and handed out again).
   */
  private readonly liveSince = new WeakMap<GPUBuffer, number>();
  private acquisitions = 0;

  /** Highest liveBytes ever (resetPeak leaves it): the growing cap's measure of the working set. */
  private highestLive = 0;

  /** Told about every buffer the pool destroys (the engine forgets bind groups that bind it). */
  onDestroy: ((buffer: GPUBuffer) => void) | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly label: string,
    public capBytes: number,
    /**
     * Let the cap grow to PEAK_CAP_FACTOR times the highest live bytes: a training step frees
     * its forward's buffers in backward and wants them again in the next forward, so below
     * about twice that the pool keeps destroying buffers it will have to create (and zero)
     * again. A DenseNet-121 step at batch 4 pools 1.94-2.0x its peak live bytes in the steady
     * state, so at exactly 2x a small change in its buffer mix (gradients waiting longer to be
     * summed) re-created 52 buffers and 156 bind groups every step; 2.5x leaves room.
     */
    public growWithPeak = false,
  ) {}

  /** The cap in force: capBytes, or PEAK_CAP_FACTOR times the highest live bytes where that is larger and growth is on. */
  get effectiveCapBytes(): number {
    return this.growWithPeak ? Math.max(this.capBytes, PEAK_CAP_FACTOR * this.highestLive) : this.capBytes;
  }

  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.stats.pooledBytes -= size;
      this.order.delete(buffer);
    } else {
      buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label}:${size}` });
      this.sizes.set(buffer, size);
      this.serials.set(buffer, this.nextSerial++);
      this.stats.buffersCreated++;
    }
    this.liveSince.set(buffer, ++this.acquisitions);
    this.stats.liveBytes += size;
    if (this.stats.liveBytes > this.stats.peakLiveBytes) this.stats.peakLiveBytes = this.stats.liveBytes;
    if (this.stats.liveBytes > this.highestLive) this.highestLive = this.stats.liveBytes;
    return buffer;
  }

  /** Bytes released while a command that may use them is unsubmitted. */
  get pendingBytes(): number {
    return this.stats.pendingBytes;
  }

  /** Bytes held by live tensors. */
  get liveBytes(): number {
    return this.stats.liveBytes;
  }

  sizeOf(buffer: GPUBuffer): number {
    return this.sizes.get(buffer) ?? buffer.size;
  }

  /**
   * Give a buffer back. With `deferred`, an unsubmitted command may still use it: it becomes
   * reusable only at the next `commit()` (after that submit), because a later
   * `queue.writeBuffer` into it would otherwise land before the earlier command runs.
   */
  release(buffer: GPUBuffer, deferred: boolean): void {
    const size = this.sizeOf(buffer);
    this.liveSince.delete(buffer);
    this.stats.liveBytes -= size;
    if (deferred) {
      this.pending.push(buffer);
      this.stats.pendingBytes += size;
    } else {
      this.toFreeList(buffer, size);
    }
  }

  /** Nonzero while `buffer` is held by a tensor; a new number with every acquisition. */
  liveEpoch(buffer: GPUBuffer): number {
    return this.liveSince.get(buffer) ?? 0;
  }

  /**
   * Take a released buffer (free or waiting for the submit) out of the pool for good, for a
   * step replay that will write it every step; false when it is live or not in the pool.
   */
  claim(buffer: GPUBuffer): boolean {
    const size = this.sizeOf(buffer);
    const waiting = this.pending.indexOf(buffer);
    if (waiting >= 0) {
      this.pending.splice(waiting, 1);
      this.stats.pendingBytes -= size;
    } else if (this.order.has(buffer)) {
      this.order.delete(buffer);
      const list = this.free.get(size)!;
      list.splice(list.indexOf(buffer), 1);
      this.stats.pooledBytes -= size;
    } else return false;
    this.stats.replayBytes += size;
    return true;
  }

  /** Return a claimed buffer; `deferred` as for release(). */
  unclaim(buffer: GPUBuffer, deferred: boolean): void {
    const size = this.sizeOf(buffer);
    this.stats.replayBytes -= size;
    if (deferred) {
      this.pending.push(buffer);
      this.stats.pendingBytes += size;
    } else this.toFreeList(buffer, size);
  }

  /** Called after a submit: deferred releases become reusable. */
  commit(): void {
    const pending = this.pending;
    this.pending = [];
    this.stats.pendingBytes = 0;
    for (const b of pending) this.toFreeList(b, this.sizeOf(b));
  }

  /**
   * Pool a released buffer. Over the cap, the buffers pooled longest ago are destroyed first:
   * a training step releases and re-acquires the same sizes every time, while sizes that stopped
   * coming back (an earlier batch size, a finished phase) would otherwise hold the pool full and
   * make every new size a fresh, zero-filled buffer.
   */
  private toFreeList(buffer: GPUBuffer, size: number): void {
    const cap = this.effectiveCapBytes;
    if (size > cap) {
      this.destroy(buffer);
      return;
    }
    for (const [old, oldSize] of this.order) {
      if (this.stats.pooledBytes + size <= cap) break;
      this.order.delete(old);
      const list = this.free.get(oldSize)!;
      list.splice(list.indexOf(old), 1);
      this.destroy(old);
      this.stats.pooledBytes -= oldSize;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    // Insert by descending serial (binary search), so pop() returns the oldest.
    const serial = this.serials.get(buffer) ?? -1;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.serials.get(list[mid]!) ?? -1) > serial) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, buffer);
    this.order.set(buffer, size);
    this.stats.pooledBytes += size;
  }

  /** Destroy every pooled buffer (live ones are untouched). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.destroy(b);
    this.free.clear();
    this.order.clear();
    this.stats.pooledBytes = 0;
  }

  private destroy(buffer: GPUBuffer): void {
    this.onDestroy?.(buffer);
    buffer.destroy();
  }

  resetPeak(): void {
    this.stats.peakLiveBytes = this.stats.liveBytes;
  }

  snapshot(): PoolStats {
    return { ...this.stats, scratchTextureBytes: 0 };
  }
}
