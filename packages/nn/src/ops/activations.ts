// The activation functions torch.nn.functional has beyond ReLU, as differentiable elementwise
// ops (ops/pointwise.ts): one kernel forward, one backward, PyTorch's derivative at the kinks.
// sigmoid, tanh, softmax and logSoftmax are @spine/tensor's own.
import type { Tensor } from '@spine/tensor';
import { TensorError } from '@spine/tensor';
import { pointwiseOp } from './pointwise.js';

const leaky = pointwiseOp({
  name: 'leakyRelu',
  forward: 'select(T(b) * a, a, a > T(0.0))',
  grads: ['a * select(T(c), T(1.0), b > T(0.0))', null],
});

/** x for x > 0, negativeSlope * x otherwise (PyTorch's default slope 0.01). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (!Number.isFinite(negativeSlope))
    throw new TensorError(`leakyRelu: negativeSlope must be a finite number, got ${negativeSlope}`);
  return leaky(x, negativeSlope);
}

const eluOp = pointwiseOp({
  name: 'elu',
  forward: 'select(T(b) * (exp(a) - T(1.0)), a, a > T(0.0))',
  grads: ['a * select(T(c) * exp(b), T(1.0), b > T(0.0))', null],
});

/** x for x > 0, alpha (e^x - 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  if (!Number.isFinite(alpha)) throw new TensorError(`elu: alpha must be a finite number, got ${alpha}`);
  return eluOp(x, alpha);
}

// WGSL has no erf: Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under f32's
// rounding of the result for the GELU's range of interest).
const ERF = `
fn erf_t(x: T) -> T {
  let z = abs(x);
  let t = T(1.0) / (T(1.0) + T(0.3275911) * z);
  let poly = t * (T(0.254829592) + t * (T(-0.284496736) + t * (T(1.421413741) + t * (T(-1.453152027) + t * T(1.061405429)))));
  return sign(x) * (T(1.0) - poly * exp(-z * z));
}
fn gelu_exact(x: T) -> T { return T(0.5) * x * (T(1.0) + erf_t(x * T(0.70710678118654752))); }
fn gelu_exact_grad(x: T) -> T { return T(0.5) * (T(1.0) + erf_t(x * T(0.70710678118654752))) + x * T(0.39894228040143268) * exp(T(-0.5) * x * x); }`;
// tanh clamped as the tensor table's tanh is: some implementations overflow exp() inside it.
const TANH_GELU = `
fn gelu_inner(x: T) -> T { return tanh(clamp(T(0.79788456080286536) * (x + T(0.044715) * x * x * x), T(-10.0), T(10.0))); }
fn gelu_tanh(x: T) -> T { return T(0.5) * x * (T(1.0) + gelu_inner(x)); }
fn gelu_tanh_grad(x: T) -> T {
  let t = gelu_inner(x);
  return T(0.5) * (T(1.0) + t) + T(0.5) * x * (T(1.0) - t * t) * T(0.79788456080286536) * (T(1.0) + T(0.134145) * x * x);
}`;
const geluExact = pointwiseOp({
  name: 'gelu',
  helpers: ERF,
  forward: 'gelu_exact(a)',
  grads: ['a * gelu_exact_grad(b)'],
});
const geluTanh = pointwiseOp({
  name: 'gelu',
  helpers: TANH_GELU,
  forward: 'gelu_tanh(a)',
  grads: ['a * gelu_tanh_grad(b)'],
});

/** x Φ(x) (approximate 'none', the default) or PyTorch's tanh approximation ('tanh'). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate === 'none') return geluExact(x);
  if (approximate === 'tanh') return geluTanh(x);
  throw new TensorError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
}

const SIGMOID = 'fn sig(x: T) -> T { return T(1.0) / (T(1.0) + exp(-x)); }';
const siluOp = pointwiseOp({
  name: 'silu',
  helpers: SIGMOID,
  forward: 'a * sig(a)',
  grads: ['a * sig(b) * (T(1.0) + b * (T(1.0) - sig(b)))'],
});

/** x sigmoid(x) (swish). */
export function silu(x: Tensor): Tensor {
  return siluOp(x);
}

const hardswishOp = pointwiseOp({
  name: 'hardswish',
  forward: 'a * clamp(a + T(3.0), T(0.0), T(6.0)) / T(6.0)',
  // PyTorch's backward: 0 below -3, x / 3 + 1/2 on [-3, 3), 1 from 3 on. At exactly 3 its
  // scalar loop says 3/2 and its vectorised one (what a tensor of more than a few elements
  // takes) 1; this follows the vectorised one.
  grads: ['a * select(select(T(1.0), b / T(3.0) + T(0.5), b < T(3.0)), T(0.0), b < T(-3.0))'],
});

/** x relu6(x + 3) / 6 (MobileNetV3). */
export function hardswish(x: Tensor): Tensor {
  return hardswishOp(x);
}
