// Region copies as buffer copies (software adapters): a concat along an axis, a slice of one
// axis, or writing a tensor into such a region of another, moves `outer` contiguous blocks, which
// copyBufferToBuffer does as memcpys. The strided copy kernel would read every element per lane,
// which on llvmpipe is a lane loop with a bounds branch per element (docs/PERFORMANCE.md).
import { getEngine } from '../device.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Below this many elements per block the kernel's one dispatch beats the copies' overhead. */
export const BLOCK_COPY_MIN_ELEMENTS = 256;
/** At most this many copies per region (they are recorded one by one). */
export const BLOCK_COPY_MAX_BLOCKS = 256;

let enabled: boolean | 'auto' = 'auto';

/** 'auto' (software adapters), or force block copies on or off (tests, probes). */
export function setBlockCopies(mode: boolean | 'auto'): void {
  enabled = mode;
}

/** Whether region copies may become buffer copies on this device (tryBlockCopy's first test). */
export function blockCopiesOn(): boolean {
  return enabled === true || (enabled === 'auto' && getEngine().info.kernels === 'cpu');
}

/** The product of s[from..to) (no slice: a step records thousands of region copies). */
function prod(s: Shape, from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= s[i]!;
  return p;
}

/**
 * Copy the region `shape` of contiguous `src` (shape `srcShape`, region starting at element
 * `srcOffset`) to the same region shape in contiguous `dst` (shape `dstShape`, at `dstOffset`)
 * when it is `outer` whole blocks: all axes before the first that differs among the three shapes
 * agree, and so do all axes after it. Returns false (nothing recorded) otherwise.
 */
export function tryBlockCopy(
  src: Tensor,
  srcShape: Shape,
  srcOffset: number,
  dst: Tensor,
  dstShape: Shape,
  dstOffset: number,
  shape: Shape,
): boolean {
  if (!blockCopiesOn()) return false;
  // Buffer copies move whole words; f16 blocks may start mid-word (the elementwise copy serves them).
  if (src.dtype === 'f16') return false;
  if (srcShape.length !== shape.length || dstShape.length !== shape.length) return false;
  let a = shape.findIndex((d, i) => d !== srcShape[i] || d !== dstShape[i]);
  if (a < 0) a = 0; // the whole tensor: one block
  for (let i = a + 1; i < shape.length; i++) if (shape[i] !== srcShape[i] || shape[i] !== dstShape[i]) return false;
  const outer = prod(shape, 0, a);
  const block = prod(shape, a, shape.length);
  if (block === 0 || outer === 0) return true;
  if (outer > BLOCK_COPY_MAX_BLOCKS || (enabled === 'auto' && block < BLOCK_COPY_MIN_ELEMENTS)) return false;
  const srcStride = prod(srcShape, a, srcShape.length);
  const dstStride = prod(dstShape, a, dstShape.length);
  const engine = getEngine();
  dst.storage.written();
  for (let o = 0; o < outer; o++)
    engine.copy(src.buffer, (srcOffset + o * srcStride) * 4, dst.buffer, (dstOffset + o * dstStride) * 4, block * 4);
  return true;
}
