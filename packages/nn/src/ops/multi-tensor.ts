// An optimizer update as one fused kernel over many parameters: each slot binds a gradient
// (read) and its parameter plus per-parameter state buffers (read-write), and the update is a
// WGSL body over their elements. The slots' end offsets are uniforms and each invocation finds
// its slot by walking them (a WGSL binding cannot be indexed dynamically, so the slots are
// unrolled). Slots per dispatch are bounded by the adapter's storage bindings per stage (16 on
// lavapipe) and by the uniform block, so a model of hundreds of parameter tensors takes a
// fraction as many dispatches, and one parameter never takes more than one.
import {
  defineKernel,
  getEngine,
  grid1d,
  linearIndex,
  noGrad,
  runKernel,
  TensorError,
  uniformPreamble,
  Uniforms,
  type Tensor,
} from '@spine/tensor';

const WG = 64;
const UNIFORM_WORDS = 64;
const MAX_SLOTS = 16;

export interface UpdateRule {
  /** Kernel name (shows in kernel profiles). */
  name: string;
  /** f32 uniforms shared by every slot, in order; the body reads them by name. */
  globals: readonly string[];
  /** f32 uniforms with one value per parameter (e.g. a bias correction that depends on its step). */
  perSlot: readonly string[];
  /** Read-write state buffers per parameter, after the parameter itself; read and written by name. */
  states: readonly string[];
  /**
   * WGSL statements updating `p` (var) and the state vars from `g` (let, the gradient) and the
   * uniforms. The values are read before and written after the body.
   */
  body: string;
}

interface KernelOptions extends UpdateRule {
  slots: number;
}

const updateKernel = defineKernel<KernelOptions>({
  name: 'optimizer_step',
  inputs: (o) => o.slots,
  outputs: (o) => (1 + o.states.length) * o.slots,
  source: (o) => {
    const K = o.slots;
    const G = o.globals.length;
    const decl: string[] = [];
    for (let s = 0; s < K; s++) decl.push(`@group(0) @binding(${1 + s}) var<storage, read> g${s}: array<f32>;`);
    const buffers = ['p', ...o.states];
    buffers.forEach((b, k) => {
      for (let s = 0; s < K; s++)
        decl.push(`@group(0) @binding(${1 + K + k * K + s}) var<storage, read_write> ${b}${s}: array<f32>;`);
    });
    // Words: globals[G], total, end[K], perSlot[P][K].
    const endWord = (s: number) => G + 1 + s;
    const slotWord = (k: number, s: number) => G + 1 + K + k * K + s;
    const update = (s: number) => `{
    let j = i - ${s === 0 ? '0u' : `pu(${endWord(s - 1)}u)`};
    let g = g${s}[j];
${buffers.map((b) => `    var ${b} = ${b}${s}[j];`).join('\n')}
${o.perSlot.map((n, k) => `    let ${n} = pf(${slotWord(k, s)}u);`).join('\n')}
    ${o.body}
${buffers.map((b) => `    ${b}${s}[j] = ${b};`).join('\n')}
  }`;
    const chain = Array.from(
      { length: K },
      (_, s) => `${s === 0 ? '' : ' else '}if (i < pu(${endWord(s)}u)) ${update(s)}`,
    ).join('');
    return `${uniformPreamble()}
${decl.join('\n')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(${G}u)) { return; }
${o.globals.map((n, k) => `  let ${n} = pf(${k}u);`).join('\n')}
  ${chain}
}`;
  },
});

export interface UpdateSlot {
  param: Tensor;
  grad: Tensor;
  /** One tensor per rule state, each the parameter's size. */
  states: readonly Tensor[];
  /**
   * One value per rule perSlot uniform; a function is computed now and again at every replay of
   * the step (T.replayable), for values that follow host state such as a step count.
   */
  values: readonly (number | (() => number))[];
}

/** How many parameters one dispatch of `rule` updates on this adapter. */
export function slotsPerDispatch(rule: UpdateRule): number {
  const byBindings = Math.floor(getEngine().info.limits.maxStorageBuffersPerShaderStage / (2 + rule.states.length));
  const byUniforms = Math.floor((UNIFORM_WORDS - rule.globals.length - 1) / (1 + rule.perSlot.length));
  return Math.max(1, Math.min(MAX_SLOTS, byBindings, byUniforms));
}

/**
 * Apply `rule` to every slot in place, in ceil(slots / slotsPerDispatch) dispatches. Records
 * dispatches only (no readback); runs under noGrad.
 */
export function runUpdate(rule: UpdateRule, globals: readonly number[], slots: readonly UpdateSlot[]): void {
  if (globals.length !== rule.globals.length)
    throw new TensorError(`${rule.name}: ${rule.globals.length} global values expected, got ${globals.length}`);
  const seen = new Set<GPUBuffer>();
  for (const [i, s] of slots.entries()) {
    const { param: p, grad: g } = s;
    if (p.dtype !== 'f32' || g.dtype !== 'f32' || g.size !== p.size) {
      throw new TensorError(
        `${rule.name}: parameter ${i} is ${p.dtype} [${p.shape.join(', ')}] but its grad is ${g.dtype} [${g.shape.join(', ')}]`,
      );
    }
    if (s.states.length !== rule.states.length || s.values.length !== rule.perSlot.length)
      throw new TensorError(`${rule.name}: parameter ${i} has the wrong number of state buffers or values`);
    s.states.forEach((t, k) => {
      if (t.dtype !== 'f32' || t.size !== p.size)
        throw new TensorError(
          `${rule.name}: state '${rule.states[k]}' of parameter ${i} has ${t.size} values, its parameter ${p.size}`,
        );
    });
    if (seen.has(p.buffer))
      throw new TensorError(
        `${rule.name}: parameter ${i} shares its storage with an earlier one; pass each parameter once`,
      );
    seen.add(p.buffer);
  }
  const work = slots.filter((s) => s.param.size > 0);
  const max = slotsPerDispatch(rule);
  noGrad(() => {
    for (let start = 0; start < work.length; start += max) {
      const group = work.slice(start, start + max);
      const ends: number[] = [];
      let total = 0;
      for (const s of group) ends.push((total += s.param.size));
      const u = new Uniforms().f32(...globals).u32(total, ...ends);
      rule.perSlot.forEach((_, k) => {
        for (const s of group) {
          const v = s.values[k]!;
          if (typeof v === 'number') u.f32(v);
          else u.liveF32(v);
        }
      });
      const outputs = [group.map((s) => s.param), ...rule.states.map((_, k) => group.map((s) => s.states[k]!))].flat();
      runKernel(
        updateKernel,
        { ...rule, slots: group.length },
        { inputs: group.map((s) => s.grad), outputs, uniforms: u, workgroups: grid1d(total, WG) },
      );
    }
  });
}
