// A refcounted handle on one pooled GPU buffer. Tensors that are views of each other
// (reshape, detach, autograd's saved copies) share a Storage; the buffer returns to the pool
// when the last reference goes.
import type { Engine } from './engine.js';

export class Storage {
  private refs = 1;

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
}
