// PyTorch raises for a class-index target outside [0, C) (other than the ignore index). A GPU
// kernel cannot raise: targets known on the host are checked at the call, the others by a
// one-invocation kernel whose flag the next read of any tensor checks (@spine/tensor's
// checkAtNextRead; one flag per op waits however many calls come before a read).
import {
  checkAtNextRead,
  defineKernel,
  empty,
  pendingDeviceCheck,
  runKernel,
  TensorError,
  uniformPreamble,
  Uniforms,
  type Tensor,
} from '@spine/tensor';

// Words: n, C, ignoreIndex (i32). flag = (first bad index, its target, C), or (-1, 0, C) when
// every target is fine; with `chained`, a problem the previous flag reports is kept instead.
const targetCheckKernel = defineKernel<{ chained: boolean; ignore: boolean }>({
  name: 'class_target_check',
  inputs: (o) => (o.chained ? 2 : 1),
  outputs: 1,
  source: ({ chained, ignore }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> tgt: array<i32>;
${chained ? '@group(0) @binding(2) var<storage, read> prev: array<i32>;' : ''}
@group(0) @binding(${chained ? 3 : 2}) var<storage, read_write> flag: array<i32>;
@compute @workgroup_size(1)
fn main() {
  ${chained ? 'if (prev[0] >= 0) { flag[0] = prev[0]; flag[1] = prev[1]; flag[2] = prev[2]; return; }' : ''}
  let C = pu(1u);
  flag[0] = -1; flag[1] = 0; flag[2] = i32(C);
  for (var n = 0u; n < pu(0u); n++) {
    let t = tgt[n];
    if (${ignore ? 't != pi(2u) && ' : ''}(t < 0 || u32(t) >= C)) { flag[0] = i32(n); flag[1] = t; return; }
  }
}`,
});

/**
 * Refuse (now, or at the next read) a target outside [0, C) that is not `ignoreIndex`, naming
 * the op, its position and value (`noun` says what the values are: 'target', 'index').
 */
export function checkClassTargets(
  op: string,
  targets: Tensor,
  C: number,
  ignoreIndex: number | null,
  noun = 'target',
): void {
  const outside = (index: number, target: number, classes: number) =>
    `${op}: ${noun} ${target} at position ${index} is outside [0, ${classes})${ignoreIndex === null ? '' : ` and is not the ignore index ${ignoreIndex}`}`;
  const bad = (t: number) => t !== ignoreIndex && (t < 0 || t >= C);
  const known = targets.cachedData();
  if (known) {
    const at = known.findIndex(bad);
    if (at >= 0) throw new TensorError(outside(at, known[at]!, C));
    return;
  }
  if (targets.size === 0) return;
  const key = `${op} targets`;
  const prev = pendingDeviceCheck(key);
  const flag = empty([3], 'i32');
  runKernel(
    targetCheckKernel,
    { chained: prev !== null, ignore: ignoreIndex !== null },
    {
      inputs: prev ? [targets, prev] : [targets],
      outputs: [flag],
      uniforms: new Uniforms().u32(targets.size, C).i32(ignoreIndex ?? 0),
      workgroups: [1],
    },
  );
  checkAtNextRead(key, flag, (f) => (f[0]! >= 0 ? outside(f[0]!, f[1]!, f[2]!) : null));
}
