// torch.nn.functional.conv1d as conv2d on a plane of height 1: x [N, C, L] -> [N, C, 1, L],
// weight [O, C, K] -> [O, C, 1, K]; reshapes are views, so the forward and both gradients are
// conv2d's kernels.
import { reshape, ShapeError, type Tensor } from '@spine/tensor';
import { conv2d } from './conv-pool.js';

export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}

export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, options: Conv1dOptions = {}): Tensor {
  if (x.rank !== 3) throw new ShapeError(`conv1d: x must be [N, C, L], got [${x.shape.join(', ')}]`);
  if (w.rank !== 3) throw new ShapeError(`conv1d: weight must be [out, in, K], got [${w.shape.join(', ')}]`);
  const { stride = 1, padding = 0, dilation = 1 } = options;
  const [N, C, L] = x.shape as [number, number, number];
  const [O, , K] = w.shape as [number, number, number];
  const y = conv2d(reshape(x, [N, C, 1, L]), reshape(w, [O, w.shape[1]!, 1, K]), b, {
    stride: [1, stride],
    padding: [0, padding],
    dilation: [1, dilation],
  });
  const out = reshape(y, [N, O, y.shape[3]!]);
  y.dispose();
  return out;
}
