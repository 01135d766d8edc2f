// A refcounted handle on one pooled GPU buffer. Tensors that are views of each other
// (reshape, detach, autograd's saved copies) share a Storage; the buffer returns to the pool
// when the last reference goes.
import type { Engine } from './engine.js';

/** Tensors of at most this many elements keep a host copy of their values when they have one. */
export const HOST_COPY_MAX_ELEMENTS = 4096;

export class Storage {
  private refs = 1;
  private hostValues: Float32Array | Int32Array | null = null;
  private writes = 0;

  constructor(
    readonly engine: Engine,
    readonly buffer: GPUBuffer,
    /** Bytes of tensor data (the buffer itself is a pool bucket, usually larger). */
    readonly byteLength: number,
  ) {}

  retain(): this {
    if (this.refs <= 0) throw new Error('Storage.retain after release');
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.engine.release(this.buffer);
  }

  get refCount(): number {
    return this.refs;
  }

  /**
   * A write into the buffer was recorded: the host copy is out of date, or is `values` (what
   * was uploaded). Every path that writes an existing tensor's buffer calls this (runKernel's
   * outputs, assign, writeData, block copies).
   */
  written(values: Float32Array | Int32Array | null = null): void {
    this.writes++;
    this.hostValues = values && values.length <= HOST_COPY_MAX_ELEMENTS ? values.slice() : null;
  }

  /** How many writes have been recorded (a read keeps its values only if none came meanwhile). */
  get writeCount(): number {
    return this.writes;
  }

  /** Keep values read back while the buffer is unchanged since `writeCount` was `asOf`. */
  keepRead(values: Float32Array | Int32Array, asOf: number): void {
    if (asOf === this.writes && values.length <= HOST_COPY_MAX_ELEMENTS) this.hostValues = values.slice();
  }

  /** The buffer's values when they are known on the host, else null (the caller must not modify them). */
  get hostCopy(): Float32Array | Int32Array | null {
    return this.hostValues;
  }
}
