// Public elementwise ops with broadcasting and their backward rules (tinygrad-style: the
// rules are a table keyed by op name; the kernels come from ELEMENTWISE).
import { defineOp, type OpContext } from '../autograd.js';
import { getEngine } from '../device.js';
import { TensorError } from '../errors.js';
import { broadcastShapes, sameShape, type Shape } from '../shape.js';
import { Tensor, type DType } from '../tensor.js';
import { empty } from './creation.js';
import { toF16, toF32 } from './half-cast.js';
import { ELEMENTWISE, type ElementwiseDef, type ElementwiseName } from './elementwise-table.js';
import { broadcastOperand, MAX_OPERANDS, runElementwise, type Operand } from './elementwise-kernel.js';
import { sumTo } from './reduce.js';

export type TensorLike = Tensor | number;

/**
 * How many same-shape tensors addSame sums in one kernel: up to 8, fewer where the adapter
 * binds fewer storage buffers per shader stage (the inputs and the output).
 */
export function addSameMax(): number {
  return Math.max(2, Math.min(MAX_OPERANDS, getEngine().info.limits.maxStorageBuffersPerShaderStage - 1));
}

/**
 * a + b (+ c ...) for 1 to addSameMax() tensors of one shape and dtype, in one kernel (no
 * autograd): the sum ((a + b) + c) + ..., the order sequential adds give. backward() sums a
 * node's incoming gradients with it, one dispatch for several gradients instead of one each.
 */
export function addSame(ts: readonly Tensor[]): Tensor {
  const [first] = ts;
  if (
    !first ||
    ts.length > addSameMax() ||
    ts.some((t) => !sameShape(t.shape, first.shape) || t.dtype !== first.dtype)
  ) {
    throw new TensorError(
      `addSame: expected 1-${addSameMax()} tensors of one shape and dtype, got ${ts.map((t) => `${t.dtype} [${t.shape.join(', ')}]`).join(', ')}`,
    );
  }
  const out = empty(first.shape, first.dtype);
  const expr = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].slice(0, ts.length).join(' + ');
  runElementwise({
    expr,
    operands: ts.map((t) => broadcastOperand(t, first.shape)),
    shape: first.shape,
    out,
    t: first.dtype,
    helpers: '',
  });
  return out;
}

/** Forward of any table op over tensors and scalars, with broadcasting. */
export function applyElementwise(name: ElementwiseName, args: readonly TensorLike[]): Tensor {
  const def: ElementwiseDef = ELEMENTWISE[name];
  const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
  if (!tensors.length) throw new TensorError(`${name}: at least one operand must be a Tensor`);
  // `where` takes its condition as a mask in any dtype; the values decide the dtype.
  const valueTensors = name === 'where' ? args.slice(1).filter((a): a is Tensor => a instanceof Tensor) : tensors;
  const dtype: DType = valueTensors[0]?.dtype ?? 'f32';
  if (valueTensors.some((t) => t.dtype !== dtype)) {
    throw new TensorError(
      `${name}: operands have dtypes ${valueTensors.map((t) => t.dtype).join(' and ')}; cast one with cast()`,
    );
  }
  if (dtype === 'i32' && !def.ints) throw new TensorError(`${name}: not defined for i32 tensors; cast(x, 'f32') first`);
  const shape = broadcastShapes(name, ...tensors.map((t) => t.shape));
  const operands: Operand[] = args.map((a) => {
    if (!(a instanceof Tensor)) {
      if (dtype === 'i32' && !Number.isInteger(a))
        throw new TensorError(
          `${name}: ${a} is not an integer and the tensor is i32 (PyTorch would promote to float); cast(x, 'f32') first`,
        );
      return { scalar: a, dtype };
    }
    const t = a.dtype === dtype ? a : cast(a, dtype);
    return broadcastOperand(t, shape);
  });
  const out = empty(shape, def.out ?? dtype);
  const call = { expr: def.wgsl, operands, shape, out, t: dtype, helpers: def.helpers ?? '' };
  runElementwise(def.scalarOnly ? { ...call, scalarOnly: true } : call);
  for (const o of operands) if ('tensor' in o && !args.includes(o.tensor)) o.tensor.dispose();
  return out;
}

/**
 * A fused elementwise expression over same-shape tensors, for backward rules and other
 * packages (e.g. `map('a * select(T(0), T(1), b > T(0))', [g, y])`). Not differentiable.
 */
export function map(
  expr: string,
  inputs: readonly TensorLike[],
  options: { out?: DType; scalarOnly?: boolean; helpers?: string } = {},
): Tensor {
  const tensors = inputs.filter((a): a is Tensor => a instanceof Tensor);
  const shape = broadcastShapes('map', ...tensors.map((t) => t.shape));
  const dtype = tensors[0]?.dtype ?? 'f32';
  const out = empty(shape, options.out ?? dtype);
  const operands: Operand[] = inputs.map((a) =>
    a instanceof Tensor ? broadcastOperand(a, shape) : { scalar: a, dtype },
  );
  runElementwise({
    expr,
    operands,
    shape,
    out,
    t: dtype,
    helpers: options.helpers ?? '',
    scalarOnly: options.scalarOnly ?? false,
  });
  return out;
}

type Grads = (TensorLike | null)[];
type Rule = (g: Tensor, x: TensorLike[], y: Tensor) => Grads;

// Backward rules. `x` are the forward operands (tensors or numbers), `y` the output.
const RULES: Partial<Record<ElementwiseName, { saveOut?: boolean; saveIn?: boolean; rule: Rule }>> = {
  neg: { rule: (g) => [neg(g)] },
  exp: { saveOut: true, rule: (g, _x, y) => [map('a * b', [g, y])] },
  log: { saveIn: true, rule: (g, x) => [map('a / b', [g, x[0]!])] },
  sqrt: { saveOut: true, rule: (g, _x, y) => [map('a * T(0.5) / b', [g, y])] },
  rsqrt: { saveOut: true, rule: (g, _x, y) => [map('T(-0.5) * a * b * b * b', [g, y])] },
  // PyTorch's threshold_backward: the gradient passes where the output is positive.
  relu: { saveOut: true, rule: (g, _x, y) => [map('select(T(0), a, b > T(0))', [g, y])] },
  sigmoid: { saveOut: true, rule: (g, _x, y) => [map('a * b * (T(1.0) - b)', [g, y])] },
  tanh: { saveOut: true, rule: (g, _x, y) => [map('a * (T(1.0) - b * b)', [g, y])] },
  abs: { saveIn: true, rule: (g, x) => [map('a * sign(b)', [g, x[0]!])] },
  square: { saveIn: true, rule: (g, x) => [map('T(2) * a * b', [g, x[0]!])] },
  reciprocal: { saveOut: true, rule: (g, _x, y) => [map('-a * b * b', [g, y])] },
  add: { rule: (g) => [g, g] },
  sub: { rule: (g) => [g, neg(g)] },
  mul: { saveIn: true, rule: (g, [a, b]) => [mul(g, b!), mul(g, a!)] },
  // A number operand gets no gradient, and an expression of numbers alone is no tensor op:
  // div and pow compute each gradient only for tensor operands.
  div: {
    saveIn: true,
    rule: (g, [a, b]) => [div(g, b!), b instanceof Tensor ? neg(div(mul(g, a!), mul(b, b))) : null],
  },
  pow: {
    saveIn: true,
    saveOut: true,
    rule: (g, [a, b], y) => [
      a instanceof Tensor ? mul(g, mul(b!, pow(a, typeof b === 'number' ? b - 1 : sub(b!, 1)))) : null,
      // d/db a^b = a^b log a; PyTorch defines it as 0 where a == 0.
      !(b instanceof Tensor)
        ? null
        : a instanceof Tensor
          ? where(eq(a, 0), 0, mul(g, mul(y, log(a))))
          : mul(g, mul(y, a === 0 ? 0 : Math.log(a!))),
    ],
  },
  // Ties split the gradient in half, as PyTorch does for maximum/minimum.
  maximum: {
    saveIn: true,
    rule: (g, [a, b]) => [
      mul(g, map('select(T(0), T(1), a > b) + select(T(0), T(0.5), a == b)', [a!, b!])),
      mul(g, map('select(T(0), T(1), a < b) + select(T(0), T(0.5), a == b)', [a!, b!])),
    ],
  },
  minimum: {
    saveIn: true,
    rule: (g, [a, b]) => [
      mul(g, map('select(T(0), T(1), a < b) + select(T(0), T(0.5), a == b)', [a!, b!])),
      mul(g, map('select(T(0), T(1), a > b) + select(T(0), T(0.5), a == b)', [a!, b!])),
    ],
  },
  where: { saveIn: true, rule: (g, [c]) => [null, where(c!, g, 0), where(c!, 0, g)] },
  clamp: { saveIn: true, rule: (g, [x, lo, hi]) => [mul(g, mul(ge(x!, lo!), le(x!, hi!))), null, null] },
};

function makeOp(name: ElementwiseName): (...args: TensorLike[]) => Tensor {
  const r = RULES[name];
  return defineOp<TensorLike[]>({
    name,
    forward: (ctx: OpContext, ...args: TensorLike[]) => {
      const y = applyElementwise(name, args);
      if (r) {
        ctx.args = args.map((a) => (a instanceof Tensor ? null : a));
        ctx.shapes = args.map((a) => (a instanceof Tensor ? a.shape : null));
        if (r.saveIn) ctx.save(...args.filter((a): a is Tensor => a instanceof Tensor));
        if (r.saveOut) ctx.save(y);
      }
      return y;
    },
    ...(r && {
      backward: (ctx: OpContext, g: Tensor) => {
        const scalars = ctx.args as (number | null)[];
        const shapes = ctx.shapes as (Shape | null)[];
        const saved = [...ctx.saved];
        const x: TensorLike[] = scalars.map((s) => (s !== null ? s : r.saveIn ? saved.shift()! : 0));
        const y = r.saveOut ? saved.shift()! : g;
        const grads = r.rule(g, x, y);
        const out: (Tensor | null)[] = [];
        grads.forEach((gi, i) => {
          const shape = shapes[i];
          if (!shape) return; // scalar operand: no gradient
          if (gi === null) out.push(null);
          else if (!(gi instanceof Tensor)) throw new TensorError(`${name}: backward produced a number`);
          else out.push(sameShape(gi.shape, shape) ? gi : sumTo(gi, shape));
        });
        return out;
      },
    }),
  });
}

export const neg = makeOp('neg');
export const exp = makeOp('exp');
export const log = makeOp('log');
export const sqrt = makeOp('sqrt');
export const rsqrt = makeOp('rsqrt');
export const relu = makeOp('relu');
export const sigmoid = makeOp('sigmoid');
export const tanh = makeOp('tanh');
export const abs = makeOp('abs');
export const square = makeOp('square');
export const reciprocal = makeOp('reciprocal');
export const sign = makeOp('sign');
export const floor = makeOp('floor');
export const ceil = makeOp('ceil');
export const add = makeOp('add') as (a: TensorLike, b: TensorLike) => Tensor;
export const sub = makeOp('sub') as (a: TensorLike, b: TensorLike) => Tensor;
export const mul = makeOp('mul') as (a: TensorLike, b: TensorLike) => Tensor;
export const div = makeOp('div') as (a: TensorLike, b: TensorLike) => Tensor;
export const pow = makeOp('pow') as (a: TensorLike, b: TensorLike) => Tensor;
export const maximum = makeOp('maximum') as (a: TensorLike, b: TensorLike) => Tensor;
export const minimum = makeOp('minimum') as (a: TensorLike, b: TensorLike) => Tensor;
export const eq = makeOp('eq') as (a: TensorLike, b: TensorLike) => Tensor;
export const ne = makeOp('ne') as (a: TensorLike, b: TensorLike) => Tensor;
export const lt = makeOp('lt') as (a: TensorLike, b: TensorLike) => Tensor;
export const le = makeOp('le') as (a: TensorLike, b: TensorLike) => Tensor;
export const gt = makeOp('gt') as (a: TensorLike, b: TensorLike) => Tensor;
export const ge = makeOp('ge') as (a: TensorLike, b: TensorLike) => Tensor;
/** cond ? a : b elementwise (cond nonzero means true). */
export const where = makeOp('where') as (cond: TensorLike, a: TensorLike, b: TensorLike) => Tensor;
const clampOp = makeOp('clamp');
/** Clamp to [lo, hi] (either may be omitted). */
export function clamp(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  const big = x.dtype === 'i32' ? 2147483647 : 3.4028234663852886e38;
  return clampOp(x, Math.max(lo, -big), Math.min(hi, big));
}

/**
 * Convert between f32 and i32 (toward zero, like PyTorch's .to(torch.int32)) and f16 (to
 * nearest even, like .half(); back exactly, like .float(); half-cast.ts).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x.view();
  if (dtype === 'f16' || x.dtype === 'f16') {
    const f32 = x.dtype === 'f16' ? toF32(x) : x.dtype === 'i32' ? cast(x, 'f32') : x;
    if (dtype === 'f32') return f32;
    const out = dtype === 'f16' ? toF16(f32) : cast(f32, dtype);
    if (f32 !== x) f32.dispose();
    return out;
  }
  const out = empty(x.shape, dtype);
  runElementwise({ expr: 'O(a)', operands: [broadcastOperand(x, x.shape)], shape: x.shape, out, t: x.dtype });
  return out;
}
