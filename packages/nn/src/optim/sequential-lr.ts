// torch.optim.lr_scheduler.SequentialLR: one scheduler after another, switching at milestone
// epochs; each scheduler restarts from its epoch 0 when its turn comes (a warm-up LinearLR,
// then a CosineAnnealingLR over the rest, say).
import { NnError } from '../errors.js';
import type { HasParamGroups, LRScheduler } from './lr-scheduler.js';

export class SequentialLR {
  lastEpoch = 0;
  private readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  /** `schedulers` must drive `optimizer` and have been made just before (none stepped yet). */
  constructor(
    private readonly optimizer: HasParamGroups,
    schedulers: readonly LRScheduler[],
    milestones: readonly number[],
  ) {
    if (!schedulers.length) throw new NnError('SequentialLR: needs at least one scheduler');
    if (milestones.length !== schedulers.length - 1)
      throw new NnError(
        `SequentialLR: ${schedulers.length} schedulers need ${schedulers.length - 1} milestones, got ${milestones.length}`,
      );
    if (milestones.some((m, i) => !Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1]!)))
      throw new NnError(
        `SequentialLR: milestones must be increasing whole epochs >= 1, got [${milestones.join(', ')}]`,
      );
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new NnError(`SequentialLR: scheduler ${i} drives another optimizer`);
    });
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    // Each scheduler set its epoch-0 rate when made; the first one's rate is the one that holds.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr ?? g.lr;
    this.schedulers[0]!.step(0);
  }

  private current(): number {
    let i = 0;
    while (i < this.milestones.length && this.milestones[i]! <= this.lastEpoch) i++;
    return i;
  }

  step(): void {
    this.lastEpoch++;
    const i = this.current();
    const s = this.schedulers[i]!;
    if (i > 0 && this.milestones[i - 1] === this.lastEpoch) s.step(0);
    else s.step();
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, unknown> {
    return {
      lastEpoch: this.lastEpoch,
      milestones: [...this.milestones],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: Record<string, unknown>): void {
    const subs = state.schedulers;
    if (typeof state.lastEpoch !== 'number' || !Array.isArray(subs) || subs.length !== this.schedulers.length) {
      throw new NnError(`SequentialLR state must have lastEpoch and ${this.schedulers.length} scheduler states`);
    }
    subs.forEach((s, i) => this.schedulers[i]!.loadStateDict(s as Record<string, unknown>));
    this.lastEpoch = state.lastEpoch;
    // Loading each scheduler set its rate; the one whose turn it is decides.
    const active = this.schedulers[this.current()]!;
    active.step(active.lastEpoch);
  }
}
