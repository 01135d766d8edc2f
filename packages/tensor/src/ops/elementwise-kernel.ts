// One kernel template for every elementwise op: a WGSL expression over operands a, b, ..., h
// (each a strided buffer view or a uniform scalar), written to a (possibly strided) output.
// Copies, permutes, slices, broadcasts, fills and casts are the same kernel with expression `a`.
import {
  defineKernel,
  FAST_DIV_LIMIT,
  FAST_DIV_WGSL,
  grid1d,
  linearIndex,
  runKernel,
  uniformPreamble,
  Uniforms,
} from '../kernel.js';
import { contiguousStrides, mergeDims, numel, sameShape, type Shape } from '../shape.js';
import { Tensor, type DType } from '../tensor.js';
import { TensorError } from '../errors.js';
import { F16_BITS_WGSL } from '../half.js';

const WG = 64;

/** WGSL `to_f16(f32 or vec4<f32>)`: rounded to nearest even by half.ts's integer rounding. */
const F16_STORE_WGSL = `${F16_BITS_WGSL}
fn f16_of(v: f32) -> f16 { return bitcast<vec2<f16>>(f16_bits(bitcast<u32>(v))).x; }
fn to_f16(v: f32) -> f16 { return f16_of(v); }
fn to_f16x4(v: vec4<f32>) -> vec4<f16> { return vec4<f16>(f16_of(v.x), f16_of(v.y), f16_of(v.z), f16_of(v.w)); }
`;
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
/** The most operands one elementwise expression may name. */
export const MAX_OPERANDS = NAMES.length;

/** A buffer read with its own offset and strides (0 strides broadcast). */
export interface BufferOperand {
  tensor: Tensor;
  offset: number;
  strides: readonly number[];
}
export interface ScalarOperand {
  scalar: number;
  dtype: DType;
}
export type Operand = BufferOperand | ScalarOperand;

interface EwOptions {
  expr: string;
  /** The dtype for buffers, 's:' and the dtype for uniform scalars (an f16 scalar travels as f32). */
  operands: string[];
  /** Compute type alias T (the operands' type) and output type O. */
  t: DType;
  out: DType;
  /** 0: linear (contiguous) indexing; otherwise the number of strided dims. */
  ndim: number;
  vec4: boolean;
  outStrided: boolean;
  /** Decode indices with fdiv (float reciprocals after the scalar words); needs n < 2^24. */
  fastDiv: boolean;
  helpers: string;
}

const elementwiseKernel = defineKernel<EwOptions>({
  name: 'elementwise',
  inputs: (o) => o.operands.filter((k) => !k.startsWith('s:')).length,
  outputs: 1,
  source: (o) => {
    const vt = (d: DType) => (o.vec4 ? `vec4<${d}>` : d);
    // f16 values are computed in f32 and the result rounded to nearest even once, with the
    // integer rounding of half.ts (no device rounding mode applies), as PyTorch computes halves.
    const compute = o.t === 'f16' ? 'f32' : o.t;
    const roundOut = o.out === 'f16';
    const lines: string[] = [
      ...([o.t, o.out, ...o.operands].some((k) => k.endsWith('f16')) ? ['enable f16;'] : []),
      uniformPreamble(),
      o.fastDiv ? FAST_DIV_WGSL : '',
      ...(roundOut ? [F16_STORE_WGSL] : []),
      `alias T = ${vt(compute)};`,
      `alias O = ${vt(o.out)};`,
      o.helpers,
    ];
    let binding = 1;
    o.operands.forEach((k, i) => {
      if (!k.startsWith('s:'))
        lines.push(`@group(0) @binding(${binding++}) var<storage, read> in${i}: array<${vt(k as DType)}>;`);
    });
    lines.push(`@group(0) @binding(${binding}) var<storage, read_write> out: array<O>;`);
    lines.push(`@compute @workgroup_size(${WG})`);
    lines.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    lines.push(`  let i = ${linearIndex(WG)};`);
    lines.push('  if (i >= pu(0u)) { return; }');
    // Word layout: n, shape[ndim], outOffset, outStrides[ndim if outStrided], then per buffer
    // operand: offset, strides[ndim]; then scalar operands.
    let w = 1 + o.ndim;
    const outOff = w++;
    const outStrideBase = w;
    if (o.outStrided) w += o.ndim;
    const opWords: number[] = [];
    o.operands.forEach((k) => {
      opWords.push(w);
      w += k.startsWith('s:') ? 1 : 1 + o.ndim;
    });
    if (o.ndim === 0) {
      lines.push(`  let oo = i + pu(${outOff}u);`);
      o.operands.forEach((k, j) => {
        if (!k.startsWith('s:')) lines.push(`  let o${j} = i + pu(${opWords[j]}u);`);
      });
    } else {
      lines.push('  var r = i;', o.outStrided ? `  var oo = pu(${outOff}u);` : `  let oo = i + pu(${outOff}u);`);
      o.operands.forEach((k, j) => {
        if (!k.startsWith('s:')) lines.push(`  var o${j} = pu(${opWords[j]}u);`);
      });
      const recip = w; // reciprocals of the dims follow the scalar operands
      for (let d = o.ndim - 1; d >= 0; d--) {
        // The outermost coordinate is what is left: no division.
        if (d === 0) lines.push('  { let c = r;');
        else if (o.fastDiv)
          lines.push(
            `  { let dim = pu(${1 + d}u); let q = fdiv(r, dim, pf(${recip + d}u)); let c = r - q * dim; r = q;`,
          );
        else lines.push(`  { let dim = pu(${1 + d}u); let c = r % dim; r = r / dim;`);
        if (o.outStrided) lines.push(`    oo += c * pu(${outStrideBase + d}u);`);
        o.operands.forEach((k, j) => {
          if (!k.startsWith('s:')) lines.push(`    o${j} += c * pu(${opWords[j]! + 1 + d}u);`);
        });
        lines.push('  }');
      }
    }
    o.operands.forEach((k, j) => {
      const name = NAMES[j]!;
      // A number operand of an f16 op enters the f32 arithmetic as it is (not rounded to f16 first).
      if (k === 's:f32' || k === 's:f16') lines.push(`  let ${name} = T(pf(${opWords[j]}u));`);
      else if (k === 's:i32') lines.push(`  let ${name} = T(pi(${opWords[j]}u));`);
      else if (k === 'f16') lines.push(`  let ${name} = T(in${j}[o${j}]);`);
      else lines.push(`  let ${name} = in${j}[o${j}];`);
    });
    const store = roundOut ? `${o.vec4 ? 'to_f16x4' : 'to_f16'}(${vt('f32')}(${o.expr}))` : o.expr;
    lines.push(`  out[oo] = ${store};`, '}');
    return lines.join('\n');
  },
});

export interface ElementwiseCall {
  expr: string;
  operands: readonly Operand[];
  /** The iteration shape (the output's logical shape). */
  shape: Shape;
  out: Tensor;
  outOffset?: number;
  /** Output strides; omit for a contiguous output. */
  outStrides?: readonly number[];
  /** Compute type T; defaults to the first operand's dtype. */
  t?: DType;
  /** Set when the expression only works on scalars (no vec4 variant). */
  scalarOnly?: boolean;
  helpers?: string;
}

const MAX_DIMS = 6;

/** Record the elementwise kernel for one call. Chooses vec4, linear or strided indexing. */
export function runElementwise(call: ElementwiseCall): void {
  const n = numel(call.shape);
  if (n === 0) return;
  const outStrides = call.outStrides ?? contiguousStrides(call.shape);
  const outOffset = call.outOffset ?? 0;
  const buffers = call.operands.filter((o): o is BufferOperand => 'tensor' in o);
  const t = call.t ?? (call.operands[0] ? operandDtype(call.operands[0]) : call.out.dtype);
  const natural = contiguousStrides(call.shape);
  const linear = sameShape(outStrides, natural) && buffers.every((b) => sameShape(b.strides, natural));
  let ndim = 0;
  let shape: number[] = [n];
  let strideSets: number[][] = [];
  if (!linear) {
    const merged = mergeDims(call.shape, [[...outStrides], ...buffers.map((b) => [...b.strides])]);
    ndim = merged.shape.length;
    shape = merged.shape;
    strideSets = merged.strides;
    if (ndim > MAX_DIMS)
      throw new TensorError(`elementwise: ${ndim} non-mergeable dimensions exceed the limit of ${MAX_DIMS}`);
    if (ndim === 0) {
      ndim = 1;
      shape = [1];
      strideSets = strideSets.map(() => [0]);
    }
  }
  const aligned = !call.scalarOnly && outOffset % 4 === 0 && buffers.every((b) => b.offset % 4 === 0);
  // Strided vec4: when every operand and the output run contiguously along the innermost dim
  // (a multiple of 4) and all other strides are multiples of 4, whole vec4s move at once
  // (e.g. [128, 1, 1024] + [1, 128, 1024]): a quarter of the invocations and index decodes.
  const last = ndim - 1;
  const stridedVec4 =
    ndim > 0 &&
    aligned &&
    shape[last]! % 4 === 0 &&
    strideSets.every((st) => st[last] === 1 && st.every((v, d) => d === last || v % 4 === 0));
  const vec4 = (linear && aligned && n % 4 === 0) || stridedVec4;
  const div = vec4 ? 4 : 1;
  if (stridedVec4) {
    shape = shape.map((d, i) => (i === last ? d / 4 : d));
    strideSets = strideSets.map((st) => st.map((v, i) => (i === last ? 1 : v / 4)));
  }
  const u = new Uniforms();
  u.u32(n / div);
  if (ndim > 0) u.u32(...shape);
  u.u32(outOffset / div);
  const outStrided = ndim > 0 && !sameShape(strideSets[0]!, contiguousStrides(shape));
  if (outStrided) u.u32(...strideSets[0]!);
  let k = 1;
  for (const op of call.operands) {
    if ('tensor' in op) {
      u.u32(op.offset / div);
      if (ndim > 0) u.u32(...strideSets[k++]!);
    } else if (op.dtype === 'i32') u.i32(op.scalar);
    else u.f32(op.scalar);
  }
  const fastDiv = ndim > 1 && n / div < FAST_DIV_LIMIT;
  if (fastDiv) u.f32(...shape.map((d) => 1 / d));
  const options: EwOptions = {
    expr: call.expr,
    operands: call.operands.map((o) => ('tensor' in o ? o.tensor.dtype : `s:${o.dtype}`)),
    t,
    out: call.out.dtype,
    ndim,
    vec4,
    outStrided,
    fastDiv,
    helpers: call.helpers ?? '',
  };
  runKernel(elementwiseKernel, options, {
    inputs: buffers.map((b) => b.tensor),
    outputs: [call.out],
    uniforms: u,
    workgroups: grid1d(n / div, WG),
  });
}

export function operandDtype(o: Operand): DType {
  return 'tensor' in o ? o.tensor.dtype : o.dtype;
}

/** A whole tensor read as if broadcast to `shape`. */
export function broadcastOperand(t: Tensor, shape: Shape): BufferOperand {
  const own = contiguousStrides(t.shape);
  const strides = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < t.shape.length; i++) {
    const o = shape.length - t.shape.length + i;
    strides[o] = t.shape[i] === 1 && shape[o] !== 1 ? 0 : own[i]!;
  }
  return { tensor: t, offset: 0, strides };
}
