// Autocast, like torch.autocast on a GPU: inside `autocast(fn)`, Conv2d and Linear take f16
// operands and sum in f32; everything else (batch norm and its statistics, losses, optimizer
// state, the parameters themselves) stays f32.
//
// What rounds to f16, as under PyTorch's autocast: a layer's input, weight and bias (to nearest
// even), and the gradient arriving at its output (the gradient of an f16 result is f16; a loss
// scaler keeps it from underflowing and catches its overflow). Where PyTorch would round a
// layer's result (and the gradients it passes back) to f16 as well, the f32 sums are kept: one
// rounding fewer. Linear runs on the f16 matmul kernels (matmulAutocast); Conv2d, on the gpu
// family, on the tiled conv kernels reading f16 tensors (conv2dAutocast), and elsewhere rounds its
// operands and runs the f32 convolution kernels, which then compute exactly what f16 operands
// with f32 sums give.
import * as T from '@spine/tensor';

let enabled = false;

/** Whether Conv2d and Linear run in mixed precision now (inside `autocast`). */
export function isAutocastEnabled(): boolean {
  return enabled;
}

/**
 * Run `fn` with autocast on (or off, with `on = false`), then restore the previous setting. For
 * a function that returns a promise, the setting lasts until the promise settles: do not run
 * two of those at once.
 */
export function autocast<R>(fn: () => R, on = true): R {
  const before = enabled;
  enabled = on;
  let result: R;
  try {
    result = fn();
  } catch (err) {
    enabled = before;
    throw err;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      enabled = before;
    }) as R;
  }
  enabled = before;
  return result;
}

/** x's values rounded to f16 (one pass; mixed precision needs 'shader-f16' for its matmuls). */
function roundHalf(x: T.Tensor): T.Tensor {
  return T.roundToHalfValues(x);
}

const halfOperandOp = T.defineOp({
  name: 'to_f16',
  forward: (_ctx, x: T.Tensor) => roundHalf(x),
  // The cast's gradient passes through: what arrives is already f16-valued under autocast.
  backward: (_ctx, g) => [g],
});

const halfGradOp = T.defineOp({
  name: 'f16_grad',
  forward: (_ctx, x: T.Tensor) => x.view(),
  backward: (_ctx, g) => [roundHalf(g)],
});

/** x rounded to f16 values (kept as f32), its gradient passed through (a layer's operand). */
export function halfOperand(x: T.Tensor): T.Tensor {
  return halfOperandOp(x);
}

/** x unchanged, its gradient rounded to f16 values (a layer's result under autocast). */
export function halfGrad(x: T.Tensor): T.Tensor {
  return halfGradOp(x);
}

/** f(t) for a tensor, null for null (optional biases). */
export function maybe(t: T.Tensor | null, f: (t: T.Tensor) => T.Tensor): T.Tensor | null {
  return t ? f(t) : null;
}
