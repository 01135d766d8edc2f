// The elementwise table: one entry per op drives its WGSL kernel expression, its float64
// reference (used by the tests) and whether it takes integers. Backward rules sit beside the
// public functions in elementwise.ts. In expressions, `T(...)` builds a value of the operand
// type (f32 or vec4<f32>, so literals work in the vec4 variant) and `O(...)` of the output type.

export interface ElementwiseDef {
  arity: 1 | 2 | 3;
  wgsl: string;
  /** float64 reference of the same function. */
  ref: (...x: number[]) => number;
  /** Accepts i32 operands too (otherwise f32 only). */
  ints?: boolean;
  /** Output dtype when it differs from the operands' (comparisons give f32 masks). */
  out?: 'f32';
  /** The expression needs scalar operands (no vec4 variant). */
  scalarOnly?: boolean;
  helpers?: string;
}

const POW_HELPER = `
// pow with PyTorch's results where WGSL's pow is undefined: x^0 = 1, negative bases with
// integer exponents keep the sign of odd powers.
fn pow_t(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0 || fract(b) != 0.0) { return pow(a, b); }
  let r = pow(-a, b);
  return select(r, -r, fract(b * 0.5) != 0.0);
}`;

const cmp = (op: string, ref: (a: number, b: number) => boolean): ElementwiseDef => ({
  arity: 2,
  wgsl: `select(O(0.0), O(1.0), a ${op} b)`,
  ref: (a, b) => (ref(a, b) ? 1 : 0),
  ints: true,
  out: 'f32',
});

export const ELEMENTWISE = {
  // unary
  neg: { arity: 1, wgsl: '-a', ref: (a) => -a, ints: true },
  exp: { arity: 1, wgsl: 'exp(a)', ref: Math.exp },
  log: { arity: 1, wgsl: 'log(a)', ref: Math.log },
  sqrt: { arity: 1, wgsl: 'sqrt(a)', ref: Math.sqrt },
  rsqrt: { arity: 1, wgsl: 'inverseSqrt(a)', ref: (a) => 1 / Math.sqrt(a) },
  relu: { arity: 1, wgsl: 'max(a, T(0))', ref: (a) => Math.max(a, 0), ints: true },
  sigmoid: { arity: 1, wgsl: 'T(1.0) / (T(1.0) + exp(-a))', ref: (a) => 1 / (1 + Math.exp(-a)) },
  // tanh of a large argument overflows exp() inside some implementations; it is exactly ±1
  // in f32 beyond |x| = 10 anyway.
  tanh: { arity: 1, wgsl: 'tanh(clamp(a, T(-10.0), T(10.0)))', ref: Math.tanh },
  abs: { arity: 1, wgsl: 'abs(a)', ref: Math.abs, ints: true },
  square: { arity: 1, wgsl: 'a * a', ref: (a) => a * a, ints: true },
  reciprocal: { arity: 1, wgsl: 'T(1.0) / a', ref: (a) => 1 / a },
  sign: { arity: 1, wgsl: 'sign(a)', ref: Math.sign, ints: true },
  floor: { arity: 1, wgsl: 'floor(a)', ref: Math.floor },
  ceil: { arity: 1, wgsl: 'ceil(a)', ref: Math.ceil },
  // binary
  add: { arity: 2, wgsl: 'a + b', ref: (a, b) => a + b, ints: true },
  sub: { arity: 2, wgsl: 'a - b', ref: (a, b) => a - b, ints: true },
  mul: { arity: 2, wgsl: 'a * b', ref: (a, b) => a * b, ints: true },
  div: { arity: 2, wgsl: 'a / b', ref: (a, b) => a / b },
  pow: { arity: 2, wgsl: 'pow_t(a, b)', ref: Math.pow, scalarOnly: true, helpers: POW_HELPER },
  maximum: { arity: 2, wgsl: 'max(a, b)', ref: Math.max, ints: true },
  minimum: { arity: 2, wgsl: 'min(a, b)', ref: Math.min, ints: true },
  eq: cmp('==', (a, b) => a === b),
  ne: cmp('!=', (a, b) => a !== b),
  lt: cmp('<', (a, b) => a < b),
  le: cmp('<=', (a, b) => a <= b),
  gt: cmp('>', (a, b) => a > b),
  ge: cmp('>=', (a, b) => a >= b),
  // ternary
  where: { arity: 3, wgsl: 'select(c, b, a != T(0))', ref: (c, a, b) => (c !== 0 ? a : b), ints: true },
  clamp: { arity: 3, wgsl: 'min(max(a, b), c)', ref: (x, lo, hi) => Math.min(Math.max(x, lo), hi), ints: true },
} satisfies Record<string, ElementwiseDef>;

export type ElementwiseName = keyof typeof ELEMENTWISE;
