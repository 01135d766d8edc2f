// The zip checkpoint format (torch >= 1.6): `<root>/data.pkl` holds the object, each storage is
// the raw little-endian entry `<root>/data/<key>`, and `<root>` is whatever the first entry's
// folder is (torch names it after the file). The zip container is read by fflate.
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { DTYPE_BYTES } from './dtypes.js';
import { SerializationError } from './errors.js';
import { unpickleTorch, type StorageRef } from './torch-pickle.js';

/** A checkpoint's object and access to its storages' bytes, whatever the container format. */
export interface TorchArchive {
  object: unknown;
  /**
   * Call `visit` with each root storage's raw bytes (exactly rootNumel * element size), in the
   * given order. The bytes may be dropped once `visit` returns, so a reader never needs every
   * storage's copy at once.
   */
  forEachStorage(refs: readonly StorageRef[], visit: (ref: StorageRef, bytes: Uint8Array) => void): void;
  /** Byte order of the storage bytes. */
  bigEndian: boolean;
}

// Storages are extracted in batches of about this many bytes: fflate scans the whole central
// directory on every call (DenseNet-121 has 727 entries), so one call per storage would cost
// ~1 s, while one call for all of them would copy the whole file at once.
const BATCH_BYTES = 16 << 20;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function readTorchZip(bytes: Uint8Array, file: string): TorchArchive {
  const extract = (want: (f: UnzipFileInfo) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(bytes, { filter: want });
    } catch (e) {
      throw new SerializationError(
        file,
        `not a readable zip archive (${(e as Error).message}); the file may be truncated or corrupt`,
        undefined,
        { cause: e },
      );
    }
  };
  const names: string[] = [];
  const sizes = new Map<string, number>();
  extract((f) => (names.push(f.name), sizes.set(f.name, f.originalSize), false));
  const root = names[0]?.split('/')[0];
  if (root === undefined || !names.includes(`${root}/data.pkl`)) {
    throw new SerializationError(
      file,
      `zip archive has no ${root ?? '<root>'}/data.pkl, so it is not a PyTorch checkpoint (torch.save writes one)`,
    );
  }
  const records = extract((f) => f.name === `${root}/data.pkl` || f.name === `${root}/byteorder`);
  const pkl = records[`${root}/data.pkl`]!;
  // torch >= 2.1 records its byte order; older versions always wrote little-endian.
  const order = records[`${root}/byteorder`];
  const bigEndian = order !== undefined && String.fromCharCode(...order.subarray(0, 16)).trim() === 'big';
  const { value } = unpickleTorch(pkl, file);
  return {
    object: value,
    bigEndian,
    forEachStorage(refs, visit) {
      for (let i = 0; i < refs.length; ) {
        const batch = new Map<string, StorageRef>();
        let batchBytes = 0;
        do {
          const ref = refs[i++]!;
          batch.set(`${root}/data/${ref.key}`, ref);
          batchBytes += sizes.get(`${root}/data/${ref.key}`) ?? 0;
        } while (i < refs.length && batchBytes < BATCH_BYTES);
        const entries = extract((f) => batch.has(f.name));
        for (const [name, ref] of batch) {
          const data = entries[name];
          if (!data)
            throw new SerializationError(file, `storage ${ref.key} is missing from the archive (no entry ${name})`);
          delete entries[name];
          const expected = ref.rootNumel * DTYPE_BYTES[ref.dtype];
          if (data.byteLength < expected) {
            throw new SerializationError(
              file,
              `storage ${ref.key} holds ${data.byteLength} bytes, but ${ref.rootNumel} ${ref.dtype} elements need ${expected} (truncated?)`,
            );
          }
          visit(ref, data.subarray(0, expected));
        }
      }
    },
  };
}
