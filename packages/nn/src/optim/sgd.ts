// torch.optim.SGD: parameter groups with their own options, each group's momentum buffers in one
// arena, the update itself in a few fused kernels per group (ops/sgd.ts), state dicts for exact
// resume.
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { MomentumArena, sgdStep, type SgdOptions } from '../ops/sgd.js';

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
  /**
   * Momentum buffer per parameter index (flattened over groups), only for parameters that have
   * one. From stateDict() these are copies the caller disposes.
   */
  momentumBuffers: Map<number, T.Tensor>;
}

export class SGD {
  readonly paramGroups: ParamGroup[];
  /** Per group: its parameters' momentum buffers, allocated on the group's first step with momentum. */
  private arenas: (MomentumArena | null)[];

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
    this.arenas = this.paramGroups.map(() => null);
  }

  /**
   * One update of every parameter that has a gradient (PyTorch's order of operations). `skipIf`
   * (an i32 [1] tensor, GradScaler.stepOnDevice's overflow flag): the device skips the update
   * where it is not 0 (sgdStep).
   */
  step(options: { skipIf?: T.Tensor } = {}): void {
    T.noGrad(() => {
      this.paramGroups.forEach((g, i) => {
        this.arenas[i] = sgdStep(
          g.params,
          g.params.map((p) => p.grad),
          this.arenas[i],
          { lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov },
          options.skipIf ?? null,
        );
      });
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

  /**
   * Group options and momentum buffers keyed by parameter position (like torch's). The buffers
   * are copies of the arenas' ranges, new tensors the caller disposes (or a scope does).
   */
  stateDict(): SgdState {
    let index = 0;
    const momentumBuffers = new Map<number, T.Tensor>();
    const paramGroups = this.paramGroups.map((g, gi) => {
      const { params, ...rest } = g;
      const ids = params.map((_, i) => {
        const b = this.arenas[gi]?.read(i);
        if (b) momentumBuffers.set(index, b);
        return index++;
      });
      return { ...rest, params: ids };
    });
    return { paramGroups, momentumBuffers };
  }

  /** Restore options and momentum buffers (copied into new arenas; the given tensors stay the caller's). */
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
    // Where each flat index lives: its group and its position there.
    const at = this.paramGroups.flatMap((g, gi) => g.params.map((_, i) => [gi, i] as const));
    for (const [index, buf] of state.momentumBuffers) {
      const p = flat[index];
      if (!p)
        throw new NnError(`SGD state has a momentum buffer for parameter ${index}, the optimizer has ${flat.length}`);
      if (buf.size !== p.size || buf.dtype !== 'f32')
        throw new NnError(
          `SGD state: momentum buffer ${index} has ${buf.size} ${buf.dtype} values, its parameter ${p.size} f32`,
        );
    }
    this.dispose();
    for (const [index, buf] of state.momentumBuffers) {
      const [gi, i] = at[index]!;
      const arena = (this.arenas[gi] ??= new MomentumArena(this.paramGroups[gi]!.params.map((q) => q.shape)));
      arena.write(i, buf);
    }
  }

  /** Free the momentum buffers (the next step with momentum starts them again, as a fresh optimizer would). */
  dispose(): void {
    for (const a of this.arenas) a?.dispose();
    this.arenas = this.paramGroups.map(() => null);
  }
}
