// float64 softmax / logSoftmax along one axis (max-subtracted, like the kernel and PyTorch).
import { build, get, type Arr } from './ndarray.js';

export function refSoftmax(x: Arr, axis = -1, log = false): Arr {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const n = x.shape[a]!;
  return build(x.shape, (idx) => {
    const line = (j: number) =>
      get(
        x,
        idx.map((v, d) => (d === a ? j : v)),
      );
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, line(j));
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(line(j) - m);
    const v = line(idx[a]!) - m;
    return log ? v - Math.log(s) : Math.exp(v) / s;
  });
}
