// The legacy checkpoint format (torch < 1.6, or `_use_new_zipfile_serialization=False`):
// pickles back to back — magic number, protocol version 1001, sys_info, the object, the list of
// storage keys — then, for each key in that list, an int64 element count and the raw bytes.
// Mirrors torch/serialization.py `_legacy_load`.
import { DTYPE_BYTES, type DType } from './dtypes.js';
import { SerializationError } from './errors.js';
import { unpickle } from './pickle.js';
import { unpickleTorch, type StorageRef } from './torch-pickle.js';
import type { TorchArchive } from './torch-zip.js';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** Does the file start like a legacy checkpoint (a protocol-2 pickle of the magic number)? */
export function isLegacyTorch(bytes: Uint8Array): boolean {
  // PROTO 2, LONG1 with 10 bytes: the magic number's encoding.
  return bytes.byteLength >= 4 && bytes[0] === 0x80 && bytes[2] === 0x8a && bytes[3] === 0x0a;
}

export function readTorchLegacy(bytes: Uint8Array, file: string): TorchArchive {
  // The header pickles hold only numbers, strings and dicts: no global is ever allowed there.
  const plain = (start: number) =>
    unpickle(
      bytes,
      {
        file,
        findGlobal: (m, n) => {
          throw new SerializationError(file, `refusing pickle global '${m}.${n}' in the checkpoint header`);
        },
      },
      start,
    );
  const magic = plain(0);
  if (magic.value !== MAGIC)
    throw new SerializationError(file, 'not a PyTorch checkpoint (legacy magic number missing)');
  const protocol = plain(magic.end);
  if (protocol.value !== PROTOCOL_VERSION) {
    throw new SerializationError(
      file,
      `unsupported legacy checkpoint protocol ${String(protocol.value)} (expected ${PROTOCOL_VERSION})`,
    );
  }
  const sysInfo = plain(protocol.end);
  // Storage bytes are little-endian whatever sys_info says: torch's writer swaps on
  // big-endian hosts (THPStorage_writeFileRaw), so the flag is informational only.
  const dtypes = new Map<string, DType>();
  const obj = unpickleTorch(bytes, file, sysInfo.end, (s) => {
    const seen = dtypes.get(s.key);
    if (seen !== undefined && seen !== s.dtype)
      throw new SerializationError(file, `storage ${s.key} is referenced as both ${seen} and ${s.dtype}`);
    dtypes.set(s.key, s.dtype);
  });
  const keys = plain(obj.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new SerializationError(file, 'legacy checkpoint: storage key list is not a list of strings');
  }
  // Walk the records once to find where each storage's bytes are (nothing is copied).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Map<string, { start: number; numel: number }>();
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const dtype = dtypes.get(key);
    if (dtype === undefined)
      throw new SerializationError(file, `legacy checkpoint lists storage ${key}, which no tensor uses`);
    if (pos + 8 > bytes.byteLength)
      throw new SerializationError(file, `truncated: storage ${key}'s element count is missing`);
    const numel = view.getBigInt64(pos, true);
    const nbytes = numel * BigInt(DTYPE_BYTES[dtype]);
    if (numel < 0n || nbytes > BigInt(bytes.byteLength - pos - 8)) {
      throw new SerializationError(
        file,
        `truncated: storage ${key} needs ${nbytes} bytes at offset ${pos + 8}, the file has ${bytes.byteLength - pos - 8} left`,
      );
    }
    records.set(key, { start: pos + 8, numel: Number(numel) });
    pos += 8 + Number(nbytes);
  }
  return {
    object: obj.value,
    bigEndian: false,
    forEachStorage(refs: readonly StorageRef[], visit: (ref: StorageRef, bytes: Uint8Array) => void) {
      for (const ref of refs) {
        const r = records.get(ref.key);
        if (!r) throw new SerializationError(file, `storage ${ref.key} has no data record`);
        if (r.numel < ref.rootNumel)
          throw new SerializationError(
            file,
            `storage ${ref.key} holds ${r.numel} elements, but ${ref.rootNumel} are referenced`,
          );
        visit(ref, bytes.subarray(r.start, r.start + ref.rootNumel * DTYPE_BYTES[ref.dtype]));
      }
    },
  };
}
