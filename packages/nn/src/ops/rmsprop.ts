// The RMSprop update as a fused update rule, in torch.optim.RMSprop's order (PyTorch 1.13,
// single-tensor path), per element:
//
//   d = maximize ? -g : g;   d = d + wd * p
//   s = alpha * s + (1 - alpha) * d * d
//   centered:  a = alpha * a + (1 - alpha) * d;   avg = sqrt(s - a * a) + eps
//   otherwise: avg = sqrt(s) + eps
//   momentum:  b = mu * b + d / avg;   p = p - lr * b
//   otherwise: p = p - lr * d / avg
import type { UpdateRule } from './multi-tensor.js';

export interface RmspropRuleOptions {
  centered: boolean;
  momentum: boolean;
  maximize: boolean;
  decay: boolean;
}

/** State names in PyTorch's order: square_avg, momentum_buffer (momentum > 0), grad_avg (centered). */
export function rmspropStates(o: { centered: boolean; momentum: boolean }): string[] {
  return ['square_avg', ...(o.momentum ? ['momentum_buffer'] : []), ...(o.centered ? ['grad_avg'] : [])];
}

export function rmspropRule(o: RmspropRuleOptions): UpdateRule {
  const lines = [`var d = ${o.maximize ? '-g' : 'g'};`];
  if (o.decay) lines.push('d = d + wd * p;');
  lines.push('square_avg = alpha * square_avg + (1.0 - alpha) * d * d;');
  if (o.centered)
    lines.push(
      'grad_avg = alpha * grad_avg + (1.0 - alpha) * d;',
      'let avg = sqrt(square_avg - grad_avg * grad_avg) + eps;',
    );
  else lines.push('let avg = sqrt(square_avg) + eps;');
  if (o.momentum) lines.push('momentum_buffer = mu * momentum_buffer + d / avg;', 'p = p - lr * momentum_buffer;');
  else lines.push('p = p - lr * d / avg;');
  return {
    name: 'rmsprop_step',
    globals: ['lr', 'alpha', 'eps', 'wd', 'mu'],
    perSlot: [],
    states: rmspropStates(o),
    body: lines.join('\n    '),
  };
}
