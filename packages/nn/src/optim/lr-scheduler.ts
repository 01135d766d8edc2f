// Learning-rate schedulers with PyTorch's semantics (torch.optim.lr_scheduler), stepped once
// per epoch. Closed forms where PyTorch has them, so a resumed run needs only `lastEpoch`.
import { NnError } from '../errors.js';

/** What a scheduler needs from an optimizer. */
export interface HasParamGroups {
  paramGroups: { lr: number; initialLr?: number }[];
}

export abstract class LRScheduler {
  lastEpoch = 0;
  protected readonly baseLrs: number[];

  constructor(readonly optimizer: HasParamGroups) {
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /** The learning rate of each group at `epoch`. */
  protected abstract lrAt(epoch: number, base: number, groupIndex: number): number;

  /** Advance one epoch (or jump to `epoch`, as PyTorch's step(epoch)) and set the groups' learning rates. */
  step(epoch?: number): void {
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    this.apply();
  }

  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, this.baseLrs[i]!, i)));
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, unknown> {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(s: Record<string, unknown>): void {
    if (typeof s.lastEpoch !== 'number') throw new NnError('scheduler state has no lastEpoch');
    this.lastEpoch = s.lastEpoch;
    if (Array.isArray(s.baseLrs)) (s.baseLrs as number[]).forEach((v, i) => (this.baseLrs[i] = v));
    this.apply();
  }
}

/** lr = base * gamma^floor(epoch / stepSize) */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: HasParamGroups,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = base * gamma^(number of milestones reached) */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  constructor(
    optimizer: HasParamGroups,
    milestones: readonly number[],
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    this.milestones = [...milestones].sort((a, b) => a - b);
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** this.milestones.filter((m) => m <= epoch).length;
  }
}

/** lr = base * gamma^epoch */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: HasParamGroups,
    readonly gamma: number,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** epoch;
  }
}

/** lr = etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: HasParamGroups,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
  }
  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

/** Multiply lr by `factor` after `patience` epochs without improvement (torch semantics). */
export class ReduceLROnPlateau {
  private best: number;
  private badEpochs = 0;
  private cooldownCounter = 0;
  lastEpoch = 0;
  private readonly o: Required<Omit<PlateauOptions, 'minLr'>> & { minLr: number[] };

  constructor(
    private readonly optimizer: HasParamGroups,
    options: PlateauOptions = {},
  ) {
    const minLr = options.minLr ?? 0;
    this.o = {
      mode: options.mode ?? 'min',
      factor: options.factor ?? 0.1,
      patience: options.patience ?? 10,
      threshold: options.threshold ?? 1e-4,
      thresholdMode: options.thresholdMode ?? 'rel',
      cooldown: options.cooldown ?? 0,
      eps: options.eps ?? 1e-8,
      minLr: Array.isArray(minLr) ? minLr : optimizer.paramGroups.map(() => minLr),
    };
    if (this.o.factor >= 1) throw new NnError('ReduceLROnPlateau: factor must be < 1');
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode, threshold } = this.o;
    if (mode === 'min') return thresholdMode === 'rel' ? a < this.best * (1 - threshold) : a < this.best - threshold;
    return thresholdMode === 'rel' ? a > this.best * (threshold + 1) : a > this.best + threshold;
  }

  /** Call once per epoch with the monitored metric (e.g. validation loss). */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.o.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const next = Math.max(g.lr * this.o.factor, this.o.minLr[i] ?? 0);
        if (g.lr - next > this.o.eps) g.lr = next;
      });
      this.cooldownCounter = this.o.cooldown;
      this.badEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, unknown> {
    return {
      best: this.best,
      badEpochs: this.badEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lrs: this.getLastLr(),
    };
  }

  loadStateDict(s: Record<string, unknown>): void {
    this.best = s.best as number;
    this.badEpochs = s.badEpochs as number;
    this.cooldownCounter = s.cooldownCounter as number;
    this.lastEpoch = s.lastEpoch as number;
    (s.lrs as number[] | undefined)?.forEach((lr, i) => {
      const g = this.optimizer.paramGroups[i];
      if (g) g.lr = lr;
    });
  }
}
