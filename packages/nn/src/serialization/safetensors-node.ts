// safetensors files on Node: a reader that parses the header and then reads each tensor on
// demand through a file handle, and a writer that lays the file out from the tensors' names,
// dtypes and shapes and then takes their data one at a time. Neither ever holds the whole file:
// a 100 MB model costs its own arrays plus at most one tensor's bytes, not a second copy.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import {
  HOST_LITTLE_ENDIAN,
  littleEndianBytes,
  dtypeOfArray,
  type DType,
  type TensorData,
  type TensorRecord,
} from './dtypes.js';
import { SerializationError } from './errors.js';
import {
  checkTensorLike,
  decodeSafetensorsEntry,
  parseSafetensorsHeader,
  planSafetensors,
  readHeaderLength,
  tensorEntries,
  type ReadOptions,
  type SafetensorsEntry,
  type TensorSource,
} from './safetensors.js';

/** Read exactly `length` bytes at `position` (a plain read may return fewer). */
async function readExactly(fh: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await fh.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0)
      throw new SerializationError(file, `truncated: unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** A safetensors file opened for reading: the header is parsed, tensors are read on demand. */
export class SafetensorsFileReader {
  private closed = false;
  private readonly byName: Map<string, SafetensorsEntry>;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly metadata: Record<string, string>,
    /** Entries in file order. */
    readonly entries: readonly SafetensorsEntry[],
    private readonly dataStart: number,
    private readonly options: ReadOptions,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Open `path` and validate its header (lengths, JSON, dtypes, offsets tiling the data). */
  static async open(path: string, options: Omit<ReadOptions, 'file'> = {}): Promise<SafetensorsFileReader> {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const prefix = new Uint8Array(Math.min(8, size));
      await readExactly(fh, prefix, 0, path);
      const n = readHeaderLength(prefix, size, path);
      const json = new Uint8Array(n);
      await readExactly(fh, json, 8, path);
      const header = parseSafetensorsHeader(json, size - 8 - n, path);
      return new SafetensorsFileReader(fh, path, header.metadata, header.entries, header.dataStart, {
        ...options,
        file: path,
      });
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  keys(): string[] {
    return this.entries.map((e) => e.name);
  }

  entry(name: string): SafetensorsEntry | undefined {
    return this.byName.get(name);
  }

  /** Read one tensor from disk. */
  async read(name: string): Promise<TensorRecord> {
    if (this.closed) throw new SerializationError(this.path, 'reader is closed', name);
    const e = this.byName.get(name);
    if (!e) throw new SerializationError(this.path, 'no such tensor in the file', name);
    const raw = new Uint8Array(e.end - e.begin);
    await readExactly(this.fh, raw, this.dataStart + e.begin, this.path);
    // Same byte order and same array type: the bytes just read are the result (no second copy).
    if (
      HOST_LITTLE_ENDIAN &&
      (e.dtype === 'F32' || e.dtype === 'I32' || (e.dtype === 'I64' && this.options.int64 === 'bigint'))
    ) {
      const data =
        e.dtype === 'F32'
          ? new Float32Array(raw.buffer)
          : e.dtype === 'I32'
            ? new Int32Array(raw.buffer)
            : new BigInt64Array(raw.buffer);
      return { dtype: e.dtype, shape: [...e.shape], data };
    }
    return decodeSafetensorsEntry(e, raw, this.options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/** Read every tensor of a safetensors file, one at a time, in file order. */
export async function readSafetensorsFile(
  path: string,
  options: Omit<ReadOptions, 'file'> = {},
): Promise<{ metadata: Record<string, string>; tensors: Map<string, TensorRecord> }> {
  const reader = await SafetensorsFileReader.open(path, options);
  try {
    const tensors = new Map<string, TensorRecord>();
    for (const name of reader.keys()) tensors.set(name, await reader.read(name));
    return { metadata: reader.metadata, tensors };
  } finally {
    await reader.close();
  }
}

/** A tensor announced to the writer before its data exists. */
export interface TensorSpec {
  name: string;
  dtype: Extract<DType, 'F32' | 'I32' | 'I64'>;
  shape: readonly number[];
}

/**
 * Writes a safetensors file whose tensors are declared up front (so the header, which comes
 * first, can be written at once) and whose data arrive one tensor at a time, in any order. The
 * file appears under its name only on close(), by renaming a temporary file in the same folder,
 * so a failure never leaves a partial file or clobbers an existing one.
 */
export class SafetensorsFileWriter {
  private readonly pending: Map<string, { entry: SafetensorsEntry; dtype: DType }>;
  private finished = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly tmpPath: string,
    private readonly dataStart: number,
    entries: SafetensorsEntry[],
  ) {
    this.pending = new Map(entries.map((e) => [e.name, { entry: e, dtype: e.dtype }]));
  }

  static async create(
    path: string,
    specs: readonly TensorSpec[],
    metadata: Readonly<Record<string, string>> = {},
  ): Promise<SafetensorsFileWriter> {
    for (const s of specs) {
      if (s.dtype !== 'F32' && s.dtype !== 'I32' && s.dtype !== 'I64') {
        throw new SerializationError(path, `cannot write dtype ${String(s.dtype)} (writable: F32, I32, I64)`, s.name);
      }
    }
    const plan = planSafetensors(specs, metadata, path);
    const tmpPath = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmpPath, 'wx');
    try {
      await writeFully(fh, plan.header, 0);
      // Size the file now: a tensor written out of order then lands inside it, and a reader
      // of an unfinished file sees the right length rather than a short one.
      await fh.truncate(plan.header.byteLength + plan.dataLength);
    } catch (e) {
      await fh.close();
      await unlink(tmpPath).catch(() => undefined);
      throw e;
    }
    return new SafetensorsFileWriter(fh, path, tmpPath, plan.header.byteLength, plan.entries);
  }

  /** Write one declared tensor's data (its array type must match the declared dtype). */
  async write(name: string, data: TensorData): Promise<void> {
    if (this.finished) throw new SerializationError(this.path, 'writer is already closed', name);
    const p = this.pending.get(name);
    if (!p) throw new SerializationError(this.path, 'was not declared, or was already written', name);
    const dtype = dtypeOfArray(data);
    if (dtype !== p.dtype)
      throw new SerializationError(this.path, `was declared ${p.dtype} but the data are ${dtype}`, name);
    checkTensorLike(name, { shape: p.entry.shape, data }, this.path);
    await writeFully(this.fh, littleEndianBytes(data), this.dataStart + p.entry.begin);
    this.pending.delete(name);
  }

  /** Flush and move the file into place; fails (and removes the temp file) if a tensor is missing. */
  async close(): Promise<void> {
    if (this.finished) return;
    if (this.pending.size > 0) {
      const missing = [...this.pending.keys()];
      await this.abort();
      throw new SerializationError(
        this.path,
        `closed before ${missing.length} declared tensor(s) were written`,
        missing[0],
      );
    }
    this.finished = true;
    try {
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmpPath, this.path);
    } catch (e) {
      await unlink(this.tmpPath).catch(() => undefined);
      throw e;
    }
  }

  /** Give up: close and delete the temporary file; the target path is left untouched. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}

/** Write tensors (already in memory) to `path`, one at a time, without concatenating them. */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorSource,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const list = tensorEntries(tensors);
  const specs = list.map(([name, t]) => ({
    name,
    dtype: checkTensorLike(name, t, path) as TensorSpec['dtype'],
    shape: t.shape,
  }));
  const writer = await SafetensorsFileWriter.create(path, specs, metadata);
  try {
    for (const [name, t] of list) await writer.write(name, t.data);
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
