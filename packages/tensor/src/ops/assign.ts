// In-place writes into an existing tensor's storage: how parameters get loaded, re-initialised
// and updated without changing identity (optimizers and modules hold the same Tensor objects).
import { getEngine } from '../device.js';
import { ShapeError } from '../errors.js';
import { formatShape, sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { f16ByteLength, packF16, roundToF16 } from '../half.js';

/** Copy `src`'s values into `dst` (same shape and dtype), recorded in order with other work. */
export function assign(dst: Tensor, src: Tensor): void {
  if (!sameShape(dst.shape, src.shape) || dst.dtype !== src.dtype) {
    throw new ShapeError(
      `assign: ${formatShape(src.shape)} ${src.dtype} does not fit ${formatShape(dst.shape)} ${dst.dtype}`,
    );
  }
  if (dst.size === 0 || dst.buffer === src.buffer) return;
  getEngine().copy(src.buffer, 0, dst.buffer, 0, dst.dtype === 'f16' ? f16ByteLength(dst.size) : dst.size * 4);
  dst.storage.written();
}

/** Overwrite `dst` with CPU values (length must equal dst.size; an f16 tensor takes them rounded to even). */
export function writeData(dst: Tensor, data: Float32Array | Int32Array): void {
  if (data.length !== dst.size)
    throw new ShapeError(`writeData: ${data.length} values for a tensor of ${dst.size} (${formatShape(dst.shape)})`);
  if (data instanceof Int32Array !== (dst.dtype === 'i32'))
    throw new ShapeError(`writeData: ${data.constructor.name} into a ${dst.dtype} tensor`);
  const engine = getEngine();
  // queue.writeBuffer lands before any command still being recorded: submit those first so
  // commands that read the old values run before the new ones arrive.
  engine.flush();
  if (dst.dtype === 'f16') {
    if (data.length) engine.upload(dst.buffer, packF16(data));
    dst.storage.written(Float32Array.from(data, roundToF16));
    return;
  }
  if (data.length) engine.upload(dst.buffer, data);
  dst.storage.written(data);
}
