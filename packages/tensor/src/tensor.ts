// The Tensor handle: shape, dtype, a reference on a Storage, and autograd links.
// Operations live in ops/; this file knows only lifetimes and reading data back.
import type { GraphNode } from './autograd.js';
import { runDeviceChecks } from './device-checks.js';
import { getEngine } from './device.js';
import { TensorError } from './errors.js';
import { formatTensor, formatValues } from './format.js';
import { f16ByteLength, unpackF16 } from './half.js';
import { formatShape, numel, type Shape } from './shape.js';
import { Storage } from './storage.js';
import { track } from './scope.js';

/** 'f16' tensors (half.ts) need the device feature 'shader-f16'; their values read back as f32. */
export type DType = 'f32' | 'i32' | 'f16';
export type TypedArrayFor<D extends DType> = D extends 'i32' ? Int32Array : Float32Array;

// The core builds without DOM or Node types; print() is all that needs the console.
declare const console: { log(...args: unknown[]): void };

let nextId = 1;
let backwardHook: ((t: Tensor, grad?: Tensor) => void) | null = null;

/** @internal Installed by backward.ts (kept apart to avoid an import cycle). */
export function setBackwardHook(fn: (t: Tensor, grad?: Tensor) => void): void {
  backwardHook = fn;
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  private storageRef: Storage | null;
  private kept = false;
  private needsGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. Kept until replaced or disposed. */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves and under noGrad). */
  gradFn: GraphNode | null = null;

  /** @internal Use the creation functions (tensor, zeros, ...) instead. */
  constructor(
    storage: Storage,
    shape: Shape,
    readonly dtype: DType = 'f32',
    tracked = true,
  ) {
    this.storageRef = storage;
    this.shape = Object.freeze([...shape]);
    this.size = numel(shape);
    if (tracked) track(this);
  }

  /** Set for leaves whose gradient should be accumulated into `.grad` (f32 only, as in PyTorch). */
  get requiresGrad(): boolean {
    return this.needsGrad;
  }

  set requiresGrad(on: boolean) {
    if (on && this.dtype !== 'f32')
      throw new TensorError(
        `only f32 tensors can require gradients; this one is ${this.dtype} (Tensor #${this.id} ${formatShape(this.shape)})`,
      );
    this.needsGrad = on;
  }

  get rank(): number {
    return this.shape.length;
  }

  get storage(): Storage {
    if (!this.storageRef)
      throw new TensorError(`Tensor #${this.id} ${formatShape(this.shape)} was disposed and cannot be used.`);
    return this.storageRef;
  }

  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }

  get isDisposed(): boolean {
    return this.storageRef === null;
  }

  get isKept(): boolean {
    return this.kept;
  }

  /** Exempt from scope disposal (parameters, optimizer state, results you hold on to). */
  keep(): this {
    this.kept = true;
    return this;
  }

  /** Give the storage reference back now; idempotent. */
  dispose(): void {
    if (!this.storageRef) return;
    this.storageRef.release();
    this.storageRef = null;
    const node = this.gradFn;
    this.gradFn = null;
    node?.unref();
  }

  /**
   * A new handle on the same storage (no copy), tracked by the current scope. Like detach(),
   * it is NOT part of the autograd graph; use reshape() for a differentiable view.
   */
  view(shape: Shape = this.shape, tracked = true): Tensor {
    return new Tensor(this.storage.retain(), shape, this.dtype, tracked);
  }

  /**
   * Accumulate d(this)/d(leaf) into every leaf's `.grad` (this must be a scalar unless `grad`
   * is given). Saved activations are released as the walk passes them.
   */
  backward(grad?: Tensor): void {
    if (!backwardHook) throw new TensorError('backward is not available (import from @spine/tensor)');
    backwardHook(this, grad);
  }

  /**
   * Read the values back (submits pending GPU work). Problems that kernels recorded on the
   * device since the last read (e.g. a class index out of range) are thrown here.
   */
  async data(): Promise<Float32Array | Int32Array> {
    const storage = this.storage;
    const asOf = storage.writeCount;
    const f16 = this.dtype === 'f16';
    const bytes = await getEngine().read(storage.buffer, f16 ? f16ByteLength(this.size) : this.size * 4);
    const values =
      this.dtype === 'i32' ? new Int32Array(bytes) : f16 ? unpackF16(bytes, this.size) : new Float32Array(bytes);
    storage.keepRead(values, asOf);
    await runDeviceChecks();
    return values;
  }

  /**
   * The values without a readback when they are already on the host (the tensor was made from
   * host values, written with writeData, or read since its last write; small tensors only), a
   * copy; otherwise null.
   */
  cachedData(): Float32Array | Int32Array | null {
    return this.storageRef?.hostCopy?.slice() ?? null;
  }

  /** PyTorch's layout of the values, e.g. `tensor([[1., 2.], [3., 4.]], requiresGrad=true)` (reads them back). */
  async format(): Promise<string> {
    return formatTensor(await this.data(), this.shape, this.dtype, {
      requiresGrad: this.requiresGrad,
      gradFn: this.gradFn?.name ?? null,
    });
  }

  /** console.log the values as PyTorch prints them (reads them back). */
  async print(): Promise<void> {
    console.log(await this.format());
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1)
      throw new TensorError(`item(): tensor has ${this.size} elements, expected 1 (shape ${formatShape(this.shape)})`);
    return (await this.data())[0]!;
  }

  /** Nested arrays, like PyTorch's tolist() (for small tensors and debugging). */
  async toArray(): Promise<unknown> {
    const flat = Array.from(await this.data());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** `Tensor(f32, [2, 3], #12)`, with `requiresGrad`, `gradFn=<op>` or `disposed` when they apply. */
  toString(): string {
    const notes = this.isDisposed
      ? ', disposed'
      : this.gradFn
        ? `, gradFn=<${this.gradFn.name}>`
        : this.requiresGrad
          ? ', requiresGrad'
          : '';
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}, #${this.id}${notes})`;
  }

  /**
   * What console.log and util.inspect show: toString(), then the values when they are already
   * on the host (see cachedData), laid out as PyTorch prints them. Never reads from the device.
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const head = this.toString();
    const values = this.storageRef?.hostCopy;
    return values ? `${head} ${formatValues(values, this.shape, this.dtype, head.length + 1)}` : head;
  }
}
