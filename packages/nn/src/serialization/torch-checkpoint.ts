// Reading a PyTorch checkpoint (a .pth/.pt file written by torch.save) into name -> tensor, in
// the state dict's order. Browser-safe: it takes the file's bytes. Only state dicts are read —
// an (Ordered)Dict of tensors, or a dict holding one under 'state_dict' or 'model' as training scripts save
// it; the unpickler refuses everything else before it could run (see torch-pickle.ts).
import {
  DTYPE_BYTES,
  decodeElements,
  int64To32,
  shapeSize,
  type Int64Mode,
  type TensorData,
  type TensorRecord,
} from './dtypes.js';
import { SerializationError } from './errors.js';
import { readTorchLegacy, isLegacyTorch } from './torch-legacy.js';
import { isTensorRef, type TensorRef } from './torch-pickle.js';
import { isZip, readTorchZip, type TorchArchive } from './torch-zip.js';

export interface TorchReadOptions {
  /** Name used in error messages (a path, a URL); default "<memory>". */
  file?: string;
  /** How int64 tensors (e.g. num_batches_tracked) come back; default 'int32' (range-checked). */
  int64?: Int64Mode;
}

/** Parse a checkpoint's bytes into its state dict: key -> { dtype, shape, data } in file order. */
export function readTorchCheckpoint(bytes: Uint8Array, options: TorchReadOptions = {}): Map<string, TensorRecord> {
  const file = options.file ?? '<memory>';
  const archive = openArchive(bytes, file);
  const refs = stateDictOf(archive.object, file);
  // Materialise storage by storage, so each storage's bytes are extracted once even when several
  // tensors share it, and only a batch of storages' copies is alive at a time.
  const byStorage = new Map<string, string[]>();
  for (const [key, ref] of refs) {
    const list = byStorage.get(ref.storage.key);
    if (list) list.push(key);
    else byStorage.set(ref.storage.key, [key]);
  }
  const data = new Map<string, TensorData>();
  const roots = [...byStorage.values()].map((keys) => refs.get(keys[0]!)!.storage);
  archive.forEachStorage(roots, (root, raw) => {
    for (const key of byStorage.get(root.key)!)
      data.set(key, materialise(refs.get(key)!, raw, archive.bigEndian, file, key, options.int64 ?? 'int32'));
  });
  const out = new Map<string, TensorRecord>();
  for (const [key, ref] of refs)
    out.set(key, { dtype: ref.storage.dtype, shape: [...ref.shape], data: data.get(key)! });
  return out;
}

function openArchive(bytes: Uint8Array, file: string): TorchArchive {
  if (isZip(bytes)) return readTorchZip(bytes, file);
  if (isLegacyTorch(bytes)) return readTorchLegacy(bytes, file);
  if (bytes.byteLength >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new SerializationError(
      file,
      'tar-format checkpoints (torch < 0.4) are not supported; load and re-save the file with a newer torch',
    );
  }
  throw new SerializationError(
    file,
    'not a PyTorch checkpoint: neither a zip archive (torch >= 1.6) nor a legacy pickle stream',
  );
}

/** The tensors of a state dict, or of the dict found under 'state_dict' or 'model' (training-script checkpoints). */
function stateDictOf(obj: unknown, file: string): Map<string, TensorRef> {
  if (!(obj instanceof Map))
    throw new SerializationError(file, 'the checkpoint holds a single object, not a state dict (a dict of tensors)');
  const inner = [obj.get('state_dict'), obj.get('model')].find((v) => v instanceof Map);
  const dict: Map<unknown, unknown> = inner instanceof Map ? inner : obj;
  const out = new Map<string, TensorRef>();
  for (const [key, value] of dict) {
    if (typeof key !== 'string') throw new SerializationError(file, `state dict key ${String(key)} is not a string`);
    if (!isTensorRef(value)) {
      const what =
        value === null
          ? 'None'
          : value instanceof Map
            ? 'a dict'
            : Array.isArray(value)
              ? 'a list'
              : `a ${typeof value}`;
      throw new SerializationError(file, `value is ${what}, not a tensor; a state dict maps names to tensors`, key);
    }
    out.set(key, value);
  }
  return out;
}

/**
 * Gather a (possibly strided, possibly offset) view of a storage into a fresh row-major array.
 * torch.save writes a view's whole storage with its offset and strides, so a transposed tensor
 * or a slice must be re-laid-out here, not read as contiguous bytes.
 */
function materialise(
  ref: TensorRef,
  raw: Uint8Array,
  bigEndian: boolean,
  file: string,
  key: string,
  int64: Int64Mode,
): TensorData {
  const { shape, stride } = ref;
  const n = shapeSize(shape);
  const ctx = { file, key, bigEndian };
  const start = ref.storage.viewOffset + ref.offset;
  // Highest element index the view touches (strides are non-negative in PyTorch).
  let span = n === 0 ? 0 : 1;
  if (n > 0) for (let d = 0; d < shape.length; d++) span += (shape[d]! - 1) * stride[d]!;
  if (ref.offset + span > ref.storage.numel) {
    throw new SerializationError(
      file,
      `view (offset ${ref.offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches past the end of its ${ref.storage.numel}-element storage ${ref.storage.key}`,
      key,
    );
  }
  const size = DTYPE_BYTES[ref.storage.dtype];
  const window = decodeElements(raw.subarray(start * size, (start + span) * size), ref.storage.dtype, span, ctx);
  const out = isContiguous(shape, stride) && span === n ? window : gather(window, shape, stride, n);
  return out instanceof BigInt64Array && int64 === 'int32' ? int64To32(out, ctx) : out;
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

function gather(src: TensorData, shape: readonly number[], stride: readonly number[], n: number): TensorData {
  const out =
    src instanceof Float32Array
      ? new Float32Array(n)
      : src instanceof Int32Array
        ? new Int32Array(n)
        : new BigInt64Array(n);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    (out as { [i: number]: number | bigint })[i] = src[at]!;
    // Odometer step over the index, last dimension fastest (row-major output).
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) {
        at += stride[d]!;
        break;
      }
      at -= (shape[d]! - 1) * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}
