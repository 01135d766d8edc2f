// torch.optim.Adam and torch.optim.AdamW: parameter groups, state per parameter (exp_avg,
// exp_avg_sq, max_exp_avg_sq with amsgrad, and its step), the update in one fused kernel per
// few parameters (ops/adam.ts), state dicts in PyTorch's layout for exact resume.
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { adamRule } from '../ops/adam.js';
import { runUpdate } from '../ops/multi-tensor.js';
import { checkRange, Optimizer, type GroupSpec } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  /** Coefficients of the running averages of the gradient and its square. */
  betas: [number, number];
  /** Added to the denominator after its bias correction. */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay of the parameter. */
  weightDecay: number;
  /** Divide by the largest second moment seen so far (AMSGrad). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

export type AdamGroupSpec = GroupSpec<AdamOptions>;

const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

/** What Adam and AdamW share; they differ in where weight decay applies and its default. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  constructor(
    kind: string,
    private readonly decoupled: boolean,
    params: T.Tensor[] | AdamGroupSpec[],
    options: Partial<AdamOptions>,
  ) {
    super(kind, params, {
      ...ADAM_DEFAULTS,
      ...options,
      betas: [...(options.betas ?? ADAM_DEFAULTS.betas)] as [number, number],
    });
  }

  protected validate(g: AdamOptions): void {
    checkRange(this.kind, 'lr', g.lr, 0);
    checkRange(this.kind, 'eps', g.eps, 0);
    if (!Array.isArray(g.betas) || g.betas.length !== 2)
      throw new NnError(`${this.kind}: betas must be a pair, got ${String(g.betas)}`);
    checkRange(this.kind, 'betas[0]', g.betas[0], 0, 1, true);
    checkRange(this.kind, 'betas[1]', g.betas[1], 0, 1, true);
    checkRange(this.kind, 'weightDecay', g.weightDecay, 0);
  }

  protected stateKeys(g: AdamOptions): string[] {
    return g.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  step(): void {
    T.noGrad(() => {
      for (const g of this.paramGroups) {
        const [b1, b2] = g.betas;
        const rule = adamRule({
          decoupled: this.decoupled,
          amsgrad: g.amsgrad,
          maximize: g.maximize,
          decay: g.weightDecay !== 0,
        });
        // Computed from the parameter's step when the update runs (and again when it replays).
        const slots = this.stepping(g).map(({ p, grad, s }) => ({
          param: p,
          grad,
          states: rule.states.map((k) => s[k] as T.Tensor),
          values: [() => g.lr / (1 - b1 ** (s.step as number)), () => Math.sqrt(1 - b2 ** (s.step as number))],
        }));
        runUpdate(rule, [b1, b2, g.eps, g.weightDecay, 1 - g.lr * g.weightDecay], slots);
      }
    });
  }
}

/** torch.optim.Adam: weight decay as an L2 penalty added to the gradient (default 0). */
export class Adam extends AdamBase {
  constructor(params: T.Tensor[] | AdamGroupSpec[], options: Partial<AdamOptions> = {}) {
    super('Adam', false, params, options);
  }
}

/** torch.optim.AdamW: decoupled weight decay (Loshchilov & Hutter), 0.01 by default. */
export class AdamW extends AdamBase {
  constructor(params: T.Tensor[] | AdamGroupSpec[], options: Partial<AdamOptions> = {}) {
    super('AdamW', true, params, { weightDecay: 1e-2, ...options });
  }
}
