// Grouped and depthwise 2-D convolution (PyTorch's `groups`): the input channels and the
// output channels split into `groups` equal parts, part g of the output convolving only part
// g of the input; weight [OC, C / groups, kH, kW]. Two routes: with at most DIRECT_MAX_CG input
// channels per group (depthwise has one) direct kernels (conv2d-grouped-direct.ts), three
// dispatches each way whatever the number of groups; with more, one conv2d per group on channel
// slices and a concat, so each group's work is conv2d's GEMM and autograd joins them.
import { concat, narrow, scope, ShapeError, type Tensor } from '@spine/tensor';
import { conv2d, pairOf, type Conv2dOptions, type ConvGeometry } from './conv2d.js';
import { conv2dGroupedDirect } from './conv2d-grouped-direct.js';

/** Above this many input channels per group, a group's conv is worth conv2d's GEMM. */
const DIRECT_MAX_CG = 4;

export interface GroupedConv2dOptions extends Conv2dOptions {
  /** Number of channel groups (default 1: plain conv2d; C for depthwise). */
  groups?: number;
}

/** Check shapes and options; the geometry of the whole grouped conv (c: all input channels). */
export function groupedGeometry(x: Tensor, w: Tensor, b: Tensor | null, options: GroupedConv2dOptions): ConvGeometry {
  const groups = options.groups ?? 1;
  if (x.rank !== 4 || w.rank !== 4 || x.dtype !== 'f32' || w.dtype !== 'f32')
    throw new ShapeError(
      `conv2d: f32 input [N, C, H, W] and weight [OC, C / groups, kH, kW] expected, got [${x.shape.join(', ')}] and [${w.shape.join(', ')}]`,
    );
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, cg, kh, kw] = w.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || oc % groups !== 0)
    throw new ShapeError(`conv2d: ${c} input and ${oc} output channels do not split into ${groups} groups`);
  if (cg !== c / groups)
    throw new ShapeError(
      `conv2d: with ${groups} groups the weight must have ${c / groups} input channels, got [${w.shape.join(', ')}]`,
    );
  if (b && (b.rank !== 1 || b.shape[0] !== oc))
    throw new ShapeError(`conv2d: bias must have shape [${oc}], got [${b.shape.join(', ')}]`);
  const [sh, sw] = pairOf(options.stride, 1, 'conv2d: stride', 1);
  const [ph, pw] = pairOf(options.padding, 0, 'conv2d: padding', 0);
  const [dh, dw] = pairOf(options.dilation, 1, 'conv2d: dilation', 1);
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `conv2d: the ${kh}x${kw} kernel (dilation ${dh}x${dw}) does not fit the padded ${h + 2 * ph}x${wd + 2 * pw} input`,
    );
  return { n, c, h, w: wd, oc, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
}

/** The per-group route: conv2d on each group's channel slices, concatenated. */
export function conv2dPerGroup(x: Tensor, w: Tensor, b: Tensor | null, options: GroupedConv2dOptions): Tensor {
  const { groups = 1, ...conv } = options;
  const Cg = w.shape[1]!;
  const OCg = w.shape[0]! / groups;
  return scope(() => {
    const parts = Array.from({ length: groups }, (_, g) =>
      conv2d(narrow(x, 1, g * Cg, Cg), narrow(w, 0, g * OCg, OCg), b ? narrow(b, 0, g * OCg, OCg) : null, conv),
    );
    return concat(parts, 1);
  });
}

/** conv2d with `groups`, as torch.nn.functional.conv2d: x [N, C, H, W], w [OC, C / groups, kH, kW], b [OC]. */
export function conv2dGroups(
  x: Tensor,
  w: Tensor,
  b: Tensor | null = null,
  options: GroupedConv2dOptions = {},
): Tensor {
  const { groups = 1, ...conv } = options;
  if (groups === 1) return conv2d(x, w, b, conv);
  const g = groupedGeometry(x, w, b, options);
  return g.c / groups <= DIRECT_MAX_CG ? conv2dGroupedDirect(x, w, b, g, groups) : conv2dPerGroup(x, w, b, options);
}
