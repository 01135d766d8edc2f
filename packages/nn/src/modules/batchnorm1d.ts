// torch.nn.BatchNorm1d: BatchNorm2d's op and state (the statistics per channel over every other
// dim) on [N, C] or [N, C, L] inputs.
import type * as T from '@spine/tensor';
import { ShapeError } from '@spine/tensor';
import { BatchNorm2d } from './norm.js';

export class BatchNorm1d extends BatchNorm2d {
  override forward(x: T.Tensor): T.Tensor {
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== this.numFeatures)
      throw new ShapeError(
        `BatchNorm1d: expected [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L], got [${x.shape.join(', ')}]`,
      );
    return super.forward(x);
  }
}
