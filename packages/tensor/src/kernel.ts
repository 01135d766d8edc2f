// The kernel half of the extension API. A kernel is WGSL generated from compile-time options;
// the pipeline is cached per (kernel, options), never per tensor size: sizes travel as
// uniforms, so DenseNet's dozens of channel counts share one pipeline.
//
// Binding convention: @binding(0) the uniform block `params` (read with pu/pi/pf), then one
// binding per input (read-only storage), then one per output (read_write storage), then the
// kernel's texture bindings, if it declares any.
import { getEngine } from './device.js';
import { UNIFORM_WORDS, type TextureBinding } from './engine.js';
import { TensorError } from './errors.js';
import type { Tensor } from './tensor.js';

export interface KernelSpec<O> {
  name: string;
  /** Number of input and output bindings (may depend on the options). */
  inputs: number | ((options: O) => number);
  outputs: number | ((options: O) => number);
  /** Texture bindings after the buffers (RunArgs.textures supplies their views). */
  textures?: readonly TextureBinding[] | ((options: O) => readonly TextureBinding[]);
  /** The WGSL module for these options; must define `fn main` as the compute entry point. */
  source: (options: O) => string;
}

export interface Kernel<O> extends KernelSpec<O> {
  readonly __kernel: true;
}

export function defineKernel<O = Record<string, never>>(spec: KernelSpec<O>): Kernel<O> {
  return { ...spec, __kernel: true };
}

/** One float's bits, shared by every Uniforms (packing is synchronous). */
const f32Bits = new DataView(new ArrayBuffer(4));

/** A uniform word whose f32 value the host computes at every step (Uniforms.liveF32). */
export interface LiveWord {
  word: number;
  value: () => number;
}

/** Packs the u32/i32/f32 words a dispatch passes to its kernel as uniforms. */
export class Uniforms {
  /** The packed words (i32 words may be negative: the engine stores them modulo 2^32). */
  readonly words: number[] = [];
  /** Indices of the words that hold a random generator's counter (a step replay advances them). */
  readonly counterWords: number[] = [];
  /** Words computed on the host at every step (a step replay computes them again). */
  readonly liveWords: LiveWord[] = [];

  u32(...values: number[]): this {
    for (const v of values) this.words.push(v >>> 0);
    return this;
  }

  /** A counter of the counter-based generator (rng.ts): a u32 word a step replay may advance. */
  rngCounter(value: number): this {
    this.counterWords.push(this.words.length);
    return this.u32(value);
  }

  /**
   * An f32 word computed by `value()` now and again at every replay of a step (T.replayable):
   * host state that changes every step, such as Adam's bias corrections from its step count.
   */
  liveF32(value: () => number): this {
    this.liveWords.push({ word: this.words.length, value });
    return this.f32(value());
  }

  i32(...values: number[]): this {
    for (const v of values) this.words.push(v | 0);
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) {
      f32Bits.setFloat32(0, v, true);
      this.words.push(f32Bits.getUint32(0, true));
    }
    return this;
  }

  get length(): number {
    return this.words.length;
  }

  toArray(): Uint32Array {
    return Uint32Array.from(this.words, (w) => w >>> 0);
  }
}

/** WGSL that declares the uniform block; pu(i)/pi(i)/pf(i) read word i as u32/i32/f32. */
export function uniformPreamble(): string {
  return `struct Params { d: array<vec4<u32>, ${UNIFORM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> params: Params;
fn pu(i: u32) -> u32 { return params.d[i / 4u][i % 4u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
`;
}

/**
 * WGSL `fdiv(r, d, inv)`: r / d for r < 2^24 through a float reciprocal (inv = 1/d, passed as
 * a uniform) and one exact correction step. Software adapters have no vector integer divide
 * (LLVM splits it into one scalar division per lane), so index decoding with `/` and `%`
 * dominated strided kernels there.
 */
export const FAST_DIV_WGSL = `
fn fdiv(r: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(r) * inv);
  q = q - select(0u, 1u, q * d > r);
  q = q + select(0u, 1u, (q + 1u) * d <= r);
  return q;
}
`;

/** Largest index for which fdiv is exact. */
export const FAST_DIV_LIMIT = 1 << 24;

/**
 * Workgroup counts for `threads` invocations in workgroups of `size`, folded into 2-D when
 * one dimension would exceed the 65,535 limit. Kernels recover the linear index with
 * `linearIndex(gid, nwg, size)`.
 */
export function grid1d(threads: number, size: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / size));
  const max = 65535;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** WGSL expression for the linear invocation index of a grid made by grid1d. */
export function linearIndex(size: number): string {
  return `(gid.x + gid.y * nwg.x * ${size}u)`;
}

export interface RunArgs {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  uniforms?: Uniforms | Uint32Array;
  workgroups: readonly [number, number?, number?];
  /** Views for the kernel's texture bindings, in order. */
  textures?: readonly GPUTextureView[];
}

const NO_UNIFORMS = new Uint32Array(0);
const NO_VIEWS: readonly GPUTextureView[] = [];

/** Record one dispatch of `kernel` compiled for `options`. */
export function runKernel<O>(kernel: Kernel<O>, options: O, args: RunArgs): void {
  const engine = getEngine();
  const nIn = typeof kernel.inputs === 'function' ? kernel.inputs(options) : kernel.inputs;
  const nOut = typeof kernel.outputs === 'function' ? kernel.outputs(options) : kernel.outputs;
  if (args.inputs.length !== nIn || args.outputs.length !== nOut) {
    throw new TensorError(
      `kernel ${kernel.name}: expects ${nIn} inputs and ${nOut} outputs, got ${args.inputs.length} and ${args.outputs.length}`,
    );
  }
  const key = `${kernel.name}:${JSON.stringify(options ?? {})}`;
  const textures = typeof kernel.textures === 'function' ? kernel.textures(options) : (kernel.textures ?? []);
  const compiled = engine.pipeline(key, kernel.name, nIn, nOut, () => kernel.source(options), textures);
  if ((args.workgroups[0] ?? 0) * (args.workgroups[1] ?? 1) * (args.workgroups[2] ?? 1) === 0) return;
  const u = args.uniforms instanceof Uniforms ? args.uniforms.words : (args.uniforms ?? NO_UNIFORMS);
  const buffers: GPUBuffer[] = [];
  for (const t of args.inputs) buffers.push(t.buffer);
  for (const t of args.outputs) buffers.push(t.buffer);
  const marked = args.uniforms instanceof Uniforms ? args.uniforms : undefined;
  engine.dispatch(
    compiled,
    buffers,
    u,
    args.workgroups,
    args.textures ?? NO_VIEWS,
    marked?.counterWords,
    marked?.liveWords,
  );
  for (const t of args.outputs) t.storage.written(); // host copies of what it writes are stale
}
