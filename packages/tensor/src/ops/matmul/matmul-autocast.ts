// Mixed-precision matmul (PyTorch autocast's matmul): f32 tensors in and out, f16 operands in
// the kernels, products summed in f32. The operands are rounded to f16 (to nearest even) once
// and saved as f16 for the backward pass, which rounds the incoming gradient to f16 as well
// (what an f16 output's gradient is under autocast) and sums in f32 again.
import { defineOp, type OpContext } from '../../autograd.js';
import type { Tensor } from '../../tensor.js';
import { toF16 } from '../half-cast.js';
import { sumTo } from '../reduce.js';
import { sameShape, type Shape } from '../../shape.js';
import { matmulRaw, type MatmulFlags } from './matmul.js';

function half(t: Tensor): Tensor {
  return t.dtype === 'f16' ? t.view() : toF16(t);
}

const autocastMatmulOp = defineOp({
  name: 'matmul_f16',
  forward: (ctx: OpContext, a: Tensor, b: Tensor, transA: boolean, transB: boolean) => {
    const a16 = half(a);
    const b16 = half(b);
    ctx.save(a16, b16);
    ctx.transA = transA;
    ctx.transB = transB;
    ctx.shapes = [a.shape, b.shape];
    const out = matmulRaw(a16, b16, transA, transB, null, 'f32');
    a16.dispose();
    b16.dispose();
    return out;
  },
  backward: (ctx, g) => {
    const [a, b] = ctx.saved as [Tensor, Tensor];
    const [aShape, bShape] = ctx.shapes as [Shape, Shape];
    const tA = ctx.transA as boolean;
    const tB = ctx.transB as boolean;
    const g16 = toF16(g);
    const da = tA ? matmulRaw(b, g16, tB, true, null, 'f32') : matmulRaw(g16, b, false, !tB, null, 'f32');
    const db = tB ? matmulRaw(g16, a, true, tA, null, 'f32') : matmulRaw(a, g16, !tA, false, null, 'f32');
    g16.dispose();
    return [reduceBatch(da, aShape), reduceBatch(db, bShape)];
  },
});

function reduceBatch(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const out = sumTo(g, shape);
  g.dispose();
  return out;
}

/**
 * op(a) · op(b) of f32 tensors with f16 operands and f32 sums, differentiable (gradients are
 * f32). Needs 'shader-f16'.
 */
export function matmulAutocast(a: Tensor, b: Tensor, flags: Omit<MatmulFlags, 'out'> = {}): Tensor {
  return autocastMatmulOp(a, b, flags.transA ?? false, flags.transB ?? false);
}
