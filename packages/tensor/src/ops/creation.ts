// Creating tensors: from CPU data, constants, ranges and counter-based random draws.
import { getEngine } from '../device.js';
import { ShapeError, TensorError } from '../errors.js';
import { defineKernel, grid1d, linearIndex, runKernel, uniformPreamble, Uniforms } from '../kernel.js';
import { nextRngBlock, RNG_WGSL, seedKeys } from '../rng.js';
import { checkShape, formatShape, numel, type Shape } from '../shape.js';
import { Storage } from '../storage.js';
import { Tensor, type DType } from '../tensor.js';
import { f16ByteLength, packF16, requireF16, roundToF16 } from '../half.js';
import { runElementwise } from './elementwise-kernel.js';

let poison = false;

/**
 * Testing aid: fill every new tensor with NaN (f32) or a sentinel (i32) before a kernel writes
 * it, so an element a kernel forgets to write shows up instead of reading as a stale value.
 */
export function setPoisonOutputs(on: boolean): void {
  poison = on;
}

/** An uninitialised tensor (ops allocate their outputs with this). */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  const s = checkShape(shape, 'empty');
  const engine = getEngine();
  if (dtype === 'f16') requireF16('empty');
  const bytes = dtype === 'f16' ? f16ByteLength(numel(s)) : numel(s) * 4;
  const t = new Tensor(
    new Storage(
      engine,
      engine.allocate(Math.max(bytes, 4), () => `A ${dtype} tensor of shape ${formatShape(s)}`),
      bytes,
    ),
    s,
    dtype,
  );
  if (poison) fillInto(t, dtype === 'i32' ? -123456789 : NaN);
  return t;
}

function fillInto(t: Tensor, value: number): void {
  // An f16 fill converts a value that f16 holds exactly, so the device's rounding never applies.
  const v = t.dtype === 'f16' ? roundToF16(value) : value;
  runElementwise({ expr: 'a', operands: [{ scalar: v, dtype: t.dtype }], shape: t.shape, out: t });
}

type NestedNumbers = number | boolean | readonly NestedNumbers[];

/** A tensor from CPU values: a typed array, a flat or nested number array, or a number. */
export function tensor(values: Float32Array | Int32Array | NestedNumbers, shape?: Shape, dtype?: DType): Tensor {
  let flat: Float32Array | Int32Array;
  let inferred: number[];
  if (values instanceof Float32Array || values instanceof Int32Array) {
    inferred = [values.length];
    const want = dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
    flat =
      want === 'i32'
        ? values instanceof Int32Array
          ? values
          : Int32Array.from(values)
        : values instanceof Float32Array
          ? values
          : Float32Array.from(values);
  } else {
    inferred = inferShape(values);
    const list = (Array.isArray(values) ? (values as unknown[]).flat(Infinity as 1) : [values]) as (number | boolean)[];
    flat = (dtype ?? 'f32') === 'i32' ? Int32Array.from(list, Number) : Float32Array.from(list, Number);
  }
  const s = shape ? checkShape(shape, 'tensor') : inferred;
  if (numel(s) !== flat.length)
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${formatShape(s)}`);
  const engine = getEngine();
  if (dtype === 'f16') return f16Tensor(flat, s);
  const t = new Tensor(
    new Storage(engine, engine.allocate(Math.max(flat.byteLength, 4)), flat.byteLength),
    s,
    flat instanceof Int32Array ? 'i32' : 'f32',
  );
  if (flat.byteLength > 0) engine.upload(t.buffer, flat);
  t.storage.written(flat);
  return t;
}

/** Host values rounded to f16 (ties to even, like `.half()`) and uploaded packed. */
function f16Tensor(values: Float32Array | Int32Array, shape: Shape): Tensor {
  requireF16('tensor');
  const engine = getEngine();
  const packed = packF16(values);
  const t = new Tensor(
    new Storage(engine, engine.allocate(Math.max(packed.byteLength, 4)), packed.byteLength),
    shape,
    'f16',
  );
  if (packed.byteLength > 0) engine.upload(t.buffer, packed);
  t.storage.written(Float32Array.from(values, roundToF16));
  return t;
}

function inferShape(v: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = (cur as NestedNumbers[])[0] ?? 0;
  }
  return shape;
}

export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  const t = empty(shape, dtype);
  fillInto(t, value);
  return t;
}

export const zeros = (shape: Shape, dtype: DType = 'f32') => full(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = 'f32') => full(shape, 1, dtype);
export const zerosLike = (t: Tensor) => full(t.shape, 0, t.dtype);
export const onesLike = (t: Tensor) => full(t.shape, 1, t.dtype);
export const fullLike = (t: Tensor, value: number) => full(t.shape, value, t.dtype);

const WG = 64;

const arangeKernel = defineKernel<{ dtype: DType }>({
  name: 'arange',
  inputs: 0,
  outputs: 1,
  source: ({ dtype }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read_write> out: array<${dtype}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  out[i] = ${dtype === 'i32' ? 'pi(1u) + i32(i) * pi(2u)' : 'pf(1u) + f32(i) * pf(2u)'};
}`,
});

/** start, start + step, ... up to (not including) end, like torch.arange. */
export function arange(start: number, end?: number, step = 1, dtype: DType = 'f32'): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new TensorError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const t = empty([n], dtype);
  const u = new Uniforms().u32(n);
  if (dtype === 'i32') u.i32(start, step);
  else u.f32(start, step);
  runKernel(arangeKernel, { dtype }, { inputs: [], outputs: [t], uniforms: u, workgroups: grid1d(n, WG) });
  return t;
}

type Dist = 'uniform' | 'normal' | 'bernoulli';

const randomKernel = defineKernel<{ dist: Dist }>({
  name: 'random',
  inputs: 0,
  outputs: 1,
  source: ({ dist }) => `${uniformPreamble()}${RNG_WGSL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(0u)) { return; }
  let k0 = pu(1u); let k1 = pu(2u); let c = pu(3u);
${
  dist === 'uniform'
    ? '  out[i] = pf(4u) + (pf(5u) - pf(4u)) * rng_uniform(k0, k1, c + i);'
    : dist === 'bernoulli'
      ? '  out[i] = select(0.0, 1.0, rng_uniform(k0, k1, c + i) < pf(4u));'
      : `  // Box-Muller on two draws per element; 1 - u keeps log away from 0.
  let u1 = 1.0 - rng_uniform(k0, k1, c + 2u * i);
  let u2 = rng_uniform(k0, k1, c + 2u * i + 1u);
  out[i] = pf(4u) + pf(5u) * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);`
}
}`,
});

export interface RandomOptions {
  /** Fixed seed: the draw depends only on it. Without one, the default generator advances. */
  seed?: number;
}

function random(dist: Dist, shape: Shape, p1: number, p2: number, options: RandomOptions): Tensor {
  const t = empty(shape, 'f32');
  const n = t.size;
  const counters = dist === 'normal' ? 2 * n : n;
  const { keys, counter } =
    options.seed !== undefined ? { keys: seedKeys(options.seed), counter: 0 } : nextRngBlock(counters);
  const u = new Uniforms().u32(n, keys[0], keys[1]).rngCounter(counter).f32(p1, p2);
  runKernel(randomKernel, { dist }, { inputs: [], outputs: [t], uniforms: u, workgroups: grid1d(n, WG) });
  return t;
}

/** Uniform in [low, high). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return random('uniform', shape, options.low ?? 0, options.high ?? 1, options);
}

/** Normal with the given mean and standard deviation. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return random('normal', shape, options.mean ?? 0, options.std ?? 1, options);
}

/** 1 with probability p, else 0 (f32). */
export function bernoulli(shape: Shape, p: number, options: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new TensorError(`bernoulli: p must be in [0, 1], got ${p}`);
  return random('bernoulli', shape, p, 0, options);
}
