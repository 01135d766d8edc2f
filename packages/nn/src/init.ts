// Initialisers with PyTorch's formulas (torch.nn.init), drawing from @spine/tensor's seeded
// generator (manualSeed makes a model reproducible; the bits differ from PyTorch's RNG).
// Each fills an existing tensor in place and returns it, like the `_` functions of torch.
import * as T from '@spine/tensor';
import { NnError } from './errors.js';

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';

/** torch.nn.init.calculate_gain */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
  }
}

/** fan_in and fan_out of a weight shape ([out, in, ...kernel]). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new NnError(`fan in/out need a weight of rank >= 2, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

function fill(t: T.Tensor, make: () => T.Tensor): T.Tensor {
  T.noGrad(() => T.scope(() => T.assign(t, make())));
  return t;
}

export function uniform_(t: T.Tensor, low = 0, high = 1): T.Tensor {
  return fill(t, () => T.rand(t.shape, { low, high }));
}

export function normal_(t: T.Tensor, mean = 0, std = 1): T.Tensor {
  return fill(t, () => T.randn(t.shape, { mean, std }));
}

export function constant_(t: T.Tensor, value: number): T.Tensor {
  return fill(t, () => T.full(t.shape, value, t.dtype));
}

export const zeros_ = (t: T.Tensor) => constant_(t, 0);
export const ones_ = (t: T.Tensor) => constant_(t, 1);

export interface KaimingOptions {
  /** Negative slope for leaky_relu (PyTorch's `a`). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

/** std = gain / sqrt(fan) (kaiming_normal_; relu: sqrt(2 / fan_in)). */
export function kaimingNormal_(t: T.Tensor, o: KaimingOptions = {}): T.Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt((o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut));
}

/** bound = gain * sqrt(3 / fan) (kaiming_uniform_). */
export function kaimingUniform_(t: T.Tensor, o: KaimingOptions = {}): T.Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  const bound = gain * Math.sqrt(3 / ((o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut));
  return uniform_(t, -bound, bound);
}

/**
 * PyTorch's default for Linear and Conv2d (reset_parameters): weight kaiming_uniform_ with
 * a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias from the same bound.
 */
export function defaultLayerInit_(weight: T.Tensor, bias: T.Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = fans(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
