// The Adam and AdamW updates as fused update rules, in torch.optim's order (PyTorch 1.13,
// single-tensor path), per element:
//
//   d = maximize ? -g : g
//   Adam:  d = d + wd * p                    AdamW:  p = p * (1 - lr * wd)
//   m = b1 * m + (1 - b1) * d
//   v = b2 * v + (1 - b2) * d * d
//   vmax = max(vmax, v)                      (amsgrad; the denominator then uses vmax)
//   p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
// eps is added after the bias correction of sqrt(v), as PyTorch does. The step size and
// sqrt(1 - b2^t) are computed in float64 per parameter (its step t can differ from its
// neighbours') and passed as uniforms.
import type { UpdateRule } from './multi-tensor.js';

export interface AdamRuleOptions {
  /** AdamW: weight decay applied to the parameter, not added to the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
  /** Whether weight decay is non-zero (PyTorch skips the term otherwise). */
  decay: boolean;
}

export function adamRule(o: AdamRuleOptions): UpdateRule {
  const lines = [`var d = ${o.maximize ? '-g' : 'g'};`];
  if (o.decay) lines.push(o.decoupled ? 'p = p * keep;' : 'd = d + wd * p;');
  lines.push('exp_avg = b1 * exp_avg + (1.0 - b1) * d;', 'exp_avg_sq = b2 * exp_avg_sq + (1.0 - b2) * d * d;');
  if (o.amsgrad) lines.push('max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq);');
  lines.push(
    `let denom = sqrt(${o.amsgrad ? 'max_exp_avg_sq' : 'exp_avg_sq'}) / bc2_sqrt + eps;`,
    'p = p - step_size * exp_avg / denom;',
  );
  return {
    name: o.decoupled ? 'adamw_step' : 'adam_step',
    // keep = 1 - lr * wd (AdamW's decay factor, computed in float64 as PyTorch's Python does).
    globals: ['b1', 'b2', 'eps', 'wd', 'keep'],
    perSlot: ['step_size', 'bc2_sqrt'],
    states: o.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'],
    body: lines.join('\n    '),
  };
}
