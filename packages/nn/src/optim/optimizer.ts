// The part of torch.optim.Optimizer that Adam, AdamW and RMSprop share: parameter groups with
// their own options, state per parameter, and state dicts in PyTorch's layout:
//
//   { state: Map(index -> { step, exp_avg, ... }), param_groups: [{ lr, betas, weight_decay, ..., params: [index] }] }
//
// with indices numbering the parameters over all groups in order, and group options under
// PyTorch's snake_case names (a group's `weightDecay` is `weight_decay` in the dict).
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';

/** A parameter's state: tensors the optimizer keeps (kept, the parameter's shape) and its step. */
export type ParamState = Record<string, T.Tensor | number>;

export interface OptimizerStateDict {
  state: Map<number, ParamState>;
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

export type GroupOf<O> = O & { params: T.Tensor[]; initialLr?: number; name?: string };
export type GroupSpec<O> = { params: T.Tensor[]; name?: string } & Partial<O>;

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export abstract class Optimizer<O extends { lr: number }> {
  readonly paramGroups: GroupOf<O>[];
  protected readonly state = new Map<T.Tensor, ParamState>();

  constructor(
    protected readonly kind: string,
    params: T.Tensor[] | GroupSpec<O>[],
    defaults: O,
  ) {
    if (!params.length) throw new NnError(`${kind}: got an empty parameter list`);
    const specs: GroupSpec<O>[] =
      params[0] instanceof T.Tensor ? [{ params: params as T.Tensor[] } as GroupSpec<O>] : (params as GroupSpec<O>[]);
    const seen = new Set<T.Tensor>();
    this.paramGroups = specs.map((s) => {
      for (const p of s.params) {
        if (seen.has(p)) throw new NnError(`${kind}: a parameter appears in more than one group`);
        seen.add(p);
      }
      const group = {} as GroupOf<O>;
      // Arrays (betas) are copied: groups must not share one that a scheduler or user changes.
      for (const k of Object.keys(defaults) as (keyof O)[]) {
        const v = (s[k] ?? defaults[k]) as unknown;
        (group as O)[k] = (Array.isArray(v) ? [...(v as unknown[])] : v) as O[keyof O];
      }
      group.params = [...s.params];
      if (s.name !== undefined) group.name = s.name;
      this.validate(group);
      return group;
    });
  }

  /** Throw an NnError naming the option when a group's options are out of range. */
  protected abstract validate(group: O): void;

  /** The state tensor names a parameter of `group` has once it has stepped. */
  protected abstract stateKeys(group: O): string[];

  /** One update of every parameter that has a gradient; state starts on a parameter's first step. */
  abstract step(): void;

  /**
   * A parameter's state, created (zeros, step 0) on its first step. The buffers follow the
   * group's options: one that options turned on later (amsgrad, momentum) starts at zeros then
   * (PyTorch would fail with a KeyError), one they turned off goes, so the state always has the
   * keys `loadStateDict` expects for those options.
   */
  protected stateOf(p: T.Tensor, group: O): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0 };
      this.state.set(p, s);
    }
    const keys = this.stateKeys(group);
    for (const [k, v] of Object.entries(s)) {
      if (k !== 'step' && !keys.includes(k)) {
        (v as T.Tensor).dispose();
        delete s[k];
      }
    }
    for (const k of keys) s[k] ??= T.zeros(p.shape).keep();
    return s;
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

  /** Options and state keyed by parameter position, as torch's optimizer.state_dict(); the tensors are the live ones. */
  stateDict(): OptimizerStateDict {
    let index = 0;
    const state = new Map<number, ParamState>();
    const param_groups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> & { params: number[] } = { params: [] };
      for (const [k, v] of Object.entries(g))
        if (k !== 'params') out[snake(k)] = Array.isArray(v) ? [...(v as unknown[])] : v;
      out.params = g.params.map((p) => {
        const s = this.state.get(p);
        if (s) state.set(index, { ...s });
        return index++;
      });
      return out;
    });
    return { state, param_groups };
  }

  /** Restore options and state (tensors copied into new kept tensors), checking every entry against the parameters. */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.kind} state dict`;
    if (sd.param_groups.length !== this.paramGroups.length)
      throw new NnError(
        `${where} has ${sd.param_groups.length} parameter groups, the optimizer ${this.paramGroups.length}`,
      );
    sd.param_groups.forEach((s, i) => {
      const g = this.paramGroups[i]!;
      if (s.params.length !== g.params.length)
        throw new NnError(`${where}: group ${i} has ${s.params.length} parameters, the optimizer ${g.params.length}`);
    });
    // The options as they will be after loading decide which state a parameter must have.
    const options = sd.param_groups.map((s, i) => {
      const o = { ...this.paramGroups[i]! } as Record<string, unknown>;
      for (const [k, v] of Object.entries(s))
        if (k !== 'params') o[camel(k)] = Array.isArray(v) ? [...(v as unknown[])] : v;
      delete o.params;
      this.validate(o as unknown as O);
      return o as unknown as O;
    });
    const flat = this.paramGroups.flatMap((g, i) => g.params.map((p) => ({ p, g: options[i]! })));
    const loaded = new Map<T.Tensor, ParamState>();
    try {
      for (const [index, entry] of sd.state) {
        const at = flat[index];
        if (!at) throw new NnError(`${where} has state for parameter ${index}, the optimizer has ${flat.length}`);
        const keys = this.stateKeys(at.g);
        const s: ParamState = { step: 0 };
        loaded.set(at.p, s);
        for (const [k, v] of Object.entries(entry)) {
          if (k === 'step') {
            const step = typeof v === 'number' ? v : NaN;
            if (!Number.isInteger(step) || step < 0)
              throw new NnError(`${where}: parameter ${index} has step ${String(v)}, not a count`);
            s.step = step;
            continue;
          }
          if (!keys.includes(k))
            throw new NnError(
              `${where}: parameter ${index} has state '${k}', which ${this.kind} with these options does not keep (it keeps ${keys.join(', ') || 'none'})`,
            );
          if (!(v instanceof T.Tensor) || v.size !== at.p.size)
            throw new NnError(`${where}: '${k}' of parameter ${index} must be a tensor of ${at.p.size} values`);
          const copy = T.empty(at.p.shape).keep();
          s[k] = copy;
          T.assign(copy, v.shape.length === at.p.shape.length ? v : T.reshape(v, at.p.shape));
        }
        for (const k of keys)
          if (!(s[k] instanceof T.Tensor)) throw new NnError(`${where}: parameter ${index} has no '${k}'`);
      }
    } catch (e) {
      for (const s of loaded.values()) for (const v of Object.values(s)) if (v instanceof T.Tensor) v.dispose();
      throw e;
    }
    options.forEach((o, i) => Object.assign(this.paramGroups[i]!, o));
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof T.Tensor) v.dispose();
    this.state.clear();
    for (const [p, s] of loaded) this.state.set(p, s);
  }

  /** The (parameter, gradient, state) of every parameter of `group` with a gradient, its step advanced. */
  protected stepping(group: GroupOf<O>): { p: T.Tensor; grad: T.Tensor; s: ParamState; step: number }[] {
    return group.params.flatMap((p) => {
      if (!p.grad) return [];
      const s = this.stateOf(p, group);
      // A replayed step (T.replayable) counts its steps too.
      T.hostEffect(() => (s.step = (s.step as number) + 1));
      return [{ p, grad: p.grad, s, step: s.step as number }];
    });
  }
}

/** Throw when `v` is not a finite number in [lo, hi) (hi exclusive when `open`). */
export function checkRange(kind: string, name: string, v: unknown, lo: number, hi = Infinity, open = false): void {
  if (typeof v !== 'number' || !(v >= lo) || !(open ? v < hi : v <= hi) || !Number.isFinite(v)) {
    throw new NnError(`${kind}: ${name} must be a number in [${lo}, ${hi}${open ? ')' : ']'}, got ${String(v)}`);
  }
}
