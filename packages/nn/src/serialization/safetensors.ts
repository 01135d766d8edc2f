// safetensors (https://github.com/huggingface/safetensors): our checkpoint format. Layout: an
// 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON padded with spaces to a
// multiple of 8, then the tensors' row-major little-endian bytes, tiling the data exactly.
// This file is browser-safe: header planning/validation and whole-buffer encode/decode. File
// streaming (one tensor in memory at a time) is in safetensors-node.ts on top of the same code.
import {
  DTYPE_BYTES,
  decodeElements,
  dtypeOfArray,
  int64To32,
  isDType,
  littleEndianBytes,
  shapeSize,
  type DType,
  type Int64Mode,
  type TensorData,
  type TensorRecord,
} from './dtypes.js';
import { SerializationError } from './errors.js';

// ES2022's lib has no TextEncoder/TextDecoder types, but every browser and Node has both.
declare const TextEncoder: { new (): { encode(s: string): Uint8Array } };
declare const TextDecoder: {
  new (label: string, options: { fatal: boolean }): { decode(b: Uint8Array): string };
};

/** A tensor to write: its dtype is the array's (F32, I32, or I64 for a BigInt64Array). */
export interface TensorLike {
  shape: readonly number[];
  data: TensorData;
}

/** Tensors by name: a Map or plain object keeps its order; that order is the file's order. */
export type TensorSource = ReadonlyMap<string, TensorLike> | Readonly<Record<string, TensorLike>>;

/** A tensor's entry in the header; begin/end are byte offsets relative to the data start. */
export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Entries in file order (by data offset). */
  entries: SafetensorsEntry[];
  /** Absolute byte offset of the data section: 8 + header length. */
  dataStart: number;
}

export interface ReadOptions {
  /** Name used in error messages (a path, a URL); default "<memory>". */
  file?: string;
  /** How I64 tensors come back; default 'int32' (range-checked). */
  int64?: Int64Mode;
}

const METADATA_KEY = '__metadata__';
// The reference implementation refuses headers over 100 MB; a larger length is a corrupt file.
const MAX_HEADER_BYTES = 100_000_000;

/** Validate the 8-byte length prefix against the file size; returns the header length N. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SerializationError(
      file,
      `truncated: ${fileSize} bytes is shorter than the 8-byte safetensors header length`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new SerializationError(
      file,
      `header length ${n} runs past the end of the ${fileSize}-byte file (truncated or not a safetensors file)`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SerializationError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  return Number(n);
}

/**
 * Parse and validate the JSON header. `dataLength` is the number of bytes after the header;
 * entries must tile it exactly (no gap, no overlap, no trailing bytes) and each entry's byte
 * count must equal shape x dtype size. Every failure names the offending key.
 */
export function parseSafetensorsHeader(json: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw new SerializationError(file, `header is not valid UTF-8 JSON (${(e as Error).message})`, undefined, {
      cause: e,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SerializationError(file, 'header is not a JSON object');
  }
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, file);
    else entries.push(parseEntry(name, value, file));
  }
  // Zero-byte tensors share an offset with their neighbour; sorting by (begin, end) keeps them
  // before it, so the tiling check below accepts them.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin > cursor)
      throw new SerializationError(
        file,
        `data_offsets leave a gap of ${e.begin - cursor} bytes before this tensor`,
        e.name,
      );
    if (e.begin < cursor)
      throw new SerializationError(
        file,
        `data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`,
        e.name,
      );
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    const last = entries[entries.length - 1]?.name;
    const what =
      cursor > dataLength
        ? `run ${cursor - dataLength} bytes past the end of the file (truncated?)`
        : `leave ${dataLength - cursor} unused bytes at the end`;
    throw new SerializationError(file, `tensor data ${what}`, last);
  }
  return { metadata, entries, dataStart: 8 + json.byteLength };
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SerializationError(file, `${METADATA_KEY} is not a JSON object of strings`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SerializationError(file, `${METADATA_KEY} value '${k}' is not a string`);
  }
  return { ...(value as Record<string, string>) };
}

function parseEntry(name: string, value: unknown, file: string): SafetensorsEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof v !== 'object' || v === null) throw new SerializationError(file, 'header entry is not an object', name);
  if (!isDType(v.dtype)) {
    throw new SerializationError(
      file,
      `unknown dtype ${JSON.stringify(v.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      name,
    );
  }
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SerializationError(file, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
  }
  const off = v.data_offsets;
  if (
    !Array.isArray(off) ||
    off.length !== 2 ||
    !off.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    off[0] > off[1]
  ) {
    throw new SerializationError(
      file,
      `data_offsets ${JSON.stringify(off)} is not [begin, end] with 0 <= begin <= end`,
      name,
    );
  }
  const [begin, end] = off as [number, number];
  const expected = shapeSize(shape) * DTYPE_BYTES[v.dtype];
  if (end - begin !== expected) {
    throw new SerializationError(
      file,
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${v.dtype} [${shape.join(', ')}] needs ${expected}`,
      name,
    );
  }
  return { name, dtype: v.dtype, shape: [...(shape as number[])], begin, end };
}

/** Convert one entry's raw bytes (exactly end - begin of them) to a TensorRecord. */
export function decodeSafetensorsEntry(
  entry: SafetensorsEntry,
  raw: Uint8Array,
  options: ReadOptions = {},
): TensorRecord {
  const ctx = { file: options.file ?? '<memory>', key: entry.name };
  let data = decodeElements(raw, entry.dtype, shapeSize(entry.shape), ctx);
  if (data instanceof BigInt64Array && (options.int64 ?? 'int32') === 'int32') data = int64To32(data, ctx);
  return { dtype: entry.dtype, shape: [...entry.shape], data };
}

/** A header ready to write, and where each tensor's bytes go (relative to the data start). */
export interface SafetensorsPlan {
  /** The 8-byte length followed by the padded JSON: the file's first bytes. */
  header: Uint8Array;
  entries: SafetensorsEntry[];
  dataLength: number;
}

/** Lay out tensors in the given order and build the header bytes; validates names and shapes. */
export function planSafetensors(
  specs: ReadonlyArray<{ name: string; dtype: DType; shape: readonly number[] }>,
  metadata: Readonly<Record<string, string>> = {},
  file = '<memory>',
): SafetensorsPlan {
  const seen = new Set<string>();
  const entries: SafetensorsEntry[] = [];
  let cursor = 0;
  for (const s of specs) {
    if (s.name === METADATA_KEY || s.name === '')
      throw new SerializationError(file, 'is not a usable tensor name', s.name);
    if (seen.has(s.name)) throw new SerializationError(file, 'appears twice', s.name);
    seen.add(s.name);
    if (!s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SerializationError(
        file,
        `shape [${s.shape.join(', ')}] is not a list of non-negative integers`,
        s.name,
      );
    }
    const bytes = shapeSize(s.shape) * DTYPE_BYTES[s.dtype];
    entries.push({ name: s.name, dtype: s.dtype, shape: [...s.shape], begin: cursor, end: cursor + bytes });
    cursor += bytes;
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new SerializationError(file, `metadata value '${k}' is not a string`);
  }
  // Built by hand rather than JSON.stringify of an object: an object would move integer-like
  // names ("0", "1") to the front and break the file order.
  const parts: string[] = [];
  if (Object.keys(metadata).length > 0) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  for (const e of entries) {
    parts.push(
      `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] })}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, entries, dataLength: cursor };
}

/** Check a tensor to write: its element count must match its shape. Returns its dtype. */
export function checkTensorLike(name: string, t: TensorLike, file: string): DType {
  const n = shapeSize(t.shape);
  if (t.data.length !== n) {
    throw new SerializationError(
      file,
      `has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${n}`,
      name,
    );
  }
  return dtypeOfArray(t.data);
}

/** The entries of a TensorSource, in order. */
export function tensorEntries(tensors: TensorSource): Array<[string, TensorLike]> {
  return tensors instanceof Map ? [...(tensors as ReadonlyMap<string, TensorLike>)] : Object.entries(tensors);
}

/** Encode tensors and string metadata as one safetensors buffer (for browsers and small files). */
export function encodeSafetensors(tensors: TensorSource, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const list = tensorEntries(tensors);
  const specs = list.map(([name, t]) => ({ name, dtype: checkTensorLike(name, t, '<memory>'), shape: t.shape }));
  const plan = planSafetensors(specs, metadata);
  const out = new Uint8Array(plan.header.byteLength + plan.dataLength);
  out.set(plan.header, 0);
  list.forEach(([, t], i) => out.set(littleEndianBytes(t.data), plan.header.byteLength + plan.entries[i]!.begin));
  return out;
}

/** Decode a whole safetensors buffer. Tensors come back in file order. */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: ReadOptions = {},
): { metadata: Record<string, string>; tensors: Map<string, TensorRecord> } {
  const file = options.file ?? '<memory>';
  const n = readHeaderLength(bytes, bytes.byteLength, file);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, file);
  const tensors = new Map<string, TensorRecord>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, decodeSafetensorsEntry(e, raw, { ...options, file }));
  }
  return { metadata: header.metadata, tensors };
}
