// conv2d under autocast on the gpu family, like matmulAutocast: f32 in and out, with the input,
// the weight and the incoming gradient rounded to f16 and kept as f16 tensors, which the tiled
// kernels read (half the bytes of f32) and sum in f32, or, where the device has them, the
// subgroup-matrix kernels (tensor cores; 1x1 convolutions too). The bias is rounded to f16
// values. The backward keeps the f16 copies, not f32 ones, for the weight and data gradients.
// Where PyTorch would round the result and the gradients passed back to f16 too, the f32 sums
// are kept (as Conv2d's other autocast path does, amp/autocast.ts). Elsewhere (the cpu family's
// kernels, 1x1 convolutions on the matmul, groups) Conv2d rounds the operands and runs the f32
// kernels; autocastConv2d is that choice, as Conv2d and the fused BN-ReLU-conv ops make it.
import { cast, defineOp, getEngine, roundToHalfValues, scope, sum, type OpContext, type Tensor } from '@spine/tensor';
import {
  convDgrad,
  convForward,
  convGeometry,
  convWgrad,
  isPointwise,
  type Conv2dOptions,
  type ConvGeometry,
} from './conv2d.js';
import { convSubgroupMatrixTiles } from './conv2d-subgroup-matrix.js';
import { conv2dGroups, type GroupedConv2dOptions } from './conv2d-grouped.js';
import { halfGrad, halfOperand, maybe } from '../../amp/autocast.js';

const autocastOp = defineOp({
  name: 'conv2dAutocast',
  forward: (ctx: OpContext, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => {
    const x16 = cast(x, 'f16');
    const w16 = cast(w, 'f16');
    const bias = b ? roundToHalfValues(b) : null;
    const y = convForward(x16, w16, bias, g);
    bias?.dispose();
    const needs = [x.requiresGrad, w.requiresGrad, b?.requiresGrad ?? false];
    if (needs[1]) ctx.save(x16);
    if (needs[0]) ctx.save(w16);
    x16.dispose();
    w16.dispose();
    Object.assign(ctx, { needs, geometry: g, hasBias: b !== null });
    return y;
  },
  backward: (ctx, gy) => {
    const [needX, needW, needB] = ctx.needs as boolean[];
    const x16 = needW ? ctx.saved[0]! : null;
    const w16 = needX ? ctx.saved[needW ? 1 : 0]! : null;
    const g = ctx.geometry as ConvGeometry;
    return scope(() => {
      // The gradient of an f16 result is f16. A strided data gradient spreads it first, in f32.
      const g16 = cast(gy, 'f16');
      const strided = g.sh !== 1 || g.sw !== 1;
      const out: (Tensor | null)[] = [
        w16 ? convDgrad(strided ? cast(g16, 'f32') : g16, w16, g) : null,
        x16 ? convWgrad(x16, g16, g) : null,
      ];
      if (ctx.hasBias) out.push(needB ? sum(cast(g16, 'f32'), [0, 2, 3]) : null);
      return out;
    });
  },
});

/**
 * Whether conv2dAutocast serves this convolution: the gpu family with 'shader-f16', 1x1 ones
 * only where they run on subgroup matrices (elsewhere they round onto the f32 matmul).
 */
export function conv2dAutocastApplies(g: ConvGeometry): boolean {
  const engine = getEngine();
  if (engine.info.kernels !== 'gpu' || !engine.device.features.has('shader-f16')) return false;
  return !isPointwise(g) || convSubgroupMatrixTiles(g.oc) !== null;
}

/**
 * conv2d(x, w, b, options) with f16 operands and f32 sums (autocast's), differentiable in x, w
 * and b; where conv2dAutocastApplies is false, null (the caller takes Conv2d's other path).
 */
export function conv2dAutocast(x: Tensor, w: Tensor, b: Tensor | null, options: Conv2dOptions = {}): Tensor | null {
  const g = convGeometry(x, w, b, options);
  return conv2dAutocastApplies(g) ? autocastOp(x, w, b, g) : null;
}

/**
 * A convolution under autocast, as Conv2d runs it: conv2dAutocast where it applies (groups 1),
 * else the f32 kernels with the operands rounded to f16 and the gradient at the output too.
 */
export function autocastConv2d(x: Tensor, w: Tensor, b: Tensor | null, options: GroupedConv2dOptions = {}): Tensor {
  const { groups = 1, ...conv } = options;
  const half = groups === 1 ? conv2dAutocast(x, w, b, conv) : null;
  if (half) return half;
  return halfGrad(conv2dGroups(halfOperand(x), halfOperand(w), maybe(b, halfOperand), options));
}
