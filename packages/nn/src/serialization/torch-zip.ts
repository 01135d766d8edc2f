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
  /** Raw bytes of a root storage, exactly rootNumel * element size of them. */
  storageBytes(ref: StorageRef): Uint8Array;
  /** Byte order of the storage bytes. */
  bigEndian: boolean;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function readTorchZip(bytes: Uint8Array, file: string): TorchArchive {
  // fflate re-reads the central directory on each call, which is cheap next to copying data;
  // extracting one entry at a time means storages are never all copied out at once.
  const extract = (want: (name: string) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(bytes, { filter: (f: UnzipFileInfo) => want(f.name) });
    } catch (e) {
      throw new SerializationError(file, `not a readable zip archive (${(e as Error).message}); the file may be truncated or corrupt`, undefined, { cause: e });
    }
  };
  const names: string[] = [];
  extract((name) => (names.push(name), false));
  const root = names[0]?.split('/')[0];
  if (root === undefined || !names.includes(`${root}/data.pkl`)) {
    throw new SerializationError(file, `zip archive has no ${root ?? '<root>'}/data.pkl, so it is not a PyTorch checkpoint (torch.save writes one)`);
  }
  const records = extract((n) => n === `${root}/data.pkl` || n === `${root}/byteorder`);
  const pkl = records[`${root}/data.pkl`]!;
  // torch >= 2.1 records its byte order; older versions always wrote little-endian.
  const order = records[`${root}/byteorder`];
  const bigEndian = order !== undefined && String.fromCharCode(...order.subarray(0, 16)).trim() === 'big';
  const { value } = unpickleTorch(pkl, file);
  return {
    object: value,
    bigEndian,
    storageBytes(ref) {
      const name = `${root}/data/${ref.key}`;
      const data = extract((n) => n === name)[name];
      if (!data) throw new SerializationError(file, `storage ${ref.key} is missing from the archive (no entry ${name})`);
      const expected = ref.rootNumel * DTYPE_BYTES[ref.dtype];
      if (data.byteLength < expected) {
        throw new SerializationError(file, `storage ${ref.key} holds ${data.byteLength} bytes, but ${ref.rootNumel} ${ref.dtype} elements need ${expected} (truncated?)`);
      }
      return data.subarray(0, expected);
    },
  };
}
