// Grouped and depthwise 2-D convolution (PyTorch's `groups`): the input channels and the
// output channels split into `groups` equal parts, part g of the output convolving only part
// g of the input; weight [OC, C / groups, kH, kW]. Composed as one conv2d per group on channel
// slices and a concat, so every direction is conv2d's kernels and autograd joins them. One
// dispatch chain per group: a depthwise conv of many channels pays for it in dispatches (a
// dedicated depthwise kernel would not).
import { concat, narrow, scope, ShapeError, type Tensor } from '@spine/tensor';
import { conv2d, type Conv2dOptions } from './conv2d.js';

export interface GroupedConv2dOptions extends Conv2dOptions {
  /** Number of channel groups (default 1: plain conv2d; C for depthwise). */
  groups?: number;
}

/** conv2d with `groups`, as torch.nn.functional.conv2d: x [N, C, H, W], w [OC, C / groups, kH, kW], b [OC]. */
export function conv2dGroups(x: Tensor, w: Tensor, b: Tensor | null = null, options: GroupedConv2dOptions = {}): Tensor {
  const { groups = 1, ...conv } = options;
  if (groups === 1) return conv2d(x, w, b, conv);
  if (x.rank !== 4 || w.rank !== 4) throw new ShapeError(`conv2d: input [N, C, H, W] and weight [OC, C / groups, kH, kW] expected, got [${x.shape.join(', ')}] and [${w.shape.join(', ')}]`);
  const [C, OC, Cg] = [x.shape[1]!, w.shape[0]!, w.shape[1]!];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || OC % groups !== 0) throw new ShapeError(`conv2d: ${C} input and ${OC} output channels do not split into ${groups} groups`);
  if (Cg !== C / groups) throw new ShapeError(`conv2d: with ${groups} groups the weight must have ${C / groups} input channels, got [${w.shape.join(', ')}]`);
  const OCg = OC / groups;
  return scope(() => {
    const parts = Array.from({ length: groups }, (_, g) =>
      conv2d(narrow(x, 1, g * Cg, Cg), narrow(w, 0, g * OCg, OCg), b ? narrow(b, 0, g * OCg, OCg) : null, conv),
    );
    return concat(parts, 1);
  });
}
