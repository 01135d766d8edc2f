// The SGD update as one fused kernel over many parameters, in torch.optim.SGD's order:
//
//   g = grad + wd * p
//   if mu != 0:  b = g on a parameter's first step (no buffer yet), else b = mu * b + (1 - tau) * g
//                g = nesterov ? g + mu * b : b
//   p = p - lr * g
//
// The momentum buffers of all parameters lie end to end in one kept f32 tensor (a
// MomentumArena, split only where a storage binding would overflow), and a parameter's buffer
// is a range of it given by a uniform word. One dispatch then binds the arena once plus up to K
// (grad, param) pairs, K limited by the adapter's storage-buffer bindings per shader stage (16
// on lavapipe: 7 pairs with momentum, 8 without), so DenseNet-121's 364 parameter tensors take
// 52 dispatches instead of hundreds of small elementwise ops. Each invocation finds its parameter
// from the slots' end offsets, which are uniforms; a WGSL binding cannot be indexed dynamically,
// so the slots are unrolled.
import {
  defineKernel,
  empty,
  getEngine,
  grid1d,
  linearIndex,
  noGrad,
  numel,
  runKernel,
  TensorError,
  uniformPreamble,
  Uniforms,
  zeros,
  type Shape,
  type Tensor,
} from '@spine/tensor';

const WG = 64;
/** Slots per dispatch are also bounded by the uniform block (5 + 3K words of 64 with momentum). */
const MAX_SLOTS = 16;

interface SgdKernelOptions {
  slots: number;
  momentum: boolean;
  nesterov: boolean;
  /** A flag tensor (i32 [1], an input after the gradients): nothing is updated where it is not 0. */
  skip: boolean;
}

// Words: lr, mu, dampening, wd (f32), total, end[K], then with momentum first[K], at[K] (where
// slot s's buffer starts in the arena). Bindings: g[K], the skip flag, p[K], then with momentum
// the arena m.
const sgdKernel = defineKernel<SgdKernelOptions>({
  name: 'sgd_step',
  inputs: (o) => o.slots + (o.skip ? 1 : 0),
  outputs: (o) => o.slots + (o.momentum ? 1 : 0),
  source: ({ slots: K, momentum, nesterov, skip }) => {
    const lines: string[] = [];
    for (let s = 0; s < K; s++) lines.push(`@group(0) @binding(${1 + s}) var<storage, read> g${s}: array<f32>;`);
    const p0 = 1 + K + (skip ? 1 : 0);
    if (skip) lines.push(`@group(0) @binding(${1 + K}) var<storage, read> skipFlag: array<i32>;`);
    for (let s = 0; s < K; s++) lines.push(`@group(0) @binding(${p0 + s}) var<storage, read_write> p${s}: array<f32>;`);
    if (momentum) lines.push(`@group(0) @binding(${p0 + K}) var<storage, read_write> m: array<f32>;`);
    const update = (s: number) => `{
    let j = i - ${s === 0 ? '0u' : `pu(${4 + s}u)`};
    let p = p${s}[j];
    var d = g${s}[j] + wd * p;
${
  momentum
    ? `    let k = pu(${5 + 2 * K + s}u) + j;
    let b = select(mu * m[k] + (1.0 - damp) * d, d, pu(${5 + K + s}u) != 0u);
    m[k] = b;
    d = ${nesterov ? 'd + mu * b' : 'b'};`
    : ''
}
    p${s}[j] = p - lr * d;
  }`;
    const chain = Array.from(
      { length: K },
      (_, s) => `${s === 0 ? '' : ' else '}if (i < pu(${5 + s}u)) ${update(s)}`,
    ).join('');
    return `${uniformPreamble()}
${lines.join('\n')}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(WG)};
  if (i >= pu(4u)${skip ? ' || skipFlag[0] != 0' : ''}) { return; }
  let lr = pf(0u); let mu = pf(1u); let damp = pf(2u); let wd = pf(3u);
  ${chain}
}`;
  },
});

/**
 * The momentum buffers of a list of parameters, end to end in kept f32 tensors: one, unless the
 * buffers together exceed `maxChunkBytes` (the adapter's largest storage binding by default),
 * then as few chunks as fit, each buffer whole in one chunk. Buffer i is
 * `chunks[chunkOf[i]]` from element `offsets[i]`, `numel(shapes[i])` long; `has[i]` says whether
 * it holds a value yet (a parameter's first step with a gradient sets it, as PyTorch creates
 * its buffer then). Allocated once, so a replayed step binds the same storage every time.
 */
export class MomentumArena {
  readonly chunks: readonly Tensor[];
  readonly chunkOf: readonly number[];
  readonly offsets: readonly number[];
  readonly shapes: readonly Shape[];
  readonly has: boolean[];

  constructor(shapes: readonly Shape[], maxChunkBytes = getEngine().info.limits.maxStorageBufferBindingSize) {
    const perChunk = Math.floor(maxChunkBytes / 4);
    const lengths: number[] = [];
    const chunkOf: number[] = [];
    const offsets: number[] = [];
    for (const shape of shapes) {
      const n = numel(shape);
      const last = lengths.length - 1;
      if (last < 0 || (lengths[last]! > 0 && lengths[last]! + n > perChunk)) lengths.push(0);
      chunkOf.push(lengths.length - 1);
      offsets.push(lengths[lengths.length - 1]!);
      lengths[lengths.length - 1]! += n;
    }
    this.shapes = shapes.map((s) => [...s]);
    this.chunkOf = chunkOf;
    this.offsets = offsets;
    this.has = shapes.map(() => false);
    // Zeros: a buffer whose first step the device skipped (sgdStep's skipIf) starts from b = 0.
    this.chunks = lengths.map((n) => zeros([n]).keep());
  }

  get length(): number {
    return this.shapes.length;
  }

  /** Buffer i as a new tensor of its parameter's shape (the caller disposes it), or null before its first step. */
  read(i: number): Tensor | null {
    if (!this.has[i]) return null;
    const out = empty(this.shapes[i]!);
    if (out.size)
      getEngine().copy(this.chunks[this.chunkOf[i]!]!.buffer, this.offsets[i]! * 4, out.buffer, 0, out.size * 4);
    out.storage.written();
    return out;
  }

  /** Set buffer i to `values` (f32, as many values as its parameter, any shape). */
  write(i: number, values: Tensor): void {
    const size = numel(this.shapes[i]!);
    if (values.dtype !== 'f32' || values.size !== size)
      throw new TensorError(
        `MomentumArena: buffer ${i} takes ${size} f32 values, got ${values.dtype} [${values.shape.join(', ')}]`,
      );
    const chunk = this.chunks[this.chunkOf[i]!]!;
    if (size) getEngine().copy(values.buffer, 0, chunk.buffer, this.offsets[i]! * 4, size * 4);
    chunk.storage.written();
    this.has[i] = true;
  }

  dispose(): void {
    for (const c of this.chunks) c.dispose();
  }

  get isDisposed(): boolean {
    return this.chunks.some((c) => c.isDisposed);
  }
}

export interface SgdOptions {
  lr: number;
  /** Momentum factor mu (default 0: no buffers). */
  momentum?: number;
  /** Dampening tau of the gradient added to the buffer (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0, as in PyTorch). */
  nesterov?: boolean;
}

/**
 * One torch.optim.SGD step over `params` (updated in place), with their `grads` (a null grad
 * skips its parameter and leaves its buffer as it is, as PyTorch skips a None .grad).
 * `momentum` holds the parameters' buffers from earlier steps (entry i for parameter i); pass
 * null the first time. Returns the arena to pass next time: the given one, updated in place, or
 * with momentum and none given a new one for all `params`, which the caller owns (null when
 * momentum is 0 and none was given). Runs under noGrad; records dispatches, reads nothing back.
 * `skipIf` (an i32 [1] tensor, GradScaler's overflow flag): the device leaves everything as it
 * is where it is not 0. A buffer whose first step is skipped so stays zero and is marked
 * started, which is what PyTorch's first step would leave only with dampening 0: with a
 * dampening, skipIf is refused until every buffer has started.
 */
export function sgdStep(
  params: readonly Tensor[],
  grads: readonly (Tensor | null | undefined)[],
  momentum: MomentumArena | null | undefined,
  options: SgdOptions,
  skipIf: Tensor | null = null,
): MomentumArena | null {
  const { lr, momentum: mu = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
  for (const [key, v] of Object.entries({ lr, momentum: mu, weightDecay })) {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new TensorError(`sgdStep: ${key} must be a finite number >= 0, got ${v}`);
  }
  if (nesterov && (mu <= 0 || dampening !== 0))
    throw new TensorError('sgdStep: Nesterov momentum requires a momentum and zero dampening');
  if (grads.length !== params.length)
    throw new TensorError(`sgdStep: ${params.length} params but ${grads.length} grads`);
  const seen = new Set<GPUBuffer>();
  const work: { p: Tensor; g: Tensor; i: number }[] = [];
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) return;
    if (p.dtype !== 'f32' || g.dtype !== 'f32' || g.size !== p.size) {
      throw new TensorError(
        `sgdStep: parameter ${i} is ${p.dtype} [${p.shape.join(', ')}] but its grad is ${g.dtype} [${g.shape.join(', ')}]`,
      );
    }
    if (seen.has(p.buffer))
      throw new TensorError(`sgdStep: parameter ${i} shares its storage with an earlier one; pass each parameter once`);
    seen.add(p.buffer);
    work.push({ p, g, i });
  });
  if (momentum) {
    const given = momentum;
    if (given.length !== params.length)
      throw new TensorError(`sgdStep: momentum arena for ${given.length} parameters, got ${params.length}`);
    params.forEach((p, i) => {
      const n = numel(given.shapes[i]!);
      if (n !== p.size)
        throw new TensorError(`sgdStep: momentum buffer ${i} has ${n} elements, its parameter ${p.size}`);
    });
  }
  if (skipIf && (skipIf.dtype !== 'i32' || skipIf.size !== 1))
    throw new TensorError(
      `sgdStep: skipIf must be an i32 tensor of one value, got ${skipIf.dtype} [${skipIf.shape.join(', ')}]`,
    );
  if (skipIf && mu !== 0 && dampening !== 0 && work.some((w) => !momentum?.has[w.i]))
    throw new TensorError(
      'sgdStep: a step the device may skip cannot start momentum buffers with a dampening (PyTorch starts them from the gradient); take the first step without skipIf',
    );
  const arena = mu === 0 ? null : (momentum ?? new MomentumArena(params.map((p) => p.shape)));
  // Each slot binds a (grad, param) pair; the arena and the skip flag take one binding each.
  const bindings = getEngine().info.limits.maxStorageBuffersPerShaderStage - (arena ? 1 : 0) - (skipIf ? 1 : 0);
  const maxSlots = Math.max(1, Math.min(MAX_SLOTS, Math.floor(bindings / 2)));
  const run = work.filter((w) => w.p.size > 0);
  noGrad(() => {
    let start = 0;
    while (start < run.length) {
      // A dispatch binds one chunk of the arena: its slots end where the chunk changes.
      let end = start + 1;
      while (
        end < run.length &&
        end - start < maxSlots &&
        (!arena || arena.chunkOf[run[end]!.i] === arena.chunkOf[run[start]!.i])
      )
        end++;
      const group = run.slice(start, end);
      start = end;
      const ends: number[] = [];
      let total = 0;
      for (const w of group) ends.push((total += w.p.size));
      const u = new Uniforms().f32(lr, mu, dampening, weightDecay).u32(total, ...ends);
      if (arena) u.u32(...group.map((w) => (arena.has[w.i] ? 0 : 1)), ...group.map((w) => arena.offsets[w.i]!));
      runKernel(
        sgdKernel,
        { slots: group.length, momentum: arena !== null, nesterov, skip: skipIf !== null },
        {
          inputs: [...group.map((w) => w.g), ...(skipIf ? [skipIf] : [])],
          outputs: [...group.map((w) => w.p), ...(arena ? [arena.chunks[arena.chunkOf[group[0]!.i]!]!] : [])],
          uniforms: u,
          workgroups: grid1d(total, WG),
        },
      );
    }
  });
  if (arena) for (const w of work) arena.has[w.i] = true;
  return arena ?? momentum ?? null;
}
