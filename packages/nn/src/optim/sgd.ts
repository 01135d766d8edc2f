// torch.optim.SGD: parameter groups with their own options, momentum buffers per parameter,
// the update itself in one fused kernel per group (ops/sgd.ts), state dicts for exact resume.
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { sgdStep, type SgdOptions } from '../ops/norm-loss.js';

export interface ParamGroup extends Required<SgdOptions> {
  params: T.Tensor[];
  /** Set by schedulers: the learning rate the group started with. */
  initialLr?: number;
  /** Free-form label (e.g. 'classifier'). */
  name?: string;
}

export type ParamGroupSpec = { params: T.Tensor[]; name?: string } & Partial<SgdOptions>;

export interface SgdState {
  paramGroups: (Omit<ParamGroup, 'params'> & { params: number[] })[];
  /** Momentum buffer per parameter index (flattened over groups), as tensors. */
  momentumBuffers: Map<number, T.Tensor>;
}

export class SGD {
  readonly paramGroups: ParamGroup[];
  private readonly momentum = new Map<T.Tensor, T.Tensor>();

  constructor(params: T.Tensor[] | ParamGroupSpec[], defaults: SgdOptions) {
    const specs: ParamGroupSpec[] =
      params.length && params[0] instanceof T.Tensor
        ? [{ params: params as T.Tensor[] }]
        : (params as ParamGroupSpec[]);
    const seen = new Set<T.Tensor>();
    this.paramGroups = specs.map((s) => {
      for (const p of s.params) {
        if (seen.has(p)) throw new NnError('SGD: a parameter appears in more than one group');
        seen.add(p);
      }
      const group: ParamGroup = {
        params: [...s.params],
        lr: s.lr ?? defaults.lr,
        momentum: s.momentum ?? defaults.momentum ?? 0,
        dampening: s.dampening ?? defaults.dampening ?? 0,
        weightDecay: s.weightDecay ?? defaults.weightDecay ?? 0,
        nesterov: s.nesterov ?? defaults.nesterov ?? false,
      };
      if (s.name !== undefined) group.name = s.name;
      return group;
    });
  }

  /** One update of every parameter that has a gradient (PyTorch's order of operations). */
  step(): void {
    T.noGrad(() => {
      for (const g of this.paramGroups) {
        const bufs = g.params.map((p) => this.momentum.get(p) ?? null);
        const next = sgdStep(
          g.params,
          g.params.map((p) => p.grad),
          bufs,
          { lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov },
        );
        next.forEach((b, i) => {
          if (b && b !== bufs[i]) this.momentum.set(g.params[i]!, b.keep());
        });
      }
    });
  }

  /** Drop the gradients of every parameter (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Group options and momentum buffers keyed by parameter position (like torch's). */
  stateDict(): SgdState {
    let index = 0;
    const momentumBuffers = new Map<number, T.Tensor>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      const ids = params.map((p) => {
        const b = this.momentum.get(p);
        if (b) momentumBuffers.set(index, b);
        return index++;
      });
      return { ...rest, params: ids };
    });
    return { paramGroups, momentumBuffers };
  }

  /** Restore options and momentum buffers (copied into new kept tensors). */
  loadStateDict(state: SgdState): void {
    if (state.paramGroups.length !== this.paramGroups.length)
      throw new NnError(
        `SGD state has ${state.paramGroups.length} parameter groups, the optimizer ${this.paramGroups.length}`,
      );
    const flat = this.paramGroups.flatMap((g) => g.params);
    state.paramGroups.forEach((s, i) => {
      const g = this.paramGroups[i]!;
      if (s.params.length !== g.params.length)
        throw new NnError(`SGD state group ${i} has ${s.params.length} parameters, the optimizer ${g.params.length}`);
      const { params: _ids, ...options } = s;
      Object.assign(g, options);
    });
    for (const b of this.momentum.values()) b.dispose();
    this.momentum.clear();
    for (const [index, buf] of state.momentumBuffers) {
      const p = flat[index];
      if (!p)
        throw new NnError(`SGD state has a momentum buffer for parameter ${index}, the optimizer has ${flat.length}`);
      if (buf.size !== p.size)
        throw new NnError(`SGD state: momentum buffer ${index} has ${buf.size} values, its parameter ${p.size}`);
      const copy = T.empty(p.shape).keep();
      T.assign(copy, buf.shape.length === p.shape.length ? buf : T.reshape(buf, p.shape));
      this.momentum.set(p, copy);
    }
  }
}
