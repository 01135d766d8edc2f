// Module: parameters, buffers and children registered by name, so the module tree *is* the
// state dict (torchvision's convention: `features.denseblock1.denselayer1.norm1.weight`).
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import { joinStateGroup, splitStateGroup, type StateGroup } from './state-groups.js';

/** Values a state dict entry may come from: a tensor, or CPU data with its shape. */
export interface StateEntry {
  shape: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array;
}
export type StateSource = T.Tensor | StateEntry;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Mark a tensor as a trainable parameter: kept (scopes leave it alone) and requiring grad. */
export function parameter(t: T.Tensor): T.Tensor {
  t.keep();
  t.requiresGrad = true;
  return t;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, T.Tensor | null>();
  private readonly buffers = new Map<string, { t: T.Tensor | null; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  abstract forward(...inputs: T.Tensor[]): T.Tensor;

  /** Register (or replace) a parameter; null keeps the name with no tensor (e.g. bias=false). */
  registerParameter(name: string, t: T.Tensor | null): T.Tensor | null {
    this.checkName(name, this.params);
    const old = this.params.get(name);
    if (old && old !== t) old.dispose();
    this.params.set(name, t ? parameter(t) : null);
    return t;
  }

  registerBuffer(name: string, t: T.Tensor | null, persistent = true): T.Tensor | null {
    this.checkName(name, this.buffers);
    const old = this.buffers.get(name)?.t;
    if (old && old !== t) old.dispose();
    this.buffers.set(name, { t: t ? t.keep() : null, persistent });
    return t;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name, this.children);
    this.children.set(name, m);
    return m;
  }

  private checkName(name: string, own: Map<string, unknown>): void {
    if (!name || name.includes('.')) throw new NnError(`invalid module attribute name '${name}'`);
    const taken = [this.params, this.buffers, this.children].some((m) => m !== own && m.has(name));
    if (taken) throw new NnError(`'${name}' is already registered as another kind of attribute`);
  }

  param(name: string): T.Tensor {
    const t = this.params.get(name);
    if (!t) throw new NnError(`${this.constructor.name} has no parameter '${name}'`);
    return t;
  }

  optionalParam(name: string): T.Tensor | null {
    return this.params.get(name) ?? null;
  }

  buffer(name: string): T.Tensor {
    const b = this.buffers.get(name)?.t;
    if (!b) throw new NnError(`${this.constructor.name} has no buffer '${name}'`);
    return b;
  }

  child<M extends Module = Module>(name: string): M {
    const m = this.children.get(name);
    if (!m) throw new NnError(`${this.constructor.name} has no submodule '${name}'`);
    return m as M;
  }

  /** Run forward (the PyTorch `module(x)` call). */
  call(...inputs: T.Tensor[]): T.Tensor {
    return this.forward(...inputs);
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.children.entries();
  }

  /** Every module in the tree, depth first, with its dotted path ('' for this one). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.children) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Parameters with dotted names, each tensor once, in PyTorch's order. */
  namedParameters(): [string, T.Tensor][] {
    const out: [string, T.Tensor][] = [];
    const seen = new Set<T.Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m.params) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${name}` : name, t]);
      }
    }
    return out;
  }

  parameters(): T.Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, T.Tensor][] {
    const out: [string, T.Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, b] of m.buffers) if (b.t) out.push([path ? `${path}.${name}` : name, b.t]);
    }
    return out;
  }

  /** Number of parameter elements. */
  parameterCount(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and persistent buffers by key, in PyTorch's state_dict order (each module's own
   * parameters, then its buffers, then its children). The tensors are the module's own. An entry
   * a module keeps in pieces (stateGroups) is listed as its pieces; stateDictData joins them.
   */
  stateDict(): Map<string, T.Tensor> {
    for (const [, m] of this.namedModules()) m.beforeStateDict();
    return this.collectState();
  }

  /**
   * The state dict read back to the CPU (one readback per tensor) with every entry that a module
   * keeps in pieces joined under its one PyTorch key (ShardedLinear's weight): what checkpoints
   * save, the same on every adapter. loadStateDict takes it back.
   */
  async stateDictData(): Promise<Map<string, StateEntry>> {
    let out = new Map<string, StateEntry>();
    for (const [key, t] of this.stateDict()) out.set(key, { shape: t.shape, data: await t.data() });
    for (const [path, m] of this.namedModules())
      for (const g of m.stateGroups()) out = joinStateGroup(out, path ? `${path}.` : '', g);
    return out;
  }

  /** A source with every joined entry of a stateGroups module cut into the module's pieces. */
  private splitStateGroups(source: Map<string, StateSource>): Map<string, StateSource> {
    let out = source;
    for (const [path, m] of this.namedModules()) {
      for (const g of m.stateGroups()) {
        const shapes = g.parts.map((p) => {
          const t = m.params.get(p) ?? m.buffers.get(p)?.t;
          if (!t)
            throw new NnError(`${m.constructor.name}: state group '${g.name}' names '${p}', which it does not hold`);
          return t.shape;
        });
        out = splitStateGroup(out, path ? `${path}.` : '', g, shapes);
      }
    }
    return out;
  }

  private collectState(): Map<string, T.Tensor> {
    const out = new Map<string, T.Tensor>();
    this.visitState((key, t) => out.set(key, t));
    return out;
  }

  /** Every state entry with its key and the module that holds it under `name`. */
  private visitState(fn: (key: string, t: T.Tensor, owner: Module, name: string) => void): void {
    const visit = (m: Module, prefix: string) => {
      for (const [name, t] of m.params) if (t) fn(prefix + name, t, m, name);
      for (const [name, b] of m.buffers) if (b.t && b.persistent) fn(prefix + name, b.t, m, name);
      for (const [name, c] of m.children) visit(c, `${prefix}${name}.`);
    };
    visit(this, '');
  }

  /** Keys whose owning module (at any depth) can do without them in a checkpoint. */
  private defaultableKeys(): Set<string> {
    const out = new Set<string>();
    this.visitState((key, _t, owner, name) => {
      if (owner.defaultsFor(name)) out.add(key);
    });
    return out;
  }

  /**
   * Copy values into this module's tensors in place (identity is kept, so optimizers stay
   * attached). Shapes must match; with `strict`, missing and unexpected keys are errors.
   * Integer sources (e.g. PyTorch's int64 num_batches_tracked) load into i32 buffers.
   */
  loadStateDict(given: Map<string, StateSource>, strict = true): LoadResult {
    const source = this.splitStateGroups(given);
    try {
      return this.loadSplitStateDict(source, strict);
    } finally {
      // Pieces cut from a GPU tensor source are new tensors.
      const mine = new Set(given.values());
      for (const v of source.values()) if (v instanceof T.Tensor && !mine.has(v)) v.dispose();
    }
  }

  private loadSplitStateDict(source: Map<string, StateSource>, strict: boolean): LoadResult {
    for (const [, m] of this.namedModules()) m.beforeStateDict();
    const own = this.collectState();
    const defaultable = this.defaultableKeys();
    const missingKeys = [...own.keys()].filter((k) => !source.has(k) && !defaultable.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts = [];
      if (missingKeys.length)
        parts.push(
          `missing keys: ${missingKeys.slice(0, 10).join(', ')}${missingKeys.length > 10 ? ` (+${missingKeys.length - 10} more)` : ''}`,
        );
      if (unexpectedKeys.length)
        parts.push(
          `unexpected keys: ${unexpectedKeys.slice(0, 10).join(', ')}${unexpectedKeys.length > 10 ? ` (+${unexpectedKeys.length - 10} more)` : ''}`,
        );
      throw new NnError(`loadStateDict (${this.constructor.name}): ${parts.join('; ')}`);
    }
    for (const [key, dst] of own) {
      const src = source.get(key);
      if (!src) continue;
      const shape = src instanceof T.Tensor ? src.shape : src.shape;
      if (shape.length !== dst.shape.length || shape.some((d, i) => d !== dst.shape[i])) {
        throw new NnError(
          `loadStateDict: '${key}' has shape [${shape.join(', ')}] in the checkpoint but [${dst.shape.join(', ')}] in the model`,
        );
      }
      if (src instanceof T.Tensor) {
        const s = src.dtype === dst.dtype ? src : T.cast(src, dst.dtype);
        T.assign(dst, s);
        if (s !== src) s.dispose();
      } else {
        T.writeData(dst, toDtype(src.data, dst.dtype, key));
      }
    }
    for (const [, m] of this.namedModules()) m.afterStateLoaded();
    return { missingKeys, unexpectedKeys };
  }

  /** Hook: bring lazily kept buffers up to date before a state dict is taken. */
  protected beforeStateDict(): void {}

  /** Hook: a state dict was just loaded into this module's tensors. */
  protected afterStateLoaded(): void {}

  /**
   * Hook (what PyTorch's state-dict hooks do for sharded weights): entries this module keeps in
   * pieces, each a block of rows of the one entry PyTorch has. stateDictData joins them;
   * loadStateDict cuts a joined entry into them.
   */
  protected stateGroups(): readonly StateGroup[] {
    return [];
  }

  /**
   * Whether this module can do without its own entry `name` (a key relative to this module) in
   * a checkpoint, keeping its current value (BatchNorm's num_batches_tracked).
   */
  protected defaultsFor(_name: string): boolean {
    return false;
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Free every parameter and buffer of the tree. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.params.values()) t?.dispose();
      for (const b of m.buffers.values()) b.t?.dispose();
      m.zeroGrad();
    }
  }

  /** One line per module, indented like PyTorch's repr. */
  toString(): string {
    const lines: string[] = [];
    const visit = (m: Module, name: string, depth: number) => {
      const extra = m.extraRepr();
      lines.push(`${'  '.repeat(depth)}${name ? `(${name}): ` : ''}${m.constructor.name}(${extra})`);
      for (const [n, c] of m.children) visit(c, n, depth + 1);
    };
    visit(this, '', 0);
    return lines.join('\n');
  }

  protected extraRepr(): string {
    return '';
  }
}

function toDtype(
  data: Float32Array | Int32Array | BigInt64Array,
  dtype: T.DType,
  key: string,
): Float32Array | Int32Array {
  if (dtype === 'f32')
    return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number | bigint>, Number);
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]!);
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648)
      throw new NnError(`loadStateDict: '${key}' value ${v} does not fit an i32 buffer`);
    out[i] = v;
  }
  return out;
}
