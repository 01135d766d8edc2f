// torch.nn.functional.conv_transpose2d (groups = 1): the adjoint of conv2d. x [N, Cin, H, W] and
// weight [Cin, Cout, kH, kW] give [N, Cout, Ho, Wo], Ho = (H - 1) s - 2 p + d (kH - 1) + op + 1.
// Its forward is conv2d's data gradient for a conv from Cout to Cin channels with that weight,
// its input gradient that conv's forward, its weight gradient that conv's weight gradient with
// the roles of input and upstream gradient swapped: conv2d's kernels in every direction.
import {
  add,
  defineOp,
  noGrad,
  pad,
  reshape,
  scope,
  ShapeError,
  sum,
  type OpContext,
  type Tensor,
} from '@spine/tensor';
import { conv2d, convDgrad, convWgrad, pairOf, type ConvGeometry, type IntPair } from './conv2d/conv2d.js';

export interface ConvTranspose2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  /** Extra rows and columns on one side of the output (to pick among the sizes a strided conv maps alike); below the stride. */
  outputPadding?: IntPair;
  dilation?: IntPair;
}

const convTransposeOp = defineOp({
  name: 'convTranspose2d',
  forward: (ctx: OpContext, x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeometry) => {
    const y = scope(() => {
      const out = convDgrad(x, w, g);
      return b ? add(out, reshape(b, [g.c, 1, 1])) : out;
    });
    ctx.save(x, w);
    Object.assign(ctx, { g, hasBias: b !== null });
    return y;
  },
  backward: (ctx, gy) => {
    const [x, w] = ctx.saved as [Tensor, Tensor];
    const geo = ctx.g as ConvGeometry;
    return noGrad(() => {
      const dx = conv2d(gy, w, null, {
        stride: [geo.sh, geo.sw],
        padding: [geo.ph, geo.pw],
        dilation: [geo.dh, geo.dw],
      });
      const dw = scope(() =>
        convWgrad(
          geo.ph || geo.pw
            ? pad(gy, [
                [0, 0],
                [0, 0],
                [geo.ph, geo.ph],
                [geo.pw, geo.pw],
              ])
            : gy,
          x,
          geo,
        ),
      );
      return ctx.hasBias ? [dx, dw, sum(gy, [0, 2, 3])] : [dx, dw];
    });
  },
});

/** Transposed 2-D convolution, as torch.nn.functional.conv_transpose2d (groups = 1). Differentiable in x, weight and bias. */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  if (x.dtype !== 'f32' || x.rank !== 4)
    throw new ShapeError(`convTranspose2d: input must be f32 [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`);
  if (weight.dtype !== 'f32' || weight.rank !== 4 || weight.shape[0] !== x.shape[1])
    throw new ShapeError(
      `convTranspose2d: weight must be f32 [${x.shape[1]}, out, kH, kW] for input [${x.shape.join(', ')}], got ${weight.dtype} [${weight.shape.join(', ')}]`,
    );
  const [n, cin, h, wd] = x.shape as [number, number, number, number];
  const [, cout, kh, kw] = weight.shape as [number, number, number, number];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout))
    throw new ShapeError(`convTranspose2d: bias must be [${cout}], got [${bias.shape.join(', ')}]`);
  const [sh, sw] = pairOf(options.stride, 1, 'convTranspose2d: stride', 1);
  const [ph, pw] = pairOf(options.padding, 0, 'convTranspose2d: padding', 0);
  const [oph, opw] = pairOf(options.outputPadding, 0, 'convTranspose2d: outputPadding', 0);
  const [dh, dw] = pairOf(options.dilation, 1, 'convTranspose2d: dilation', 1);
  if (oph >= sh || opw >= sw)
    throw new ShapeError(`convTranspose2d: outputPadding [${oph}, ${opw}] must be below the stride [${sh}, ${sw}]`);
  const oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `convTranspose2d: padding [${ph}, ${pw}] leaves an empty output for input [${x.shape.join(', ')}]`,
    );
  // The conv this transposes: from the output (Cout channels, oh x ow) back to the input.
  const g: ConvGeometry = { n, c: cout, h: oh, w: ow, oc: cin, kh, kw, sh, sw, ph, pw, dh, dw, oh: h, ow: wd };
  return convTransposeOp(x, weight, bias, g);
}
