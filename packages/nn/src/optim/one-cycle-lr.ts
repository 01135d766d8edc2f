// torch.optim.lr_scheduler.OneCycleLR (Smith's 1cycle policy), stepped once per batch: the
// learning rate rises from maxLr / divFactor to maxLr over the first pctStart of the steps and
// anneals to that start / finalDivFactor by the end, while the momentum (SGD's momentum, Adam's
// beta1) moves the opposite way between maxMomentum and baseMomentum. Like PyTorch it sets the
// step-0 rate and momentum at construction, and refuses to step past totalSteps.
import { NnError } from '../errors.js';
import { LRScheduler } from './lr-scheduler.js';

/** Optimizers whose groups have a momentum (SGD) or betas (Adam, AdamW). */
export interface HasMomentumGroups {
  paramGroups: { lr: number; initialLr?: number; momentum?: number; betas?: [number, number] }[];
}

export interface OneCycleOptions {
  /** The peak rate, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle (or give epochs and stepsPerEpoch). */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the steps spent rising (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum inversely to the rate (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** Start rate = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final rate = start rate / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** A third phase: rise, fall back to the start rate, then anneal to the final rate. */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: ['start' | 'max' | 'min', 'start' | 'max' | 'min'];
  momentum: ['max' | 'base', 'max' | 'base'];
}

export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly lrs: { start: number; max: number; min: number }[];
  private readonly momenta: { base: number; max: number }[] | null;

  constructor(optimizer: HasMomentumGroups, options: OneCycleOptions) {
    super(optimizer);
    const o = {
      pctStart: 0.3,
      annealStrategy: 'cos' as const,
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
      ...options,
    };
    const groups = optimizer.paramGroups;
    const perGroup = (name: string, v: number | number[]) => {
      if (Array.isArray(v) && v.length !== groups.length)
        throw new NnError(`OneCycleLR: ${name} has ${v.length} values for ${groups.length} parameter groups`);
      return groups.map((_, i) => (Array.isArray(v) ? v[i]! : v));
    };
    const total =
      o.totalSteps ?? (o.epochs !== undefined && o.stepsPerEpoch !== undefined ? o.epochs * o.stepsPerEpoch : NaN);
    if (!Number.isInteger(total) || total < 1)
      throw new NnError(
        `OneCycleLR: give totalSteps, or epochs and stepsPerEpoch, as whole numbers >= 1 (got ${total})`,
      );
    if (!(o.pctStart >= 0 && o.pctStart <= 1))
      throw new NnError(`OneCycleLR: pctStart must be in [0, 1], got ${o.pctStart}`);
    if (o.annealStrategy !== 'cos' && o.annealStrategy !== 'linear')
      throw new NnError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got '${String(o.annealStrategy)}'`);
    this.totalSteps = total;
    const rise = o.pctStart * total - 1;
    this.phases = o.threePhase
      ? [
          { end: rise, lr: ['start', 'max'], momentum: ['max', 'base'] },
          { end: 2 * o.pctStart * total - 2, lr: ['max', 'start'], momentum: ['base', 'max'] },
          { end: total - 1, lr: ['start', 'min'], momentum: ['max', 'max'] },
        ]
      : [
          { end: rise, lr: ['start', 'max'], momentum: ['max', 'base'] },
          { end: total - 1, lr: ['max', 'min'], momentum: ['base', 'max'] },
        ];
    this.anneal =
      o.annealStrategy === 'cos'
        ? (a, b, pct) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
        : (a, b, pct) => (b - a) * pct + a;
    this.lrs = perGroup('maxLr', o.maxLr).map((max, i) => {
      const start = max / o.divFactor;
      groups[i]!.initialLr = start;
      this.baseLrs[i] = start;
      return { start, max, min: start / o.finalDivFactor };
    });
    this.momenta = null;
    if (o.cycleMomentum) {
      const base = perGroup('baseMomentum', o.baseMomentum);
      const max = perGroup('maxMomentum', o.maxMomentum);
      if (groups.some((g) => g.betas === undefined && g.momentum === undefined))
        throw new NnError(
          'OneCycleLR: cycleMomentum needs an optimizer with momentum or betas (pass cycleMomentum: false)',
        );
      this.momenta = groups.map((_, i) => ({ base: base[i]!, max: max[i]! }));
    }
    this.apply();
  }

  /** The phase, and how far into it, at `step`. */
  private where(step: number): { phase: Phase; pct: number } {
    let start = 0;
    for (const [i, phase] of this.phases.entries()) {
      if (step <= phase.end || i === this.phases.length - 1)
        return { phase, pct: (step - start) / (phase.end - start) };
      start = phase.end;
    }
    throw new Error('OneCycleLR: no phases; this looks like a bug');
  }

  protected lrAt(step: number, _base: number, i: number): number {
    const { phase, pct } = this.where(step);
    const l = this.lrs[i]!;
    return this.anneal(l[phase.lr[0]], l[phase.lr[1]], pct);
  }

  protected override apply(): void {
    if (this.lastEpoch > this.totalSteps)
      throw new NnError(`OneCycleLR: stepped ${this.lastEpoch} times, the cycle has ${this.totalSteps} steps`);
    super.apply();
    if (!this.momenta) return;
    const { phase, pct } = this.where(this.lastEpoch);
    (this.optimizer as HasMomentumGroups).paramGroups.forEach((g, i) => {
      const m = this.momenta![i]!;
      const value = this.anneal(m[phase.momentum[0]], m[phase.momentum[1]], pct);
      if (g.betas) g.betas = [value, g.betas[1]];
      else g.momentum = value;
    });
  }
}
