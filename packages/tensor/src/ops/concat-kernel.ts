// A concat (or its backward, the split of a gradient into the inputs' pieces) as one dispatch:
// tensors viewed as [outer, A, inner] along the axis, each piece a range of A. Per input, the
// elementwise copy would take one dispatch each; DenseNet's dense layers concat two pieces every
// layer, forward and backward. Values move as 32-bit words (f32 and i32 bit for bit; vec4s where
// `inner` is a multiple of 4). Software adapters keep their block copies (block-copy.ts).
import { getEngine } from '../device.js';
import { defineKernel, grid1d, linearIndex, runKernel, uniformPreamble, Uniforms } from '../kernel.js';
import type { Tensor } from '../tensor.js';
import { empty } from './creation.js';

const WG = 64;

interface RegionOptions {
  /** 'gather': the pieces into one tensor (concat); 'scatter': one tensor into the pieces (split). */
  mode: 'gather' | 'scatter';
  pieces: number;
  vec4: boolean;
}

// Words: total (in words or vec4s), inner (the same unit), A, then each piece's end along A.
const regionsKernel = defineKernel<RegionOptions>({
  name: 'concat_regions',
  inputs: (o) => (o.mode === 'gather' ? o.pieces : 1),
  outputs: (o) => (o.mode === 'gather' ? 1 : o.pieces),
  source: ({ mode, pieces: K, vec4 }) => {
    const t = vec4 ? 'vec4<u32>' : 'u32';
    const L = [uniformPreamble()];
    const gather = mode === 'gather';
    for (let s = 0; s < K; s++)
      L.push(
        `@group(0) @binding(${1 + (gather ? s : 1 + s)}) var<storage, ${gather ? 'read' : 'read_write'}> p${s}: array<${t}>;`,
      );
    L.push(
      `@group(0) @binding(${gather ? 1 + K : 1}) var<storage, ${gather ? 'read_write' : 'read'}> whole: array<${t}>;`,
    );
    L.push(`@compute @workgroup_size(${WG})`);
    L.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
    L.push(`  let i = ${linearIndex(WG)};`);
    L.push('  if (i >= pu(0u)) { return; }');
    L.push('  let inner = pu(1u); let A = pu(2u);');
    L.push('  let r = i % inner; let t = i / inner; let a = t % A; let o = t / A;');
    const chain = Array.from({ length: K }, (_, s) => {
      const start = s === 0 ? '0u' : `pu(${2 + s}u)`;
      const end = `pu(${3 + s}u)`;
      const at = `(o * (${end} - ${start}) + a - ${start}) * inner + r`;
      const copy = gather ? `whole[i] = p${s}[${at}];` : `p${s}[${at}] = whole[i];`;
      return `${s === 0 ? '  ' : ' else '}if (a < ${end}) { ${copy} }`;
    }).join('');
    L.push(chain, '}');
    return L.join('\n');
  },
});

/** Pieces one dispatch takes (storage bindings: the pieces and the whole; the uniform block). */
export function maxRegionPieces(): number {
  return Math.min(60, getEngine().info.limits.maxStorageBuffersPerShaderStage - 1);
}

/** Whether concatRegions / splitRegions serve these tensors (32-bit values, few enough pieces). */
export function regionsApply(dtype: Tensor['dtype'], pieces: number): boolean {
  return dtype !== 'f16' && pieces >= 1 && pieces <= maxRegionPieces();
}

function run(mode: RegionOptions['mode'], whole: Tensor, pieces: readonly Tensor[], axis: number): void {
  const shape = whole.shape;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  const vec4 = inner % 4 === 0;
  const unit = vec4 ? 4 : 1;
  const ends: number[] = [];
  let at = 0;
  for (const p of pieces) ends.push((at += p.shape[axis]!));
  const total = whole.size / unit;
  if (total === 0) return;
  runKernel(
    regionsKernel,
    { mode, pieces: pieces.length, vec4 },
    {
      inputs: mode === 'gather' ? pieces : [whole],
      outputs: mode === 'gather' ? [whole] : pieces,
      uniforms: new Uniforms().u32(total, inner / unit, shape[axis]!, ...ends),
      workgroups: grid1d(total, WG),
    },
  );
}

/** The pieces joined along `axis` into a new tensor of `shape` (regionsApply first). */
export function concatRegions(pieces: readonly Tensor[], axis: number, shape: readonly number[]): Tensor {
  const out = empty(shape, pieces[0]!.dtype);
  run('gather', out, pieces, axis);
  return out;
}

/** `whole` cut along `axis` into new tensors of `sizes` entries each (regionsApply first). */
export function splitRegions(whole: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const pieces = sizes.map((n) => {
    const shape = [...whole.shape];
    shape[axis] = n;
    return empty(shape, whole.dtype);
  });
  run('scatter', whole, pieces, axis);
  return pieces;
}
