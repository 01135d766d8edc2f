// The SGD update as one fused kernel over many parameters, in torch.optim.SGD's order:
//
//   g = grad + wd * p
//   if mu != 0:  b = g on a parameter's first step (no buffer yet), else b = mu * b + (1 - tau) * g
//                g = nesterov ? g + mu * b : b
//   p = p - lr * g
//
// One dispatch updates up to K (param, grad, buffer) triples, K limited by the adapter's
// storage-buffer bindings per shader stage (16 on lavapipe: 5 triples with momentum, 8 pairs
// without), so DenseNet-121's 364 parameter tensors take 73 dispatches instead of hundreds of
// small elementwise ops. Each invocation finds its parameter from the slots' end offsets,
// which are uniforms; a WGSL binding cannot be indexed dynamically, so the slots are unrolled.
import {
  defineKernel,
  empty,
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
/** Slots per dispatch are also bounded by the uniform block (5 + 2K words of 64). */
const MAX_SLOTS = 16;

interface SgdKernelOptions {
  slots: number;
  momentum: boolean;
  nesterov: boolean;
}

// Words: lr, mu, dampening, wd (f32), total, end[K], first[K].
const sgdKernel = defineKernel<SgdKernelOptions>({
  name: 'sgd_step',
  inputs: (o) => o.slots,
  outputs: (o) => (o.momentum ? 2 : 1) * o.slots,
  source: ({ slots: K, momentum, nesterov }) => {
    const lines: string[] = [];
    for (let s = 0; s < K; s++) lines.push(`@group(0) @binding(${1 + s}) var<storage, read> g${s}: array<f32>;`);
    for (let s = 0; s < K; s++)
      lines.push(`@group(0) @binding(${1 + K + s}) var<storage, read_write> p${s}: array<f32>;`);
    if (momentum)
      for (let s = 0; s < K; s++)
        lines.push(`@group(0) @binding(${1 + 2 * K + s}) var<storage, read_write> b${s}: array<f32>;`);
    const update = (s: number) => `{
    let j = i - ${s === 0 ? '0u' : `pu(${4 + s}u)`};
    let p = p${s}[j];
    var d = g${s}[j] + wd * p;
${
  momentum
    ? `    let b = select(mu * b${s}[j] + (1.0 - damp) * d, d, pu(${5 + K + s}u) != 0u);
    b${s}[j] = b;
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
  if (i >= pu(4u)) { return; }
  let lr = pf(0u); let mu = pf(1u); let damp = pf(2u); let wd = pf(3u);
  ${chain}
}`;
  },
});

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
 * skips its parameter, as PyTorch skips a None .grad). `momentumBuffers[i]` is parameter i's
 * buffer from the previous step, absent before its first step. Returns the buffers to pass next
 * time: the same tensors, updated in place, plus new kept tensors for parameters that had none
 * (untouched when momentum is 0). Runs under noGrad; records dispatches, reads nothing back.
 */
export function sgdStep(
  params: readonly Tensor[],
  grads: readonly (Tensor | null | undefined)[],
  momentumBuffers: readonly (Tensor | null | undefined)[] | null | undefined,
  options: SgdOptions,
): (Tensor | null)[] {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
  for (const [key, v] of Object.entries({ lr, momentum, weightDecay })) {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new TensorError(`sgdStep: ${key} must be a finite number >= 0, got ${v}`);
  }
  if (nesterov && (momentum <= 0 || dampening !== 0))
    throw new TensorError('sgdStep: Nesterov momentum requires a momentum and zero dampening');
  if (grads.length !== params.length)
    throw new TensorError(`sgdStep: ${params.length} params but ${grads.length} grads`);
  const useMomentum = momentum !== 0;
  const buffers: (Tensor | null)[] = params.map((_, i) => momentumBuffers?.[i] ?? null);
  const seen = new Set<GPUBuffer>();
  const work: { p: Tensor; g: Tensor; b: Tensor | null; first: boolean }[] = [];
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
    let b = buffers[i] ?? null;
    const first = useMomentum && b === null;
    if (first) b = buffers[i] = empty(p.shape).keep();
    if (b && b.size !== p.size)
      throw new TensorError(`sgdStep: momentum buffer ${i} has ${b.size} elements, its parameter ${p.size}`);
    if (p.size > 0) work.push({ p, g, b: useMomentum ? b : null, first });
  });
  const perSlot = useMomentum ? 3 : 2;
  const maxSlots = Math.max(
    1,
    Math.min(MAX_SLOTS, Math.floor(getEngine().info.limits.maxStorageBuffersPerShaderStage / perSlot)),
  );
  noGrad(() => {
    for (let start = 0; start < work.length; start += maxSlots) {
      const group = work.slice(start, start + maxSlots);
      const ends: number[] = [];
      let total = 0;
      for (const w of group) ends.push((total += w.p.size));
      const u = new Uniforms()
        .f32(lr, momentum, dampening, weightDecay)
        .u32(total, ...ends, ...group.map((w) => (w.first ? 1 : 0)));
      const outputs = [...group.map((w) => w.p), ...(useMomentum ? group.map((w) => w.b!) : [])];
      runKernel(
        sgdKernel,
        { slots: group.length, momentum: useMomentum, nesterov },
        { inputs: group.map((w) => w.g), outputs, uniforms: u, workgroups: grid1d(total, WG) },
      );
    }
  });
  return buffers;
}
