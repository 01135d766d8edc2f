// torch.optim.RMSprop: parameter groups, state per parameter (square_avg, momentum_buffer,
// grad_avg when centered, and its step), the update in one fused kernel per few parameters
// (ops/rmsprop.ts), state dicts in PyTorch's layout.
import * as T from '@spine/tensor';
import { runUpdate } from '../ops/multi-tensor.js';
import { rmspropRule, rmspropStates } from '../ops/rmsprop.js';
import { checkRange, Optimizer, type GroupSpec } from './optimizer.js';

export interface RmspropOptions {
  lr: number;
  /** Smoothing constant of the running average of the squared gradient. */
  alpha: number;
  /** Added to the root of the average. */
  eps: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Momentum factor (0: no buffer). */
  momentum: number;
  /** Normalise by the variance estimate (the average square less the squared average). */
  centered: boolean;
  maximize: boolean;
}

export type RmspropGroupSpec = GroupSpec<RmspropOptions>;

const DEFAULTS: RmspropOptions = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};

export class RMSprop extends Optimizer<RmspropOptions> {
  constructor(params: T.Tensor[] | RmspropGroupSpec[], options: Partial<RmspropOptions> = {}) {
    super('RMSprop', params, { ...DEFAULTS, ...options });
  }

  protected validate(g: RmspropOptions): void {
    checkRange(this.kind, 'lr', g.lr, 0);
    checkRange(this.kind, 'alpha', g.alpha, 0);
    checkRange(this.kind, 'eps', g.eps, 0);
    checkRange(this.kind, 'weightDecay', g.weightDecay, 0);
    checkRange(this.kind, 'momentum', g.momentum, 0);
  }

  protected stateKeys(g: RmspropOptions): string[] {
    return rmspropStates({ centered: g.centered, momentum: g.momentum > 0 });
  }

  step(): void {
    T.noGrad(() => {
      for (const g of this.paramGroups) {
        const rule = rmspropRule({
          centered: g.centered,
          momentum: g.momentum > 0,
          maximize: g.maximize,
          decay: g.weightDecay !== 0,
        });
        const slots = this.stepping(g).map(({ p, grad, s }) => ({
          param: p,
          grad,
          states: rule.states.map((k) => s[k] as T.Tensor),
          values: [],
        }));
        runUpdate(rule, [g.lr, g.alpha, g.eps, g.weightDecay, g.momentum], slots);
      }
    });
  }
}
