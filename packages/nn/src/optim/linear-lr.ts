// torch.optim.lr_scheduler.LinearLR: the learning rate moves linearly from start * base to
// end * base over `totalIters` epochs, then stays. The usual warm-up (chain it with
// SequentialLR). PyTorch sets start * base already at construction; so does this.
import { NnError } from '../errors.js';
import { LRScheduler, type HasParamGroups } from './lr-scheduler.js';

export interface LinearLROptions {
  /** Factor at epoch 0 (default 1/3). */
  startFactor?: number;
  /** Factor from `totalIters` on (default 1). */
  endFactor?: number;
  /** Epochs of the ramp (default 5). */
  totalIters?: number;
}

export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: HasParamGroups, options: LinearLROptions = {}) {
    super(optimizer);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    // PyTorch accepts a start factor of 0, whose recursive form then gives NaN; the closed form here does not need that exclusion.
    if (!(startFactor >= 0 && startFactor <= 1))
      throw new NnError(`LinearLR: startFactor must be in [0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1))
      throw new NnError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    if (!Number.isInteger(totalIters) || totalIters < 1)
      throw new NnError(`LinearLR: totalIters must be a whole number >= 1, got ${totalIters}`);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.apply();
  }

  protected lrAt(epoch: number, base: number): number {
    return (
      base *
      (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(this.totalIters, epoch)) / this.totalIters)
    );
  }
}
